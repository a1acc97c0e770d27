package remediate

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

var bg = context.Background()

// simRunbooks are the shipped runbooks for the simulator.
func simRunbooks(t testing.TB) []*Runbook {
	t.Helper()
	rbs, err := LoadFS(sim.Runbooks, "runbooks", "sim/runbooks")
	if err != nil {
		t.Fatal(err)
	}
	return rbs
}

// testdataRunbook reads one of testdata/runbooks.
func testdataRunbook(t testing.TB, name string) *Runbook {
	t.Helper()
	rbs, err := LoadDir(filepath.Join(testenv.RepoRoot(t), "testdata", "runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rb := range rbs {
		if rb.Name == name {
			return rb
		}
	}
	t.Fatalf("no runbook %s in testdata/runbooks", name)
	return nil
}

// simKit is a kit on a scenario's fleet at onset+after, in simulated
// time: verification advances the fleet instead of sleeping. Its ledger
// is the simulator's silences, its audit log a temporary file.
// simDeadline is how long a test's kit waits for a simulated fleet's
// evidence: far more than it takes, so that a busy machine cannot change
// the diagnosis.
const simDeadline = 2 * time.Minute

func simKit(t testing.TB, scenario string, after time.Duration, rbs []*Runbook, esc *Escalator) (*Kit, *sim.Fleet) {
	t.Helper()
	f, err := sim.New(sim.Options{Scenario: scenario, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.AdvanceTo(f.Onset().Add(after))
	b := simsrc.New(f)
	src := b.Set()
	wait := func(ctx context.Context, d time.Duration) error { f.Advance(d); return ctx.Err() }
	policy := DefaultRunPolicy()
	policy.Automatable = []string{"restart", "capacity", "cache"}
	ledger := SilenceLedger{Alerts: b}
	if esc == nil {
		esc = &Escalator{}
	}
	audit := &Audit{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	meta := correlate.Meta{Services: map[string]correlate.ServiceMeta{}, BurnRateAlerts: sources.DefaultConventions().Alerts.BurnRate}
	for _, s := range f.Topology().Services {
		meta.Services[s.Name] = correlate.ServiceMeta{ValuePerRequest: s.ValuePerRequest, Owner: s.Owner}
	}
	k := &Kit{Runbooks: rbs, Ledger: ledger, Audit: audit, Policy: policy, Meta: meta, Deadline: simDeadline,
		Planner: &Planner{Sources: src, Policy: policy, Ledger: ledger, Now: f.Now},
		Exec: Executor{Sources: src, Actuator: b, Audit: audit, Escalate: esc, HTTP: http.DefaultClient,
			Guard:  &Guard{Ledger: ledger, Policy: policy, Now: f.Now, Sleep: wait},
			Getenv: func(string) (string, bool) { return "", false }, Now: f.Now, Wait: wait, User: "tester", Host: "testhost"}}
	return k, f
}
