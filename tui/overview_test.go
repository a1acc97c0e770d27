package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// busy is the cockpit on the db-pool-exhaustion demo well into the
// incident: more alerts and services than 80×24 shows.
func busy(t *testing.T, w, h int) *App {
	t.Helper()
	return startedWith(t, deps(fleetAt(t, "db-pool-exhaustion", 1, 8*time.Minute)), w, h)
}

var (
	tab      = tea.KeyPressMsg{Code: tea.KeyTab}
	shiftTab = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	moreRe   = regexp.MustCompile(`… (\d+) more (above|below)(?:, (\d+) below)?`)
)

// typed is the key presses of s, one per rune.
func typed(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

// cursorShows fails unless exactly one ▸ is on screen, on the row the
// cursor selects, and the rows of the cursor's list add up: those counted
// above, those drawn and those counted below are the whole list.
func cursorShows(t *testing.T, a *App, after string) {
	t.Helper()
	o := ov(a)
	lines := strings.Split(screen(a), "\n")
	var marked []string
	for _, l := range lines {
		if strings.Contains(l, "▸") {
			marked = append(marked, l)
		}
	}
	if len(marked) != 1 {
		t.Fatalf("after %s: %d rows marked ▸ (cursor %d of %d):\n%s", after, len(marked), o.cursor, o.rows(), screen(a))
	}
	b, al, st := o.selection()
	var name string
	switch {
	case b != nil:
		name = b.SLO.Name
	case al != nil:
		name = al.Name
	case st != nil:
		name = st.Service
	}
	cut := 12
	if st != nil && st.FromEdges {
		cut = 6 // a peer's name leaves room to its tag
	}
	if name == "" || !strings.Contains(marked[0], name[:min(len(name), cut)]) {
		t.Fatalf("after %s: the ▸ row %q is not the selection %q", after, marked[0], name)
	}
	sp, p := o.spans(), o.panelOf(o.cursor)
	if p == panelGauges {
		return
	}
	// the cursor's list: from its heading (or the gauges) to a blank line
	at := 0
	for i, l := range lines {
		if strings.Contains(l, "▸") {
			at = i
		}
	}
	from, to := at, at
	inList := func(l string) bool {
		return strings.TrimSpace(l) != "" && (strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "▸"))
	}
	for from > 0 && inList(lines[from-1]) && !strings.Contains(lines[from-1], "enter: budget") {
		from--
	}
	for to+1 < len(lines)-1 && inList(lines[to+1]) {
		to++
	}
	counted := 0
	for _, l := range lines[from : to+1] {
		if m := moreRe.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			counted += n
			if m[3] != "" {
				n, _ = strconv.Atoi(m[3])
				counted += n
			}
			continue
		}
		counted++
	}
	if want := sp[p][1] - sp[p][0]; counted != want {
		t.Fatalf("after %s: the list counts %d rows, has %d:\n%s", after, counted, want, strings.Join(lines[from:to+1], "\n"))
	}
}

// The cursor is always on a visible row: every key that moves it keeps
// the ▸ on screen, the lists scroll to follow, and what they hide is
// counted above and below.
func TestCursorIsAlwaysOnAVisibleRow(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {60, 20}, {120, 40}, {80, 12}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a := busy(t, size[0], size[1])
			o := ov(a)
			if n := len(o.firing()); n < 6 {
				t.Fatalf("the scenario should have many alerts: %d", n)
			}
			cursorShows(t, a, "start")
			for i := 0; i < o.rows()+2; i++ {
				drive(t, a, press("j"))
				cursorShows(t, a, fmt.Sprintf("%d×j", i+1))
			}
			if !strings.Contains(screen(a), "more above") && o.rows() > size[1] {
				t.Errorf("at the bottom nothing counts the rows above:\n%s", screen(a))
			}
			for i := 0; i < o.rows()+2; i++ {
				drive(t, a, press("k"))
				cursorShows(t, a, fmt.Sprintf("%d×k", i+1))
			}
			for _, k := range []string{"G", "g", "G", "k", "k"} {
				drive(t, a, press(k))
				cursorShows(t, a, k)
			}
		})
	}
}

