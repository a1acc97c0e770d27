package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/slo"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/themes"
)

var (
	fleetOnce sync.Once
	fleet     *sim.Fleet
)

// testFleet is the retry-storm fleet ten simulated minutes after the
// onset, seed 1: the same screen every run.
func testFleet(t testing.TB) *sim.Fleet {
	fleetOnce.Do(func() { fleet = fleetAt(t, "retry-storm", 1, 10*time.Minute) })
	return fleet
}

// fleetAt is a scenario's fleet at onset+after, for one test alone.
func fleetAt(t testing.TB, scenario string, seed uint64, after time.Duration) *sim.Fleet {
	t.Helper()
	f, err := sim.New(sim.Options{Scenario: scenario, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	f.AdvanceTo(f.Onset().Add(after))
	return f
}

var wall = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func deps(f *sim.Fleet) Deps {
	var slos []slo.Objective
	for _, s := range f.Topology().SLOs {
		slos = append(slos, slo.Objective{Name: s.Name, Service: s.Service, Objective: s.Objective, Window: 28 * 24 * time.Hour,
			Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: s.Service}})
	}
	return Deps{Title: "demo: retry-storm, seed 1", Sources: simsrc.New(f).Set(), Meta: testenv.SimMeta,
		SLOs: slos, Now: f.Now, Wall: func() time.Time { return wall }, Refresh: 2 * time.Second, Timeout: 2 * time.Minute, IncidentDeadline: 2 * time.Minute}
}

func styles() *themes.Styles {
	p, _ := themes.Load("dark", "")
	return themes.New(p)
}

// drive sends messages to the app, running the commands that load data
// (not the timers), and returns the app.
func drive(t testing.TB, a *App, msgs ...tea.Msg) *App {
	t.Helper()
	for _, m := range msgs {
		_, cmd := a.Update(m)
		run(a, cmd)
	}
	return a
}

// run executes cmd and feeds its data messages back, skipping timers.
func run(a *App, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	switch m := msg.(type) {
	case tea.BatchMsg:
		for _, c := range m {
			run(a, c)
		}
	case tickMsg, tailStartedMsg, tea.QuitMsg, nil:
		// timers and subscriptions are driven by the tests themselves
	default:
		_, next := a.Update(m)
		run(a, next)
	}
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	}
	return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
}

func screen(a *App) string { return ansi.Strip(a.render()) }

// ov is the overview, at the bottom of the stack.
func ov(a *App) *overview { return a.stack[0].(*overview) }

func started(t testing.TB, w, h int) *App {
	return startedWith(t, deps(testFleet(t)), w, h)
}

// startedWith is the cockpit on d at w×h, its overview loaded.
func startedWith(t testing.TB, d Deps, w, h int) *App {
	a := New(d, styles())
	drive(t, a, tea.WindowSizeMsg{Width: w, Height: h})
	run(a, loadOverview(d, nil))
	return a
}

var sizes = [][2]int{{80, 24}, {160, 48}}

func TestGoldenOverview(t *testing.T) {
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a := started(t, size[0], size[1])
			out := screen(a)
			if n := strings.Count(out, "\n") + 1; n != size[1] {
				t.Errorf("%d lines", n)
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// The SLO view of the worst budget, ten minutes into the retry storm:
// paging, its forecast, the burn-down and what spent it.
func TestGoldenSLO(t *testing.T) {
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a := started(t, size[0], size[1])
			b := ov(a).data.Budgets[0]
			drive(t, a, press("g"), press("enter"))
			run(a, loadSLO(a.c.deps, b.SLO))
			out := screen(a)
			for _, want := range []string{"✗ page", "predicted to exhaust budget in", "BURN RATES", "BURN-DOWN", "✗ FIRING"} {
				if !strings.Contains(out, want) {
					t.Errorf("missing %q", want)
				}
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// One SLO that cannot be read greys its gauge alone, with its reason.
func TestOneUnreadableSLOGreysItsGaugeAlone(t *testing.T) {
	d := deps(testFleet(t))
	d.SLOs = append(d.SLOs, slo.Objective{Name: "ghost-availability", Service: "ghost", Objective: 0.999, Window: 28 * 24 * time.Hour,
		Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: "ghost"}})
	a := startedWith(t, d, 160, 48)
	out := screen(a)
	if !strings.Contains(out, `? ghost-availability unread: sim: no service "ghost"`) {
		t.Errorf("the unreadable SLO's gauge:\n%s", out)
	}
	if !strings.Contains(out, "✗ checkout-availability page") || !strings.Contains(out, "! slo 1 of 9 unread") {
		t.Errorf("the other gauges are not live:\n%s", out)
	}
}

func TestGoldenIncident(t *testing.T) {
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a := started(t, size[0], size[1])
			drive(t, a, press("enter"))
			out := screen(a)
			if !strings.Contains(out, "user-preferences-api") || !strings.Contains(out, "ROOT-CAUSE CANDIDATES") {
				t.Fatalf("incident view:\n%s", out)
			}
			// the assembly time varies: keep it out of the golden file
			golden.RequireEqual(t, []byte(stripTook(out)))
		})
	}
}

func stripTook(s string) string {
	i := strings.Index(s, "assembled in ")
	if i < 0 {
		return s
	}
	j := strings.Index(s[i:], " ·")
	return s[:i] + "assembled in ⋯" + s[i+j:]
}

