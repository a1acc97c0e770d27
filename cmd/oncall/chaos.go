package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
)

// chaosAfter is --after's default for chaos run --demo: ten minutes into
// the scenario, so that a steady-state check over five minutes reads a
// fleet that has run that long.
const chaosAfter = 10 * time.Minute

// NewCmdChaos is `oncall chaos`, the group of list, run, rollback and
// daemon.
func NewCmdChaos(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Run chaos experiments under live SLO guards that abort and roll back on their own",
		Long: `A chaos experiment is a YAML file: a hypothesis, the steady state that must
hold before the fault goes in, the fault (actions of the runbook kinds:
exec'd argv, HTTP requests, simulator actions), guards read every few
seconds while it is in (RED signals and SLO burn), a duration, and a
rollback that always runs: passed, failed, aborted or interrupted.

Nothing runs without its exact commands shown first and a confirmation:
an injection is high danger by default, so the target's name is typed.
--read-only refuses. Every run is written to the audit log before it
starts (fsynced) and at its end; a run cut short (the process killed) is
found there by the next oncall chaos, which offers its rollback.
docs/chaos.md has a complete example.`,
	}
	cmd.AddCommand(showData(NewCmdChaosList(f, nil)), showData(NewCmdChaosRun(f, nil)), showData(NewCmdChaosRollback(f, nil)), showData(NewCmdChaosDaemon(f, nil)))
	return cmd
}

// chaosKit is what a chaos command acts through: the world, its
// remediation kit (the executor, the audit log, the ledger) and a runner
// on both.
type chaosKit struct {
	world  *World
	kit    *remediate.Kit
	runner *chaos.Runner
}

// chaosKit builds the runner of --demo (the fleet on its own clock, a
// guard interval's wait moving it on at speed) or of the config.
func (f *Factory) chaosKit(ctx context.Context, d DemoFlags, speed chaosSpeed) (*chaosKit, error) {
	w, err := f.World(ctx, d)
	if err != nil {
		return nil, err
	}
	if w.Simulated() {
		w.Wait = speed.wait(w.Fleet)
	}
	if err := f.sharedLedger(ctx, w); err != nil {
		return nil, err
	}
	k := f.Kit(w)
	r := &chaos.Runner{Exec: &k.Exec, Metrics: w.Sources.Metrics, SLIs: w.Sources.SLIs, SLOs: w.SLOs, Traces: w.Sources.Traces}
	return &chaosKit{world: w, kit: k, runner: r}, nil
}

// chaosSpeed is --speed: how fast a simulated fleet runs while an
// experiment waits for its next guard reading. 0 is max: at once.
type chaosSpeed float64

func (s *chaosSpeed) String() string {
	if *s == 0 {
		return "max"
	}
	return strconv.FormatFloat(float64(*s), 'g', -1, 64)
}
func (s *chaosSpeed) Type() string { return "max|N" }
func (s *chaosSpeed) Set(v string) error {
	if v == "max" {
		*s = 0
		return nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || !(n > 0) {
		return fmt.Errorf("%q: want max, or how many times the wall clock's pace (1, 10, 0.5)", v)
	}
	*s = chaosSpeed(n)
	return nil
}

// wait moves the fleet on by d: at once at max speed, else after d/speed
// of the wall clock, so that a person can watch (and interrupt) a run.
func (s chaosSpeed) wait(f *sim.Fleet) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if s > 0 {
			t := time.NewTimer(time.Duration(float64(d) / float64(s)))
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		f.Advance(d)
		return nil
	}
}

// chaosDir is where the experiments are: --dir, else the config's
// chaos.experiments, else $XDG_CONFIG_HOME/oncall/experiments when it
// exists.
func (f *Factory) chaosDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	cfg, path, err := f.Config()
	if err != nil {
		return "", err
	}
	if d := cfg.Chaos.ExperimentDir(f.getenv); d != "" {
		return d, nil
	}
	return "", usagef("no experiments directory: set chaos.experiments in %s, create $XDG_CONFIG_HOME/oncall/experiments, or give --dir (testdata/experiments has examples)", path)
}

// dirKit is what list and daemon start from: the experiments directory
// (chaosDir's) and the config's chaos kit.
func (f *Factory) dirKit(ctx context.Context, flag string) (string, *chaosKit, error) {
	dir, err := f.chaosDir(flag)
	if err != nil {
		return "", nil, err
	}
	k, err := f.chaosKit(ctx, DemoFlags{}, 0)
	return dir, k, err
}

