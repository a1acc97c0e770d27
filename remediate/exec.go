package remediate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Defaults of running an action.
const (
	defaultActionTimeout = 2 * time.Minute
	defaultVerifyOver    = time.Minute
	// DefaultVerifyPoll is how often verification reads the metrics.
	DefaultVerifyPoll = 5 * time.Second
	maxResponseKept   = 64 << 10
)

// Outcome results.
const (
	ResultResolved   = "resolved"    // ran, and verification passed
	ResultDone       = "done"        // ran; nothing to verify
	ResultFailed     = "failed"      // the command failed or verification did not pass
	ResultRolledBack = "rolled back" // failed, and its rollback ran
	ResultEscalated  = "escalated"
	ResultRefused    = "refused" // a guardrail, read-only or the confirmation said no
	ResultDryRun     = "dry run"
)

// ActionOutcome is how one action went.
type ActionOutcome struct {
	Name         string   `json:"name"`
	Target       string   `json:"target"`
	Shown        string   `json:"command"`
	Result       string   `json:"result"`
	ExitCode     *int     `json:"exit_code,omitempty"`
	Verification string   `json:"verification,omitempty"`
	Refusal      *Refusal `json:"refusal,omitempty"`
	Error        string   `json:"error,omitempty"`
	AuditID      string   `json:"audit_id,omitempty"`
	// Started is when it ran, by the data's clock (its audit entry's
	// data_time): the history dates what was done by it.
	Started time.Time `json:"started,omitzero"`
}

// String is the outcome in one line: what, where, how it went and why.
func (a ActionOutcome) String() string {
	line := fmt.Sprintf("%s on %s: %s", a.Name, a.Target, a.Result)
	if a.Refusal != nil {
		line += " (" + a.Refusal.Error() + ")"
	}
	if a.Error != "" {
		line += " (" + a.Error + ")"
	}
	if a.Verification != "" {
		line += "; " + a.Verification
	}
	return line
}

// Outcome is how a plan went.
type Outcome struct {
	Result     string          `json:"result"`
	Actions    []ActionOutcome `json:"actions"`
	Escalation []string        `json:"escalation,omitempty"` // per target, how telling it went
}

// OK says whether the plan did what it set out to: resolved, done with
// nothing to verify, or a dry run. Everything else (a target fixed while
// its symptom still fails among them) wants a human to look.
func (o Outcome) OK() bool {
	switch o.Result {
	case ResultResolved, ResultDone, ResultDryRun:
		return true
	}
	return false
}

// Event is what a run reports as it goes, for the cockpit's panel and the
// shell's output.
type Event struct {
	Action string
	Line   string // output, or a status line
	Status bool   // a status line rather than output
}

// Executor runs plans: guardrails, the audit log, the command, the
// verification, and what follows a failure.
type Executor struct {
	Sources  sources.Set
	Actuator sources.Actuator
	Guard    *Guard
	Audit    *Audit
	Escalate *Escalator
	HTTP     *http.Client
	Getenv   func(string) (string, bool)
	Now      func() time.Time // the data's clock, for verification windows
	// Wait pauses between verification reads; tests advance a simulated
	// clock here.
	Wait     func(ctx context.Context, d time.Duration) error
	Poll     time.Duration
	User     string
	Host     string
	ReadOnly bool
	// Report receives events as they happen; it must not block.
	Report func(Event)
}

func (x *Executor) report(action, format string, a ...any) {
	if x.Report != nil {
		x.Report(Event{Action: action, Line: fmt.Sprintf(format, a...), Status: true})
	}
}