func TestKeysRoute(t *testing.T) {
	a := started(t, 100, 30)
	g := ov(a).gauges()
	drive(t, a, press("j"), press("down"))
	if ov(a).cursor != g+2 {
		t.Errorf("cursor %d after j, down from the first alert (%d gauges)", ov(a).cursor, g)
	}
	drive(t, a, press("G"))
	if ov(a).cursor != ov(a).rows()-1 {
		t.Errorf("G: cursor %d of %d", ov(a).cursor, ov(a).rows())
	}
	drive(t, a, press("g"))
	if tr, _ := ov(a).selected(); tr.Service != ov(a).data.Budgets[0].SLO.Service || !strings.Contains(screen(a), "▸ ✗ checkout") {
		t.Errorf("g should select the first SLO gauge: %+v\n%s", tr, screen(a))
	}
	drive(t, a, press("enter"))
	if len(a.stack) != 2 || !strings.Contains(screen(a), "overview › slo checkout-availability") || !strings.Contains(screen(a), "ALERTS (multiwindow, multi-burn-rate)") {
		t.Fatalf("enter on a gauge did not open its budget:\n%s", screen(a))
	}
	drive(t, a, press("esc"), press("i"))
	if len(a.stack) != 2 || !strings.Contains(screen(a), "overview › incident checkout-api") {
		t.Fatalf("i on a gauge did not open its service's incident:\n%s", screen(a))
	}
	drive(t, a, press("?"))
	if !strings.Contains(screen(a), "KEYS") || !strings.Contains(screen(a), "pause or resume refresh") {
		t.Errorf("help:\n%s", screen(a))
	}
	drive(t, a, press("esc"))
	if _, help := a.top().(*helpView); help || len(a.stack) != 2 {
		t.Error("esc closes the help first")
	}
	drive(t, a, press("esc"))
	if len(a.stack) != 1 || !strings.Contains(screen(a), "FIRING ALERTS") {
		t.Error("esc goes back to the overview")
	}
	drive(t, a, press("p"))
	if !a.c.paused || !strings.Contains(screen(a), "refresh paused") {
		t.Error("p pauses")
	}
	if _, cmd := a.Update(press("q")); cmd == nil || cmd() != tea.Quit() {
		t.Error("q does not quit")
	}
}

func TestCompactLayoutKeepsGaugesAndTopAlert(t *testing.T) {
	a := started(t, 80, 12)
	out := screen(a)
	// the top alert is a page: pages come before warnings
	if !strings.Contains(out, "checkout") || !strings.Contains(out, "✗ page    ErrorBudgetBurn") || strings.Contains(out, "SERVICES") {
		t.Errorf("compact:\n%s", out)
	}
}

// hangingMetrics never answers until its context ends.
type hangingMetrics struct{ sources.Metrics }

func (hangingMetrics) RED(ctx context.Context, _ []string, _ sources.TimeRange, _ time.Duration) ([]sources.RED, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestSlowBackendLeavesTheUIResponsiveAndShowsItsError(t *testing.T) {
	d := deps(testFleet(t))
	d.Sources.Metrics = hangingMetrics{d.Sources.Metrics}
	d.Timeout = 50 * time.Millisecond
	a := New(d, styles())
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	// the load is a command: while it runs, keys are handled at once
	done := make(chan tea.Msg, 1)
	go func() { done <- loadOverview(d, nil)() }()
	drive(t, a, press("?"))
	if _, help := a.top().(*helpView); !help {
		t.Fatal("the UI did not handle a key while loading")
	}
	drive(t, a, press("?"))
	a.Update(<-done)
	out := screen(a)
	if !strings.Contains(out, "✗ context deadline exceeded") || !strings.Contains(out, "metrics down") || !strings.Contains(out, "FIRING ALERTS") {
		t.Errorf("the error is not in its panel, or the rest is gone:\n%s", out)
	}
}

// hostileAlerts returns an alert whose text tries to take over the terminal.
type hostileAlerts struct{ sources.Alerting }

func (hostileAlerts) Alerts(context.Context) ([]sources.Alert, error) {
	return []sources.Alert{{Name: "Evil\x1b[2J", State: sources.AlertFiring, Severity: "page", StartsAt: time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC),
		Labels:      sources.Labels{"service": "svc\x1b]52;c;cm0gLXJmIH4=\x07"},
		Annotations: sources.Labels{"summary": "clip \x1b]52;c;ZWNobyBoaQ==\x07 move \x1b[10;10H bidi \u202e done"}}}, nil
}

func TestHostileTextRendersInert(t *testing.T) {
	d := deps(testFleet(t))
	d.Sources.Alerts = hostileAlerts{d.Sources.Alerts}
	a := startedWith(t, d, 160, 30)
	raw := a.render()
	for _, bad := range []string{"\x1b]52", "\x1b[2J", "\x1b[10;10H", "\u202e", "\x07"} {
		if strings.Contains(raw, bad) {
			t.Errorf("rendered output holds %q", bad)
		}
	}
	if !strings.Contains(ansi.Strip(raw), "clip") {
		t.Error("the alert is not shown at all")
	}
}

// BenchmarkViewOverview renders the overview of 47 services at 200×60.
func BenchmarkViewOverview(b *testing.B) {
	a := started(b, 200, 60)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = a.View()
	}
}