// unfinishedRuns are the experiments the world's audit log shows started
// and never ended: the process was killed, and the fault may still be
// in place. A log that cannot be read is said, and taken as none.
func (f *Factory) unfinishedRuns(k *chaosKit) []chaos.Unfinished {
	if k.world.Simulated() {
		// the demo's runs acted on a fleet that lived in their process
		// and died with it: nothing of theirs is left to roll back
		return nil
	}
	rows, _, err := k.kit.Audit.Read()
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "oncall: the audit log %s: %v: experiments cut short are not known\n", k.kit.Audit.Path, err)
		return nil
	}
	return chaos.FindUnfinished(rows)
}

// offerRecovery says each unfinished experiment on stderr and offers its
// rollback: at a terminal it shows the rollback's commands and asks as
// chaos rollback does (the default is no), else it says the command that
// does it. It runs at every chaos command's start, so that a fault left
// behind is not forgotten.
func (f *Factory) offerRecovery(ctx context.Context, k *chaosKit, us []chaos.Unfinished) {
	w := f.IO.ErrOut
	for _, u := range us {
		if running := f.runningNow(ctx, k, u); running != "" {
			// its own rollback runs at its end: offering it here would
			// undo the fault while it is still watched
			fmt.Fprintf(w, "oncall: experiment %s (run %s) is %s\n", u.Ref.Name, u.Ref.Run, running)
			continue
		}
		fmt.Fprintf(w, "oncall: experiment %s (run %s, started %s by %s) %s: its fault may still be in place\n",
			u.Ref.Name, u.Ref.Run, f.Global.timestamp(u.Started), u.By, f.whatHappened(u))
		if len(u.Injected) > 0 {
			fmt.Fprintf(w, "  injected: %s\n", strings.Join(u.Injected, ", "))
		}
		if !isTerminalReader(f.IO.In) || f.Global.ReadOnly {
			fmt.Fprintf(w, "  roll it back with: oncall chaos rollback %s\n", u.Ref.Run)
			continue
		}
		e, cs, edited, err := f.showRollback(k, u)
		if err != nil {
			fmt.Fprintf(w, "oncall: %v\n", err)
			continue
		}
		// the command's own -y and --confirm answer its own question,
		// not this one: it is always asked
		if !confirmRollback(f, confirmFlags{}, u.Ref.Run, edited, cs, "Roll back "+u.Ref.Name+" (run "+u.Ref.Run+") on "+e.Target+" now", "roll back "+u.Ref.Name) {
			fmt.Fprintf(w, "oncall chaos rollback %s does it later\n", u.Ref.Run)
			continue
		}
		stop := f.thirdInterruptEnds(k, func() []string { return []string{u.Ref.Run} })
		rep := k.runner.Recover(context.WithoutCancel(ctx), u, e, "confirmed by "+whoami(f.env)+" when oncall chaos started")
		stop()
		f.recordChaos(ctx, k, rep)
		_ = f.writeReport(w, "text", rep)
	}
}

// runningNow is "running now (by USER@HOST since T)" when an unfinished
// run is live, in this process or another (its experiment lock is
// held), else "". A ledger that cannot be read is said, and the run
// taken as not running: its recovery takes the lock, and is refused
// if it cannot.
func (f *Factory) runningNow(ctx context.Context, k *chaosKit, u chaos.Unfinished) string {
	live, by, err := k.runner.Live(ctx, u)
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "oncall: %v\n", err)
		return ""
	}
	if !live {
		return ""
	}
	return fmt.Sprintf("running now (by %s since %s)", by, f.Global.timestamp(u.Started))
}

// whatHappened says why an unfinished run's rollback is owed: it never
// ran (the process was killed), or it failed.
func (f *Factory) whatHappened(u chaos.Unfinished) string {
	if u.RollbackFailed != "" {
		return "did not roll back: its rollback failed at " + f.Global.timestamp(u.FailedAt)
	}
	return "never finished"
}

