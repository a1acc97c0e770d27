package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// lockLease is the experiment lock's lease, renewed while the run goes
// on: short, so that a run killed with SIGKILL holds its target for at
// most a minute, and the next start sees it is no longer running.
const lockLease = time.Minute

// lockKey is the lock one experiment at a time holds on its target.
func lockKey(target string) remediate.Key {
	return remediate.Key{Action: remediate.ExperimentLock, Target: target}
}

// holder is who the lock names: the user and host, the run, so that a
// run in the audit log is known live by its own lock, and the process,
// so that a lock whose process was killed on this host is known dead
// before its lease runs out.
func (r *Runner) holder(run string) string {
	return fmt.Sprintf("%s@%s (run %s, pid %d)", r.Exec.User, r.Exec.Host, run, os.Getpid())
}

var holderShape = regexp.MustCompile(`^(.*)@([^@]*) \(run (\S+), pid (\d+)\)$`)

// lockHolder is a lock record's holder read back.
type lockHolder struct {
	who, run string // who is user@host
	dead     bool   // its process is gone from this host
}

func (r *Runner) readHolder(by string) lockHolder {
	m := holderShape.FindStringSubmatch(by)
	if m == nil {
		return lockHolder{who: by}
	}
	pid, _ := strconv.Atoi(m[4])
	return lockHolder{who: m[1] + "@" + m[2], run: m[3], dead: m[2] == r.Exec.Host && !processAlive(pid)}
}

// clearDead ends the experiment locks on target whose process is gone
// from this host (killed, SIGKILL): they would hold the target, and make
// their run look live, until their lease ran out. A lock of another
// host lasts its lease.
func (r *Runner) clearDead(ctx context.Context, g *remediate.Guard, target string) error {
	rs, err := g.Ledger.Records(ctx)
	if err != nil {
		return err
	}
	for _, rec := range rs {
		if rec.Kind == remediate.RecordLock && rec.Active && rec.Key == lockKey(target) && r.readHolder(rec.By).dead {
			if err := g.Ledger.End(ctx, rec.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// lock takes the experiment lock on e's target for run, held (its lease
// renewed) until release: a second run on the target, in this process
// or another sharing the ledger, is refused before it injects, since its
// rollback would undo the first's fault while it is still watched. why
// is the refusal; without a guard (no ledger) there is no lock.
func (r *Runner) lock(ctx context.Context, target, run string) (release func(), held context.Context, why string) {
	g := r.Exec.Guard
	if g == nil {
		return func() {}, ctx, ""
	}
	if err := r.clearDead(ctx, g, target); err != nil {
		return nil, nil, fmt.Sprintf("the experiment lock on %s: %v: no run without it", target, err)
	}
	// the runbooks' default cooldown and rates are for remedies
	own := *g
	own.Policy.Guardrails = remediate.Guardrail{}
	h, err := own.Acquire(ctx, lockKey(target), remediate.Guardrail{}, r.holder(run), lockLease, nil)
	if err != nil {
		var ref *remediate.Refusal
		if errors.As(err, &ref) && ref.Rule == "lock" {
			return nil, nil, fmt.Sprintf("another experiment runs on %s now: %s: one experiment at a time per target", target, ref.Detail)
		}
		return nil, nil, fmt.Sprintf("the experiment lock on %s: %v: no run without it", target, err)
	}
	// a lease that could not be renewed ends the run: it must not go on
	// unlocked (context.Cause says why)
	return h.Release, h.Context(), ""
}

// Live says whether an unfinished run is running now, in this process or
// another: its target's experiment lock is held by that run, and its
// process is not known gone. by is who holds it (user@host). Without a
// guard nothing is known live. A run killed on another host looks live
// until its lock's lease (a minute) runs out.
func (r *Runner) Live(ctx context.Context, u Unfinished) (live bool, by string, err error) {
	g := r.Exec.Guard
	if g == nil || u.Target == "" {
		return false, "", nil
	}
	rs, err := g.Ledger.Records(ctx)
	if err != nil {
		return false, "", fmt.Errorf("is run %s running now: %w", u.Ref.Run, err)
	}
	for _, rec := range rs {
		if rec.Kind != remediate.RecordLock || !rec.Active || rec.Key != lockKey(u.Target) {
			continue
		}
		if h := r.readHolder(rec.By); h.run == u.Ref.Run && !h.dead {
			return true, h.who, nil
		}
	}
	return false, "", nil
}
