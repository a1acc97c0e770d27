package chaos

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// guarded gives the fixture's executor a ledger, as a real run has: the
// host's file, which every process on it shares.
func (f *fixture) guarded(t *testing.T) {
	ledger := &remediate.FileLedger{Path: filepath.Join(t.TempDir(), "ledger.json"), Now: time.Now}
	f.runner.Exec.Guard = &remediate.Guard{Ledger: ledger, Now: time.Now}
}

func (f *fixture) unfinished(t *testing.T) []Unfinished {
	t.Helper()
	rows, _, err := f.audit.Read()
	if err != nil {
		t.Fatal(err)
	}
	return FindUnfinished(rows)
}

// A second run on a target whose experiment is still being watched is
// refused before it injects, naming the run that holds the target; the
// run in progress is live (not offered for rollback), and a recovery of
// it is refused; once it has ended, the target is free again.
func TestOneExperimentAtATimePerTarget(t *testing.T) {
	f := newFixture(t, healthy)
	f.guarded(t)
	var second, recovered Report
	var live bool
	var by string
	var liveErr error
	events := f.runner.Events
	f.runner.Events = func(ev Event) {
		events(ev)
		if !ev.Guard || second.Verdict != "" {
			return
		}
		second = f.runner.Run(context.Background(), f.exp, "confirmed by someone else", false)
		us := f.unfinished(t)
		if len(us) != 1 {
			t.Errorf("unfinished while the first runs: %+v", us)
			return
		}
		live, by, liveErr = f.runner.Live(context.Background(), us[0])
		recovered = f.runner.Recover(context.Background(), us[0], f.exp, "confirmed by someone else")
	}
	first := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if first.Verdict != VerdictPassed {
		t.Fatalf("the first run: %s: %s", first.Verdict, first.Why)
	}
	if second.Verdict != VerdictRefused || !strings.Contains(second.Why, "tester@h (run "+first.Run+", pid ") || !strings.Contains(second.Why, "one experiment at a time per target") {
		t.Errorf("the second run: %s: %s", second.Verdict, second.Why)
	}
	if n := f.act.count("inject-latency"); n != 1 {
		t.Errorf("%d injections, want the first run's alone", n)
	}
	if !live || by != "tester@h" || liveErr != nil {
		t.Errorf("Live during the run: %v %q %v", live, by, liveErr)
	}
	if recovered.Verdict != VerdictRefused || len(recovered.Rollback) != 0 {
		t.Errorf("a recovery of the live run: %s: %s", recovered.Verdict, recovered.Why)
	}
	if n := f.act.count("clear-faults"); n != 1 {
		t.Errorf("%d rollbacks, want the first run's alone", n)
	}
	// released at the end
	f.runner.Events = events
	if again := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false); again.Verdict != VerdictPassed {
		t.Errorf("a run after the first ended: %s: %s", again.Verdict, again.Why)
	}
}

// A run whose rollback failed is recovered saying so (not "killed before
// its rollback"), and the recovery's report is the run's record,
// resolved.
func TestRecoverAfterAFailedRollbackResolvesTheRunsRecord(t *testing.T) {
	f := newFixture(t, healthy)
	f.guarded(t)
	f.act.fail["clear-faults"] = true
	run := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if run.RolledBack() || !run.Incident() {
		t.Fatalf("the run: %s: %s", run.Verdict, run.Why)
	}
	opened := run.Record("prod")
	if !opened.Open() {
		t.Fatalf("a run whose rollback failed is resolved: %+v", opened.Resolved)
	}
	us := f.unfinished(t)
	if len(us) != 1 || us[0].RollbackFailed == "" || us[0].Target != "payment-db" || !us[0].InjectedAt.Equal(run.Injected) {
		t.Fatalf("unfinished: %+v (injected %s)", us, run.Injected)
	}
	if live, _, err := f.runner.Live(context.Background(), us[0]); live || err != nil {
		t.Fatalf("a run that ended is live: %v", err)
	}
	f.act.fail["clear-faults"] = false
	rep := f.runner.Recover(context.Background(), us[0], f.exp, "confirmed by tester")
	if !strings.Contains(rep.Why, "the rollback of run "+run.Run+" failed at ") || strings.Contains(rep.Why, "killed") {
		t.Errorf("why: %s", rep.Why)
	}
	if !rep.RolledBack() || !rep.Incident() {
		t.Fatalf("the recovery: %s: %s", rep.Verdict, rep.Why)
	}
	resolved := rep.Record("prod")
	if resolved.ID != opened.ID || resolved.Resolved.T.IsZero() {
		t.Errorf("the recovery's record %s (resolved %v), the run's %s", resolved.ID, resolved.Resolved, opened.ID)
	}
	if len(f.unfinished(t)) != 0 {
		t.Errorf("still unfinished after the recovery")
	}
}

// A cancel without a cause says "interrupted", not "context canceled".
func TestInterruptWithoutCause(t *testing.T) {
	f := newFixture(t, healthy)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.runner.Events = func(ev Event) {
		if ev.Guard {
			cancel()
		}
	}
	rep := f.runner.Run(ctx, f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictAborted || !strings.HasPrefix(rep.Why, "interrupted") || strings.Contains(rep.Why, "context canceled") {
		t.Errorf("%s: %s", rep.Verdict, rep.Why)
	}
}
