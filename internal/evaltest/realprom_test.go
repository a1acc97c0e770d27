package evaltest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	simsrc "github.com/oncall-cockpit/oncall/sources/sim"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

// TestTenMinutesOfRealPrometheusHistory is the bar on a real
// Prometheus: a stack that had recorded 10 minutes when it was asked, 8
// before the fault and 2 after. The history is what Prometheus would
// have scraped from `oncall demo --serve` every 15 s, backfilled with
// promtool; the metrics are read through oncall's Prometheus client with
// the default flags (a 15-minute window, a 30-minute baseline that is
// mostly empty). Logs and traces come from the simulator's adapter, as
// Loki and Tempo would serve them.
func TestTenMinutesOfRealPrometheusHistory(t *testing.T) {
	for _, sc := range []string{"retry-storm", "db-pool-exhaustion", "bad-deploy", "crash-loop", "cache-miss-storm", "slow-db"} {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", sc, seed), func(t *testing.T) {
				t.Parallel()
				inc, truth := onRealPrometheus(t, sc, seed, 8*time.Minute, 2*time.Minute)
				if len(inc.Candidates) == 0 || inc.Candidates[0].Service != truth.RootCause {
					t.Fatalf("ranked %v, truth %s\n%s\nnotes %v\nmissing %v", names(inc.Candidates), truth.RootCause, inc.Summary, inc.Notes, inc.Missing)
				}
				if inc.Candidates[0].Likelihood != correlate.Likely {
					t.Errorf("root %s only %s (%.2f); notes %v", truth.RootCause, inc.Candidates[0].Likelihood, inc.Candidates[0].Confidence, inc.Notes)
				}
				if !strings.Contains(strings.Join(inc.Notes, "\n"), "baseline: 0 of 30 minutes have data; judged against the earliest data") {
					t.Errorf("the notes do not name the baseline used: %v", inc.Notes)
				}
				if !strings.Contains(strings.Join(inc.Notes, "\n"), "service-graph baseline: none before the window; uninstrumented peers are judged against") {
					t.Errorf("the notes do not name the service graph's baseline: %v", inc.Notes)
				}
			})
		}
	}
}

// onRealPrometheus runs scenario sc until after past its onset, backfills
// a real Prometheus with the metrics from before minutes before the onset
// on, and assembles the incident at onset+after with the metrics read
// from that Prometheus.
func onRealPrometheus(t *testing.T, sc string, seed uint64, before, after time.Duration) (*correlate.Incident, sim.Truth) {
	t.Helper()
	inc, f := onRealPrometheusAt(t, sim.Options{Scenario: sc, Seed: seed}, after, before+after)
	return inc, f.Truth()
}

// onRealPrometheusAt runs a fleet until after past its onset, placed in
// the past, backfills a real Prometheus with the last history of its
// metrics, and assembles the incident then with the default flags, the
// metrics read from that Prometheus and the rest from the simulator.
func onRealPrometheusAt(t *testing.T, o sim.Options, after, history time.Duration) (*correlate.Incident, *sim.Fleet) {
	t.Helper()
	// the onset comes 30 simulated minutes after the start. The start is
	// the simulator's own epoch moved back by whole days, so that the
	// incident is in the past yet every run sees the same time of day,
	// traffic and noise: the grade does not depend on the wall clock
	o.Start = sim.Epoch
	for o.Start.Add(30*time.Minute + after).After(time.Now().Add(-time.Minute)) {
		o.Start = o.Start.Add(-24 * time.Hour)
	}
	at := o.Start.Add(30*time.Minute + after)
	f, err := sim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	om, err := testenv.SimOpenMetrics(f, at.Add(-history), at, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: om})
	pc, err := prometheus.New(url, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	src := simsrc.New(f).Set()
	src.Metrics = pc
	ev := correlate.Gather(context.Background(), src, correlate.Trigger{At: at}, correlate.GatherOptions{Deadline: time.Minute})
	for _, m := range ev.Missing {
		if m.Down {
			t.Fatalf("%s: %s", m.What, m.Why)
		}
	}
	return correlate.Analyze(ev, testenv.SimMeta), f
}
