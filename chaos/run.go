package chaos

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

const (
	// readTimeoutFloor is the least one check's read is given, at the
	// shortest interval too: a loaded Prometheus answers a range query
	// within a second or two, and a slow but live backend must not
	// abort runs. Above it a read gets two intervals: a backend that
	// stops answering aborts the run within about three intervals, so
	// that the fault is never in blind for long.
	readTimeoutFloor = 2 * time.Second
	// traceTimeout bounds the search for trace evidence, after the
	// rollback: the fault is out, and a slow trace backend only delays
	// the report.
	traceTimeout = 10 * time.Second
	// rollbackBound is how long the rollback may take in all, even after
	// an interrupt: long enough for kubectl against a slow API server,
	// short enough that a hung tool does not keep the cockpit waiting.
	rollbackBound = 2 * time.Minute
	// traceEvidence is how many failed traces the report names: enough
	// to open the first few, few enough to read.
	traceEvidence = 5
	// maxReadings is how many readings a guard keeps: an hour at the
	// default interval, so a long run's report stays small.
	maxReadings = 720
)

// Runner runs experiments: the actions through the executor (audit,
// read-only, locks), the checks through the metrics and SLO sources, on
// the executor's data clock.
type Runner struct {
	Exec    *remediate.Executor // audit, read-only, Now (data clock), Wait (sleep, or advance the sim), User/Host
	Metrics sources.Metrics
	SLIs    sources.SLIs
	SLOs    []slo.Objective
	Traces  sources.Traces // nil: no trace evidence
	Events  func(Event)    // live; must not block; nil ok
	// ReadTimeout bounds one check's read; 0 is max(2 × interval, 2s).
	ReadTimeout time.Duration
}

func (r *Runner) emit(ev Event) {
	if r.Events != nil {
		r.Events(ev)
	}
}

func (r *Runner) say(stage, format string, a ...any) {
	r.emit(Event{Stage: stage, Line: fmt.Sprintf(format, a...)})
}

func (r *Runner) wait(ctx context.Context, d time.Duration) error {
	if r.Exec.Wait != nil {
		return r.Exec.Wait(ctx, d)
	}
	return remediate.SleepWait(ctx, d)
}

// newReport is a report of e before anything ran.
func newReport(e *Experiment) Report {
	rep := Report{Experiment: e.Name, File: e.File, Hypothesis: e.Hypothesis, Target: e.Target}
	for _, g := range e.Guards {
		rep.Guards = append(rep.Guards, GuardSeries{Label: g.Label(), Check: g})
	}
	rep.Checks = slices.Clone(e.SteadyState)
	return rep
}

// ref is the audit log's reference to one run of e: the file by its
// absolute path, so that a later start from anywhere finds it.
func (e *Experiment) ref(run string) remediate.ExperimentRef {
	return remediate.ExperimentRef{Name: e.Name, Run: run, File: filepath.Join(e.Dir, filepath.Base(e.File)), SHA256: e.SHA256}
}

