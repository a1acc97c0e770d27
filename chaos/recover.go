package chaos

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// Unfinished is a run the audit log shows started and never ended: the
// process was killed with the fault in, and its rollback is owed.
type Unfinished struct {
	Ref remediate.ExperimentRef
	// Started is the start entry's wall clock: the kill happened on it.
	Started time.Time
	By      string // user@host
	// Target is the service the run's fault went into: its experiment
	// lock says whether the run is live in another process (Runner.Live).
	Target string
	// Injected are the injections the log shows were started, each as
	// "name: command as shown".
	Injected []string
	// InjectedAt is the data time of the first injection's start, as
	// the run's report had it: a recovery's report carries it, so that
	// its history record is the run's (Report.Record).
	InjectedAt time.Time
	// RollbackFailed is the end entry's detail when the run's rollback
	// failed (rather than never ran), at FailedAt.
	RollbackFailed string
	FailedAt       time.Time
}

// FindUnfinished finds the runs whose start the audit log holds and
// whose end it does not, or whose last end says ResultRollbackFailed,
// newest first. A refused start ran nothing and
// is not among them.
func FindUnfinished(rows []remediate.Row) []Unfinished {
	byRun := map[string]*Unfinished{}
	ended := map[string]bool{}
	var order []string
	for _, row := range rows {
		b := row.Before
		x := b.Experiment
		if x == nil || x.Run == "" {
			continue
		}
		switch x.Stage {
		case StageStart:
			if b.Result == VerdictRefused {
				continue
			}
			by := b.User
			if b.Host != "" {
				by += "@" + b.Host
			}
			ref := *x
			if byRun[x.Run] == nil {
				order = append(order, x.Run)
			}
			byRun[x.Run] = &Unfinished{Ref: ref, Started: b.Time, By: by, Target: b.Target}
		case StageEnd:
			// a rollback that failed leaves the fault in: still owed,
			// until a later end (a recovery's) says it succeeded
			ended[x.Run] = b.Result != ResultRollbackFailed
		}
	}
	for _, row := range rows {
		b := row.Before
		x := b.Experiment
		if x == nil || byRun[x.Run] == nil {
			continue
		}
		u := byRun[x.Run]
		switch {
		case x.Stage == StageInject && b.Phase == remediate.PhaseBefore:
			if len(u.Injected) == 0 {
				u.InjectedAt = b.DataTime
			}
			u.Injected = append(u.Injected, b.Action+": "+b.Command)
		case x.Stage == StageEnd:
			u.RollbackFailed, u.FailedAt = "", time.Time{}
			if b.Result == ResultRollbackFailed {
				u.RollbackFailed, u.FailedAt = b.Detail, b.Time
			}
		}
	}
	var out []Unfinished
	for _, run := range order {
		if !ended[run] {
			out = append(out, *byRun[run])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out
}

// Recover runs the rollback of an unfinished run from e, the experiment
// as its file reads now (the caller re-read u.Ref.File and had the
// operator confirm), and writes the run's end. A file that changed since
// the run is said in Why: the rollback is the current file's.
func (r *Runner) Recover(ctx context.Context, u Unfinished, e *Experiment, approval string) Report {
	x := r.Exec
	rep := newReport(e)
	rep.Run, rep.Started = u.Ref.Run, u.Started
	if x.ReadOnly {
		rep.Verdict, rep.Ended = VerdictRefused, x.Now()
		rep.Why = "oncall runs read-only (--read-only or the context's read_only): the rollback of run " + u.Ref.Run + " is still owed"
		return rep
	}
	release, ctx, refused := r.lock(ctx, e.Target, u.Ref.Run)
	if refused != "" {
		rep.Verdict, rep.Ended = VerdictRefused, x.Now()
		rep.Why = refused + ": the rollback of run " + u.Ref.Run + " is still owed"
		return rep
	}
	defer release()
	// the run's own injection time: its history record is the run's
	rep.Injected = u.InjectedAt
	why := fmt.Sprintf("recovered: the run %s was killed before its rollback; rolled back now", u.Ref.Run)
	if u.RollbackFailed != "" {
		why = fmt.Sprintf("recovered: the rollback of run %s failed at %s (%s); rolled back now", u.Ref.Run, u.FailedAt.UTC().Format("2006-01-02 15:04:05 UTC"), u.RollbackFailed)
	}
	if u.Ref.SHA256 != "" && e.SHA256 != u.Ref.SHA256 {
		why += fmt.Sprintf("; %s changed since that run (sha256 %.12s then, %.12s now): the rollback is the file's as it reads now", e.File, u.Ref.SHA256, e.SHA256)
	}
	verdict := VerdictAborted
	verdict, why = r.rollback(ctx, e, u.Ref, approval, &rep, verdict, why)
	rep.Verdict, rep.Why, rep.Ended = verdict, why, x.Now()
	end := u.Ref
	end.Stage = StageEnd
	if err := x.Note(end, e.Name, e.Target, rep.endResult(), why); err != nil {
		rep.Why += fmt.Sprintf(" (the audit log's end entry could not be written: %v)", err)
	}
	r.say(StageEnd, "%s: %s", rep.Verdict, rep.Why)
	return rep
}