// BenchmarkViewIncident renders the incident view at 200×60.
func BenchmarkViewIncident(b *testing.B) {
	a := started(b, 200, 60)
	drive(b, a, press("enter"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = a.View()
	}
}

// aliceAcks is the cockpit at 120×30 on db-pool-exhaustion (seed 4) six
// minutes in, where alice acknowledges for 30 minutes, and its fleet.
func aliceAcks(t *testing.T) (*App, *sim.Fleet) {
	t.Helper()
	f := fleetAt(t, "db-pool-exhaustion", 4, 6*time.Minute)
	d := deps(f)
	d.User, d.AckFor = "alice", 30*time.Minute
	return startedWith(t, d, 120, 30), f
}

func TestAcknowledgeShowsTheRequestAndDefaultsToNo(t *testing.T) {
	a, f := aliceAcks(t)
	top := ov(a).firing()[0]
	if top.Severity != "page" {
		t.Fatalf("the first alert is %s %s, not a page", top.Severity, top.Name)
	}
	drive(t, a, press("a"))
	out := screen(a)
	for _, want := range []string{"POST /api/v2/silences", fmt.Sprintf(`alertname=%q, service=%q`, top.Name, top.Service), "created by: alice", "(30m0s)", "[y/N]"} {
		if !strings.Contains(out, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, out)
		}
	}
	drive(t, a, press("enter")) // the default: no
	if sil := f.Silences(); len(sil) != 0 || !strings.Contains(screen(a), "not acknowledged") {
		t.Fatalf("enter acknowledged: %v", sil)
	}
	drive(t, a, press("a"), press("y"))
	sil := f.Silences()
	if len(sil) != 1 || sil[0].CreatedBy != "alice" || !sil[0].EndsAt.Equal(f.Now().Add(30*time.Minute)) {
		t.Fatalf("silences %+v", sil)
	}
	if out := screen(a); !strings.Contains(out, "acked by alice") {
		t.Errorf("everyone should see who is on it:\n%s", out)
	}
}

func TestReadOnlyOffersNoAction(t *testing.T) {
	d := deps(testFleet(t))
	d.ReadOnly = true
	a := startedWith(t, d, 120, 30)
	drive(t, a, press("a"))
	if _, asked := a.top().(*confirmDialog); asked || !strings.Contains(screen(a), "read-only: acknowledgements are disabled") {
		t.Errorf("read-only asked to acknowledge:\n%s", screen(a))
	}
	drive(t, a, press("?"))
	if strings.Contains(screen(a), "acknowledge") {
		t.Errorf("help offers an action in read-only mode:\n%s", screen(a))
	}
}

func TestGoldenTraceWaterfall(t *testing.T) {
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a := started(t, size[0], size[1])
			drive(t, a, press("enter"), press("t"))
			out := screen(a)
			if !strings.Contains(out, "TRACE ") || !strings.Contains(out, "█") || !strings.Contains(out, "✗") {
				t.Fatalf("waterfall:\n%s", out)
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// TestGoldenTraceWaterfallColorblind keeps the colours: every bar takes
// its service's colour from the theme's series, so the colour-blind
// palette (Okabe–Ito) reaches the waterfall too.
func TestGoldenTraceWaterfallColorblind(t *testing.T) {
	p, err := themes.Load("colorblind", "")
	if err != nil {
		t.Fatal(err)
	}
	a := New(deps(testFleet(t)), themes.New(p))
	drive(t, a, tea.WindowSizeMsg{Width: 100, Height: 30})
	run(a, loadOverview(a.c.deps, nil))
	drive(t, a, press("enter"), press("t"))
	raw := a.render()
	okabeIto := 0
	for _, hex := range p.Series {
		var r, g, b int
		fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b)
		if strings.Contains(raw, fmt.Sprintf("38;2;%d;%d;%dm█", r, g, b)) {
			okabeIto++
		}
	}
	dark, _ := themes.Load("dark", "")
	for _, hex := range dark.Series {
		var r, g, b int
		fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b)
		if strings.Contains(raw, fmt.Sprintf("38;2;%d;%d;%dm", r, g, b)) {
			t.Errorf("the dark theme's %s is drawn under the colour-blind theme", hex)
		}
	}
	if okabeIto < 2 {
		t.Errorf("the bars use %d of the colour-blind series", okabeIto)
	}
	golden.RequireEqual(t, []byte(raw))
}

func TestWaterfallFoldsAndCycles(t *testing.T) {
	a := started(t, 120, 40)
	drive(t, a, press("enter"), press("t"))
	tv := a.top().(*traceView)
	all := len(tv.rows)
	drive(t, a, press("enter")) // fold the root
	if len(tv.rows) != 1 || !strings.Contains(screen(a), "▹ ") {
		t.Errorf("folding the root left %d of %d rows", len(tv.rows), all)
	}
	drive(t, a, press("enter"))
	if len(tv.rows) != all {
		t.Errorf("unfolding gave %d of %d rows", len(tv.rows), all)
	}
	first := tv.traces[tv.cur].TraceID
	drive(t, a, press("n"))
	if len(tv.traces) > 1 && tv.traces[tv.cur].TraceID == first {
		t.Error("n did not move to the next trace")
	}
	drive(t, a, press("esc"))
	if _, ok := a.top().(*incidentView); !ok {
		t.Error("esc did not go back to the incident")
	}
}

