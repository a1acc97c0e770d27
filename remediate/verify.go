package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ResultTargetFixed is the outcome of a run whose actions passed their
// verification while the symptom that started it still fails: the target
// is fixed, the incident is not resolved.
const ResultTargetFixed = "target fixed"

// RecordFixed marks a run of a runbook on a target whose verification
// passed. The planner counts only the evidence after it, so what the fix
// already answered cannot trigger the runbook there again.
const RecordFixed = "fixed"

// fixedRecordFor is how long a fixed record stays active: longer than any
// diagnosis step or incident window reaches back. The planner reads
// expired records too, for as long as the ledger keeps them.
const fixedRecordFor = time.Hour

// fixedNote is what a fixed record's note holds: when the fix was
// verified, by the data's clock (the one log lines and samples carry).
type fixedNote struct {
	At time.Time `json:"at"`
}

// verify reads the target's signal until it is below the bound or the
// time is up.
func (x *Executor) verify(ctx context.Context, pa Planned, v *Verify) (string, string) {
	return x.watch(ctx, pa.Name, verifyService(pa, v), v)
}

// verifyService is the service an action's verification reads: its
// verify.service, or the action's target.
func verifyService(pa Planned, v *Verify) string {
	svc, _ := renderer{vars: pa.vars}.render("verify.service", v.Service)
	if svc == "" {
		svc = pa.Target
	}
	return svc
}

// watch reads a service's signal until it is below the bound or the time
// is up, by the data's clock (the simulator's, in the demo), with a cap on
// the wall clock for data that stopped moving.
func (x *Executor) watch(ctx context.Context, name, svc string, v *Verify) (string, string) {
	sig := v.Signal
	if sig == "" {
		sig = SignalErrorRatio
	}
	within := time.Duration(v.Within)
	over := v.Over.Or(defaultVerifyOver)
	deadline := x.Now().Add(within)
	wallCap := time.Now().Add(2*within + 30*time.Second)
	poll := x.Poll
	if poll <= 0 {
		poll = DefaultVerifyPoll
	}
	last := "no reading yet"
	for {
		if err := x.Wait(ctx, poll); err != nil {
			return fmt.Sprintf("interrupted: %v (last: %s)", err, last), ResultFailed
		}
		val, _, err := ReadSignal(ctx, x.Sources.Metrics, svc, sig, x.Now(), over)
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%s of %s over %s is %s", strings.ReplaceAll(sig, "_", " "), svc, shortDuration(over), showSignal(sig, val))
			if val < float64(v.Below) {
				msg := last + ", below " + showSignal(sig, float64(v.Below))
				x.report(name, "verified: %s", msg)
				return msg, ResultResolved
			}
		}
		x.report(name, "verifying: %s (want below %s by %s)", last, showSignal(sig, float64(v.Below)), deadline.UTC().Format("15:04:05"))
		if !x.Now().Before(deadline) || time.Now().After(wallCap) {
			msg := fmt.Sprintf("%s still failing: not below %s within %s: %s", svc, showSignal(sig, float64(v.Below)), shortDuration(within), last)
			x.report(name, "verification failed: %s", msg)
			return msg, ResultFailed
		}
	}
}

// settle decides what a run whose every action passed (and at least one
// was verified) achieved. The target's signal recovered, so the fix is
// recorded; the run is resolved only if the symptom that started it
// clears too, by the last verified action's condition. A slow service
// sped up while its callers still fail is "target fixed", not resolved:
// a failure for that action's on_failure: escalate, so a human hears of
// it, but not for its rollback, the fix having worked on its target.
func (x *Executor) settle(ctx context.Context, p *Plan, out *Outcome, approval string) string {
	x.recordFixed(ctx, p)
	var last Planned
	verified := map[string]bool{}
	for _, pa := range p.Actions {
		if v := pa.action.Verify; v != nil {
			last = pa
			verified[verifyService(pa, v)] = true
		}
	}
	cond := last.action.Verify
	svc, what := symptom(p)
	if svc == "" || verified[svc] {
		return ResultResolved
	}
	x.report(what, "checking the symptom at %s as well as the target", svc)
	msg, res := x.watch(ctx, what, svc, cond)
	out.Actions = append(out.Actions, ActionOutcome{Name: what, Target: svc, Shown: "verify " + svc, Result: res, Verification: msg})
	if res == ResultResolved {
		return ResultResolved
	}
	note := x.entry(p, NewID(), PhaseDecision, what, svc)
	note.Incident, note.Result, note.Verification = p.Incident, ResultTargetFixed+": "+msg, msg
	if err := x.Audit.Append(note); err != nil {
		x.report(what, "audit log: %v", err)
	}
	if slices.Contains(last.OnFailure, OnFailureEscalate) {
		out.Escalation = x.escalate(ctx, p, out.Actions, fmt.Sprintf("%s: %s recovered, but %s", ResultTargetFixed, verifyService(last, cond), msg), approval)
	}
	return ResultTargetFixed
}

// symptom is what started a run, to be verified besides the target: the
// matched alert's service (a burn-rate alert's is its SLO's), or else the
// incident's symptom, the head of its explanation chain.
func symptom(p *Plan) (service, what string) {
	if a := p.Match.Alert; a != nil && a.Service != "" {
		what = "alert " + a.Name
		if slo := a.Labels["slo"]; slo != "" {
			what = "SLO " + slo
		}
		return a.Service, what
	}
	if p.Inc != nil && len(p.Inc.Chain) > 0 {
		return p.Inc.Chain[0].Service, "the incident's symptom"
	}
	return "", ""
}

// recordFixed writes the verified fix of a plan's runbook on its target
// to the ledger, for every planner that shares it.
func (x *Executor) recordFixed(ctx context.Context, p *Plan) {
	if x.Guard == nil || x.Guard.Ledger == nil {
		return
	}
	now := x.Now()
	note, err := json.Marshal(fixedNote{At: now.UTC()})
	if err == nil {
		_, err = x.Guard.Ledger.Add(ctx, Record{Kind: RecordFixed, Key: Key{Action: p.Runbook, Target: p.Target}, By: x.who(),
			Start: ledgerStamps(), End: now.Add(fixedRecordFor), Note: string(note)})
	}
	if err != nil {
		x.report(p.Runbook, "the verified fix was not recorded, so the evidence from before it may trigger %s again: %v", p.Runbook, err)
	}
}

// lastFixed is when a runbook's run on a target was last verified, by the
// data's clock; zero when never.
func (p *Planner) lastFixed(ctx context.Context, runbook, target string) (time.Time, error) {
	if p.Ledger == nil {
		return time.Time{}, nil
	}
	rs, err := p.Ledger.Records(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("the last verified fix of %s on %s: %w", runbook, target, err)
	}
	var last time.Time
	for _, r := range rs {
		if r.Kind != RecordFixed || r.Key != (Key{Action: runbook, Target: target}) {
			continue
		}
		var n fixedNote
		if json.Unmarshal([]byte(r.Note), &n) != nil || n.At.IsZero() {
			// a note not written by recordFixed: the ledger's stamp
			n.At = r.Start
		}
		if n.At.After(last) {
			last = n.At
		}
	}
	return last, nil
}

// SleepWait is Wait on the wall clock.
func SleepWait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
