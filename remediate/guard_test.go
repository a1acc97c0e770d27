package remediate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

// clockLedger is a MemoryLedger on a clock the test moves.
func clockGuard(policy RunPolicy) (*Guard, *time.Time) {
	now := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	return &Guard{Ledger: &MemoryLedger{Now: clock}, Policy: policy, Now: clock}, &now
}

// mustAcquire is g's hold of k for who under rails, for a minute, which
// must be granted.
func mustAcquire(t *testing.T, g *Guard, k Key, rails Guardrail, who string) *Hold {
	t.Helper()
	held, err := g.Acquire(bg, k, rails, who, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	return held
}

func refusal(t *testing.T, err error) *Refusal {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("not a refusal: %v", err)
	}
	return r
}

// TestSecondRunInTheCooldownIsRefused says which guardrail and when it
// clears, and lets the run through once it has.
func TestSecondRunInTheCooldownIsRefused(t *testing.T) {
	g, now := clockGuard(RunPolicy{Guardrails: Guardrail{Cooldown: timeparse.Duration(10 * time.Minute)}})
	k := Key{Action: "restart", Target: "cart"}
	mustAcquire(t, g, k, Guardrail{}, "alice@a").Release()
	*now = now.Add(4 * time.Minute)
	_, err := g.Acquire(bg, k, Guardrail{}, "bob@b", time.Minute, nil)
	r := refusal(t, err)
	if r.Rule != "cooldown" || !r.Until.Equal(time.Date(2026, 11, 27, 23, 10, 0, 0, time.UTC)) || !strings.Contains(r.Error(), "alice@a") || !strings.Contains(r.Error(), "clears at 23:10:00 UTC") {
		t.Fatalf("refusal %v (until %s)", r, r.Until)
	}
	// another target is not cooling down
	mustAcquire(t, g, Key{Action: "restart", Target: "payment-api"}, Guardrail{}, "bob@b").Release()
	*now = now.Add(7 * time.Minute)
	if held, err := g.Acquire(bg, k, Guardrail{}, "bob@b", time.Minute, nil); err != nil {
		t.Fatalf("after the cooldown: %v", err)
	} else {
		held.Release()
	}
}

func TestRateLimitsPerActionAndPerService(t *testing.T) {
	g, now := clockGuard(RunPolicy{Guardrails: Guardrail{RatePerAction: &Rate{2, time.Hour}, RatePerService: &Rate{3, time.Hour}}})
	run := func(action, target string) error {
		held, err := g.Acquire(bg, Key{action, target}, Guardrail{}, "a", time.Minute, nil)
		if err == nil {
			held.Release()
		}
		*now = now.Add(time.Minute)
		return err
	}
	for _, x := range [][2]string{{"restart", "a"}, {"restart", "b"}} {
		if err := run(x[0], x[1]); err != nil {
			t.Fatal(err)
		}
	}
	r := refusal(t, run("restart", "c"))
	if r.Rule != "rate" || !strings.Contains(r.Detail, "restart ran 2 times in the last 1h") {
		t.Fatalf("%v", r)
	}
	for _, a := range []string{"scale", "warm"} {
		if err := run(a, "a"); err != nil {
			t.Fatal(err)
		}
	}
	r = refusal(t, run("resize", "a"))
	if !strings.Contains(r.Detail, "an action on a ran 3 times") || r.Until.IsZero() {
		t.Fatalf("%v", r)
	}
	// an action's own guardrails replace the defaults
	mustAcquire(t, g, Key{"restart", "z"}, Guardrail{RatePerAction: &Rate{10, time.Hour}}, "a").Release()
}

func TestConcurrencyCap(t *testing.T) {
	g, _ := clockGuard(RunPolicy{MaxConcurrent: 1})
	held := mustAcquire(t, g, Key{"restart", "a"}, Guardrail{}, "a")
	if r := refusal(t, func() error {
		_, err := g.Acquire(bg, Key{"scale", "b"}, Guardrail{}, "b", time.Minute, nil)
		return err
	}()); r.Rule != "concurrency" {
		t.Fatalf("%v", r)
	}
	if r := refusal(t, func() error {
		_, err := g.Acquire(bg, Key{"restart", "a"}, Guardrail{}, "b", time.Minute, nil)
		return err
	}()); r.Rule != "lock" || !strings.Contains(r.Detail, "a is running it") {
		t.Fatalf("%v", r)
	}
	held.Release()
	mustAcquire(t, g, Key{"scale", "b"}, Guardrail{}, "b").Release()
}

