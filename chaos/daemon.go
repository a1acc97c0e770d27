package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/slo"
)

// Daemon starts experiments on their schedules, one at a time, each
// only when no SLO's budget is below the floor and no incident is open.
type Daemon struct {
	Runner      *Runner
	Experiments []*Experiment // those without a schedule are left alone
	// Floor is the share of error budget (0..1) every SLO must have left
	// for an experiment to start.
	Floor        float64
	Budgets      func(ctx context.Context) []slo.Budget
	OpenIncident func(ctx context.Context) (string, error) // "" when none
	Approval     string
	Done         func(Report) // each run's or refusal's report; nil ok
	// Now is the clock the schedules are read on: the runner's data
	// clock when nil. Wait sleeps on that clock: when nil, the runner's
	// Exec.Wait if Now is nil too (one clock), else a real timer (Now is
	// the wall clock, whatever the data's clock does).
	Now  func() time.Time
	Wait func(ctx context.Context, d time.Duration) error

	// benched are the experiments (by name) whose run failed or was
	// aborted once its fault was in, each with why: the daemon does not
	// run them again until it is restarted, so that a guard that trips
	// every run does not see the fault injected again and again.
	benched map[string]string
	// owed are the runs this daemon started whose rollback failed: no
	// experiment starts until the audit log shows each rolled back.
	owed []Report
}

// scheduled is one experiment with its schedule and next start.
type scheduled struct {
	e    *Experiment
	s    cron.Schedule
	next time.Time
}

// Run starts each scheduled experiment when its time comes, until ctx
// ends (then it returns nil). A start that Refusal forbids is noted in
// the audit log and reported as refused; the schedule goes on.
func (d *Daemon) Run(ctx context.Context) error {
	now := d.now()
	var plan []*scheduled
	for _, e := range d.Experiments {
		if e.Schedule == "" {
			continue
		}
		s, err := ParseSchedule(e.Schedule)
		if err != nil {
			return fmt.Errorf("%s:%d: schedule %q: %w", e.File, e.Line, e.Schedule, err)
		}
		plan = append(plan, &scheduled{e: e, s: s, next: s.Next(now)})
	}
	if len(plan) == 0 {
		return errors.New("chaos daemon: no experiment has a schedule")
	}
	for {
		first := plan[0]
		for _, p := range plan[1:] {
			if p.next.Before(first.next) {
				first = p
			}
		}
		if err := d.wait(ctx, first.next.Sub(d.now())); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("chaos daemon: waiting for %s: %w", first.e.Name, err)
		}
		if d.now().Before(first.next) {
			continue // woken early: wait out the rest
		}
		d.start(ctx, first.e)
		if ctx.Err() != nil {
			return nil
		}
		// a run longer than the period skips the starts it overlapped
		first.next = first.s.Next(d.now())
	}
}

// start runs one experiment, or notes and reports why not.
func (d *Daemon) start(ctx context.Context, e *Experiment) {
	var rep Report
	why := d.benched[e.Name]
	if why == "" {
		why = d.Refusal(ctx)
	}
	if why != "" {
		rep = newReport(e)
		rep.Started, rep.Ended = d.now(), d.now()
		rep.Verdict, rep.Why = VerdictRefused, "not started: "+why
		ref := e.ref(remediate.NewID())
		ref.Stage = StageStart
		rep.Run = ref.Run
		if err := d.Runner.Exec.Note(ref, e.Name, e.Target, VerdictRefused, rep.Why); err != nil {
			rep.Why += fmt.Sprintf(" (the audit log's entry could not be written: %v)", err)
		}
	} else {
		rep = d.Runner.Run(ctx, e, d.Approval, false)
		d.bench(e, &rep)
	}
	if d.Done != nil {
		d.Done(rep)
	}
}

// bench keeps e from running again when its run failed or was aborted
// once its fault was in, and notes a run whose rollback failed as owed;
// the report's Why says so.
func (d *Daemon) bench(e *Experiment, rep *Report) {
	if rep.Injected.IsZero() || (rep.Verdict != VerdictFailed && rep.Verdict != VerdictAborted) {
		return
	}
	if d.benched == nil {
		d.benched = map[string]string{}
	}
	what := "failed"
	if rep.Verdict == VerdictAborted {
		what = "was aborted"
	}
	d.benched[e.Name] = fmt.Sprintf("its run %s %s once its fault was in: the daemon does not run %s again until it is restarted", rep.Run, what, e.Name)
	rep.Why += fmt.Sprintf("; the daemon does not run %s again until it is restarted", e.Name)
	if !rep.RolledBack() {
		d.owed = append(d.owed, *rep)
		rep.Why += fmt.Sprintf(", and starts nothing until run %s is rolled back (oncall chaos rollback %s)", rep.Run, rep.Run)
	}
}

// unrecovered is the first run this daemon started whose rollback the
// audit log still owes (FindUnfinished), or nil. A log that cannot be
// read counts the run as owed still: the daemon cannot tell.
func (d *Daemon) unrecovered() *Report {
	if len(d.owed) == 0 {
		return nil
	}
	rows, _, err := d.Runner.Exec.Audit.Read()
	if err != nil {
		return &d.owed[0]
	}
	open := map[string]bool{}
	for _, u := range FindUnfinished(rows) {
		open[u.Ref.Run] = true
	}
	d.owed = slices.DeleteFunc(d.owed, func(r Report) bool { return !open[r.Run] })
	if len(d.owed) == 0 {
		return nil
	}
	return &d.owed[0]
}

// Refusal says why no experiment may start now, or "": a run this daemon
// started whose rollback failed and is not recovered yet, an SLO whose
// budget is below the floor (or cannot be read, or is undefined), an open incident, or
// an incident source that cannot say.
func (d *Daemon) Refusal(ctx context.Context) string {
	if r := d.unrecovered(); r != nil {
		return fmt.Sprintf("run %s of %s did not roll back, its fault may still be in: no experiment starts until it is (oncall chaos rollback %s)", r.Run, r.Experiment, r.Run)
	}
	if d.Budgets != nil {
		for _, b := range d.Budgets(ctx) {
			switch {
			case b.Err != "":
				return fmt.Sprintf("SLO %s's budget cannot be read (%s): no experiment spends a budget nobody can see", b.SLO.Name, termsafe.Line(b.Cause))
			case !b.Remaining.Defined():
				// no traffic, or nothing read: a budget nobody can see is not spent
				return fmt.Sprintf("SLO %s's budget is undefined (no traffic, or nothing read, over its window): no experiment spends a budget nobody can see", b.SLO.Name)
			case float64(b.Remaining) < d.Floor:
				return fmt.Sprintf("SLO %s has %s of its error budget left, below the floor of %s", b.SLO.Name, humanize.Percent(max(0, float64(b.Remaining))), humanize.Percent(d.Floor))
			}
		}
	}
	if d.OpenIncident != nil {
		id, err := d.OpenIncident(ctx)
		switch {
		case err != nil:
			return fmt.Sprintf("cannot tell whether an incident is open: %s", termsafe.Line(err.Error()))
		case id != "":
			return fmt.Sprintf("incident %s is open", termsafe.Line(id))
		}
	}
	return ""
}

func (d *Daemon) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return d.Runner.Exec.Now()
}

func (d *Daemon) wait(ctx context.Context, dur time.Duration) error {
	if dur <= 0 {
		return ctx.Err()
	}
	switch {
	case d.Wait != nil:
		return d.Wait(ctx, dur)
	case d.Now != nil:
		return remediate.SleepWait(ctx, dur)
	}
	return d.Runner.wait(ctx, dur)
}