// showRollback reads an unfinished run's experiment from its file and
// shows its rollback commands exactly as they will run, saying first when
// the file changed since the run (edited); cs are the names its
// confirmation wants.
func (f *Factory) showRollback(k *chaosKit, u chaos.Unfinished) (e *chaos.Experiment, cs []remediate.Confirmation, edited bool, err error) {
	e, err = chaos.LoadFile(u.Ref.File)
	if err != nil {
		return nil, nil, false, fmt.Errorf("run %s: its experiment cannot be read, so its rollback cannot run: %w", u.Ref.Run, err)
	}
	w := f.IO.ErrOut
	edited = u.Ref.SHA256 != "" && e.SHA256 != u.Ref.SHA256
	if edited {
		fmt.Fprintf(w, "oncall: %s was edited since run %s (sha256 %.12s then, %.12s now): the rollback below is the file's as it reads now, not necessarily the one that run had\n",
			e.File, u.Ref.Run, u.Ref.SHA256, e.SHA256)
	}
	p := e.Plan(k.kit.Exec.User, k.kit.Exec.Now())
	fmt.Fprintf(w, "Experiment %s (run %s, started %s by %s) on %s; rollback:\n", u.Ref.Name, u.Ref.Run, f.Global.timestamp(u.Started), u.By, e.Target)
	writeActions(w, p.Rollback)
	for _, pr := range p.Problems {
		fmt.Fprintf(w, "problem: %s\n", pr)
	}
	if len(p.Problems) > 0 {
		return nil, nil, false, fmt.Errorf("run %s: %s has problems, so its rollback cannot run", u.Ref.Run, e.File)
	}
	// the rollback's own danger decides, not the injection's
	danger := remediate.DangerLow
	if slices.ContainsFunc(p.Rollback, func(a chaos.PlannedAction) bool { return a.Danger == remediate.DangerHigh }) {
		danger = remediate.DangerHigh
	}
	return e, chaos.Plan{Experiment: e, Danger: danger}.Confirmations(f.Global.typed), edited, nil
}

// confirmRollback asks for an unfinished run's rollback, as confirmNames
// asks for cs. When the experiment file was edited since the run, the
// rollback shown is not necessarily the one the run had (it could run
// anything now): a reflex -y must not run it, so the run's ID is typed
// first, or given as the first --confirm; the names cs wants follow.
func confirmRollback(f *Factory, c confirmFlags, run string, edited bool, cs []remediate.Confirmation, question, act string) bool {
	if !edited {
		return confirmNames(f, c, cs, question, act)
	}
	ask := f.IO.ErrOut
	switch {
	case len(c.names) > 0:
		if c.names[0] != run {
			fmt.Fprintf(ask, "--confirm %s: the experiment file was edited since run %s: the first --confirm must be the run's ID, %s; not done\n", c.names[0], run, run)
			return false
		}
		c.names = c.names[1:]
	case c.yes:
		fmt.Fprintf(ask, "the experiment file was edited since run %s: -y is not enough (type the run's ID, or give --confirm %s); not done\n", run, run)
		return false
	default:
		fmt.Fprintf(ask, "%s? The experiment file was edited since run %s: type the run's ID, %s, to run the rollback above as the file reads now: ", question, run, run)
		line, _ := f.stdin().ReadString('\n')
		if strings.TrimSpace(line) != run {
			fmt.Fprintln(ask, "not done")
			return false
		}
	}
	if len(cs) == 0 {
		// the typed ID is a stronger yes than y
		return true
	}
	return confirmNames(f, c, cs, question, act)
}

// experimentsDirCommand finishes a chaos command that takes no argument
// and reads the experiments directory: it runs run (runF when a test set
// it) and has --dir.
func experimentsDirCommand[O any](cmd *cobra.Command, o *O, dir *string, runF, run func(context.Context, *O) error) *cobra.Command {
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if runF != nil {
			return runF(cmd.Context(), o)
		}
		return run(cmd.Context(), o)
	}
	cmd.Flags().StringVar(dir, "dir", "", "the experiments directory (default: the config's chaos.experiments)")
	return cmd
}

// writePlan prints what an experiment will do: each injection and
// rollback command exactly as it runs, the steady-state checks and the
// guards with their bounds, the duration and the interval.
func writePlan(w io.Writer, p chaos.Plan) {
	e := p.Experiment
	fmt.Fprintf(w, "Experiment %s (%s:%d) on %s\n", e.Name, e.File, e.Line, e.Target)
	if e.Hypothesis != "" {
		fmt.Fprintf(w, "Hypothesis: %s\n", e.Hypothesis)
	}
	if len(e.SteadyState) > 0 {
		fmt.Fprintln(w, "Steady state, before anything is injected:")
		for _, c := range e.SteadyState {
			fmt.Fprintf(w, "  %s%s\n", c.Label(), over(c))
		}
	}
	fmt.Fprintf(w, "Inject (%s danger):\n", p.Danger)
	writeActions(w, p.Inject)
	fmt.Fprintf(w, "Guards, every %s for %s; any one out of bound or unreadable stops the run:\n",
		timeparse.FormatDuration(e.Interval.Or(chaos.DefaultInterval)), timeparse.FormatDuration(time.Duration(e.Duration)))
	for _, c := range e.Guards {
		fmt.Fprintf(w, "  %s%s\n", c.Label(), over(c))
	}
	fmt.Fprintln(w, "Rollback, which always runs:")
	writeActions(w, p.Rollback)
	for _, pr := range p.Problems {
		fmt.Fprintf(w, "problem: %s\n", pr)
	}
}

