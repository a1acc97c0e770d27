package evaltest

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// lossyTraces loses one trace in five, as a Tempo that dropped spans would.
type lossyTraces struct{ sources.Traces }

func lost(id string) bool {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()%5 == 0
}

func (l lossyTraces) Trace(ctx context.Context, id string) (sources.Trace, error) {
	if lost(id) {
		return sources.Trace{}, fmt.Errorf("tempo: trace %s: %w", id, sources.ErrNotFound)
	}
	return l.Traces.Trace(ctx, id)
}

func (l lossyTraces) SearchTraces(ctx context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	hits, err := l.Traces.SearchTraces(ctx, q)
	var kept []sources.TraceSummary
	for _, h := range hits {
		if !lost(h.TraceID) {
			kept = append(kept, h)
		}
	}
	return kept, err
}

// noGraph is a Prometheus without Tempo's service-graph metrics.
type noGraph struct{ sources.Metrics }

func (noGraph) ServiceGraph(context.Context, time.Time, time.Duration) ([]sources.Edge, error) {
	return nil, nil
}

// noisyRED adds a steady 3% of errors, and error logs, at three healthy
// services during the window: unrelated trouble that must not be blamed.
var noisyServices = []string{"currency-service", "tax-service", "session-service"}

type noisyRED struct {
	sources.Metrics
	from time.Time
}

func (n noisyRED) RED(ctx context.Context, svcs []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	reds, err := n.Metrics.RED(ctx, svcs, r, step)
	for i := range reds {
		if !contains(noisyServices, reds[i].Service) {
			continue
		}
		for j, s := range reds[i].Requests.Samples {
			if s.T.After(n.from) {
				reds[i].Errors.Samples[j].V += 0.03 * s.V
			}
		}
	}
	return reds, err
}

// logsVia passes LogRate and Tail through, so wrappers need only Logs.
type logsVia struct{ inner sources.Logs }

func (l logsVia) LogRate(ctx context.Context, q sources.LogQuery, step time.Duration) ([]sources.Series, error) {
	return l.inner.LogRate(ctx, q, step)
}

func (l logsVia) Tail(ctx context.Context, q sources.LogQuery) (<-chan sources.TailEvent, error) {
	return l.inner.Tail(ctx, q)
}

type noisyLogs struct {
	logsVia
	from time.Time
}

func (n noisyLogs) Logs(ctx context.Context, q sources.LogQuery) ([]sources.LogLine, error) {
	lines, err := n.inner.Logs(ctx, q)
	for _, svc := range noisyServices {
		for t := n.from; t.Before(q.Range.End); t = t.Add(10 * time.Second) {
			lines = append(lines, sources.LogLine{T: t, Service: svc, Level: "error", Line: `level=error msg="request failed: invalid currency code XBT" status=400`})
		}
	}
	return lines, err
}

// skewed shifts log timestamps by +2s and trace timestamps by -2s, as
// unsynchronised clocks between the log and trace pipelines would.
type skewedLogs struct{ logsVia }

func (s skewedLogs) Logs(ctx context.Context, q sources.LogQuery) ([]sources.LogLine, error) {
	lines, err := s.inner.Logs(ctx, q)
	for i := range lines {
		lines[i].T = lines[i].T.Add(2 * time.Second)
	}
	return lines, err
}

type skewedTraces struct{ sources.Traces }

func (s skewedTraces) Trace(ctx context.Context, id string) (sources.Trace, error) {
	t, err := s.Traces.Trace(ctx, id)
	for i := range t.Spans {
		t.Spans[i].Start = t.Spans[i].Start.Add(-2 * time.Second)
		t.Spans[i].End = t.Spans[i].End.Add(-2 * time.Second)
	}
	return t, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var scenarios = []string{"retry-storm", "db-pool-exhaustion", "bad-deploy", "crash-loop", "cache-miss-storm"}

// robust runs every scenario with the sources degraded by wrap and checks
// that the true root is still first, or, for the scenarios in top3, among
// the first three.
func robust(t *testing.T, wrap func(sources.Set) sources.Set, top3 []string, check func(t *testing.T, inc *correlate.Incident)) {
	for _, sc := range scenarios {
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			inc, truth := assemble(t, sc, 3, 10*time.Minute, wrap)
			n := 1
			if contains(top3, sc) {
				n = 3
			}
			rank := -1
			for i, c := range inc.Candidates {
				if c.Service == truth.RootCause {
					rank = i
				}
			}
			if rank < 0 || rank >= n {
				t.Fatalf("ranked %v, truth %s\n%s\nnotes %v", names(inc.Candidates), truth.RootCause, inc.Summary, inc.Notes)
			}
			if check != nil {
				check(t, inc)
			}
		})
	}
}

