package remediate

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Standalone is one action run on its own, outside a runbook's plan: a chaos
// experiment's injection or rollback. It is checked, rendered, audited
// before and after, and run as a plan's action is: as argv without a
// shell, under the read-only switch, with its secrets scrubbed.
type Standalone struct {
	// Owner is what the audit log files it under (Entry.Runbook): the
	// experiment's name.
	Owner  string
	Action Action
	// Vars are what its templates see; Target is the service the fault
	// goes into.
	Vars Vars
	// Dir is where an exec step runs: an experiment's own directory, so
	// that a manifest beside it is found. "" is the current directory.
	Dir      string
	Approval string
	// Experiment is written into both audit entries.
	Experiment *ExperimentRef
	// Rollback marks a step that undoes: it runs even under the guard's
	// lock of another run, as a plan's rollback does, since leaving a
	// fault in place is worse than two writers.
	Rollback bool
}

// ExperimentRef ties an audit entry to one run of a chaos experiment, so
// that a run cut short (the process killed) is found in the log and its
// rollback offered from the file it ran.
type ExperimentRef struct {
	Name string `json:"name"`
	Run  string `json:"run"` // shared by every entry of one run
	File string `json:"file,omitempty"`
	// SHA256 is the file's digest as run: a rollback offered later from
	// a file that changed since says so.
	SHA256 string `json:"sha256,omitempty"`
	// Stage is start, steady-state, inject, guard, rollback or end.
	Stage string `json:"stage,omitempty"`
}

// CheckActions are the problems of actions that run outside a runbook
// (an experiment's), each under its name, by the rules a runbook's
// actions follow: the kinds, the argv and request rules, and no data
// read except through typed inputs.
func CheckActions(inputs map[string]*Input, actions []Action) []string {
	rb := &Runbook{Inputs: inputs}
	var ps []string
	for _, a := range actions {
		for _, p := range append(a.validate(), rb.dataUse(a)...) {
			ps = append(ps, fmt.Sprintf("action %q: %s", a.Name, p))
		}
	}
	return ps
}

// Shown is the action's command exactly as it will run, each secret as
// ‹secret:NAME›: what the plan, the confirmation and the audit log show.
func (s Standalone) Shown(user string, now time.Time) (string, error) {
	c, err := renderer{vars: s.Vars}.renderSpec(s.Action.Spec, user, now)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// RunStandalone runs one standalone action: the before entry is fsynced first (no record,
// no run), then the command, then the after entry. An injection takes
// the guard's lock on its action and the service it acts on (a sim
// action's service, else Vars.Target), so that two people do not inject
// the same fault at once; a rollback does not wait for it.
func (x *Executor) RunStandalone(ctx context.Context, s Standalone) ActionOutcome {
	a := s.Action
	o := ActionOutcome{Name: a.Name, Target: s.Vars.Target}
	if x.ReadOnly {
		o.Result, o.Refusal = ResultRefused, &Refusal{Rule: "read-only", Detail: "oncall runs read-only (--read-only or the context's read_only): no action runs"}
		return o
	}
	shown, err := s.Shown(x.who(), x.Now())
	if err != nil {
		o.Result, o.Error = ResultRefused, err.Error()
		return o
	}
	o.Shown = shown
	secrets := &scrubber{}
	cmd, err := renderer{vars: s.Vars, getenv: secrets.reading(x.Getenv)}.renderSpec(a.Spec, x.who(), x.Now())
	if err != nil {
		o.Result, o.Error = ResultRefused, secrets.scrub(err.Error())
		return o
	}
	if cmd.Kind == KindExec && s.Dir != "" {
		cmd.Dir = s.Dir
	}
	// the outcome, the audit log and the lock name the service the
	// action acts on: a sim action's own service, else the target
	if cmd.Sim != nil && cmd.Sim.Service != "" {
		o.Target = cmd.Sim.Service
	}
	id := NewID()
	before := x.stepEntry(s, id, PhaseBefore, o.Target)
	before.Kind, before.Command, before.Approval = a.Kind, shown, s.Approval
	if s.Rollback || x.Guard == nil {
		o.Started = before.DataTime
		if err := x.Audit.Append(before); err != nil {
			o.Result, o.Error = ResultRefused, err.Error()
			return o
		}
	} else {
		after := func() Entry { return x.stepEntry(s, id, PhaseAfter, o.Target) }
		// the lock keeps two injections of one action on one target
		// apart; the runbook default cooldown and rate limits are for
		// remedies, not for an experiment someone reruns on purpose:
		// only the action's own guardrails apply
		own, guard := *x, *x.Guard
		guard.Policy.Guardrails = Guardrail{}
		own.Guard = &guard
		hold, ok := own.lockAndRecord(ctx, &o, Key{Action: a.Name, Target: o.Target}, a.Limits, a.Timeout.Or(defaultActionTimeout)+time.Minute, before, after)
		if !ok {
			return o
		}
		// the lock guards the start; the fault then lives until its
		// rollback, which must not wait for a lease
		hold.Release()
	}
	o.AuditID = id
	x.report(a.Name, "running %s", shown)
	res := x.scrubbing(secrets).execute(ctx, a.Name, cmd, a.Timeout.Or(defaultActionTimeout))
	if res.err != nil && ctx.Err() != nil {
		res.err = fmt.Errorf("%w: %w", res.err, context.Cause(ctx))
	}
	o.ExitCode, o.Result = &res.code, ResultDone
	if res.err != nil {
		o.Result, o.Error = ResultFailed, secrets.scrub(res.err.Error())
		x.report(a.Name, "failed: %s", o.Error)
	}
	after := x.stepEntry(s, id, PhaseAfter, o.Target)
	after.ExitCode, after.OutputSHA256, after.OutputBytes, after.DurationMS = &res.code, res.digest, res.bytes, res.took.Milliseconds()
	after.Result, after.Error = o.Result, o.Error
	x.appendAfter(&o, after)
	return o
}

// Note writes one entry of a run that is not an action: an experiment's
// start and end, a guard that tripped. It is fsynced before it returns.
func (x *Executor) Note(ref ExperimentRef, owner, target, result, detail string) error {
	e := x.stepEntry(Standalone{Owner: owner, Experiment: &ref}, NewID(), PhaseDecision, target)
	e.Action, e.Result, e.Detail = ref.Stage, result, strings.TrimSpace(detail)
	return x.Audit.Append(e)
}

// stepEntry is an audit entry of this executor's user and host about a
// step on target.
func (x *Executor) stepEntry(s Standalone, id, phase, target string) Entry {
	e := Entry{ID: id, Phase: phase, Time: time.Now().UTC(), DataTime: x.Now().UTC(), User: x.User, Host: x.Host, Runbook: s.Owner,
		Action: s.Action.Name, Target: target}
	if s.Experiment != nil {
		ref := *s.Experiment
		e.Experiment = &ref
	}
	return e
}

// CheckServiceName says why v is not a service name, or nil: the rule of
// a `type: service` input (letters, digits, '.', '_', ':' and '-',
// starting with a letter or digit, at most 253 bytes), so that a name
// written into an argv can never be read as an option or a path.
func CheckServiceName(v string) error {
	return (&Input{Type: TypeService}).check(v)
}