// Run runs one experiment the operator confirmed (approval says who and
// how): the start noted, the steady state read, the fault injected, the
// guards read every interval until the duration runs out or one fails,
// the rollback run whatever happened, the evidence gathered and the end
// noted. dryRun shows the plan and reads the steady state, and injects
// nothing: it runs under read-only too.
func (r *Runner) Run(ctx context.Context, e *Experiment, approval string, dryRun bool) Report {
	x := r.Exec
	rep := newReport(e)
	rep.Started = x.Now()
	end := func(verdict, why string) Report {
		rep.Verdict, rep.Why, rep.Ended = verdict, why, x.Now()
		r.say(StageEnd, "%s: %s", verdict, why)
		return rep
	}
	// an experiment built by hand, not parsed, meets the same rules: no
	// run without a guard or a rollback
	if ps := e.validate(); len(ps) > 0 {
		return end(VerdictRefused, ps.Error())
	}
	plan := e.Plan(x.User+"@"+x.Host, rep.Started) // as the executor renders them
	if len(plan.Problems) > 0 {
		return end(VerdictRefused, strings.Join(plan.Problems, "; "))
	}
	// the plan is said under StageStart: nothing is injected or rolled
	// back yet, and a watcher keyed on the stage must not think so
	for _, pa := range plan.Inject {
		r.say(StageStart, "will inject %s: %s", pa.Name, pa.Shown)
	}
	for _, pa := range plan.Rollback {
		r.say(StageStart, "will roll back %s: %s", pa.Name, pa.Shown)
	}
	// a dry run injects nothing, so read-only does not stop it: it only
	// reads the steady state
	if dryRun {
		if why, ok := r.steadyState(ctx, e, &rep); !ok {
			return end(VerdictDryRun, "nothing injected; "+why)
		}
		return end(VerdictDryRun, "nothing injected; the steady state holds")
	}
	if x.ReadOnly {
		return end(VerdictRefused, "oncall runs read-only (--read-only or the context's read_only): no experiment runs")
	}
	ref := e.ref(remediate.NewID())
	// one experiment at a time per target, held from before the start
	// note until after the end note: a second run's rollback would undo
	// this one's fault while it is still watched
	release, ctx, refused := r.lock(ctx, e.Target, ref.Run)
	if refused != "" {
		return end(VerdictRefused, refused+": nothing injected")
	}
	defer release()
	rep.Run = ref.Run
	note := func(stage, result, detail string) error {
		n := ref
		n.Stage = stage
		return x.Note(n, e.Name, e.Target, result, detail)
	}
	if err := note(StageStart, "started", "hypothesis: "+e.Hypothesis+"; "+approval); err != nil {
		return end(VerdictRefused, fmt.Sprintf("audit log: %v: nothing runs without its record", err))
	}
	r.say(StageStart, "run %s of %s: %s", ref.Run, e.Name, e.Hypothesis)
	finish := func(verdict, why string) Report {
		rep = end(verdict, why)
		if err := note(StageEnd, verdict, why); err != nil {
			rep.Why += fmt.Sprintf(" (the audit log's end entry could not be written: %v)", err)
		}
		return rep
	}
	if why, ok := r.steadyState(ctx, e, &rep); !ok {
		if ctx.Err() != nil {
			why = interrupted(ctx)
		}
		return finish(VerdictAborted, why+": nothing injected")
	}
	verdict, why, ran := r.inject(ctx, e, ref, approval, &rep)
	if !ran {
		rep.Injected = time.Time{} // nothing went in: nothing to roll back
		return finish(verdict, why)
	}
	if verdict == "" {
		verdict, why = r.watch(ctx, e, ref, &rep)
	}
	verdict, why = r.rollback(ctx, e, ref, approval, &rep, verdict, why)
	r.evidence(ctx, e, &rep)
	rep = end(verdict, why)
	if err := note(StageEnd, rep.endResult(), why); err != nil {
		rep.Why += fmt.Sprintf(" (the audit log's end entry could not be written: %v)", err)
	}
	return rep
}

// RolledBack says whether every rollback action ran and succeeded: only
// then is the fault known to be out.
func (rep Report) RolledBack() bool {
	if len(rep.Rollback) == 0 {
		return false
	}
	for _, o := range rep.Rollback {
		if o.Result != remediate.ResultDone {
			return false
		}
	}
	return true
}

// endResult is the result the run's end entry records: its verdict, or
// ResultRollbackFailed when the fault may still be in.
func (rep Report) endResult() string {
	if !rep.RolledBack() {
		return ResultRollbackFailed
	}
	return rep.Verdict
}

// steadyState reads each steady-state check once over its window; why
// says which did not hold or could not be read.
func (r *Runner) steadyState(ctx context.Context, e *Experiment, rep *Report) (string, bool) {
	for i, c := range e.SteadyState {
		rd := r.bounded(ctx, e, c, i, DefaultInterval)
		rep.SteadyState = append(rep.SteadyState, rd)
		r.emit(Event{Stage: StageSteadyState, Line: c.Label() + ": " + rd.shown(c), Reading: &rd})
		switch {
		case rd.Err != "":
			return fmt.Sprintf("steady state %s unreadable: %s", c.Label(), rd.Err), false
		case !rd.OK:
			return fmt.Sprintf("steady state does not hold: %s is %s", c.Label(), c.Format(rd.Value)), false
		}
	}
	return "", true
}

