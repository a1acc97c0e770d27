package evaltest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// shortHistory is a metrics backend that began recording at since: a
// Prometheus restarted minutes ago, or a new stack. Samples and service
// graph answers from before since do not exist.
type shortHistory struct {
	sources.Metrics
	since time.Time
}

func (s shortHistory) RED(ctx context.Context, svcs []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	if r.Start.Before(s.since) {
		r.Start = s.since
	}
	if !r.End.After(r.Start) {
		return nil, nil
	}
	return s.Metrics.RED(ctx, svcs, r, step)
}

func (s shortHistory) ServiceGraph(ctx context.Context, at time.Time, w time.Duration) ([]sources.Edge, error) {
	if !at.After(s.since) {
		return nil, nil
	}
	if at.Add(-w).Before(s.since) {
		w = at.Sub(s.since)
	}
	return s.Metrics.ServiceGraph(ctx, at, w)
}

// TestShortHistoryStillFindsTheRoot is the case: a stack that had
// been up for minutes when the fault began. With the default flags (a
// 30-minute baseline that is empty), the root is found likely two
// minutes after the onset, and the notes name the baseline used.
func TestShortHistoryStillFindsTheRoot(t *testing.T) {
	for _, sc := range []string{"retry-storm", "db-pool-exhaustion", "bad-deploy", "crash-loop", "cache-miss-storm", "slow-db"} {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", sc, seed), func(t *testing.T) {
				t.Parallel()
				var since time.Time
				inc, truth := assemble(t, sc, seed, 2*time.Minute, func(s sources.Set) sources.Set {
					f, _ := fleet(sc, seed, 2*time.Minute)
					since = f.Onset().Add(-8 * time.Minute)
					s.Metrics = shortHistory{s.Metrics, since}
					return s
				})
				if len(inc.Candidates) == 0 || inc.Candidates[0].Service != truth.RootCause {
					t.Fatalf("ranked %v, truth %s\n%s\nnotes %v", names(inc.Candidates), truth.RootCause, inc.Summary, inc.Notes)
				}
				if inc.Candidates[0].Likelihood != correlate.Likely {
					t.Errorf("root %s only %s (%.2f); notes %v", truth.RootCause, inc.Candidates[0].Likelihood, inc.Candidates[0].Confidence, inc.Notes)
				}
				if !strings.Contains(strings.Join(inc.Notes, "\n"), "baseline:") {
					t.Errorf("the notes do not name the baseline used: %v", inc.Notes)
				}
			})
		}
	}
}