// After a dialog (a, answered no) and a copy (y), the cursor is still
// drawn, and j moves it where it can be seen.
func TestCursorSurvivesAckAndCopy(t *testing.T) {
	a := busy(t, 80, 24)
	for _, k := range []string{"j", "j", "j", "a", "n", "y", "j", "j", "a", "esc", "j", "y", "k"} {
		drive(t, a, press(k))
		if a.top() == ov(a) {
			cursorShows(t, a, k)
		}
	}
}

// Enter opens the alert the ▸ is on, also past the first screenful.
func TestEnterOpensTheAlertOnScreen(t *testing.T) {
	a := busy(t, 80, 24)
	o := ov(a)
	for range len(o.firing()) - 1 {
		drive(t, a, press("j"))
	}
	want, _ := o.selectedAlert()
	cursorShows(t, a, "the last alert")
	drive(t, a, press("enter"))
	iv, ok := a.top().(*incidentView)
	if !ok || iv.trigger.Alert != want.Name || iv.trigger.Service != want.Service {
		t.Fatalf("enter opened %T %+v, want %s on %s", a.top(), iv, want.Name, want.Service)
	}
}

func TestScrollWindowFitsItsRoom(t *testing.T) {
	for n := 1; n < 14; n++ {
		for room := 1; room < 12; room++ {
			for off := 0; off <= n; off++ {
				for sel := -1; sel < n; sel++ {
					from, to := scrollWindow(n, room, off, sel)
					lines := to - from
					if room >= 3 || !(from > 0 && to < n) {
						if from > 0 && room > 1 {
							lines++
						}
						if to < n && room > 1 {
							lines++
						}
					} else if room > 1 {
						lines++ // one line counts both
					}
					if lines > room || to <= from {
						t.Fatalf("n %d room %d off %d sel %d: rows [%d,%d) take %d lines", n, room, off, sel, from, to, lines)
					}
					if sel >= 0 && (sel < from || sel >= to) {
						t.Fatalf("n %d room %d off %d sel %d: rows [%d,%d) hide the cursor", n, room, off, sel, from, to)
					}
					if n > room && lines < room && room >= 3 {
						t.Fatalf("n %d room %d off %d sel %d: rows [%d,%d) leave %d lines blank", n, room, off, sel, from, to, room-lines)
					}
				}
			}
		}
	}
}

// / filters the alerts and services as k9s does: live while typed, shown
// in the headings, kept on enter, cleared by esc.
func TestSlashFiltersTheOverview(t *testing.T) {
	a := busy(t, 100, 40)
	o := ov(a)
	all, services := len(o.firing()), len(o.services())
	drive(t, a, press("/"))
	if !o.Capturing() {
		t.Fatal("/ does not take the keys as text")
	}
	drive(t, a, typed("PAY")...)
	out := screen(a)
	if !strings.Contains(out, "FIRING ALERTS  /PAY▏") || !strings.Contains(out, "SERVICES  /PAY▏") {
		t.Errorf("the headings do not show the filter being typed:\n%s", out)
	}
	got := o.firing()
	if len(got) == 0 || len(got) == all {
		t.Fatalf("PAY kept %d of %d alerts", len(got), all)
	}
	for _, al := range got {
		if !strings.Contains(strings.ToLower(alertText(al)), "pay") {
			t.Errorf("%s on %s passes the filter pay", al.Name, al.Service)
		}
	}
	for _, s := range o.services() {
		if !strings.Contains(s.Service, "pay") {
			t.Errorf("service %s passes the filter pay", s.Service)
		}
	}
	drive(t, a, press("enter"))
	if o.Capturing() || o.filter != "PAY" {
		t.Fatalf("enter did not keep the filter: capturing %v, filter %q", o.Capturing(), o.filter)
	}
	if !strings.Contains(screen(a), "/PAY (esc clears)") {
		t.Errorf("the kept filter is not shown:\n%s", screen(a))
	}
	cursorShows(t, a, "the filter")
	drive(t, a, press("j"))
	drive(t, a, press("esc"))
	if o.filter != "" || len(o.firing()) != all || len(o.services()) != services {
		t.Errorf("esc did not clear the filter %q", o.filter)
	}
	drive(t, a, press("/"))
	drive(t, a, typed("checkout")...)
	drive(t, a, press("esc"))
	if o.filter != "" || o.Capturing() {
		t.Errorf("esc while typing did not clear the filter %q", o.filter)
	}
	drive(t, a, press("/"))
	drive(t, a, typed("no such thing")...)
	drive(t, a, press("enter"))
	if out := screen(a); !strings.Contains(out, "no alert matches") || !strings.Contains(out, "no service matches") || strings.Contains(out, "✓ none") {
		t.Errorf("a filter that matches nothing:\n%s", out)
	}
}

