package remediate

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAuditAppend measures one fsynced audit entry: the time an
// action waits before it runs.
func BenchmarkAuditAppend(b *testing.B) {
	a := &Audit{Path: filepath.Join(b.TempDir(), "audit.jsonl")}
	e := Entry{ID: NewID(), Phase: PhaseBefore, Time: time.Now(), User: "alice", Host: "h", Runbook: "pool-full", Action: "resize-pool", Target: "payment-api",
		Command: "simulator resize-pool payment-api → payment-db size=+100%", Incident: "payment-api errors 0.02% → 46.6% at 23:23"}
	for b.Loop() {
		if err := a.Append(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlan measures diagnosing and rendering a plan on the
// simulator (db-pool-exhaustion, pool-full): what R waits for.
func BenchmarkPlan(b *testing.B) {
	k, _ := simKit(b, "db-pool-exhaustion", 5*time.Minute, simRunbooks(b), nil)
	s, err := k.Look(bg)
	if err != nil {
		b.Fatal(err)
	}
	m := MatchAll(k.Runbooks, s)[0]
	for b.Loop() {
		if p := k.Planner.Plan(bg, m, s.Incident); !p.Runnable() {
			b.Fatal(p.Diagnosis.Reason)
		}
	}
}
