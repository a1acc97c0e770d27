//go:build unix

package chaos

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// A run killed on this host (SIGKILL) leaves its experiment lock until
// the lease runs out: its process is gone, so the run is not live, and a
// new run on the target takes the lock at once.
func TestLockOfAKilledProcessIsNotLive(t *testing.T) {
	f := newFixture(t, healthy)
	f.guarded(t)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	g := f.runner.Exec.Guard
	by := fmt.Sprintf("tester@h (run killed1, pid %d)", gone.Process.Pid)
	if _, err := g.Ledger.Add(context.Background(), remediate.Record{Kind: remediate.RecordLock, Key: lockKey("payment-db"), By: by,
		Start: time.Unix(0, 0), End: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	u := Unfinished{Ref: remediate.ExperimentRef{Run: "killed1"}, Target: "payment-db"}
	if live, _, err := f.runner.Live(context.Background(), u); live || err != nil {
		t.Errorf("the killed run is live: %v", err)
	}
	if rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false); rep.Verdict != VerdictPassed {
		t.Errorf("a run after the kill: %s: %s", rep.Verdict, rep.Why)
	}
}