// tab and shift+tab move between the gauges, the alerts and the
// services, back to the row each was on.
func TestTabMovesBetweenPanels(t *testing.T) {
	a := busy(t, 100, 40)
	o := ov(a)
	if o.panelOf(o.cursor) != panelAlerts {
		t.Fatalf("the cursor starts in panel %d", o.panelOf(o.cursor))
	}
	drive(t, a, press("j"))
	second := o.cursor
	drive(t, a, tab)
	if _, _, st := o.selection(); st == nil || st.Service != o.services()[0].Service {
		t.Fatalf("tab did not go to the first service: cursor %d", o.cursor)
	}
	cursorShows(t, a, "tab")
	drive(t, a, tab)
	if b, _, _ := o.selection(); b == nil || o.cursor != 0 {
		t.Fatalf("tab from the services did not go round to the gauges: cursor %d", o.cursor)
	}
	drive(t, a, tab)
	if o.cursor != second {
		t.Errorf("tab back to the alerts went to row %d, not %d where it was", o.cursor, second)
	}
	drive(t, a, shiftTab)
	if o.cursor != 0 {
		t.Errorf("shift+tab from the alerts went to %d, not the gauges", o.cursor)
	}
}

// Each sparkline column has one scale from 0 across the services: a
// steady small error ratio lies low and a constant high p99 stands tall.
func TestSparklinesShareAScalePerColumn(t *testing.T) {
	steady := correlate.ServiceStatus{Service: "steady", Rate: 10, ErrorRatio: 0.0005, P99: 13.2,
		Rates: []float64{10, 10, 10, 10}, ErrorRatios: []float64{0.0004, 0.0006, 0.0005, 0.0005}, P99s: []float64{13.2, 13.2, 13.2, 13.2}}
	burning := correlate.ServiceStatus{Service: "burning", Rate: 100, ErrorRatio: 0.4, P99: 0.2, Health: correlate.Failing,
		Rates: []float64{100, 100, 100, 100}, ErrorRatios: []float64{0, 0.1, 0.2, 0.4}, P99s: []float64{0.1, 0.1, 0.2, 0.2}}
	scale := serviceScale([]correlate.ServiceStatus{steady, burning})
	row := ansi.Strip(renderServiceRow(steady, scale, 100, styles()))
	if !strings.Contains(row, "0.05%     ▁▁▁▁") {
		t.Errorf("a steady 0.05%% next to a 40%% burn is not a low flat line: %q", row)
	}
	if !strings.Contains(row, "13.2s     ████") {
		t.Errorf("a constant 13.2 s, the highest p99, does not stand full: %q", row)
	}
	if row := ansi.Strip(renderServiceRow(burning, scale, 100, styles())); !strings.Contains(row, "████") || !strings.Contains(row, "40.0%     ▁▃▅█") {
		t.Errorf("the burning service's rows: %q", row)
	}
	idle := correlate.ServiceStatus{Service: "idle", Rates: []float64{0, 0}, ErrorRatios: []float64{0, 0}, P99s: []float64{0, 0}}
	if row := ansi.Strip(renderServiceRow(idle, serviceScale([]correlate.ServiceStatus{idle}), 100, styles())); strings.Count(row, "▁▁") != 3 {
		t.Errorf("an idle service's columns are not flat and aligned: %q", row)
	}
}

