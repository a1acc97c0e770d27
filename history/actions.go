package history

import (
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// ActionsFrom are the audit log's rows that belong to a record, as
// actions: those written (by the data's clock) from its detection to its
// resolution, on one of its services, its root, or a service next to one
// of them in the service graph (near; nil when none is known). A row
// naming no target (a decision about a whole incident) belongs by time
// alone.
//
// An action is the autopilot's when its approval says the autopilot
// gave it (see byAutopilot). A person's run says "confirmed by …" and an
// approved proposal "proposal … approved by …".
func ActionsFrom(rows []remediate.Row, r Record, near Neighbours) []Action {
	from, until := r.When(), r.Resolved.T
	var out []Action
	for _, row := range rows {
		b := row.Before
		t := actionTime(b)
		if from.IsZero() || t.Before(from) || (!until.IsZero() && t.After(until)) || !r.concerns(b.Target, near) {
			continue
		}
		a := Action{T: t.UTC(), ID: b.ID, Runbook: b.Runbook, Action: b.Action, Target: b.Target, User: b.User,
			Command: b.Command, Approval: b.Approval, Result: b.Result, Autopilot: byAutopilot(b.Approval)}
		switch {
		case row.After != nil:
			a.Result = row.After.Result
		case row.Unfinished:
			a.Result = "unfinished: the log has no outcome"
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(a, b Action) int { return a.T.Compare(b.T) })
	return out
}

// concerns reports whether an action on target is about the record.
func (r Record) concerns(target string, near Neighbours) bool {
	if target == "" || target == r.Root || slices.Contains(r.Services, target) {
		return true
	}
	return near != nil && slices.ContainsFunc(r.Services, func(s string) bool { return near(s, target) })
}

// byAutopilot reads an audit entry's approval: remediate.Autopilot runs
// its plans with remediate.AutopilotApproval, alone or followed by ": "
// and why, and a rollback after a failure keeps that approval before
// rollbackApproval.
func byAutopilot(approval string) bool {
	approval, _ = strings.CutSuffix(approval, rollbackApproval)
	return approval == remediate.AutopilotApproval || strings.HasPrefix(approval, remediate.AutopilotApproval+": ")
}

// ResolvedByAutopilot reports whether the autopilot resolved a record
// alone: one of its actions was verified to resolve it and no action was
// a person's.
func ResolvedByAutopilot(actions []Action) bool {
	resolved := slices.ContainsFunc(actions, func(a Action) bool { return a.Autopilot && a.Result == remediate.ResultResolved })
	return resolved && !slices.ContainsFunc(actions, func(a Action) bool { return !a.Autopilot })
}

// rollbackApproval is what remediate adds to a run's approval for the
// rollback after a failed action (remediate/exec.go).
const rollbackApproval = "; rollback after failure"

// actionTime is when an audit row's action was written, by the data's
// clock where the entry has it.
func actionTime(b remediate.Entry) time.Time {
	if !b.DataTime.IsZero() {
		return b.DataTime
	}
	return b.Time
}