func TestLogsTailFiltersAndJumps(t *testing.T) {
	f := fleetAt(t, "retry-storm", 5, 5*time.Minute)
	d := deps(f)
	a := startedWith(t, d, 120, 30)
	// the cursor to the payment-api service row
	for i := 0; i < ov(a).rows(); i++ {
		if tr, _ := ov(a).selected(); tr.Alert == "" && tr.Service == "payment-api" {
			break
		}
		a.Update(press("j"))
	}
	_, cmd := a.Update(press("l"))
	_, start := a.Update(cmd()) // the view is pushed; its history loads and its tail starts
	batch := start().(tea.BatchMsg)
	a.Update(batch[0]()) // the last lines before now
	if lv := a.top().(*logsView); len(lv.lines) == 0 || len(lv.lines) > historyLines || lv.lines[0].T.After(lv.lines[len(lv.lines)-1].T) {
		t.Fatalf("the view opened without the earlier lines, oldest first: %d", len(lv.lines))
	}
	_, next := a.Update(batch[1]()) // subscribed
	_, next = a.Update(next())      // connected
	f.Advance(5 * time.Second)
	_, _ = a.Update(next())
	lv := a.top().(*logsView)
	if lv.service != "payment-api" || len(lv.lines) == 0 || !strings.Contains(screen(a), "LOGS payment-api  ✓ live") {
		t.Fatalf("tail: %d lines\n%s", len(lv.lines), screen(a))
	}
	typeText := func(s string) {
		for _, r := range s {
			a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
	}
	a.Update(press("/"))
	typeText("pool")
	if !strings.Contains(screen(a), "/pool▏") {
		t.Errorf("the filter is not echoed:\n%s", screen(a))
	}
	a.Update(press("enter"))
	for _, l := range lv.visible {
		if !strings.Contains(l.Line, "pool") {
			t.Fatalf("filter kept %q", l.Line)
		}
	}
	a.Update(press("/"))
	for range "pool" {
		a.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeText("level=warn")
	a.Update(press("enter"))
	for _, l := range lv.visible {
		if l.Level != "warn" {
			t.Fatalf("label filter kept %+v", l)
		}
	}
	a.Update(press("/"))
	for range "level=warn" {
		a.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeText("q(") // typing q must not quit
	if _, cmd := a.Update(press("enter")); cmd != nil {
		t.Fatal("typing q in the filter quit")
	}
	if !strings.Contains(screen(a), "✗ filter") {
		t.Errorf("a bad regex is not reported:\n%s", screen(a))
	}
	a.Update(press("p"))
	before := len(lv.lines)
	f.Advance(5 * time.Second)
	a.Update(next())
	if len(lv.lines) != before || !strings.Contains(screen(a), "paused") {
		t.Error("the paused view moved")
	}
	a.Update(press("esc"))
	if _, ok := a.top().(*overview); !ok {
		t.Error("esc did not close the logs")
	}
}

func TestTraceFromIncidentAfterLogsClosed(t *testing.T) {
	// jumping to a trace that the backend no longer has reports it in place
	a := started(t, 120, 30)
	c := a.c
	msg := openTrace(c, "0123456789abcdef0123456789abcdef", nil)()
	a.Update(msg)
	if !strings.Contains(screen(a), "✗ trace 0123456789abcdef0123456789abcdef") {
		t.Errorf("missing trace not reported:\n%s", screen(a))
	}
}

func TestPaletteFindsAndGoes(t *testing.T) {
	d := deps(testFleet(t))
	d.Runbooks = map[string][]string{"payment-api": {"https://runbooks.example/payment-api"}}
	a := startedWith(t, d, 120, 30)
	drive(t, a, press(":"))
	for _, r := range "payapi" {
		a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	out := screen(a)
	if !strings.Contains(out, ": payapi▏") || !strings.Contains(out, "payment-api") {
		t.Fatalf("palette:\n%s", out)
	}
	p := a.top().(*palette)
	first := p.matches()[0]
	if !strings.Contains(first.label, "payment-api") {
		t.Errorf("best match %+v", first)
	}
	_, cmd := a.Update(press("enter"))
	runSeq(a, cmd)
	if iv, ok := a.top().(*incidentView); !ok || iv.trigger.Service != "payment-api" {
		t.Fatalf("enter did not open payment-api's incident: %T", a.top())
	}
	if all := ansi.Strip(strings.Join(a.top().(*incidentView).lines, "\n")); !strings.Contains(all, "RUNBOOKS") || !strings.Contains(all, "payment-api  https://runbooks.example/payment-api") {
		t.Errorf("no runbooks panel with the link:\n%s", all)
	}
	drive(t, a, press("ctrl+k"))
	for _, r := range "runbook" {
		a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	_, cmd = a.Update(press("enter"))
	runSeq(a, cmd)
	if !strings.Contains(screen(a), "runbook for payment-api: https://runbooks.example/payment-api") {
		t.Errorf("runbook item:\n%s", screen(a))
	}
	drive(t, a, press(":"))
	for _, r := range "slo payments-avail" {
		a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	_, cmd = a.Update(press("enter"))
	runSeq(a, cmd)
	if v, ok := a.top().(*sloView); !ok || v.budget.SLO.Name != "payments-availability" {
		t.Errorf("an SLO from the palette opens its budget: %T", a.top())
	}
	drive(t, a, press(":"), press("esc"))
	if _, ok := a.top().(*palette); ok {
		t.Error("esc did not close the palette")
	}
}

// runSeq runs a command and everything it leads to.
func runSeq(a *App, cmd tea.Cmd) { run(a, cmd) }

func TestStalePanelsGreyOut(t *testing.T) {
	d := deps(testFleet(t))
	now := wall
	d.Wall = func() time.Time { return now }
	a := startedWith(t, d, 120, 30)
	if strings.Contains(screen(a), "stale") {
		t.Fatal("fresh data called stale")
	}
	now = now.Add(10 * time.Second) // five refreshes missed
	a.Update(tickMsg(now))          // the clock advances with the model, not in View
	out := screen(a)
	if !strings.Contains(out, "FIRING ALERTS  ! stale: 10s old") || !strings.Contains(out, "(stale)") {
		t.Errorf("stale panels not marked:\n%s", out)
	}
}

func TestTreeCollapses(t *testing.T) {
	a := started(t, 160, 48)
	drive(t, a, press("enter"))
	iv := a.top().(*incidentView)
	full := len(iv.lines)
	drive(t, a, press("c"))
	all := ansi.Strip(strings.Join(iv.lines, "\n"))
	if len(iv.lines) >= full || !strings.Contains(all, "more (c expands)") {
		t.Errorf("collapsing kept %d of %d lines", len(iv.lines), full)
	}
	drive(t, a, press("c"))
	if len(iv.lines) != full {
		t.Error("expanding did not restore the tree")
	}
}

func TestGoldenHelpAndPalette(t *testing.T) {
	for _, size := range sizes {
		a := started(t, size[0], size[1])
		drive(t, a, press("?"))
		t.Run(fmt.Sprintf("help/%dx%d", size[0], size[1]), func(t *testing.T) { golden.RequireEqual(t, []byte(screen(a))) })
		drive(t, a, press("?"), press(":"))
		for _, r := range "check" {
			a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		t.Run(fmt.Sprintf("palette/%dx%d", size[0], size[1]), func(t *testing.T) { golden.RequireEqual(t, []byte(screen(a))) })
	}
}

func TestGoldenLogs(t *testing.T) {
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			f := fleetAt(t, "retry-storm", 5, 5*time.Minute)
			d := deps(f)
			a := startedWith(t, d, size[0], size[1])
			v := newLogsView(a.c, "payment-api")
			v.SetSize(size[0], a.bodyHeight())
			a.stack = append(a.stack, v)
			_, next := a.Update(startTail(a.c, v)())
			_, next = a.Update(next())
			f.Advance(10 * time.Second)
			a.Update(next())
			golden.RequireEqual(t, []byte(screen(a)))
			v.Close()
		})
	}
}

func TestSortAndLogsFromIncident(t *testing.T) {
	a := started(t, 120, 40)
	drive(t, a, press("s"))
	if !strings.Contains(screen(a), "by name (s)") || ov(a).data.Services[0].Service != "account-api" {
		t.Errorf("sort by name: %s first", ov(a).data.Services[0].Service)
	}
	drive(t, a, press("s"), press("s"), press("s"), press("s"))
	if !strings.Contains(screen(a), "by health (s)") {
		t.Error("s does not cycle back to health")
	}
	drive(t, a, press("enter"))
	if target := a.top().(*incidentView).logsTarget(); target != "user-preferences-api" {
		t.Errorf("l in the incident would tail %q, want the root cause", target)
	}
}

// TestTeatestFlow runs the real program with teatest: it waits for the
// overview, opens an incident, and quits.
func TestTeatestFlow(t *testing.T) {
	d := deps(testFleet(t))
	tm := teatest.NewTestModel(t, New(d, styles()), teatest.WithInitialTermSize(120, 40))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(ansi.Strip(string(b)), "FIRING ALERTS") },
		teatest.WithDuration(20*time.Second))
	tm.Send(press("enter"))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(ansi.Strip(string(b)), "CANDIDATES") },
		teatest.WithDuration(20*time.Second))
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(*App)
	if len(final.stack) != 2 {
		t.Errorf("final stack %d", len(final.stack))
	}
}