// A budget near zero reads 0% and 0m, never -0.
func TestNoNegativeZero(t *testing.T) {
	b := slo.Budget{SLO: slo.Objective{Name: "checkout", Objective: 99.9, Window: 28 * 24 * time.Hour},
		Remaining: -0.004, MinutesLeft: -0.3, Consumed: 1.004, SLI: 0.998}
	got := gaugeText(b, 0)
	if strings.Contains(got, "-0") || !strings.Contains(got, " 0% 0m") {
		t.Errorf("gauge %q", got)
	}
	for _, m := range []float64{-0.4, math.Copysign(0, -1), 0.3} {
		if s := fmtMinutes(m); s != "0m" {
			t.Errorf("fmtMinutes(%v) = %q", m, s)
		}
	}
	if s := fmtMinutes(-29.6); s != "-30m" {
		t.Errorf("an overspent budget lost its minus: %q", s)
	}
}

// The status line says ✓ slo only when every budget was read.
func TestStatusLineCountsUnreadBudgets(t *testing.T) {
	loaded := part{LoadedAt: wall, Took: 3 * time.Millisecond}
	bs := make([]slo.Budget, 8)
	bs[2].Err, bs[5].Err = "query_range: connection refused", "query_range: timeout"
	o := &overviewData{REDOf: loaded, BudgetOf: loaded, AlertsOf: loaded, Budgets: bs}
	for _, w := range []int{200, 60} {
		got := ansi.Strip(statusLine(o, wall, cadence{every: 2 * time.Second}, false, w, styles()))
		if strings.Contains(got, "✓ slo") || !strings.Contains(got, "! slo 2 of 8 unread") {
			t.Errorf("at %d: %q", w, got)
		}
	}
	for i := range bs {
		bs[i].Err = "connection refused"
	}
	if got := ansi.Strip(statusLine(o, wall, cadence{every: 2 * time.Second}, false, 200, styles())); !strings.Contains(got, "✗ slo unread") {
		t.Errorf("every budget unread: %q", got)
	}
}

// At 60×20 the overview fills the screen: no blank rows while alerts are
// hidden, and no cell cut into a second line.
func TestSmallScreenIsFilled(t *testing.T) {
	a := busy(t, 60, 20)
	lines := strings.Split(screen(a), "\n")
	if len(lines) != 20 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines[1 : len(lines)-1] {
		if strings.TrimSpace(l) == "" {
			t.Errorf("line %d is blank:\n%s", i+1, screen(a))
		}
	}
}

// Calm, the compact layout fills the room below the gauges with the
// services, and the cursor reaches them.
func TestCalmSmallScreenShowsServices(t *testing.T) {
	a := startedWith(t, deps(fleetAt(t, "db-pool-exhaustion", 1, -time.Minute)), 60, 20)
	out := screen(a)
	lines := strings.Split(out, "\n")
	if !strings.Contains(out, "✓ no alerts firing") || !strings.Contains(out, "SERVICES") || !strings.Contains(out, "more below") {
		t.Fatalf("calm at 60×20:\n%s", out)
	}
	for i, l := range lines[1 : len(lines)-1] {
		if strings.TrimSpace(l) == "" {
			t.Errorf("line %d is blank:\n%s", i+1, out)
		}
	}
	o := ov(a)
	for i := 0; i < o.rows()+1; i++ {
		drive(t, a, press("j"))
		cursorShows(t, a, fmt.Sprintf("%d×j", i+1))
	}
	if _, _, st := o.selection(); st == nil {
		t.Errorf("j never reached the services")
	}
}

// A service row never cuts its numbers: narrow, the sparklines shrink.
func TestServiceRowKeepsItsNumbersWhole(t *testing.T) {
	r := correlate.ServiceStatus{Service: "fraud-detection-api", Rate: 48, ErrorRatio: 0.856, P99: 4.4,
		Rates: []float64{40, 48}, ErrorRatios: []float64{0.5, 0.856}, P99s: []float64{3, 4.4}}
	for w := 46; w <= 200; w++ {
		if row := ansi.Strip(renderServiceRow(r, serviceScale([]correlate.ServiceStatus{r}), w, styles())); !strings.Contains(row, " 4.4s") {
			t.Errorf("at %d: %q", w, row)
		}
	}
}

// failingRED fails the services' RED query as Prometheus does when down.
type failingRED struct{ sources.Metrics }