// inject runs each injection in order. ran says whether any command ran,
// so that the rollback follows; a verdict is set when one failed.
func (r *Runner) inject(ctx context.Context, e *Experiment, ref remediate.ExperimentRef, approval string, rep *Report) (verdict, why string, ran bool) {
	ref.Stage = StageInject
	rep.Injected = r.Exec.Now()
	for _, a := range e.Inject {
		o := r.Exec.RunStandalone(ctx, e.standalone(a, approval, &ref, false))
		rep.Inject = append(rep.Inject, o)
		ran = ran || o.ExitCode != nil
		r.say(StageInject, "%s", termsafe.Line(o.String()))
		if o.Result != remediate.ResultDone {
			return VerdictAborted, "injection " + termsafe.Line(o.String()), ran
		}
	}
	return "", "", ran
}

// watch reads every guard each interval on the data clock until the
// duration has passed, a guard fails, or one cannot be read.
func (r *Runner) watch(ctx context.Context, e *Experiment, ref remediate.ExperimentRef, rep *Report) (verdict, why string) {
	interval, duration := e.Interval.Or(DefaultInterval), time.Duration(e.Duration)
	ref.Stage = StageGuard
	note := func(result, detail string) {
		// a failed note does not stop the rollback; the end note says the rest
		_ = r.Exec.Note(ref, e.Name, e.Target, result, detail)
	}
	said := make([]lastSaid, len(e.Guards))
	for {
		if err := r.wait(ctx, interval); err != nil {
			if ctx.Err() != nil {
				return VerdictAborted, interrupted(ctx)
			}
			return VerdictAborted, fmt.Sprintf("waiting for the next guard reading: %v", err)
		}
		now := r.Exec.Now()
		for i, g := range e.Guards {
			rd := r.bounded(ctx, e, g, i, interval)
			if ctx.Err() != nil {
				// a read cut short by the interrupt says nothing of the backend
				return VerdictAborted, interrupted(ctx)
			}
			series := &rep.Guards[i]
			series.Readings = append(series.Readings, rd)
			if n := len(series.Readings); n > maxReadings {
				series.Readings = slices.Clone(series.Readings[n-maxReadings:])
			}
			if rd.Query != "" {
				series.Query, series.How = rd.Query, rd.How
			}
			ev := Event{Stage: StageGuard, Reading: &rd, Guard: true}
			if said[i].changed(rd, g) {
				ev.Line = g.Label() + ": " + rd.shown(g)
			}
			r.emit(ev)
			if rd.Err != "" {
				why := fmt.Sprintf("guard %s unreadable: %s: an experiment never continues blind", g.Label(), rd.Err)
				note("unreadable", why)
				return VerdictAborted, why
			}
			if !rd.OK {
				elapsed := timeparse.FormatDuration(rd.At.Sub(rep.Injected).Round(time.Second))
				rep.Trip = &Trip{Guard: i, Label: g.Label(), At: rd.At, Value: rd.Value, How: rd.How, Query: rd.Query, Elapsed: elapsed}
				why := fmt.Sprintf("guard %s tripped at %s (%s after injection): value %s %s %s", g.Label(),
					rd.At.UTC().Format("15:04:05"), elapsed, g.Format(rd.Value), g.broken(), g.written(g.bound()))
				note("tripped", why)
				return VerdictFailed, why
			}
		}
		if now.Sub(rep.Injected) >= duration {
			return VerdictPassed, fmt.Sprintf("every guard held for %s", timeparse.FormatDuration(duration))
		}
	}
}

// interrupted is why a cancelled run stopped: the cause its canceller
// gave ("interrupted (SIGINT)", "aborted from the cockpit (x)"), or
// "interrupted" when it gave none: "context canceled" tells an operator
// nothing.
func interrupted(ctx context.Context) string {
	c := context.Cause(ctx)
	switch {
	case c == nil || errors.Is(c, context.Canceled):
		return "interrupted"
	case errors.Is(c, context.DeadlineExceeded):
		return "interrupted: the run's deadline passed"
	}
	return c.Error()
}