func TestEverySizeFillsTheScreenExactly(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}, {200, 60}, {300, 100}, {80, 12}} {
		a := started(t, size[0], size[1])
		for _, keys := range [][]string{nil, {"enter"}, {"t"}, {"esc", "esc", "?"}} {
			drive(t, a, func() []tea.Msg {
				var m []tea.Msg
				for _, k := range keys {
					m = append(m, press(k))
				}
				return m
			}()...)
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Fatalf("%dx%d after %v: %s", size[0], size[1], keys, bad)
			}
		}
	}
}

func TestCursorStaysOnItsRowAcrossRefreshes(t *testing.T) {
	a := started(t, 120, 40)
	o := ov(a)
	if tr, _ := o.selected(); tr.Alert == "" {
		t.Fatalf("the cursor does not rest on the first alert: %+v", tr)
	}
	drive(t, a, press("G"))
	want, _ := o.selected()
	d := *o.data
	d.Alerts = append([]sources.Alert{{Name: "New", State: sources.AlertFiring, Fingerprint: "zz", Labels: sources.Labels{"service": "x"}}}, d.Alerts...)
	o.setData(&d)
	if got, _ := o.selected(); got != want {
		t.Errorf("after a new alert the cursor moved from %+v to %+v", want, got)
	}
}

// countingMetrics counts RED queries.
type countingMetrics struct {
	sources.Metrics
	n *int
}

func (c countingMetrics) RED(ctx context.Context, s []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	*c.n++
	return c.Metrics.RED(ctx, s, r, step)
}

