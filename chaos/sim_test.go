package chaos_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// simRunner runs experiments on the simulated fleet `quiet` (seed 1, the
// fleet's own clock from its Epoch): actions go to the simulator, and the
// guard loop's waits advance it, so ten minutes of experiment take a
// second or two.
func simRunner(t *testing.T) (*chaos.Runner, *sim.Fleet, *simsrc.Backend) {
	t.Helper()
	f, err := sim.New(sim.Options{Scenario: "quiet", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.Advance(30 * time.Minute) // the steady state reads five minutes of history
	b := simsrc.New(f)
	wait := func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.Advance(d)
		return nil
	}
	audit := &remediate.Audit{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	policy := remediate.DefaultRunPolicy()
	x := &remediate.Executor{Sources: b.Set(), Actuator: b, Audit: audit, HTTP: http.DefaultClient,
		Guard:  &remediate.Guard{Ledger: remediate.SilenceLedger{Alerts: b}, Policy: policy, Now: f.Now, Sleep: wait},
		Getenv: func(string) (string, bool) { return "", false }, Now: f.Now, Wait: wait, User: "tester", Host: "testhost"}
	var slos []slo.Objective
	for _, s := range f.Topology().SLOs {
		slos = append(slos, slo.Objective{Name: s.Name, Service: s.Service, Objective: s.Objective, Window: 28 * 24 * time.Hour,
			Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: s.Service}})
	}
	return &chaos.Runner{Exec: x, Metrics: b, SLIs: b, SLOs: slos, Traces: b}, f, b
}

func seedExperiment(t *testing.T) *chaos.Experiment {
	t.Helper()
	e, err := chaos.LoadFile(filepath.Join("..", "testdata", "experiments", "payment-db-latency.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The seed's experiment, payment-db +200 ms on half its queries for ten
// minutes, holds with the fleet's retry settings.
func TestSeedExperimentPassesOnTheSimulator(t *testing.T) {
	r, f, _ := simRunner(t)
	rep := r.Run(context.Background(), seedExperiment(t), "confirmed by tester", false)
	if rep.Verdict != chaos.VerdictPassed {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if got := rep.Ended.Sub(rep.Injected); got < 10*time.Minute {
		t.Errorf("ran %s after the injection, want the full 10m", got)
	}
	for _, g := range rep.Guards {
		if len(g.Readings) < 100 {
			t.Errorf("guard %s read %d times in 10m at 5s", g.Label, len(g.Readings))
		}
	}
	if len(rep.Rollback) != 1 || rep.Rollback[0].Result != remediate.ResultDone {
		t.Errorf("rollback %+v", rep.Rollback)
	}
	if got := f.FaultedServices(); len(got) != 0 {
		t.Errorf("faults left after the run: %v", got)
	}
}

// With checkout-api retrying payment-api as it retries
// user-preferences-api (1 s timeout, 3 retries), the same fault cascades:
// the error guard trips and the fault is rolled back. The seed's finding
// that retries caused cascades.
func TestSeedExperimentFailsWhenRetriesAreTurnedUp(t *testing.T) {
	r, f, b := simRunner(t)
	ctx := context.Background()
	if _, err := b.Act(ctx, sources.Action{Kind: sim.ActSetCall, Service: "checkout-api", Target: "payment-api",
		Params: map[string]string{"retries": "3", "timeout": "1s"}}); err != nil {
		t.Fatal(err)
	}
	rep := r.Run(ctx, seedExperiment(t), "confirmed by tester", false)
	if rep.Verdict != chaos.VerdictFailed || rep.Trip == nil {
		t.Fatalf("verdict %s (%s), want failed on a guard", rep.Verdict, rep.Why)
	}
	if rep.Trip.Label != "payment-api error ratio < 1%" {
		t.Errorf("tripped %q, want the error ratio guard", rep.Trip.Label)
	}
	if got := rep.Trip.At.Sub(rep.Injected); got > 2*time.Minute {
		t.Errorf("tripped %s after the injection, want a cascade within minutes", got)
	}
	if len(rep.Rollback) != 1 || rep.Rollback[0].Result != remediate.ResultDone {
		t.Errorf("rollback %+v", rep.Rollback)
	}
	if got := f.FaultedServices(); len(got) != 0 {
		t.Errorf("faults left after the rollback: %v", got)
	}
}

// A drafted postmortem's experiment is a file chaos reads without a problem.
func TestHistoryDraftedExperimentParses(t *testing.T) {
	for _, mech := range []string{"retry-storm", "deploy", "crash-loop", "saturation"} {
		for _, stack := range []string{history.DemoStack, "prod"} {
			r := history.Record{ID: "inc-1", Stack: stack, Root: "payment-db", Mechanism: mech, Services: []string{"payment-api"}}
			d := history.Postmortem(r, nil, history.PostmortemOptions{})
			if d.Experiment == "" {
				t.Fatalf("%s on %s: no experiment drafted", mech, stack)
			}
			e, ps := chaos.Parse([]byte(d.Experiment), "inc-1.yaml")
			if len(ps) > 0 {
				t.Errorf("%s on %s: %v\n%s", mech, stack, ps, d.Experiment)
				continue
			}
			if e.Target != "payment-db" || !strings.Contains(d.Experiment, "over: 5m") {
				t.Errorf("%s on %s: target %q\n%s", mech, stack, e.Target, d.Experiment)
			}
		}
	}
}