// Run carries out a plan the operator confirmed. approval says who said
// yes and how ("confirmed by alice", "autopilot: auto and automatable").
// dryRun renders and checks everything and runs nothing.
func (x *Executor) Run(ctx context.Context, p *Plan, approval string, dryRun bool) Outcome {
	if x.ReadOnly {
		return Outcome{Result: ResultRefused, Actions: []ActionOutcome{{Name: p.Runbook, Target: p.Target, Result: ResultRefused,
			Refusal: &Refusal{Rule: "read-only", Detail: "oncall runs read-only (--read-only or the context's read_only): no action runs"}}}}
	}
	if len(p.Problems) > 0 {
		return Outcome{Result: ResultRefused, Actions: []ActionOutcome{{Name: p.Runbook, Target: p.Target, Result: ResultRefused, Error: strings.Join(p.Problems, "; ")}}}
	}
	if p.Diagnosis.Escalate {
		out := Outcome{Result: ResultEscalated}
		if !dryRun {
			out.Escalation = x.escalate(ctx, p, nil, p.Diagnosis.Reason, approval)
		}
		return out
	}
	out := Outcome{Result: ResultDone}
	if dryRun {
		out.Result = ResultDryRun
	}
	verified := false
	for _, pa := range p.Actions {
		o := x.runOne(ctx, p, pa, approval, dryRun)
		out.Actions = append(out.Actions, o)
		switch o.Result {
		case ResultResolved:
			verified = true
			continue
		case ResultDone, ResultDryRun:
			continue
		}
		out.Result = o.Result
		if o.Result == ResultRefused {
			return out
		}
		if slices.Contains(pa.OnFailure, OnFailureRollback) && pa.action.Rollback != nil {
			rb := x.rollback(ctx, p, pa, approval)
			out.Actions = append(out.Actions, rb)
			if rb.Result == ResultDone {
				out.Result = ResultRolledBack
			}
		}
		if slices.Contains(pa.OnFailure, OnFailureEscalate) {
			out.Escalation = x.escalate(ctx, p, out.Actions, fmt.Sprintf("%s on %s %s", pa.Name, pa.Key.Target, o.Result), approval)
			out.Result = ResultEscalated
		}
		return out
	}
	if verified && out.Result == ResultDone {
		// every action ran, and what was verified passed: resolved if
		// the symptom clears too
		out.Result = x.settle(ctx, p, &out, approval)
	}
	return out
}

func (x *Executor) runOne(ctx context.Context, p *Plan, pa Planned, approval string, dryRun bool) ActionOutcome {
	o := ActionOutcome{Name: pa.Name, Target: pa.Key.Target, Shown: pa.Shown}
	if pa.Refused != nil {
		o.Result, o.Refusal = ResultRefused, pa.Refused
		x.report(pa.Name, "refused: %s", pa.Refused)
		return o
	}
	// what is shown, stored or sent is scrubbed of the secrets read to run
	secrets := &scrubber{}
	cmd, err := renderer{vars: pa.vars, getenv: secrets.reading(x.Getenv)}.renderSpec(pa.action.Spec, x.who(), x.Now())
	if err != nil {
		o.Result, o.Error = ResultRefused, secrets.scrub(err.Error())
		return o
	}
	if dryRun {
		o.Result = ResultDryRun
		return o
	}
	a := pa.action
	lease := a.Timeout.Or(defaultActionTimeout) + time.Minute
	if a.Verify != nil {
		lease += time.Duration(a.Verify.Within)
	}
	id := NewID()
	before := x.entry(p, id, PhaseBefore, pa.Name, pa.Key.Target)
	before.Kind, before.Command, before.Incident, before.Approval = pa.Kind, pa.Shown, p.Incident, approval
	hold, ok := x.lockAndRecord(ctx, &o, pa.Key, a.Limits, lease, before, func() Entry { return x.entry(p, id, PhaseAfter, pa.Name, pa.Key.Target) })
	if !ok {
		return o
	}
	defer hold.Release()
	// the run ends with its lock, should the lease be lost
	ctx = hold.Context()
	o.AuditID = id
	x.report(pa.Name, "running %s", pa.Shown)
	res := x.scrubbing(secrets).execute(ctx, pa.Name, cmd, a.Timeout.Or(defaultActionTimeout))
	if res.err != nil && ctx.Err() != nil {
		res.err = fmt.Errorf("%w: %w", res.err, context.Cause(ctx))
	}
	o.ExitCode = &res.code
	switch {
	case res.err != nil:
		o.Result, o.Error = ResultFailed, secrets.scrub(res.err.Error())
		x.report(pa.Name, "failed: %s", o.Error)
	case a.Verify != nil:
		o.Verification, o.Result = x.verify(ctx, pa, a.Verify)
	default:
		o.Result = ResultDone
	}
	after := x.after(p, id, pa.Name, pa.Key.Target, res)
	after.Verification, after.Result, after.Error = o.Verification, o.Result, o.Error
	x.appendAfter(&o, after)
	return o
}