func TestRobustToMissingTraces(t *testing.T) {
	robust(t, func(s sources.Set) sources.Set { s.Traces = lossyTraces{s.Traces}; return s }, nil, nil)
}

// Without service-graph metrics an uninstrumented database is invisible:
// in cache-miss-storm the load the flushed cache sends to catalog-db
// cannot be seen, catalog-db's other callers look unexplained, and the
// flushed cache is only among the first three.
func TestRobustWithoutServiceGraph(t *testing.T) {
	robust(t, func(s sources.Set) sources.Set { s.Metrics = noGraph{s.Metrics}; return s }, []string{"cache-miss-storm"}, func(t *testing.T, inc *correlate.Incident) {
		for _, e := range inc.Graph {
			if contains(e.Provenance, correlate.FromServiceGraph) {
				t.Fatalf("edge %s → %s claims service-graph provenance", e.Client, e.Server)
			}
		}
		if !strings.Contains(strings.Join(inc.Notes, "\n"), "no service-graph metrics") {
			t.Errorf("notes do not say the graph came from traces only: %v", inc.Notes)
		}
	})
}

func TestRobustWithoutTraces(t *testing.T) {
	robust(t, func(s sources.Set) sources.Set { s.Traces = nil; return s }, nil, func(t *testing.T, inc *correlate.Incident) {
		notes := strings.Join(inc.Notes, "\n")
		if !strings.Contains(notes, "no traces") || len(inc.Missing) == 0 {
			t.Errorf("notes do not say traces are missing: %v %v", inc.Notes, inc.Missing)
		}
		for _, c := range inc.Candidates {
			for _, r := range c.Reasons {
				if r.Kind == "traces" {
					t.Errorf("trace evidence without traces: %+v", r)
				}
			}
		}
	})
}

func TestRobustToUnrelatedErrors(t *testing.T) {
	robust(t, func(s sources.Set) sources.Set {
		// the trouble starts with the incident, to tempt the ranking
		from := time.Date(2026, 11, 27, 23, 22, 0, 0, time.UTC)
		s.Metrics = noisyRED{s.Metrics, from}
		s.Logs = noisyLogs{logsVia{s.Logs}, from}
		return s
	}, nil, func(t *testing.T, inc *correlate.Incident) {
		for _, c := range inc.Candidates {
			if contains(noisyServices, c.Service) && c.Likelihood == correlate.Likely {
				t.Errorf("unrelated %s is %s (%.2f)", c.Service, c.Likelihood, c.Confidence)
			}
		}
		for _, s := range inc.Blast.Names() {
			if contains(noisyServices, s) {
				t.Errorf("unrelated %s is in the blast radius", s)
			}
		}
	})
}

func TestRobustToClockSkew(t *testing.T) {
	robust(t, func(s sources.Set) sources.Set {
		s.Logs = skewedLogs{logsVia{s.Logs}}
		s.Traces = skewedTraces{s.Traces}
		return s
	}, nil, nil)
}

// TestDeadlineNamesWhatIsMissing: a backend that never answers does not
// hold the incident; what it would have given is named.
func TestDeadlineNamesWhatIsMissing(t *testing.T) {
	// simulate the fleet first: the bound below is on gathering, and
	// simulating 40 minutes takes seconds under -race on busy cores
	if _, err := fleet("db-pool-exhaustion", 1, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	inc, truth := assembleWithin(t, "db-pool-exhaustion", 1, 10*time.Minute, func(s sources.Set) sources.Set {
		s.Logs = hangingLogs{logsVia{s.Logs}}
		return s
	}, 10*time.Second)
	if inc.Candidates[0].Service != truth.RootCause {
		t.Errorf("ranked %v without logs", names(inc.Candidates))
	}
	found := false
	for _, m := range inc.Missing {
		found = found || (m.What == "logs" && strings.Contains(m.Why, "did not arrive"))
	}
	if !found {
		t.Errorf("missing %v", inc.Missing)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s", d)
	}
}

type hangingLogs struct{ logsVia }

func (hangingLogs) Logs(ctx context.Context, q sources.LogQuery) ([]sources.LogLine, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