// over is the window a check reads, as the plan says it: a RED
// signal's average (DefaultOver when the file gives none); an SLO's burn
// names its window in its label already.
func over(c chaos.Check) string {
	if c.SLO != "" {
		return ""
	}
	return " over " + timeparse.FormatDuration(c.Over.Or(chaos.DefaultOver))
}

func writeActions(w io.Writer, as []chaos.PlannedAction) {
	for _, a := range as {
		fmt.Fprintf(w, "  %-12s %s\n", a.Name, a.Shown)
	}
}

// writeEvent streams one event of a run as a line under its stage: a
// check's reading as its label, value and ok (a guard out of bound says
// TRIPPED; a steady-state check, which trips nothing, says FAILS).
func writeEvent(w io.Writer) func(chaos.Event) {
	return func(ev chaos.Event) {
		if ev.Line == "" {
			// the runner leaves a reading's line empty when it says
			// nothing new (a guard whose value has not changed)
			return
		}
		line := ev.Line
		if ev.Guard && ev.Reading != nil && !ev.Reading.OK && ev.Reading.Err == "" {
			line = strings.TrimSuffix(line, " FAILS") + " TRIPPED"
		}
		fmt.Fprintf(w, "[%s] %s\n", ev.Stage, line)
	}
}

// thirdInterruptEnds watches SIGINT and SIGTERM while a run, or a
// rollback, goes on, until stop. The first interrupt cancels the command
// (main's interrupts; a rollback runs on a context of its own); a second
// changes nothing; the third ends oncall at once, as docs/chaos.md says,
// so that a stuck rollback does not trap the operator. Its last line
// names each of the runs left unfinished (as runs says them then) and
// the command that rolls it back. The watch has its own channel, with
// room for all three: main's may drop a signal sent while it was busy
// with the one before.
func (f *Factory) thirdInterruptEnds(k *chaosKit, runs func() []string) (stop func()) {
	sig := make(chan os.Signal, 3)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case <-sig:
			}
			switch n {
			case 1:
				// main's interrupts cancels the command
				fmt.Fprintln(f.IO.ErrOut, "oncall: interrupted: a rollback owed runs to its end before oncall exits; a third interrupt ends oncall at once")
			case 2:
				fmt.Fprintln(f.IO.ErrOut, "oncall: the rollback goes on; a third interrupt ends oncall at once, leaving it unfinished")
			default:
				f.endNow(k, runs())
				os.Exit(exitFailed)
			}
		}
	}()
	return func() { signal.Stop(sig); close(done) }
}

// endNow says, as oncall ends at a third interrupt, which runs may still
// have their fault in, and how to roll each back.
func (f *Factory) endNow(k *chaosKit, runs []string) {
	w := f.IO.ErrOut
	switch {
	case k.world.Simulated():
		fmt.Fprintln(w, "oncall: ended at a third interrupt, the rollback perhaps unfinished: the simulated fleet ends with oncall")
	case len(runs) == 0:
		fmt.Fprintln(w, "oncall: ended at a third interrupt; if a rollback had not finished, oncall chaos list names the run and oncall chaos rollback RUN rolls it back")
	}
	for _, run := range runs {
		fmt.Fprintf(w, "oncall: ended at a third interrupt: the rollback of run %s may not have finished, and its fault may still be in place; roll it back with: oncall chaos rollback %s\n", run, run)
	}
}

// startedSince is, once asked, the runs of the experiments names that
// started from now on and that the audit log shows unfinished: the runs
// a command that starts them may leave behind.
func (f *Factory) startedSince(k *chaosKit, names ...string) func() []string {
	// the audit log's times are the wall clock's, to the nanosecond;
	// a second's slack covers a clock stepped back meanwhile
	since := time.Now().Add(-time.Second)
	return func() []string {
		if k.world.Simulated() {
			return nil
		}
		var runs []string
		for _, u := range f.unfinishedRuns(k) {
			if slices.Contains(names, u.Ref.Name) && !u.Started.Before(since) {
				runs = append(runs, u.Ref.Run)
			}
		}
		return runs
	}
}