func (x *Executor) rollback(ctx context.Context, p *Plan, pa Planned, approval string) ActionOutcome {
	spec := *pa.action.Rollback
	o := ActionOutcome{Name: pa.Name + " (rollback)", Target: pa.Key.Target}
	shown, err := renderer{vars: pa.vars}.renderSpec(spec, x.who(), x.Now())
	if err != nil {
		o.Result, o.Error = ResultFailed, err.Error()
		return o
	}
	o.Shown = shown.String()
	secrets := &scrubber{}
	cmd, err := renderer{vars: pa.vars, getenv: secrets.reading(x.Getenv)}.renderSpec(spec, x.who(), x.Now())
	if err != nil {
		o.Result, o.Error = ResultFailed, secrets.scrub(err.Error())
		return o
	}
	id := NewID()
	o.AuditID = id
	before := x.entry(p, id, PhaseBefore, o.Name, pa.Key.Target)
	before.Kind, before.Command, before.Incident, before.Approval = spec.Kind, o.Shown, p.Incident, approval+"; rollback after failure"
	o.Started = before.DataTime
	if err := x.Audit.Append(before); err != nil {
		o.Result, o.Error = ResultFailed, err.Error()
		return o
	}
	x.report(pa.Name, "rolling back: %s", o.Shown)
	res := x.scrubbing(secrets).execute(ctx, pa.Name, cmd, pa.action.Timeout.Or(defaultActionTimeout))
	o.ExitCode, o.Result = &res.code, ResultDone
	if res.err != nil {
		o.Result, o.Error = ResultFailed, secrets.scrub(res.err.Error())
	}
	after := x.after(p, id, o.Name, pa.Key.Target, res)
	after.Result, after.Error = o.Result, o.Error
	x.appendAfter(&o, after)
	return o
}

// appendAfter writes the after entry of an action that ran; when it
// cannot be written, the outcome says so: the log has the action
// unfinished, whatever its result.
func (x *Executor) appendAfter(o *ActionOutcome, after Entry) {
	if err := x.Audit.Append(after); err != nil {
		o.Error = strings.TrimPrefix(o.Error+"; ", "; ") + "the audit log's after entry was not written: " + err.Error()
		x.report(after.Action, "audit log: %v", err)
	}
}

// lockAndRecord takes the guard's lock on k, within the action's limits,
// with the before entry written inside it (no record, no run). When it
// cannot, o says why and the before entry, if it was written, is closed
// by after's entry.
func (x *Executor) lockAndRecord(ctx context.Context, o *ActionOutcome, k Key, limits *Guardrail, lease time.Duration, before Entry, after func() Entry) (*Hold, bool) {
	rails := Guardrail{}
	if limits != nil {
		rails = *limits
	}
	wrote := false
	hold, err := x.Guard.Acquire(ctx, k, rails, x.who(), lease, func() error {
		o.Started = before.DataTime
		if err := x.Audit.Append(before); err != nil {
			return err
		}
		wrote = true
		return nil
	})
	if err == nil {
		return hold, true
	}
	var r *Refusal
	if errors.As(err, &r) {
		o.Result, o.Refusal = ResultRefused, r
	} else {
		o.Result, o.Error = ResultRefused, err.Error()
	}
	x.report(o.Name, "not run: %v", err)
	if wrote {
		// the ledger failed after the before entry: close it
		o.AuditID = before.ID
		e := after()
		e.Result, e.Error = o.Result, "not run: "+err.Error()
		x.appendAfter(o, e)
	}
	return nil, false
}

// who signs locks, silences and records: user@host.
func (x *Executor) who() string { return x.User + "@" + x.Host }

// entry is an audit entry of this executor's user and host about an
// action of a plan.
func (x *Executor) entry(p *Plan, id, phase, action, target string) Entry {
	return Entry{ID: id, Phase: phase, Time: time.Now().UTC(), DataTime: x.Now().UTC(), User: x.User, Host: x.Host, Runbook: p.Runbook, Action: action, Target: target}
}

// after is the entry written once a command has run: its exit code, the
// digest and size of its output and how long it took.
func (x *Executor) after(p *Plan, id, action, target string, res execResult) Entry {
	e := x.entry(p, id, PhaseAfter, action, target)
	e.ExitCode, e.OutputSHA256, e.OutputBytes, e.DurationMS = &res.code, res.digest, res.bytes, res.took.Milliseconds()
	return e
}

// escalate sends the escalation and audits it under the run's approval,
// so the history tells the autopilot's escalations from a person's.
func (x *Executor) escalate(ctx context.Context, p *Plan, tried []ActionOutcome, reason, approval string) []string {
	if x.Escalate == nil {
		return []string{"no escalation target is configured: nobody was told"}
	}
	e := NewEscalation(p, tried, reason, x.User, x.Host, x.Now())
	x.report("escalate", "escalating: %s", reason)
	res := x.Escalate.Send(ctx, e, p.rb.Escalate)
	note := x.entry(p, NewID(), PhaseDecision, "", p.Target)
	note.Incident, note.Result, note.Command, note.Approval = p.Incident, ResultEscalated+": "+reason, strings.Join(res, "; "), approval
	if err := x.Audit.Append(note); err != nil {
		x.report("escalate", "audit log: %v", err)
	}
	for _, r := range res {
		x.report("escalate", "%s", r)
	}
	return res
}