func (failingRED) RED(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.RED, error) {
	return nil, errors.New(`prometheus query_range sum by (service) (rate(http_server_requests_total[1m])): Post "http://prometheus:9090/api/v1/query_range": dial tcp 10.0.0.7:9090: connect: connection refused`)
}

// d shows the overview's errors whole, then the selection whole.
func TestDetailShowsErrorsAndSelectionInFull(t *testing.T) {
	d := deps(fleetAt(t, "db-pool-exhaustion", 1, 8*time.Minute))
	d.Sources.Metrics = failingRED{d.Sources.Metrics}
	a := startedWith(t, d, 80, 24)
	if !strings.Contains(screen(a), "✗ prometheus query_range") || strings.Contains(screen(a), "connection refused") {
		t.Fatalf("the error should be cut at 80 columns:\n%s", screen(a))
	}
	al, _ := ov(a).selectedAlert()
	drive(t, a, press("d"))
	if _, ok := a.top().(*detailPane); !ok {
		t.Fatalf("d opened %T", a.top())
	}
	drive(t, a, tea.WindowSizeMsg{Width: 80, Height: 60})
	out := screen(a)
	for _, want := range []string{"ERRORS", "metrics: prometheus query_range", "connection refused", "ALERT " + strings.ToUpper(al.Name), "alertname=" + al.Name, "summary: "} {
		if !strings.Contains(out, want) {
			t.Errorf("the detail lacks %q:\n%s", want, out)
		}
	}
}

// A service's detail has its name uncut; a gauge's its whole budget line.
func TestDetailOfServiceAndGauge(t *testing.T) {
	a := busy(t, 80, 24)
	o := ov(a)
	drive(t, a, tab)
	_, _, st := o.selection()
	title, lines := o.Detail()
	if title != "service "+st.Service || !strings.Contains(strings.Join(lines, "\n"), "query: ") {
		t.Errorf("service detail %q: %q", title, lines)
	}
	drive(t, a, tab)
	b, _, _ := o.selection()
	if title, lines := o.Detail(); title != "slo "+b.SLO.Name || lines[0] != gaugeText(*b, 0) {
		t.Errorf("gauge detail %q: %q", title, lines)
	}
	// the objective is a ratio: 0.999 is 99.9%, as the slo command says
	three9s := slo.Budget{SLO: slo.Objective{Name: "web", Objective: 0.999, Window: 28 * 24 * time.Hour}}
	if lines := budgetDetail(three9s); !slices.Contains(lines, "objective: 99.9% over 28d") {
		t.Errorf("the objective of a 99.9%% SLO: %q", lines)
	}
}

// The selected alert, service, gauge and palette row is one style across
// its whole width, and under NO_COLOR it keeps its ▸.
func TestSelectedOverviewRowCoversItsWidth(t *testing.T) {
	a := busy(t, 80, 24)
	for _, what := range []string{"an alert", "a service", "a gauge"} {
		requireOneStyle(t, what, selectedLine(t, a), 80)
		if !strings.Contains(noColor(a), "▸ ") {
			t.Errorf("%s: no ▸ under NO_COLOR", what)
		}
		drive(t, a, tab)
	}
	drive(t, a, press(":"))
	requireOneStyle(t, "a palette row", selectedLine(t, a), 80)
	if !strings.Contains(noColor(a), "▸ ") {
		t.Errorf("a palette row: no ▸ under NO_COLOR")
	}
}

