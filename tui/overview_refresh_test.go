package tui

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// gatedMetrics passes the overview's metrics questions to the fleet's,
// each one held at its gate (when there is one) until the test lets it
// through, and counts how many are in flight at once and what RED asked.
type gatedMetrics struct {
	sources.Metrics
	gate    chan struct{} // nil: every question goes through at once
	entered chan struct{} // a question reached the gate
	mu      sync.Mutex
	now     int // in flight
	most    int // the most in flight at once
	reds    [][]string
	steps   []time.Duration
	spans   []time.Duration     // of the ranges RED was asked
	sums    []sources.TimeRange // the ranges SummarizeRED was asked
}

func newGated(m sources.Metrics, gated bool) *gatedMetrics {
	g := &gatedMetrics{Metrics: m, entered: make(chan struct{}, 16)}
	if gated {
		g.gate = make(chan struct{})
	}
	return g
}

// enter counts a question in, holds it at the gate, and returns what
// counts it out.
func (g *gatedMetrics) enter(ctx context.Context) (func(), error) {
	g.mu.Lock()
	g.now++
	g.most = max(g.most, g.now)
	g.mu.Unlock()
	out := func() { g.mu.Lock(); g.now--; g.mu.Unlock() }
	if g.gate != nil {
		g.entered <- struct{}{}
		select {
		case <-g.gate:
		case <-ctx.Done():
			out()
			return nil, ctx.Err()
		}
	}
	return out, nil
}

func (g *gatedMetrics) RED(ctx context.Context, services []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	out, err := g.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer out()
	g.mu.Lock()
	g.reds, g.steps, g.spans = append(g.reds, services), append(g.steps, step), append(g.spans, r.End.Sub(r.Start))
	g.mu.Unlock()
	return g.Metrics.RED(ctx, services, r, step)
}

func (g *gatedMetrics) SummarizeRED(ctx context.Context, services []string, r sources.TimeRange, res time.Duration, figures sources.REDFigure) ([]sources.REDSummary, error) {
	out, err := g.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer out()
	g.mu.Lock()
	g.sums = append(g.sums, r)
	g.mu.Unlock()
	return g.Metrics.(sources.REDSummarizer).SummarizeRED(ctx, services, r, res, figures)
}

func (g *gatedMetrics) ServiceGraph(ctx context.Context, at time.Time, window time.Duration) ([]sources.Edge, error) {
	out, err := g.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer out()
	return g.Metrics.ServiceGraph(ctx, at, window)
}

// plainMetrics hides a backend's summaries: a Prometheus-like backend
// that cannot summarize.
type plainMetrics struct{ sources.Metrics }

// TestOneQuestionInFlightPerPanel holds every metrics question at a gate
// and, while one waits, ticks, refreshes and scrolls: the services'
// panel is never asked a second question, through the load and the
// series read after it.
func TestOneQuestionInFlightPerPanel(t *testing.T) {
	d := deps(testFleet(t))
	g := newGated(d.Sources.Metrics, true)
	d.Sources.Metrics = g
	a := New(d, styles())
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	o := ov(a)
	msgs := make(chan tea.Msg, 64)
	start := func(c tea.Cmd) {
		if c != nil {
			go func() { msgs <- c() }()
		}
	}
	handle := func(m tea.Msg) {
		switch m := m.(type) {
		case tea.BatchMsg:
			for _, c := range m {
				start(c)
			}
		case nil:
		default:
			start(o.Update(m))
		}
	}
	hammer := func() {
		for _, m := range []tea.Msg{tickMsg(wall), refreshMsg{}, press("G"), tickMsg(wall), press("g"), press("down"), tickMsg(wall)} {
			handle(m)
		}
	}
	handle(tickMsg(wall))
	loaded, series := false, false
	timeout := time.After(time.Minute) // a guard against a hang, not a measure
	for !series {
		select {
		case <-g.entered:
			hammer()
			g.gate <- struct{}{}
		case m := <-msgs:
			switch m.(type) {
			case overviewMsg:
				loaded = true
			case seriesMsg:
				series = loaded
			}
			handle(m)
		case <-timeout:
			t.Fatal("the round did not end")
		}
	}
	g.mu.Lock()
	most := g.most
	g.mu.Unlock()
	close(g.gate) // let a question asked after the round go, not hang
	if most != 1 {
		t.Errorf("%d metrics questions in flight at once, want 1", most)
	}
}

