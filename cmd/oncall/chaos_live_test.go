package main

import (
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/remediate"
)

// TestChaosLiveRunIsNotOfferedForRollback: while a run watches its fault
// in one process, every other oncall says it is running now (not "never
// finished"), offers no rollback of it, refuses chaos rollback RUN, and
// refuses a second run on the same target before it injects.
func TestChaosLiveRunIsNotOfferedForRollback(t *testing.T) {
	b := newChaosBed(t, "", "")
	c := b.cmd(t, "", "chaos", "run", b.experiment, "--confirm", "orders")
	p := startUntil(t, c, "[guard]")
	start := auditEntry(b.audit(t), "start", "", "")
	if start == nil {
		t.Fatalf("no start entry:\n%s", p)
	}
	run := start.Experiment.Run

	r := b.run(t, "", "chaos", "list")
	if r.code != 0 || !strings.Contains(r.err, "(run "+run+") is running now (by chaos-tester@") || strings.Contains(r.err, "never finished") || strings.Contains(r.err, "oncall chaos rollback") {
		t.Errorf("list while the run is live: exit %d\n%s", r.code, r.err)
	}
	r = b.run(t, "", "chaos", "list", "-o", "json")
	var listed struct {
		Unfinished []struct{ Run, Running, Rollback string } `json:"unfinished"`
	}
	if err := json.Unmarshal([]byte(r.out), &listed); err != nil || len(listed.Unfinished) != 1 || listed.Unfinished[0].Running == "" || listed.Unfinished[0].Rollback != "" {
		t.Errorf("list -o json while the run is live: %v\n%s", err, r.out)
	}
	if r := b.run(t, "", "chaos", "rollback", run, "-y"); r.code != 1 || !strings.Contains(r.err, "it is running now") || !pathExists(b.fault) {
		t.Errorf("rollback of the live run: exit %d, fault in place %v\n%s%s", r.code, pathExists(b.fault), r.out, r.err)
	}
	r = b.run(t, "", "chaos", "run", b.experiment, "--confirm", "orders")
	if r.code != 1 || !strings.Contains(r.out+r.err, "another experiment runs on orders now") {
		t.Errorf("a second run on the target: exit %d\n%s%s", r.code, r.out, r.err)
	}
	injections := 0
	for _, e := range b.audit(t) {
		if e.Experiment != nil && e.Experiment.Stage == "inject" && e.Phase == remediate.PhaseBefore {
			injections++
		}
	}
	if injections != 1 {
		t.Errorf("%d injections, want the live run's alone", injections)
	}
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t)
	if pathExists(b.fault) {
		t.Errorf("the run's own rollback did not run at its end:\n%s", p)
	}
}

// TestChaosRollbackAfterAFailedRollback: a run whose rollback failed is
// said as such, not as killed, and chaos rollback RUN resolves the run's
// history record.
func TestChaosRollbackAfterAFailedRollback(t *testing.T) {
	b := newChaosBed(t, "", "")
	c := b.cmd(t, "", "chaos", "run", b.experiment, "--confirm", "orders")
	p := startUntil(t, c, "[guard]")
	run := auditEntry(b.audit(t), "start", "", "").Experiment.Run
	// rm -f cannot remove a directory that holds a file: the rollback fails
	if err := os.Remove(b.fault); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(b.fault+"/in", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t)
	if end := auditEntry(b.audit(t), "end", "", ""); end == nil || end.Result != "rollback failed" {
		t.Fatalf("the run's end: %+v\n%s", end, p)
	}
	if open, n := b.chaosRecords(t); n != 1 || open != 1 {
		t.Errorf("%d records of the run, %d open: want its one record, open", n, open)
	}
	if err := os.RemoveAll(b.fault); err != nil {
		t.Fatal(err)
	}
	r := b.run(t, "", "chaos", "rollback", run, "-y")
	if r.code != 0 || !strings.Contains(r.out, "the rollback of run "+run+" failed at ") || strings.Contains(r.out, "killed") {
		t.Fatalf("rollback after a failed rollback: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if open, n := b.chaosRecords(t); n != 1 || open != 0 {
		t.Errorf("%d records of the run, %d open: want its one record, resolved", n, open)
	}
}

// chaosRecords counts the history's records of the experiment mark, and
// those of them still open.
func (b *chaosBed) chaosRecords(t *testing.T) (open, n int) {
	t.Helper()
	r := b.run(t, "", "history", "--offline", "-o", "json")
	var recs []history.Record
	if err := json.Unmarshal([]byte(r.out), &recs); err != nil {
		t.Fatalf("history -o json: %v\n%s%s", err, r.out, r.err)
	}
	for _, rec := range recs {
		if strings.HasPrefix(rec.Title, "chaos experiment mark ") {
			n++
			if rec.Open() {
				open++
			}
		}
	}
	return open, n
}
