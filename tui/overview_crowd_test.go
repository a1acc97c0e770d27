package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// manyAlerts is an Alertmanager with n firing alerts, each of whose only
// "evil" is the target of an OSC 8 link, which the screen never shows.
type manyAlerts struct {
	sources.Alerting
	n int
}

func (m manyAlerts) Alerts(context.Context) ([]sources.Alert, error) {
	var out []sources.Alert
	for i := range m.n {
		out = append(out, sources.Alert{Name: fmt.Sprintf("Flood%02d", i), Fingerprint: fmt.Sprintf("f%02d", i), State: sources.AlertFiring,
			Severity: "warning", StartsAt: time.Date(2026, 11, 25, 2, 0, i, 0, time.UTC), Labels: sources.Labels{"service": "checkout"},
			Annotations: sources.Labels{"summary": "see \x1b]8;;https://evil.example/\x07the runbook\x1b]8;;\x07"}})
	}
	return out, nil
}

// crowded is the busy cockpit with 20 more alerts than it has room for.
func crowded(t *testing.T, w, h int) *App {
	t.Helper()
	d := deps(fleetAt(t, "db-pool-exhaustion", 1, 8*time.Minute))
	d.Sources.Alerts = manyAlerts{d.Sources.Alerts, 20}
	return startedWith(t, d, w, h)
}

// Alerts never crowd the services out unsaid: the compact layout counts
// those it has no room for, and every taller one keeps the services'
// heading and a row, which tab reaches.
func TestCompactOverviewCountsHiddenServices(t *testing.T) {
	a := crowded(t, 60, 20)
	o := ov(a)
	if !o.compact() {
		t.Fatal("60×20 is not compact: this test tests nothing")
	}
	if want := fmt.Sprintf("… %d services hidden", len(o.services())); !strings.Contains(screen(a), want) {
		t.Errorf("the services hidden are not counted (%q):\n%s", want, screen(a))
	}
	cursorShows(t, a, "the start")
	for h := 21; h <= 40; h++ {
		drive(t, a, tea.WindowSizeMsg{Width: 60, Height: h})
		lines := strings.Split(screen(a), "\n")
		at := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "SERVICES") })
		if at < 0 || at+1 >= len(lines)-1 || !strings.Contains(lines[at+1], "/s") && !strings.Contains(lines[at+1], "… ") {
			t.Fatalf("at 60×%d the services have no heading and row:\n%s", h, screen(a))
		}
		drive(t, a, press("g"), tab, tab)
		if _, _, st := o.selection(); st == nil {
			t.Errorf("at 60×%d tab does not reach the services", h)
		}
		cursorShows(t, a, fmt.Sprintf("tab at 60×%d", h))
	}
}

// A long filter shows its end, where it is typed, and the heading still
// says when nothing matches; in the compact layout too.
func TestSlashShowsTheEndOfALongFilter(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {60, 15}} {
		a := busy(t, size[0], size[1])
		long := strings.Repeat("abcdefghij", 8) + "XYZ"
		drive(t, a, press("/"))
		drive(t, a, typed(long)...)
		out := screen(a)
		if !strings.Contains(out, "XYZ▏") || !strings.Contains(out, "no alert matches") {
			t.Errorf("at %v the end of the filter or the no-match is gone:\n%s", size, out)
		}
		drive(t, a, press("enter"))
		if out := screen(a); !strings.Contains(out, "XYZ (esc clears)") || !strings.Contains(out, "no alert matches") {
			t.Errorf("at %v the kept filter's end or the no-match is gone:\n%s", size, out)
		}
	}
}

// The filter reads what the screen shows: a word inside a link's hidden
// target does not match; the link's text does.
func TestSlashMatchesOnlyTextShown(t *testing.T) {
	a := crowded(t, 100, 40)
	o := ov(a)
	drive(t, a, press("/"))
	drive(t, a, typed("evil")...)
	for _, al := range o.firing() {
		if strings.HasPrefix(al.Name, "Flood") {
			t.Errorf("/evil matches %s, whose evil is not shown", al.Name)
		}
	}
	drive(t, a, press("esc"), press("/"))
	drive(t, a, typed("the runbook")...)
	if n := len(o.firing()); n != 20 {
		t.Errorf("/the runbook matches %d alerts, not the 20 that show it", n)
	}
}

// A filter that passes nothing leaves the cursor below the gauges on no
// row, rather than on a gauge the user did not pick; when rows pass
// again, it is on the first.
func TestSlashWithNoMatchSelectsNothing(t *testing.T) {
	a := busy(t, 100, 40)
	o := ov(a)
	drive(t, a, press("j"), press("/"))
	drive(t, a, typed("no such thing")...)
	if b, al, st := o.selection(); b != nil || al != nil || st != nil || o.cursor < o.gauges() {
		t.Fatalf("a filter with no match left the cursor on row %d (gauges %d)", o.cursor, o.gauges())
	}
	drive(t, a, press("enter"), press("j"), press("G"))
	if strings.Contains(screen(a), "▸") || o.cursor < o.gauges() {
		t.Errorf("a row is marked with nothing passing the filter:\n%s", screen(a))
	}
	drive(t, a, press("esc"))
	if _, al, _ := o.selection(); al == nil {
		t.Errorf("clearing the filter did not put the cursor on the first alert")
	}
	cursorShows(t, a, "esc")
}

// A quiet service's rate keeps its decimals.
func TestServiceRowShowsSmallRates(t *testing.T) {
	r := correlate.ServiceStatus{Service: "cron", Rate: 0.5, Rates: []float64{0.5}}
	if row := ansi.Strip(renderServiceRow(r, serviceScale([]correlate.ServiceStatus{r}), 80, styles())); !strings.Contains(row, " 0.5/s") {
		t.Errorf("0.5/s shows as %q", row)
	}
}

// fit pads to its width exactly when a wide rune does not fit before the
// cut, and a service row's columns stay where an ASCII name puts them.
func TestFitPadsWhereAWideRuneDoesNotFit(t *testing.T) {
	for _, s := range []string{"支付服务网关支付服务网关", "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥", "a支付b🔥c"} {
		for w := range 2 * lipgloss.Width(s) {
			if got := lipgloss.Width(fit(s, w)); got != w {
				t.Errorf("fit(%q, %d) is %d cells", s, w, got)
			}
		}
	}
	column := func(name string, width int) int {
		r := correlate.ServiceStatus{Service: name, Rate: 12, Rates: []float64{12}}
		row := ansi.Strip(renderServiceRow(r, columnScale{}, width, styles()))
		return lipgloss.Width(row[:strings.Index(row, "12/s")])
	}
	for _, width := range []int{60, 80, 120} {
		want := column(strings.Repeat("x", 40), width)
		for _, name := range []string{"支付服务网关支付服务网关支付服务网关", "x支付服务网关支付服务网关支付服务网关", "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥", "x🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥"} {
			if got := column(name, width); got != want {
				t.Errorf("at %d the rate of %q starts at cell %d, not %d", width, name, got, want)
			}
		}
	}
}
