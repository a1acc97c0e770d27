package sim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	world "github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

var bg = context.Background()

// run builds a fleet at onset+after, read through the adapter.
func run(t *testing.T, scenario string, after time.Duration) (*world.Fleet, *Backend) {
	t.Helper()
	f, err := world.New(world.Options{Scenario: scenario, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	f.AdvanceTo(f.Onset().Add(after))
	return f, New(f)
}

func firing(t *testing.T, b *Backend) []sources.Alert {
	t.Helper()
	a, err := b.Alerts(bg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestBucketsAlignToTheEndOfTheRange(t *testing.T) {
	end := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	var in []sources.Sample
	for i := 7; i >= 0; i-- { // 8 points, 15 s apart, the last at end
		in = append(in, sources.Sample{T: end.Add(-time.Duration(i) * world.Step), V: float64(8 - i)})
	}
	got := buckets(in, end, time.Minute, mean)
	// buckets of a minute ending at end: (end-1m, end] holds 5..8 and the
	// one before holds 1..4, stamped with its own end
	want := []sources.Sample{{T: end.Add(-time.Minute), V: 2.5}, {T: end, V: 6.5}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if !got[i].T.Equal(want[i].T) || got[i].V != want[i].V {
			t.Errorf("bucket %d: %v, want %v", i, got[i], want[i])
		}
	}
	if p := buckets(in, end, time.Hour, peak); len(p) != 1 || p[0].V != 8 || !p[0].T.Equal(end) {
		t.Errorf("one bucket's peak: %v", p)
	}
	if s := buckets(in, end, time.Second, mean); len(s) != len(in) {
		t.Errorf("a step under the resolution keeps every point: %d of %d", len(s), len(in))
	}
}

func TestREDAndGraphSayWhereTheyCameFrom(t *testing.T) {
	f, b := run(t, "db-pool-exhaustion", 5*time.Minute)
	now := f.Now()
	reds, err := b.RED(bg, []string{"payment-api"}, sources.TimeRange{Start: now.Add(-10 * time.Minute), End: now}, time.Minute)
	if err != nil || len(reds) != 1 {
		t.Fatalf("%v %v", reds, err)
	}
	r := reds[0]
	if n := len(r.Requests.Samples); n < 10 || n > 11 || !r.Requests.Samples[n-1].T.Equal(now) {
		t.Errorf("%d one-minute samples ending %v", n, r.Requests.Samples[n-1].T)
	}
	for _, q := range []string{r.Requests.Query, r.Errors.Query, r.P99.Query} {
		if !strings.HasPrefix(q, "sim(seed 7, db-pool-exhaustion): ") || !strings.Contains(q, `service=~"payment-api"`) {
			t.Errorf("query %q", q)
		}
	}
	last := len(r.Errors.Samples) - 1
	if ratio := r.Errors.Samples[last].V / r.Requests.Samples[last].V; ratio < 0.3 {
		t.Errorf("payment-api error ratio %.2f during the pool exhaustion", ratio)
	}
	all, _ := b.RED(bg, nil, sources.TimeRange{Start: now.Add(-time.Minute), End: now}, time.Minute)
	if len(all) != len(f.Instrumented()) {
		t.Errorf("every instrumented service: %d of %d", len(all), len(f.Instrumented()))
	}
	edges, err := b.ServiceGraph(bg, now, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range edges {
		if e.Client == "payment-api" && e.Server == "payment-db" {
			found = e.Kind == sources.EdgeDatabase && e.RequestRate > 0 && strings.Contains(e.Query, `[5m]`)
		}
	}
	if !found {
		t.Errorf("no payment-api → payment-db database edge over 5m in %d edges", len(edges))
	}
	if e, _ := b.ServiceGraph(bg, f.Start().Add(-time.Hour), time.Minute); e != nil {
		t.Errorf("edges before the fleet started: %v", e)
	}
}

func TestBadQueriesAreRefusedWithTheReason(t *testing.T) {
	f, b := run(t, "quiet", time.Minute)
	r := sources.TimeRange{Start: f.Start(), End: f.Now()}
	for name, err := range map[string]error{
		"RED":        func() error { _, e := b.RED(bg, []string{"nosuch"}, r, time.Minute); return e }(),
		"Saturation": func() error { _, e := b.Saturation(bg, []string{"nosuch"}, r, time.Minute); return e }(),
		"Exemplars":  func() error { _, e := b.Exemplars(bg, []string{"nosuch"}, r); return e }(),
		"Logs":       func() error { _, e := b.Logs(bg, sources.LogQuery{Services: []string{"nosuch"}, Range: r}); return e }(),
		"SearchTraces": func() error {
			_, e := b.SearchTraces(bg, sources.TraceSearch{Services: []string{"nosuch"}, Range: r})
			return e
		}(),
	} {
		if err == nil || !strings.Contains(err.Error(), `no service "nosuch" in topology "shop"`) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := b.Logs(bg, sources.LogQuery{TraceID: "not-an-id", Range: r}); err == nil {
		t.Error("a bad trace ID was accepted")
	}
	if _, err := b.LogRate(bg, sources.LogQuery{Range: r}, 0); err == nil || !strings.Contains(err.Error(), "step must be positive") {
		t.Errorf("zero step: %v", err)
	}
	if _, err := b.LogRate(bg, sources.LogQuery{Range: r}, time.Millisecond); err == nil || !strings.Contains(err.Error(), "at most 11000") {
		t.Errorf("too many steps: %v", err)
	}
	if _, err := b.Trace(bg, "0123456789abcdef0123456789abcdef"); !errors.Is(err, sources.ErrNotFound) || !strings.Contains(err.Error(), "only 1 in 100 requests is traced") {
		t.Errorf("unknown trace: %v", err)
	}
	if _, err := b.Trace(bg, "zz"); err == nil || errors.Is(err, sources.ErrNotFound) {
		t.Errorf("malformed trace ID: %v", err)
	}
}

func TestLogRateCountsPerService(t *testing.T) {
	f, b := run(t, "crash-loop", 5*time.Minute)
	r := sources.TimeRange{Start: f.Onset(), End: f.Now()}
	series, err := b.LogRate(bg, sources.LogQuery{Services: []string{"cart"}, Levels: []string{"error"}, Range: r}, time.Minute)
	if err != nil || len(series) != 1 || series[0].Labels["service_name"] != "cart" {
		t.Fatalf("%v %v", series, err)
	}
	total := 0.0
	for _, s := range series[0].Samples {
		total += s.V
	}
	lines, _ := b.Logs(bg, sources.LogQuery{Services: []string{"cart"}, Levels: []string{"error"}, Range: r, Limit: 100000})
	if int(total) != len(lines) || total == 0 {
		t.Errorf("LogRate counts %v lines, Logs returns %d", total, len(lines))
	}
	if !strings.Contains(series[0].Query, `count_over_time({service_name="cart"}[1m])`) {
		t.Errorf("query %q", series[0].Query)
	}
}

func TestSilences(t *testing.T) {
	f, b := run(t, "db-pool-exhaustion", 5*time.Minute)
	now := f.Now()
	id, err := b.CreateSilence(bg, sources.Silence{Matchers: []sources.Matcher{{Name: "service", Value: "payment-api", IsEqual: true}},
		StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "test", Comment: "known"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range firing(t, b) {
		if a.Labels["service"] == "payment-api" && (a.State != sources.AlertSuppressed || a.SilencedBy[0] != id) {
			t.Errorf("alert %s %v not silenced", a.Name, a.State)
		}
	}
	if err := b.ExpireSilence(bg, id); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Second)
	for _, a := range firing(t, b) {
		if a.State == sources.AlertSuppressed {
			t.Errorf("alert %s still silenced", a.Name)
		}
	}
	if _, err := b.CreateSilence(bg, sources.Silence{StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "x", Comment: "y"}); err == nil {
		t.Error("silence without matchers accepted")
	}
}

func TestTailDeliversWithoutBlocking(t *testing.T) {
	f, b := run(t, "retry-storm", 0)
	ctx, cancel := context.WithCancel(bg)
	ch, err := b.Tail(ctx, sources.LogQuery{Services: []string{"payment-api"}, Levels: []string{"error"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; !ev.Connected {
		t.Fatalf("first event %+v", ev)
	}
	// nobody reads while ten minutes pass: the simulation must not block
	f.Advance(10 * time.Minute)
	ev := <-ch
	if len(ev.Lines) == 0 || ev.Lines[0].Service != "payment-api" || ev.Lines[0].Level != "error" {
		t.Fatalf("tail event %+v", ev)
	}
	dropped := 0
	for len(ch) > 0 {
		dropped += (<-ch).Dropped
	}
	f.Advance(2 * time.Second)
	for ev := range drain(ch) {
		dropped += ev.Dropped
	}
	if dropped == 0 {
		t.Error("a reader that fell behind was not told how many lines it missed")
	}
	cancel()
	for range ch {
	}
}

func drain(ch <-chan sources.TailEvent) <-chan sources.TailEvent {
	out := make(chan sources.TailEvent, 100)
	for len(ch) > 0 {
		out <- <-ch
	}
	close(out)
	return out
}

// TestChangesAndSaturationSayTheSimulator: evidence cites what it was read
// from, and the simulator's changes and pools say it is the simulator.
func TestChangesAndSaturationSayTheSimulator(t *testing.T) {
	f, b := run(t, "bad-deploy", 5*time.Minute)
	r := sources.TimeRange{Start: f.Onset().Add(-10 * time.Minute), End: f.Onset().Add(5 * time.Minute)}
	cs, err := b.Changes(bg, r)
	if err != nil || len(cs) == 0 {
		t.Fatalf("changes: %v, %v", cs, err)
	}
	sats, err := b.Saturation(bg, nil, r, time.Minute)
	if err != nil || len(sats) == 0 {
		t.Fatalf("saturation: %v", err)
	}
	for _, c := range cs {
		if c.Source != "simulator" {
			t.Errorf("change %+v: source %q", c, c.Source)
		}
	}
	for _, s := range sats {
		if s.Source != "simulator" {
			t.Errorf("%s %s: source %q", s.Service, s.Resource, s.Source)
		}
	}
}

// TestSaturationLimitIsASeries: every resource's limit comes as a series
// on its used steps, with the query it stands for, as Prometheus's does.
func TestSaturationLimitIsASeries(t *testing.T) {
	f, b := run(t, "db-pool-exhaustion", 5*time.Minute)
	r := sources.TimeRange{Start: f.Now().Add(-10 * time.Minute), End: f.Now()}
	sats, err := b.Saturation(bg, nil, r, time.Minute)
	if err != nil || len(sats) == 0 {
		t.Fatalf("saturation: %v", err)
	}
	for _, s := range sats {
		l := s.Limit.Samples
		if len(l) == 0 || len(l) != len(s.Used.Samples) || l[0].V != s.Max || !l[0].T.Equal(s.Used.Samples[0].T) || l[len(l)-1].V != s.Max || s.Limit.Query == "" {
			t.Errorf("%s %s: limit %+v, want %g at each of its %d used steps", s.Service, s.Resource, s.Limit, s.Max, len(s.Used.Samples))
		}
		if s.LimitAt(r.End) != s.Max {
			t.Errorf("%s %s: limit now %g, want %g", s.Service, s.Resource, s.LimitAt(r.End), s.Max)
		}
	}
}