func TestBudgetsAreNotReloadedOnEveryRefresh(t *testing.T) {
	d := deps(testFleet(t))
	n := 0
	d.Sources.Metrics = countingMetrics{d.Sources.Metrics, &n}
	now := testFleet(t).Now()
	d.Now = func() time.Time { return now } // the data's clock
	first := overviewData(loadOverview(d, nil)().(overviewMsg))
	full := n // one for the services, two per SLO
	now = now.Add(2 * time.Second)
	second := overviewData(loadOverview(d, &first)().(overviewMsg))
	if n-full != 1 || len(second.Budgets) != len(first.Budgets) {
		t.Errorf("a refresh made %d RED queries, want 1 (budgets kept)", n-full)
	}
	now = now.Add(budgetEvery)
	loadOverview(d, &second)()
	if n-full-1 != full {
		t.Errorf("after %s the budgets were not reloaded: %d queries", budgetEvery, n-full-1)
	}
}

// TestPasteIntoThePaletteAndTheFilter pastes as a terminal does
// (bracketed paste), into the palette and into the logs' filter.
func TestPasteIntoThePaletteAndTheFilter(t *testing.T) {
	a := started(t, 120, 30)
	drive(t, a, press(":"), tea.PasteMsg{Content: "payment-api"})
	p := a.top().(*palette)
	if got := p.input.Value(); got != "payment-api" {
		t.Errorf("pasted %q", got)
	}
	if ms := p.matches(); len(ms) == 0 || !strings.Contains(ms[0].label, "payment-api") {
		t.Errorf("matches after a paste: %+v", ms)
	}
	drive(t, a, press("esc"))
	v := newLogsView(a.c, "payment-api")
	v.lines = []sources.LogLine{{Level: "warn", Line: "slow"}, {Level: "error", Line: "boom"}}
	v.refilter()
	drive(t, a, pushMsg{c: v}, press("/"), tea.PasteMsg{Content: "level=error"}, press("enter"))
	if v.filter != "level=error" || len(v.visible) != 1 || v.visible[0].Line != "boom" {
		t.Errorf("filter %q keeps %+v", v.filter, v.visible)
	}
}

// TestViewIsPure checks that the scroll offsets are set by Update and
// SetSize: rendering twice draws the same, and changes nothing.
func TestViewIsPure(t *testing.T) {
	a := started(t, 100, 24)
	drive(t, a, press("G"))
	o := ov(a)
	if o.offset == 0 {
		t.Fatalf("G at 24 rows should scroll the services: offset %d", o.offset)
	}
	before, offset := screen(a), o.offset
	if screen(a) != before || o.offset != offset {
		t.Error("rendering moved the overview")
	}
	drive(t, a, press("g"), press("i"), press("t"))
	tv := a.top().(*traceView)
	for range tv.rows {
		drive(t, a, press("j"))
	}
	if tv.offset == 0 || tv.sel != len(tv.rows)-1 {
		t.Fatalf("the waterfall did not scroll to its last span: sel %d offset %d of %d", tv.sel, tv.offset, len(tv.rows))
	}
	before, offset = screen(a), tv.offset
	if screen(a) != before || tv.offset != offset {
		t.Error("rendering moved the waterfall")
	}
}

// TestEveryComponentMeetsTheContract walks the stack through every
// component and checks what the root relies on: breadcrumbs from
// Title, footers from ShortHelp, Capturing while typing.
func TestEveryComponentMeetsTheContract(t *testing.T) {
	a := started(t, 160, 40)
	drive(t, a, press("enter"), press("t"))
	if got := screen(a); !strings.Contains(got, "overview › incident checkout-api › traces") {
		t.Errorf("breadcrumbs:\n%s", got)
	}
	for _, c := range a.stack {
		if len(c.ShortHelp()) == 0 && c.Title() != "overview" {
			t.Errorf("%s has no footer", c.Title())
		}
		if c.Capturing() {
			t.Errorf("%s captures keys while nothing is typed", c.Title())
		}
	}
	drive(t, a, press(":"))
	if !a.top().Capturing() || a.top().Title() != "find" {
		t.Error("the palette does not take the keys")
	}
	drive(t, a, press("q"))
	if a.top().Title() != "find" || a.top().(*palette).input.Value() != "q" {
		t.Error("q is text in the palette, not quit")
	}
	drive(t, a, press("esc"), press("?"))
	if a.top().Title() != "" || !strings.Contains(screen(a), "overview › incident checkout-api › traces") {
		t.Errorf("help joined the breadcrumbs:\n%s", screen(a))
	}
}

// TestAcknowledgeFromTheIncident: a in an incident opened from an alert
// asks to acknowledge that alert, with the same request shown.
func TestAcknowledgeFromTheIncident(t *testing.T) {
	a, f := aliceAcks(t)
	top := ov(a).firing()[0]
	drive(t, a, press("enter"), press("a"))
	if !strings.Contains(screen(a), fmt.Sprintf(`alertname=%q, service=%q`, top.Name, top.Service)) {
		t.Fatalf("no confirmation of the trigger alert:\n%s", screen(a))
	}
	drive(t, a, press("y"))
	if sil := f.Silences(); len(sil) != 1 || sil[0].CreatedBy != "alice" {
		t.Fatalf("silences %+v", sil)
	}
	drive(t, a, press("esc"), press("j"), press("j"), press("j"), press("G"), press("enter"), press("a"))
	if !strings.Contains(screen(a), "not opened from an alert") {
		t.Errorf("a service's incident offered to acknowledge:\n%s", screen(a))
	}
}