// TestRefreshBacksOffAndSaysWhy: a round slower than the refresh, timed
// whole (the SLO budgets, the slowest of the load's parts, then the
// sparklines' read), spaces the next one out to 1.5× its time, rounded
// up to whole refreshes; ticking once a refresh, as the app does, the
// next round starts when the status line says, and the metrics part
// keeps its own time. A fast round brings the configured refresh back.
func TestRefreshBacksOffAndSaysWhy(t *testing.T) {
	d := deps(testFleet(t))
	a := startedWith(t, d, 120, 30)
	o := ov(a)
	at := func(after time.Duration) { o.c.wall = wall.Add(after) }
	tickAt := func(after time.Duration) bool {
		at(after)
		return o.Update(tickMsg(o.c.wall)) != nil
	}
	// answer is the round under way: its load, whose metrics took red and
	// SLO budgets slo, comes when the slower is done; the sparklines' read,
	// taking series, ends the round.
	answer := func(red, slo, series time.Duration) {
		start, data := o.roundStart, *o.data
		data.REDOf.Took, data.REDOf.LoadedAt = red, start.Add(red)
		data.BudgetOf.Took, data.BudgetOf.LoadedAt = slo, start.Add(slo)
		o.c.wall = start.Add(max(red, slo))
		read := o.Update(overviewMsg(data))
		if read == nil {
			t.Fatal("the load asked for no sparklines")
		}
		m := read().(seriesMsg)
		m.took = series
		o.c.wall = o.c.wall.Add(series)
		o.Update(m)
	}
	status := func() string { return ansi.Strip(o.View()[strings.LastIndex(o.View(), "\n")+1:]) }
	refresh := d.Refresh
	if !tickAt(0) {
		t.Fatal("the first tick started no round")
	}
	answer(time.Second, 3*time.Second, 1400*time.Millisecond)
	said := status()
	if !strings.Contains(said, "refresh 8s: a round took 4.4s (slo slowest)") {
		t.Errorf("status line %q, want the refresh backed off to 8s (1.5 × 4.4s, in whole %s refreshes) and why", said, refresh)
	}
	if took := o.data.REDOf.Took; took != time.Second {
		t.Errorf("the metrics part took %s, want its own 1s, not with the sparklines' read", took)
	}
	// the ticks the app sends, once a refresh from the round's start
	next := time.Duration(0)
	for k := time.Duration(1); next == 0 && k <= 10; k++ {
		if tickAt(k * refresh) {
			next = k * refresh
		}
	}
	if next != 8*time.Second {
		t.Errorf("after a 4.4s round the next started %s after it, the status line said %q", next, said)
	}
	answer(300*time.Millisecond, 100*time.Millisecond, 0)
	if said := status(); !strings.HasSuffix(strings.TrimSpace(said), "refresh 2s") {
		t.Errorf("status line %q, want the configured refresh back, without a reason", said)
	}
	if !tickAt(next + refresh) {
		t.Error("a tick a refresh after a fast round started no round")
	}
}