// With the gauges focused every gauge keeps the two cells of the mark,
// so that they stay aligned, and every gauge shown fits its line.
func TestFocusedGaugesStayAlignedAndFit(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {60, 20}, {160, 48}} {
		a := busy(t, size[0], size[1])
		o := ov(a)
		drive(t, a, shiftTab)
		if o.panelOf(o.cursor) != panelGauges {
			t.Fatalf("at %v shift+tab did not focus the gauges", size)
		}
		// the gauges are the lines below the title that name one
		shown := map[int]bool{}
		for y, line := range strings.Split(screen(a), "\n")[1:] {
			if strings.Contains(line, "more SLO") {
				continue
			}
			if !slices.ContainsFunc(o.data.Budgets, func(b slo.Budget) bool { return strings.Contains(line, b.SLO.Name+" ") }) {
				break
			}
			rest, ok := strings.CutPrefix(line, "▸ ")
			if !ok {
				rest, ok = strings.CutPrefix(line, "  ")
			}
			if !ok || strings.HasPrefix(rest, " ") {
				t.Errorf("at %v gauge line %d is not indented by the mark: %q", size, y, line)
			}
			if strings.HasSuffix(strings.TrimRight(line, " "), "…") || ansi.StringWidth(line) > size[0] {
				t.Errorf("at %v gauge line %d does not fit: %q", size, y, line)
			}
			for i, b := range o.data.Budgets[:o.gauges()] {
				if strings.Contains(line, b.SLO.Name+" ") {
					shown[i] = true
				}
			}
		}
		if len(shown) != o.gauges() {
			t.Errorf("at %v %d of %d gauges drawn:\n%s", size, len(shown), o.gauges(), screen(a))
		}
	}
}

// Narrow, the status line cuts the parts' list and keeps the pause whole.
func TestStatusLineKeepsThePause(t *testing.T) {
	loaded := part{LoadedAt: wall, Took: 3 * time.Millisecond}
	o := &overviewData{REDOf: loaded, BudgetOf: loaded, AlertsOf: loaded, LogsOf: &loaded, TracesOf: &loaded}
	for _, w := range []int{60, 80} {
		for _, now := range []time.Time{wall, wall.Add(time.Minute)} { // fresh, stale
			got := statusLine(o, now, cadence{every: 2 * time.Second}, true, w, styles())
			if !strings.Contains(ansi.Strip(got), "! refresh paused (p)") || ansi.StringWidth(got) != w {
				t.Errorf("at %d: %q", w, ansi.Strip(got))
			}
		}
	}
}

// A backend with nothing to probe (no logs, no traces) is left out of the
// status line, and does not repeat the part before it when narrow.
func TestStatusLineNamesEachPartOnce(t *testing.T) {
	loaded := part{LoadedAt: wall, Took: 3 * time.Millisecond}
	o := &overviewData{REDOf: loaded, BudgetOf: loaded, AlertsOf: part{Err: errNoSource("alertmanager")}}
	for _, w := range []int{80, 200} {
		got := ansi.Strip(statusLine(o, wall, cadence{every: 2 * time.Second}, false, w, styles()))
		if strings.Count(got, "alerts") != 1 || strings.Contains(got, "logs") || strings.Contains(got, "traces") {
			t.Errorf("at %d: %q", w, got)
		}
	}
}

// A click on a gauge selects it, a second opens its budget; side by side
// the click's column picks the gauge.
func TestClickSelectsAGauge(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		a := busy(t, size[0], size[1])
		o := ov(a)
		want := o.data.Budgets[1].SLO.Name
		x, y := -1, -1
		for i, l := range strings.Split(screen(a), "\n") {
			if at := strings.Index(l, want+" "); at >= 0 && y < 0 {
				x, y = ansi.StringWidth(l[:at]), i
			}
		}
		if y < 0 {
			t.Fatalf("at %v no gauge %s on screen:\n%s", size, want, screen(a))
		}
		drive(t, a, tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
		if b, _, _ := o.selection(); b == nil || b.SLO.Name != want {
			t.Fatalf("at %v the click selected %+v", size, b)
		}
		drive(t, a, tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
		if v, ok := a.top().(*sloView); !ok || v.budget.SLO.Name != want {
			t.Errorf("at %v a second click opened %T", size, a.top())
		}
	}
}

// BenchmarkOverviewKeyAndFrame is a cursor move and the frame after it
// on the busy demo at 200×50 and, compact, at 80×16.
func BenchmarkOverviewKeyAndFrame(b *testing.B) {
	for _, size := range [][2]int{{200, 50}, {80, 16}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			a := startedWith(b, deps(fleetAt(b, "db-pool-exhaustion", 1, 8*time.Minute)), size[0], size[1])
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := "j"
				if i%20 >= 10 {
					k = "k"
				}
				a.Update(press(k))
				if a.View().Content == "" {
					b.Fatal("empty frame")
				}
			}
		})
	}
}
