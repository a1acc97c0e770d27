package present

import (
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// TestAuditTextListsEveryKindOfRow: a decision on one line, a finished
// action with how it ended, an unfinished one with its id, in the zone
// asked for; an empty log says which file it read.
func TestAuditTextListsEveryKindOfRow(t *testing.T) {
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	code := 0
	rows := []remediate.Row{
		{Before: remediate.Entry{ID: "a1", Phase: remediate.PhaseDecision, Time: at, User: "bob", Host: "h", Runbook: "rollback", Target: "inventory", Result: "proposal p1 rejected"}},
		{Before: remediate.Entry{ID: "a2", Phase: remediate.PhaseBefore, Time: at, User: "alice", Host: "h", Runbook: "pool-full", Action: "resize", Target: "payment-api",
			Approval: "confirmed by alice on the shell", Command: "resize\npayment-db", Incident: "payment-db saturated"},
			After: &remediate.Entry{Result: "resolved", ExitCode: &code, OutputBytes: 12, OutputSHA256: "0123456789abcdef0123", DurationMS: 1500, Verification: "verified"}},
		{Before: remediate.Entry{ID: "a3", Phase: remediate.PhaseBefore, Time: at, User: "alice", Host: "h", Runbook: "r", Action: "restart", Target: "cart\x1b[2J",
			Approval: "confirmed with -y by alice", Command: "kubectl rollout restart deployment/cart"}, Unfinished: true},
	}
	berlin := time.FixedZone("CET", 60*60) // a zone every machine has
	var b strings.Builder
	if err := AuditText(&b, NewAudit("audit.jsonl", rows, berlin)); err != nil {
		t.Fatal(err)
	}
	want := `2026-11-25T04:00:00+01:00  bob@h  rollback on inventory: proposal p1 rejected
2026-11-25T04:00:00+01:00  alice@h  pool-full/resize on payment-api  [confirmed by alice on the shell]
    command: resize
             payment-db
    incident: payment-db saturated
    after 1.5s: resolved, exit 0, output 12 bytes sha256 0123456789ab, verification: verified
2026-11-25T04:00:00+01:00  alice@h  r/restart on cart  [confirmed with -y by alice]
    command: kubectl rollout restart deployment/cart
    UNFINISHED: no after entry: the process stopped while it ran (id a3)
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := AuditText(&b, NewAudit("audit.jsonl", nil, nil)); err != nil || b.String() != "The audit log audit.jsonl is empty.\n" {
		t.Errorf("empty: %v %q", err, b.String())
	}
}