// TestServicesReadOnlyTheRowsOnScreen: with a backend that summarizes,
// RED is asked for the rows on screen alone, at a sparkline's step, and
// the rows scrolled to are drawn as coming, then read; without one, RED
// is asked for every service, as before.
func TestServicesReadOnlyTheRowsOnScreen(t *testing.T) {
	d := deps(testFleet(t))
	g := newGated(d.Sources.Metrics, false)
	d.Sources.Metrics = g
	a := startedWith(t, d, 120, 30)
	o := ov(a)
	// every service's last step, then the series of the rows on screen
	tableStep := correlate.ServicesWindow / correlate.ServiceSteps
	if len(g.reds) != 2 || g.reds[0] != nil || g.spans[0] != tableStep || g.steps[0] != tableStep {
		t.Fatalf("RED asked for %v over %v, want every service's last step, then the rows on screen", g.reds, g.spans)
	}
	onScreen := func() []string {
		var names []string
		for _, r := range o.onScreen() {
			names = append(names, r.Service)
		}
		return names
	}
	if want := onScreen(); !slices.Equal(g.reds[1], want) || len(want) >= len(o.data.Services) {
		t.Errorf("RED asked for %v, want the %d rows on screen %v of %d", g.reds[1], len(want), want, len(o.data.Services))
	}
	if want := correlate.SparkStep(correlate.ServicesWindow, sparkCells(118)); g.steps[1] != want || g.spans[1] != correlate.ServicesWindow {
		t.Errorf("series read at %s over %s, want a sparkline's %s over the window", g.steps[1], g.spans[1], want)
	}
	// down to the first row below the screen: it is drawn as not yet
	// read, then read
	below := len(onScreen())
	if !o.shown[below].Summarized {
		t.Fatalf("row %d is %+v, want one read from summaries", below, o.shown[below])
	}
	var cmds []tea.Cmd
	for _, k := range append([]tea.Msg{tab}, slices.Repeat([]tea.Msg{press("down")}, below)...) {
		_, cmd := a.Update(k)
		cmds = append(cmds, cmd)
	}
	next := o.shown[below]
	if !strings.Contains(screen(a), next.Service) || !strings.Contains(screen(a), "····") || next.Rates != nil {
		t.Errorf("the row scrolled to, %s, is not drawn as coming:\n%s", next.Service, screen(a))
	}
	for _, cmd := range cmds {
		run(a, cmd)
	}
	if len(g.reds) != 3 || slices.Contains(g.reds[2], g.reds[1][0]) || !slices.Contains(g.reds[2], next.Service) {
		t.Errorf("after scrolling, RED asked for %v, want the rows newly on screen", g.reds)
	}
	if strings.Contains(screen(a), "····") {
		t.Errorf("rows read are still drawn as coming:\n%s", screen(a))
	}

	d = deps(testFleet(t))
	g = newGated(d.Sources.Metrics, false)
	d.Sources.Metrics = plainMetrics{g}
	startedWith(t, d, 120, 30)
	if len(g.reds) != 1 || g.reds[0] != nil || g.steps[0] != tableStep || g.spans[0] != correlate.ServicesWindow {
		t.Errorf("without summaries, RED asked %v at %v, want every service once at the table's step", g.reds, g.steps)
	}
}

// TestBaseP99sAreKeptAMinute: the services' base p99s, the table's
// dearest question, are read again only once baseEvery has passed on
// the data's clock, as the peers' base is.
func TestBaseP99sAreKeptAMinute(t *testing.T) {
	f := fleetAt(t, "retry-storm", 1, 10*time.Minute)
	d := deps(f)
	g := newGated(d.Sources.Metrics, false)
	d.Sources.Metrics = g
	first := overviewData(loadOverview(d, nil)().(overviewMsg))
	second := overviewData(loadOverview(d, &first)().(overviewMsg))
	f.AdvanceTo(f.Now().Add(baseEvery))
	loadOverview(d, &second)()
	if len(g.sums) != 2 || second.Bases != first.Bases {
		t.Errorf("over three rounds, a minute apart at the last, the base p99s were summarized %d times, want 2", len(g.sums))
	}
}

// TestTableAgreesWithTheServicesCommand: the overview read from
// summaries judges every service as `oncall services` does reading every
// series whole.
func TestTableAgreesWithTheServicesCommand(t *testing.T) {
	f := fleetAt(t, "db-pool-exhaustion", 1, 8*time.Minute)
	d := deps(f)
	a := startedWith(t, d, 120, 30)
	whole, err := correlate.ServiceStatuses(context.Background(), d.Sources.Metrics, correlate.ServicesWindow, f.Now())
	if err != nil {
		t.Fatal(err)
	}
	health := map[string]correlate.Health{}
	for _, r := range whole {
		health[r.Service] = r.Health
	}
	rows := ov(a).data.Services
	if len(rows) != len(whole) {
		t.Errorf("%d rows, the command has %d", len(rows), len(whole))
	}
	for _, r := range rows {
		if !r.Summarized && !r.FromEdges {
			t.Errorf("%s was not read from summaries", r.Service)
		}
		if h, ok := health[r.Service]; !ok || h != r.Health {
			t.Errorf("%s: health %d, the command says %d", r.Service, r.Health, h)
		}
	}
}