// guardLineEvery is how often a guard whose value keeps moving (within
// its bound) gets a line: a ten-minute run says each guard about ten
// times, not 120; a change of state is said at once.
const guardLineEvery = time.Minute

// lastSaid is what a guard's last event line said, and when.
type lastSaid struct {
	shown string
	state string
	at    time.Time
}

// changed says whether rd is worth a line: the guard's first reading,
// a change of state (ok, out of bound, unreadable), or a new value a
// minute or more of data time after the last line. The reading is
// noted as said when it is.
func (l *lastSaid) changed(rd Reading, c Check) bool {
	state := "ok"
	switch {
	case rd.Err != "":
		state = "unreadable"
	case !rd.OK:
		state = "out of bound"
	}
	shown := rd.shown(c)
	say := l.at.IsZero() || state != l.state || (shown != l.shown && rd.At.Sub(l.at) >= guardLineEvery)
	if say {
		*l = lastSaid{shown: shown, state: state, at: rd.At}
	}
	return say
}

// ResultRollbackFailed is the end entry's result of a run whose rollback
// did not all succeed (an action failed, or was cut by rollbackBound):
// FindUnfinished counts the run as unfinished still, so that every later
// start offers its rollback again.
const ResultRollbackFailed = "rollback failed"

// rollback runs every rollback action, even after an interrupt, within
// rollbackBound. A rollback that fails is said in why; a run that had
// passed is then aborted, since the fault may still be in.
func (r *Runner) rollback(ctx context.Context, e *Experiment, ref remediate.ExperimentRef, approval string, rep *Report, verdict, why string) (string, string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackBound)
	defer cancel()
	ref.Stage = StageRollback
	var failed []string
	for _, a := range e.Rollback {
		o := r.Exec.RunStandalone(rctx, e.standalone(a, approval, &ref, true))
		rep.Rollback = append(rep.Rollback, o)
		r.say(StageRollback, "%s", termsafe.Line(o.String()))
		if o.Result != remediate.ResultDone {
			failed = append(failed, termsafe.Line(o.String()))
		}
	}
	if len(failed) == 0 {
		return verdict, why
	}
	rb := "rollback failed, the fault may still be in: " + strings.Join(failed, "; ")
	if verdict == VerdictPassed {
		return VerdictAborted, rb
	}
	return verdict, why + "; " + rb
}

// evidence names failed traces at the guarded services and the target
// while the fault was in.
func (r *Runner) evidence(ctx context.Context, e *Experiment, rep *Report) {
	if r.Traces == nil {
		return
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), traceTimeout)
	defer cancel()
	found, err := r.Traces.SearchTraces(tctx, sources.TraceSearch{Services: guarded(e.Target, e.Guards), ErrorsOnly: true,
		Range: sources.TimeRange{Start: rep.Injected, End: r.Exec.Now()}, Limit: traceEvidence})
	if err != nil {
		r.say(StageEnd, "no trace evidence: %s", termsafe.Line(err.Error()))
		return
	}
	for _, t := range found {
		rep.Traces = append(rep.Traces, termsafe.Line(t.TraceID))
	}
}

