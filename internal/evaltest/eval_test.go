package evaltest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	simsrc "github.com/oncall-cockpit/oncall/sources/sim"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// fleets caches simulated fleets by scenario, seed and time: simulating is
// most of a test's cost, and reading a fleet does not change it.
var fleets sync.Map

type fleetKey struct {
	scenario string
	seed     uint64
	after    time.Duration
}

type fleetOnce struct {
	once sync.Once
	f    *sim.Fleet
	err  error
}

func fleet(scenario string, seed uint64, after time.Duration) (*sim.Fleet, error) {
	v, _ := fleets.LoadOrStore(fleetKey{scenario, seed, after}, &fleetOnce{})
	fo := v.(*fleetOnce)
	fo.once.Do(func() {
		fo.f, fo.err = sim.New(sim.Options{Scenario: scenario, Seed: seed})
		if fo.err == nil {
			fo.f.AdvanceTo(fo.f.Onset().Add(after))
		}
	})
	return fo.f, fo.err
}

// assemble builds the incident of a scenario at onset+after. The deadline
// is generous: under the race detector on two busy cores, gathering takes
// seconds, and a part cut off by it would change the answer.
func assemble(t testing.TB, scenario string, seed uint64, after time.Duration, wrap func(sources.Set) sources.Set) (*correlate.Incident, sim.Truth) {
	t.Helper()
	return assembleWithin(t, scenario, seed, after, wrap, 2*time.Minute)
}

func assembleWithin(t testing.TB, scenario string, seed uint64, after time.Duration, wrap func(sources.Set) sources.Set, deadline time.Duration) (*correlate.Incident, sim.Truth) {
	t.Helper()
	f, err := fleet(scenario, seed, after)
	if err != nil {
		t.Fatal(err)
	}
	src := simsrc.New(f).Set()
	if wrap != nil {
		src = wrap(src)
	}
	ev := correlate.Gather(context.Background(), src, correlate.Trigger{At: f.Now(), Window: 15 * time.Minute}, correlate.GatherOptions{Deadline: deadline})
	for _, m := range ev.Missing {
		if strings.Contains(m.Why, "did not arrive") && deadline > time.Minute {
			t.Fatalf("%s did not arrive within %s: the machine is too slow for this test", m.What, deadline)
		}
	}
	return correlate.Analyze(ev, testenv.SimMeta), f.Truth()
}

// precisionRecall compares the blast radius with the truth's affected set.
func precisionRecall(got []string, truth sim.Truth) (p, r float64) {
	want := map[string]bool{}
	for _, a := range truth.Affected {
		want[a.Service] = true
	}
	hit := 0
	for _, s := range got {
		if want[s] {
			hit++
		}
	}
	if len(got) > 0 {
		p = float64(hit) / float64(len(got))
	}
	if len(want) > 0 {
		r = float64(hit) / float64(len(want))
	}
	return p, r
}

// TestScenariosRankTheTrueRootFirst is the bar: for every scenario
// and five seeds, the true root cause is first and the blast radius has
// precision and recall of at least 0.9 against the affected set.
func TestScenariosRankTheTrueRootFirst(t *testing.T) {
	for _, sc := range []string{"retry-storm", "db-pool-exhaustion", "bad-deploy", "crash-loop", "cache-miss-storm", "slow-db"} {
		for seed := uint64(1); seed <= 5; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", sc, seed), func(t *testing.T) {
				t.Parallel()
				inc, truth := assemble(t, sc, seed, 10*time.Minute, nil)
				if len(inc.Candidates) == 0 || inc.Candidates[0].Service != truth.RootCause {
					t.Fatalf("ranked %v, truth %s\n%s", names(inc.Candidates), truth.RootCause, inc.Summary)
				}
				if inc.Candidates[0].Likelihood != "likely" {
					t.Errorf("root %s only %s (%.2f)", truth.RootCause, inc.Candidates[0].Likelihood, inc.Candidates[0].Confidence)
				}
				p, r := precisionRecall(inc.Blast.Names(), truth)
				if p < 0.9 || r < 0.9 {
					t.Errorf("blast radius precision %.2f recall %.2f\n got %v\ntruth %v", p, r, inc.Blast.Names(), truth.Affected)
				}
			})
		}
	}
}

func names(cs []correlate.Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s(%.2f)", c.Service, c.Score))
	}
	return out
}

func TestQuietHasNoLikelyCause(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		for _, after := range []time.Duration{10 * time.Minute, 40 * time.Minute} {
			inc, _ := assemble(t, "quiet", seed, after, nil)
			if len(inc.Candidates) > 0 && inc.Candidates[0].Likelihood == correlate.Likely {
				t.Errorf("seed %d +%s: %s is %s (%.2f) in quiet", seed, after, inc.Candidates[0].Service, inc.Candidates[0].Likelihood, inc.Candidates[0].Confidence)
			}
			if len(inc.Candidates) > 0 && !inc.Thin {
				t.Errorf("seed %d: quiet incident not marked thin", seed)
			}
		}
	}
}

// BenchmarkGatherAndAnalyze is incident assembly against the simulator
// once the fleet exists: gathering through the sources interfaces, then
// analysis.
func BenchmarkGatherAndAnalyze(b *testing.B) {
	f, err := fleet("retry-storm", 1, 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	src := simsrc.New(f).Set()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ev := correlate.Gather(context.Background(), src, correlate.Trigger{At: f.Now(), Window: 15 * time.Minute}, correlate.GatherOptions{})
		if inc := correlate.Analyze(ev, testenv.SimMeta); len(inc.Candidates) == 0 {
			b.Fatal("no candidates")
		}
	}
}
