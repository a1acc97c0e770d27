package evaltest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	simsrc "github.com/oncall-cockpit/oncall/sources/sim"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

// fieldLatency is how long each backend request took on the stack of the
// field report (issue 10): Loki's 5,000 error and warning lines took
// 0.18 to 0.21 s with curl, the slowest single request of an incident.
// The others are what that stack answered in: Prometheus range queries
// over 45 minutes of 15 s steps, Tempo's search and trace by ID.
var fieldLatency = map[string]time.Duration{
	"prometheus query_range": 60 * time.Millisecond, // one of RED's three queries
	// one of the screen's instant queries: the field stack answered an
	// instant query in 51–62 ms, and a subquery over 15 minutes of 25
	// services reads fewer samples than RED's range query
	"prometheus summary":        60 * time.Millisecond,
	"prometheus service graph":  25 * time.Millisecond, // one slice's three instant queries, at once
	"prometheus exemplars":      30 * time.Millisecond,
	"prometheus saturation":     40 * time.Millisecond,
	"prometheus changes":        20 * time.Millisecond,
	"alertmanager alerts":       10 * time.Millisecond,
	"loki error and warn lines": 200 * time.Millisecond,
	"tempo search":              80 * time.Millisecond,
	"tempo trace by id":         35 * time.Millisecond,
}

// replay answers every request with what the simulator answered the
// first time it was asked, after that request's field latency: gathering
// is then timed on the backends' latencies alone, not on simulating.
type replay struct {
	mu   sync.Mutex
	seen map[string]any
}

// replayed answers a request with what ask answered the first time key
// was asked, after the field latency of what.
func replayed[T any](ctx context.Context, r *replay, what, key string, ask func() (T, error)) (T, error) {
	var zero T
	r.mu.Lock()
	v, ok := r.seen[key]
	r.mu.Unlock()
	if !ok {
		got, err := ask()
		if err != nil {
			return zero, err
		}
		v = got
		r.mu.Lock()
		r.seen[key] = v
		r.mu.Unlock()
	}
	select {
	case <-time.After(fieldLatency[what]):
		out, _ := v.(T)
		return out, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

type replayMetrics struct {
	sources.Metrics
	r *replay
}

func (m replayMetrics) RED(ctx context.Context, svcs []string, tr sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	return replayed(ctx, m.r, "prometheus query_range", fmt.Sprint("red", svcs, tr, step), func() ([]sources.RED, error) { return m.Metrics.RED(ctx, svcs, tr, step) })
}

func (m replayMetrics) ServiceGraph(ctx context.Context, at time.Time, w time.Duration) ([]sources.Edge, error) {
	return replayed(ctx, m.r, "prometheus service graph", fmt.Sprint("graph", at, w), func() ([]sources.Edge, error) { return m.Metrics.ServiceGraph(ctx, at, w) })
}

// SummarizeRED replays the screen's summaries: the field latency is of
// one of its instant queries, which go out at once.
func (m replayMetrics) SummarizeRED(ctx context.Context, svcs []string, tr sources.TimeRange, res time.Duration, figs sources.REDFigure) ([]sources.REDSummary, error) {
	return replayed(ctx, m.r, "prometheus summary", fmt.Sprint("sum", svcs, tr, res, figs), func() ([]sources.REDSummary, error) {
		return m.Metrics.(sources.REDSummarizer).SummarizeRED(ctx, svcs, tr, res, figs)
	})
}

func (m replayMetrics) Exemplars(ctx context.Context, svcs []string, tr sources.TimeRange) ([]sources.Exemplar, error) {
	return replayed(ctx, m.r, "prometheus exemplars", fmt.Sprint("ex", svcs, tr), func() ([]sources.Exemplar, error) { return m.Metrics.Exemplars(ctx, svcs, tr) })
}

type replayLogs struct {
	logsVia
	r *replay
}

func (l replayLogs) Logs(ctx context.Context, q sources.LogQuery) ([]sources.LogLine, error) {
	return replayed(ctx, l.r, "loki error and warn lines", fmt.Sprintf("logs%+v", q), func() ([]sources.LogLine, error) { return l.inner.Logs(ctx, q) })
}

type replayTraces struct {
	tr sources.Traces
	r  *replay
}

func (t replayTraces) Trace(ctx context.Context, id string) (sources.Trace, error) {
	return replayed(ctx, t.r, "tempo trace by id", "trace"+id, func() (sources.Trace, error) { return t.tr.Trace(ctx, id) })
}

func (t replayTraces) SearchTraces(ctx context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	return replayed(ctx, t.r, "tempo search", fmt.Sprintf("search%+v", q), func() ([]sources.TraceSummary, error) { return t.tr.SearchTraces(ctx, q) })
}

type replayAlerts struct {
	sources.Alerting
	r *replay
}

func (a replayAlerts) Alerts(ctx context.Context) ([]sources.Alert, error) {
	return replayed(ctx, a.r, "alertmanager alerts", "alerts", func() ([]sources.Alert, error) { return a.Alerting.Alerts(ctx) })
}

type replayChanges struct {
	c sources.Changes
	r *replay
}

func (c replayChanges) Changes(ctx context.Context, tr sources.TimeRange) ([]sources.Change, error) {
	return replayed(ctx, c.r, "prometheus changes", fmt.Sprint("changes", tr), func() ([]sources.Change, error) { return c.c.Changes(ctx, tr) })
}

type replayResources struct {
	res sources.Resources
	r   *replay
}

func (x replayResources) Saturation(ctx context.Context, svcs []string, tr sources.TimeRange, step time.Duration) ([]sources.Saturation, error) {
	return replayed(ctx, x.r, "prometheus saturation", fmt.Sprint("sat", svcs, tr, step), func() ([]sources.Saturation, error) { return x.res.Saturation(ctx, svcs, tr, step) })
}

func replaySources(src sources.Set) sources.Set {
	r := &replay{seen: map[string]any{}}
	return sources.Set{
		Metrics:   replayMetrics{src.Metrics, r},
		Logs:      replayLogs{logsVia{src.Logs}, r},
		Traces:    replayTraces{src.Traces, r},
		Alerts:    replayAlerts{src.Alerts, r},
		Changes:   replayChanges{src.Changes, r},
		Resources: replayResources{src.Resources, r},
		SLIs:      src.SLIs,
	}
}

// BenchmarkIncidentVsSlowestRequest is the speed bar: assembling
// an incident (gathering and analysis) against backends that answer in
// the field report's latencies, as a multiple of the slowest single
// request (Loki's error lines, 200 ms). The target is at most 1.3.
func BenchmarkIncidentVsSlowestRequest(b *testing.B) {
	f, err := fleet("retry-storm", 1, 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	src := replaySources(simsrc.New(f).Set())
	trig := correlate.Trigger{At: f.Now(), Window: 15 * time.Minute}
	correlate.Gather(context.Background(), src, trig, correlate.GatherOptions{}) // record the answers
	var slowest time.Duration
	for _, d := range fieldLatency {
		slowest = max(slowest, d)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		ev := correlate.Gather(context.Background(), src, trig, correlate.GatherOptions{})
		if inc := correlate.Analyze(ev, testenv.SimMeta); len(inc.Candidates) == 0 || len(ev.Traces) == 0 {
			b.Fatalf("no candidates or traces: %+v", ev.Missing)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(slowest), "x-slowest-request")
}
