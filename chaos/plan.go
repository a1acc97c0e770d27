package chaos

import (
	"fmt"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// Plan is everything the operator reads before saying yes: each action
// exactly as it will run (secrets as ‹secret:NAME›), the checks and
// guards by their labels (their queries are known once read), and the
// danger that decides the confirmation.
type Plan struct {
	Experiment *Experiment
	Inject     []PlannedAction
	Rollback   []PlannedAction
	// Checks and Guards are the labels of the steady-state checks and
	// the guards, in the file's order.
	Checks []string
	Guards []string
	Danger remediate.Danger
	// Problems are actions that could not be rendered; the experiment
	// does not run with any.
	Problems []string
}

// PlannedAction is one action of a plan, rendered.
type PlannedAction struct {
	Name   string
	Shown  string
	Danger remediate.Danger
}

// Plan renders the experiment's actions as they will run for user at now.
func (e *Experiment) Plan(user string, now time.Time) Plan {
	p := Plan{Experiment: e, Danger: remediate.DangerLow}
	render := func(as []remediate.Action) []PlannedAction {
		var out []PlannedAction
		for _, a := range as {
			shown, err := e.standalone(a, "", nil, false).Shown(user, now)
			if err != nil {
				p.Problems = append(p.Problems, fmt.Sprintf("action %q: %v", a.Name, err))
			}
			if a.Danger == remediate.DangerHigh {
				p.Danger = remediate.DangerHigh
			}
			out = append(out, PlannedAction{Name: a.Name, Shown: shown, Danger: a.Danger})
		}
		return out
	}
	p.Inject, p.Rollback = render(e.Inject), render(e.Rollback)
	for _, c := range e.SteadyState {
		p.Checks = append(p.Checks, c.Label())
	}
	for _, c := range e.Guards {
		p.Guards = append(p.Guards, c.Label())
	}
	return p
}

// Confirmations are the names the plan wants typed, in the order asked,
// under the runbooks' rules: the target's when an action is high danger,
// then the context's in a confirm: typed context ("" when it does not
// ask). None: y will do.
func (p Plan) Confirmations(typedContext string) []remediate.Confirmation {
	var out []remediate.Confirmation
	if p.Danger == remediate.DangerHigh {
		out = append(out, remediate.Confirmation{Name: p.Experiment.Target, Why: remediate.ConfirmHighDanger})
	}
	if typedContext != "" {
		out = append(out, remediate.Confirmation{Name: typedContext, Why: remediate.ConfirmTypedContext})
	}
	return out
}

// standalone is one of the experiment's actions as the executor runs it.
func (e *Experiment) standalone(a remediate.Action, approval string, ref *remediate.ExperimentRef, rollback bool) remediate.Standalone {
	return remediate.Standalone{Owner: e.Name, Action: a, Vars: e.vars(), Dir: e.Dir, Approval: approval, Experiment: ref, Rollback: rollback}
}

// vars are what the experiment's templates see.
func (e *Experiment) vars() remediate.Vars {
	return remediate.Vars{Target: e.Target, Service: e.Target}
}