// TestContextBadgeAndTypedConfirmation: the header names the context in
// its colour, and in a typed context only the name acknowledges.
func TestContextBadgeAndTypedConfirmation(t *testing.T) {
	f := fleetAt(t, "db-pool-exhaustion", 4, 6*time.Minute)
	d := deps(f)
	d.User, d.AckFor, d.Context, d.ContextColor, d.ConfirmTyped = "alice", time.Minute, "prod", "#d55e00", true
	a := startedWith(t, d, 120, 30)
	if raw := a.render(); !strings.Contains(ansi.Strip(raw), "oncall [prod typed] ·") || !strings.Contains(raw, "38;2;213;94;0") {
		t.Errorf("no coloured context badge: %q", strings.SplitN(raw, "\n", 2)[0])
	}
	drive(t, a, press("a"), press("y"))
	if len(f.Silences()) != 0 {
		t.Fatal("y acknowledged in a typed context")
	}
	drive(t, a, press("a"))
	if !strings.Contains(screen(a), "type prod to go ahead") {
		t.Fatalf("no typed prompt:\n%s", screen(a))
	}
	for _, r := range "stag" {
		a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	drive(t, a, press("enter"))
	if len(f.Silences()) != 0 || !strings.Contains(screen(a), "the name typed was not prod") {
		t.Fatalf("a wrong name acknowledged:\n%s", screen(a))
	}
	drive(t, a, press("a"), tea.PasteMsg{Content: "prod"}, press("enter"))
	if len(f.Silences()) != 1 {
		t.Fatalf("the typed name did not acknowledge: %v", f.Silences())
	}
}

// TestHelpScrollsOnASmallScreen: at 80×24 every key is reachable.
func TestHelpScrollsOnASmallScreen(t *testing.T) {
	a := started(t, 80, 24)
	drive(t, a, press("?"))
	if strings.Contains(screen(a), "  q          quit") || !strings.Contains(screen(a), "more below") {
		t.Fatalf("the help fits 80x24 without scrolling? \n%s", screen(a))
	}
	drive(t, a, press("G"))
	if !strings.Contains(screen(a), "  q          quit") || strings.Contains(screen(a), "more below") {
		t.Errorf("G did not reach the end of the help:\n%s", screen(a))
	}
	drive(t, a, press("esc"))
	if _, ok := a.top().(*overview); !ok {
		t.Error("esc did not close the help")
	}
}

// TestCopyAndLink: y copies the selection with OSC 52, and o makes an
// Explore link when Grafana is configured, or says what is missing.
func TestCopyAndLink(t *testing.T) {
	a := started(t, 120, 40)
	drive(t, a, press("G")) // the last service
	_, cmd := a.Update(press("y"))
	msgs := cmd().(tea.BatchMsg)
	if len(msgs) != 2 || fmt.Sprint(msgs[0]()) == "" {
		t.Fatalf("y: %v", msgs)
	}
	a.Update(msgs[1]())
	// the last row is an uninstrumented peer: its query is the calls into it
	if !strings.Contains(screen(a), "▸ ✓ users-db (peer)") || !strings.Contains(screen(a), "copied the query: sim(seed 1, retry-storm): sum by (client, server) (rate(traces_service_graph_request_total") {
		t.Errorf("no copy of the peer's query:\n%s", screen(a))
	}
	drive(t, a, press("g"))
	for !strings.Contains(screen(a), "▸ ✗ payment-api") {
		drive(t, a, press("j"))
	}
	_, cmd = a.Update(press("y"))
	a.Update(cmd().(tea.BatchMsg)[1]())
	if !strings.Contains(screen(a), "copied the query: sim(seed 1, retry-storm): sum by (service)") {
		t.Errorf("no copy of the service's query:\n%s", screen(a))
	}
	drive(t, a, press("o"))
	if !strings.Contains(screen(a), "no grafana.url in the config") {
		t.Errorf("o without grafana:\n%s", screen(a))
	}
	a.c.deps.Explore.URL, a.c.deps.Explore.UIDs = "https://grafana.example", map[string]string{"prometheus": "prom"}
	drive(t, a, press("o"))
	if !strings.Contains(screen(a), "copied https://grafana.example/explore?") {
		t.Errorf("o with grafana:\n%s", screen(a))
	}
	drive(t, a, press("g"), press("i"), press("t"), press("y"))
	if tv := a.top().(*traceView); !strings.Contains(screen(a), "copied the trace ID: "+tv.traces[tv.cur].TraceID) {
		t.Errorf("y in the waterfall:\n%s", screen(a))
	}
}

// TestMouse: the wheel scrolls, a click selects a row and a second click
// opens it.
func TestMouse(t *testing.T) {
	a := started(t, 120, 40)
	o := ov(a)
	first := o.cursor
	drive(t, a, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if o.cursor != first+1 {
		t.Errorf("the wheel moved the cursor from %d to %d", first, o.cursor)
	}
	// find the screen line of the second service row
	lines := strings.Split(screen(a), "\n")
	y := -1
	for i, l := range lines {
		if strings.Contains(l, o.data.Services[1].Service) && strings.Contains(l, "/s ") {
			y = i
			break
		}
	}
	if y < 0 {
		t.Fatal("no service row on screen")
	}
	drive(t, a, tea.MouseClickMsg{Y: y, Button: tea.MouseLeft})
	if tr, _ := o.selected(); tr.Service != o.data.Services[1].Service || tr.Alert != "" {
		t.Fatalf("the click selected %+v", tr)
	}
	drive(t, a, tea.MouseClickMsg{Y: y, Button: tea.MouseLeft})
	if iv, ok := a.top().(*incidentView); !ok || iv.trigger.Service != o.data.Services[1].Service {
		t.Errorf("a second click did not open the service's incident")
	}
}

// The status line says each part's state: loading is not down, a
// backend that is not configured is not down, and logs and traces are
// probed like the rest.
func TestStatusLineStates(t *testing.T) {
	st := styles()
	loaded := part{LoadedAt: wall, Took: 3 * time.Millisecond}
	o := &overviewData{REDOf: loaded, BudgetOf: part{}, AlertsOf: part{Err: errNoSource("alertmanager")},
		LogsOf: &part{LoadedAt: wall, Err: errors.New("connection refused")}, TracesOf: &loaded}
	got := ansi.Strip(statusLine(o, wall, cadence{every: 2 * time.Second}, false, 200, st))
	for _, want := range []string{"✓ metrics up 3ms", "… slo", "– alerts not configured", "✗ logs down", "✓ traces up 3ms"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	if strings.Contains(got, "slo down") {
		t.Errorf("a part still loading is shown down: %q", got)
	}
	narrow := ansi.Strip(statusLine(o, wall, cadence{every: 2 * time.Second}, false, 80, st))
	if !strings.Contains(narrow, "✓ metrics ") || !strings.Contains(narrow, "data 0s old") {
		t.Errorf("narrow: %q", narrow)
	}
}

// Live lines are shown in time order across streams and reconnects, a
// line a reconnect delivers again is kept once, and a pause holds lines
// back without losing them.
func TestLogsInTimeOrderOnceAndNothingLostOnPause(t *testing.T) {
	a := started(t, 100, 30)
	v := newLogsView(a.c, "payment-api")
	at := func(s int) time.Time { return wall.Add(time.Duration(s) * time.Second) }
	line := func(s int, text string) sources.LogLine {
		return sources.LogLine{T: at(s), Service: "payment-api", Line: text}
	}
	v.add(sources.TailEvent{Lines: []sources.LogLine{line(5, "b"), line(10, "d")}})
	v.add(sources.TailEvent{Lines: []sources.LogLine{line(1, "a"), line(7, "c")}})  // another stream, behind
	v.add(sources.TailEvent{Lines: []sources.LogLine{line(7, "c"), line(12, "e")}}) // a reconnect resends c
	a.c.paused = true
	v.add(sources.TailEvent{Lines: []sources.LogLine{line(11, "held")}})
	if len(v.lines) != 5 {
		t.Errorf("paused, the view moved: %d lines", len(v.lines))
	}
	a.c.paused = false
	v.add(sources.TailEvent{Lines: []sources.LogLine{line(13, "f")}})
	var got []string
	for _, l := range v.visible {
		got = append(got, l.Line)
	}
	if strings.Join(got, "") != "abcdheldef" {
		t.Errorf("lines %v", got)
	}
}

// gatedLogs answers only once release is closed: a slow Loki.
type gatedLogs struct {
	inner   sources.Logs
	release chan struct{}
}

func (g gatedLogs) LogRate(ctx context.Context, q sources.LogQuery, step time.Duration) ([]sources.Series, error) {
	return g.inner.LogRate(ctx, q, step)
}

func (g gatedLogs) Tail(ctx context.Context, q sources.LogQuery) (<-chan sources.TailEvent, error) {
	return g.inner.Tail(ctx, q)
}

func (g gatedLogs) Logs(ctx context.Context, q sources.LogQuery) ([]sources.LogLine, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.inner.Logs(ctx, q)
}

// TestIncidentDrawsPartsAsTheyArrive: with the logs held back, the
// incident already shows the candidates from the metrics and says which
// parts are in; when the logs come, it is whole.
func TestIncidentDrawsPartsAsTheyArrive(t *testing.T) {
	a := started(t, 120, 40)
	release := make(chan struct{})
	a.c.deps.Sources.Logs = gatedLogs{a.c.deps.Sources.Logs, release}
	_, cmd := a.Update(press("enter"))
	pm := cmd().(pushMsg)
	_, _ = a.Update(pushMsg{pm.c, nil})
	msg := pm.start().(incidentMsg)
	for msg.next != nil && !strings.Contains(fmt.Sprint(msg.arrived), "metrics: RED") {
		a.Update(msg)
		msg = msg.next().(incidentMsg)
	}
	_, next := a.Update(msg)
	s := screen(a)
	if next == nil || !strings.Contains(s, "ROOT-CAUSE CANDIDATES") || !strings.Contains(s, "assembling, ") || strings.Contains(s, "assembled in") ||
		strings.Contains(fmt.Sprint(a.top().(*incidentView).arrived), "logs") {
		t.Fatalf("partial incident:\n%s", s)
	}
	if drive(t, a, press("t")); !strings.Contains(screen(a), "the traces are still coming") {
		t.Errorf("t before the traces:\n%s", screen(a))
	}
	close(release)
	for next != nil {
		_, next = a.Update(next())
	}
	drive(t, a, press("j")) // the flash stays until the next key
	if s := screen(a); !strings.Contains(s, "assembled in") || strings.Contains(s, "assembling, ") {
		t.Errorf("whole incident:\n%s", s)
	}
	if v := a.top().(*incidentView); !strings.Contains(fmt.Sprint(v.arrived), "logs") || !strings.Contains(fmt.Sprint(v.arrived), "traces") {
		t.Errorf("arrived %v", v.arrived)
	}
}

// misfit says how a frame fails to fill w×h cells exactly, or "" when it
// does: h lines, each w cells wide.
func misfit(frame string, w, h int) string {
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		return fmt.Sprintf("%d lines, not %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw != w {
			return fmt.Sprintf("line %d is %d wide: %q", i, lw, l)
		}
	}
	return ""
}