// guarded are the services the checks read and the target, sorted.
func guarded(target string, checks []Check) []string {
	out := []string{target}
	for _, c := range checks {
		if c.Service != "" {
			out = append(out, c.Service)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// bounded is Read within ReadTimeout, or max(2 × interval,
// readTimeoutFloor): a backend that does not answer is unreadable, not
// waited for.
func (r *Runner) bounded(ctx context.Context, e *Experiment, c Check, i int, interval time.Duration) Reading {
	bound := r.ReadTimeout
	if bound <= 0 {
		bound = max(2*interval, readTimeoutFloor)
	}
	rctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	return r.Read(rctx, e, c, i)
}

// Read evaluates one check now, on the data clock: a RED signal averaged
// over the check's window, or an SLO's burn rate over its window. An
// error or an undefined value is unreadable (Err set, Value NaN, OK
// false).
func (r *Runner) Read(ctx context.Context, e *Experiment, c Check, i int) Reading {
	rd := Reading{Check: i, At: r.Exec.Now(), Value: math.NaN()}
	v, how, query, err := r.value(ctx, c, rd.At)
	rd.How, rd.Query = how, termsafe.Line(query)
	switch {
	case err != nil:
		rd.Err = termsafe.Line(err.Error())
	case math.IsNaN(v) || math.IsInf(v, 0):
		rd.Err = "no value: the backend answered without data"
	default:
		rd.Value, rd.OK = v, c.holds(v)
	}
	return rd
}

// value reads a check: its value, how the value comes from the query,
// and the query as the backend ran it.
func (r *Runner) value(ctx context.Context, c Check, at time.Time) (v float64, how, query string, err error) {
	if c.SLO == "" {
		v, q, err := remediate.ReadSignal(ctx, r.Metrics, c.Service, c.Signal, at, c.over())
		return v, redHow(c), q, err
	}
	i := slices.IndexFunc(r.SLOs, func(o slo.Objective) bool { return o.Name == c.SLO })
	if i < 0 {
		return 0, "", "", fmt.Errorf("no SLO named %q in the config", c.SLO)
	}
	b := slo.LoadBudget(ctx, r.SLIs, r.SLOs[i], at)
	if b.Err != "" {
		return 0, "", "", fmt.Errorf("slo %s: %s", c.SLO, b.Err)
	}
	w := time.Duration(c.Burn)
	for _, br := range b.Burns {
		if br.Window == w {
			how, q := burnHow(r.SLOs[i], br), strings.Join(br.Queries, " ; ")
			if !br.Rate.Defined() {
				return 0, how, q, fmt.Errorf("slo %s: no traffic over %s: the burn rate is undefined", c.SLO, timeparse.FormatDuration(w))
			}
			return float64(br.Rate), how, q, nil
		}
	}
	var ws []string
	for _, br := range b.Burns {
		ws = append(ws, timeparse.FormatDuration(br.Window))
	}
	return 0, "", "", fmt.Errorf("slo %s has no burn window %s (its windows: %s)", c.SLO, timeparse.FormatDuration(w), strings.Join(ws, ", "))
}

// redHow is how a RED reading comes from the adapter's query, so that
// the number can be reproduced: the mean of the series over the check's
// window at ReadSignal's step; an error ratio is the mean of the errors
// over the mean of the requests (its query is "errors / requests").
func redHow(c Check) string {
	over := c.over()
	window := fmt.Sprintf("over %s (%s steps)", timeparse.FormatDuration(over), timeparse.FormatDuration(remediate.SignalStep(over)))
	if c.Signal == remediate.SignalErrorRatio {
		return "mean of the errors / mean of the requests " + window
	}
	return "mean " + window
}

// burnHow is how an SLO's burn rate comes from its window's queries: the
// error ratio they give over the budget the objective allows. Two
// queries are the bad and all events (each a count over the window);
// one is a ratio (a recording rule's, or a raw SLI's), or for a latency
// SLI a histogram whose share above the threshold is the ratio.
func burnHow(o slo.Objective, br slo.Burn) string {
	budget := fmt.Sprintf("(1 − objective %s)", strconv.FormatFloat(o.Objective, 'g', -1, 64))
	head := "burn " + timeparse.FormatDuration(br.Window) + " = "
	switch {
	case len(br.Queries) == 2:
		return head + "(bad / all events) / " + budget
	case len(br.Queries) == 1 && !br.Recorded && o.Indicator.Kind == sources.SLILatency:
		return head + "(share of the histogram's events slower than the threshold) / " + budget
	}
	return head + "error ratio / " + budget
}

// bound is the check's limit.
func (c Check) bound() float64 {
	if c.Above != nil {
		return float64(*c.Above)
	}
	if c.Below != nil {
		return float64(*c.Below)
	}
	return math.NaN()
}

// broken is the comparison a value failing the check makes with its bound.
func (c Check) broken() string {
	if c.Above != nil {
		return "≤"
	}
	return "≥"
}

// shown is the reading in a few words: its value, or why there is none.
func (rd Reading) shown(c Check) string {
	if rd.Err != "" {
		return "unreadable: " + rd.Err
	}
	if rd.OK {
		return c.Format(rd.Value) + " ok"
	}
	return c.Format(rd.Value) + " FAILS"
}