// TestMaxStep refuses a step above the bound, relative or absolute.
func TestMaxStep(t *testing.T) {
	for _, c := range []struct {
		val, from string
		refused   bool
	}{
		{"+100%", "", false}, {"+150%", "", true}, {"x2", "", false}, {"x3", "", true},
		{"8", "4", false}, {"9", "4", true}, {"+4", "4", false}, {"+5", "4", true}, {"+5", "", true}, {"9", "", true}, {"ten", "4", true},
	} {
		m := &MaxStep{Param: "replicas", Value: c.val, From: c.from, Increase: 1}
		_, r := maxStep(m, Command{}, renderer{})
		if (r != nil) != c.refused {
			t.Errorf("%s from %q: refused %v (%v)", c.val, c.from, r != nil, r)
		}
		if r != nil && r.Rule != "max-step" {
			t.Errorf("rule %s", r.Rule)
		}
	}
}

// TestReadOnlyRefusesEveryAction: the executor refuses in read-only,
// before any guardrail or audit entry.
func TestReadOnlyRefusesEveryAction(t *testing.T) {
	k, f := simKit(t, "crash-loop", 5*time.Minute, simRunbooks(t), nil)
	k.Exec.ReadOnly = true
	s, _ := k.Look(bg)
	ms := MatchAll(k.Runbooks, s)
	if len(ms) == 0 {
		t.Fatal("no match")
	}
	before := len(f.Silences())
	out := k.Run(bg, k.Planner.Plan(bg, ms[0], s.Incident), "test", false, nil)
	if out.Result != ResultRefused || out.Actions[0].Refusal.Rule != "read-only" {
		t.Fatalf("%+v", out)
	}
	if rows, _, _ := k.Audit.Read(); len(rows) != 0 || len(f.Silences()) != before {
		t.Errorf("read-only wrote %d audit rows, %d records", len(rows), len(f.Silences())-before)
	}
}

// TestTimelineShowsTheActions places the audit log's actions in the
// incident's window on its timeline, in order, unfinished ones marked.
func TestTimelineShowsTheActions(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 27, 23, m, 0, 0, time.UTC) }
	inc := &correlate.Incident{Window: sources.TimeRange{Start: at(10), End: at(25)},
		Timeline: []correlate.Event{{T: at(12), Kind: "onset"}, {T: at(20), Kind: "change"}}}
	done := Entry{Phase: PhaseAfter, Result: ResultResolved}
	rows := []Row{
		{Before: Entry{Phase: PhaseBefore, DataTime: at(15), Runbook: "pool-full", Action: "resize-pool", Target: "payment-api", User: "alice", Command: "simulator resize-pool payment-api"}, After: &done},
		{Before: Entry{Phase: PhaseBefore, Time: at(22), Runbook: "crash-loop", Action: "restart", Target: "cart", User: "bob", Command: "kubectl rollout restart deployment/cart"}, Unfinished: true},
		{Before: Entry{Phase: PhaseBefore, DataTime: at(30), Runbook: "late", Action: "x"}},
		{Before: Entry{Phase: PhaseDecision, Time: at(16), Result: "proposal approved"}},
	}
	Timeline(inc, rows)
	var got []string
	for _, e := range inc.Timeline {
		got = append(got, e.Kind+" "+e.Service+" "+e.Detail)
	}
	want := []string{"onset  ", "action payment-api pool-full/resize-pool by alice: simulator resize-pool payment-api → resolved", "change  ",
		"action cart crash-loop/restart by bob: kubectl rollout restart deployment/cart (unfinished)"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s", strings.Join(got, "\n"))
	}
}

// An experiment's lock on its target, held for its whole run, is no
// action running: the experiment's own injection (or another action)
// gets past a cap of one concurrent action and a rate of one an hour on
// the target, while a second experiment on the target is refused.
func TestExperimentLockCountsTowardsNoCapOrRate(t *testing.T) {
	one := &Rate{N: 1, Per: time.Hour}
	g, _ := clockGuard(RunPolicy{MaxConcurrent: 1, Guardrails: Guardrail{RatePerService: one, Cooldown: timeparse.Duration(10 * time.Minute)}})
	exp := Key{Action: ExperimentLock, Target: "payment-db"}
	held := mustAcquire(t, g, exp, Guardrail{}, "alice@a (run r1)")
	defer held.Release()
	mustAcquire(t, g, Key{Action: "latency", Target: "payment-db"}, Guardrail{}, "alice@a").Release()
	_, err := g.Acquire(bg, exp, Guardrail{}, "bob@b (run r2)", time.Minute, nil)
	if r := refusal(t, err); r.Rule != "lock" || !strings.Contains(r.Detail, "alice@a (run r1)") {
		t.Fatalf("a second experiment on the target: %v", r)
	}
}
