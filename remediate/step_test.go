package remediate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

func standaloneExecutor(t *testing.T) (*Executor, *Audit) {
	t.Helper()
	dir := t.TempDir()
	audit := &Audit{Path: filepath.Join(dir, "audit.jsonl")}
	x := onceExecutor(&FileLedger{Path: filepath.Join(dir, "ledger.json"), Now: time.Now}, audit, "alice")
	x.Getenv = func(k string) (string, bool) {
		if k == "CHAOS_TOKEN" {
			return "s3cr3t-value", true
		}
		return "", false
	}
	return x, audit
}

// TestStandaloneActionIsAuditedBeforeAndAfterAndRunsInItsDirectory: the
// before entry names the experiment run and the command as shown; the
// argv runs in the experiment's directory; a secret it reads is in no
// entry and in no outcome.
func TestStandaloneActionIsAuditedBeforeAndAfterAndRunsInItsDirectory(t *testing.T) {
	x, audit := standaloneExecutor(t)
	dir := t.TempDir()
	ref := &ExperimentRef{Name: "exp", Run: "run1", Stage: "inject"}
	a := Action{Name: "touch", Spec: Spec{Kind: KindExec, Argv: []string{"touch", "{{.Target}}.{{secret \"CHAOS_TOKEN\"}}"}}}
	o := x.RunStandalone(context.Background(), Standalone{Owner: "exp", Action: a, Vars: Vars{Target: "db"}, Dir: dir, Approval: "typed db", Experiment: ref})
	if o.Result != ResultDone || o.AuditID == "" {
		t.Fatalf("outcome %+v", o)
	}
	if _, err := os.Stat(filepath.Join(dir, "db.s3cr3t-value")); err != nil {
		t.Fatalf("the argv did not run in the experiment's directory: %v", err)
	}
	if o.Shown != "touch 'db.‹secret:CHAOS_TOKEN›'" {
		t.Fatalf("shown %q", o.Shown)
	}
	b, err := os.ReadFile(audit.Path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cr3t") {
		t.Fatalf("the secret is in the audit log:\n%s", b)
	}
	rows, bad, err := audit.Read()
	if err != nil || len(bad) > 0 || len(rows) != 1 || rows[0].Unfinished {
		t.Fatalf("rows %+v bad %v err %v", rows, bad, err)
	}
	before := rows[0].Before
	if before.Runbook != "exp" || before.Experiment == nil || before.Experiment.Run != "run1" || before.Experiment.Stage != "inject" || before.Approval != "typed db" ||
		rows[0].After.Experiment == nil || *rows[0].After.ExitCode != 0 {
		t.Fatalf("entries %+v / %+v", before, rows[0].After)
	}
}

// TestStandaloneActionRefusedReadOnlyRunsNothing: read-only refuses
// before the audit log or the command is touched.
func TestStandaloneActionRefusedReadOnlyRunsNothing(t *testing.T) {
	x, audit := standaloneExecutor(t)
	x.ReadOnly = true
	marker := filepath.Join(t.TempDir(), "ran")
	o := x.RunStandalone(context.Background(), Standalone{Owner: "exp", Action: Action{Name: "touch", Spec: Spec{Kind: KindExec, Argv: []string{"touch", marker}}}})
	if o.Result != ResultRefused || o.Refusal == nil || o.Refusal.Rule != "read-only" {
		t.Fatalf("outcome %+v", o)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("it ran under read-only")
	}
	if _, err := os.Stat(audit.Path); err == nil {
		t.Fatal("read-only wrote the audit log")
	}
}

// TestStandaloneInjectionWaitsForTheLockAndRollbackDoesNot: another
// holder's lock on the action and target refuses an injection; the
// rollback of the same action runs regardless.
func TestStandaloneInjectionWaitsForTheLockAndRollbackDoesNot(t *testing.T) {
	x, _ := standaloneExecutor(t)
	ctx := context.Background()
	l := x.Guard.Ledger
	now := time.Now()
	if _, err := l.Add(ctx, Record{Kind: RecordLock, Key: Key{Action: "latency", Target: "db"}, By: "bob@h", Start: now, End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	a := Action{Name: "latency", Spec: Spec{Kind: KindExec, Argv: []string{"true"}}}
	if o := x.RunStandalone(ctx, Standalone{Owner: "exp", Action: a, Vars: Vars{Target: "db"}}); o.Result != ResultRefused {
		t.Fatalf("the injection ran under another's lock: %+v", o)
	}
	if o := x.RunStandalone(ctx, Standalone{Owner: "exp", Action: a, Vars: Vars{Target: "db"}, Rollback: true}); o.Result != ResultDone {
		t.Fatalf("the rollback waited for the lock: %+v", o)
	}
}

// TestCheckActionsAppliesTheRunbookRules: an argv whose program comes
// from a template, and a silence with no duration, are refused by name.
func TestCheckActionsAppliesTheRunbookRules(t *testing.T) {
	ps := CheckActions(nil, []Action{
		{Name: "prog", Danger: DangerHigh, Category: "chaos", Spec: Spec{Kind: KindExec, Argv: []string{"{{.Target}}", "x"}}},
		{Name: "quiet", Danger: DangerLow, Category: "chaos", Spec: Spec{Kind: KindSilence, Silence: &SilenceSp{Matchers: `a="b"`}}},
		{Name: "fine", Danger: DangerLow, Category: "chaos", Spec: Spec{Kind: KindExec, Argv: []string{"kubectl", "apply", "-f", "x.yaml"}}},
	})
	joined := strings.Join(ps, "\n")
	if !strings.Contains(joined, `action "prog"`) || !strings.Contains(joined, `action "quiet": silence needs matchers and for`) || strings.Contains(joined, `"fine"`) {
		t.Fatalf("problems:\n%s", joined)
	}
}

// TestStandaloneInjectionHasNoDefaultCooldown: the runbook default
// cooldown (10m) and rate limits do not apply to an experiment's
// injection, which is rerun on purpose; an action's own guardrails do.
func TestStandaloneInjectionHasNoDefaultCooldown(t *testing.T) {
	x, _ := standaloneExecutor(t)
	ctx := context.Background()
	a := Action{Name: "latency", Spec: Spec{Kind: KindExec, Argv: []string{"true"}}}
	for i := range 4 { // more than the default 3 an hour
		if o := x.RunStandalone(ctx, Standalone{Owner: "exp", Action: a, Vars: Vars{Target: "db"}}); o.Result != ResultDone {
			t.Fatalf("run %d refused: %+v %v", i+1, o.Refusal, o.Error)
		}
	}
	if x.Guard.Policy.Guardrails.Cooldown == 0 {
		t.Fatal("the executor's own policy was changed")
	}
	a.Name, a.Limits = "own", &Guardrail{Cooldown: timeparse.Duration(10 * time.Minute)}
	if o := x.RunStandalone(ctx, Standalone{Owner: "exp", Action: a, Vars: Vars{Target: "db"}}); o.Result != ResultDone {
		t.Fatalf("first run with its own cooldown refused: %+v", o.Refusal)
	}
	if o := x.RunStandalone(ctx, Standalone{Owner: "exp", Action: a, Vars: Vars{Target: "db"}}); o.Refusal == nil || o.Refusal.Rule != "cooldown" {
		t.Fatalf("the action's own cooldown did not hold: %+v", o)
	}
}
