package history

import (
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// RunActions reads a runbook run's outcome as the record keeps it: its
// actions, each dated when it ran (by its audit entry's data clock, else
// at), and, when its verification said resolved, the resolution it
// stamps at at. An action refused before the audit log did nothing and
// is left out. The cockpit, `oncall runbook run` and the autopilot all
// record runs through it.
func RunActions(runbook, user, approval string, out remediate.Outcome, at time.Time) ([]Action, Stamp) {
	var acts []Action
	for _, a := range out.Actions {
		if a.AuditID == "" {
			continue
		}
		t := a.Started
		if t.IsZero() {
			t = at
		}
		acts = append(acts, Action{T: t.UTC(), ID: a.AuditID, Runbook: runbook, Action: a.Name, Target: a.Target, User: user,
			Command: a.Shown, Approval: approval, Result: a.Result, Autopilot: byAutopilot(approval)})
	}
	var resolved Stamp
	if out.Result == remediate.ResultResolved {
		resolved = Stamp{T: at.UTC(), Source: "runbook " + runbook + " verified (audit log)", Kind: KindVerified}
	}
	return acts, resolved
}
