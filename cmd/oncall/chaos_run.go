package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/chaos"
)

// chaosRunOptions are chaos run's argument and flags, and the factory it
// reads and acts through.
type chaosRunOptions struct {
	*Factory
	file    string
	output  string
	dryRun  bool
	demo    DemoFlags
	speed   chaosSpeed
	confirm confirmFlags
}

// NewCmdChaosRun is `oncall chaos run FILE`; runF, when set, runs instead
// of runChaosRun, so tests can read the options the flags gave.
func NewCmdChaosRun(f *Factory, runF func(context.Context, *chaosRunOptions) error) *cobra.Command {
	o := &chaosRunOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Show an experiment's plan, confirm, inject, watch the guards, roll back, report",
		Long: `run prints the plan (each injection and rollback command exactly as it will
run, the steady-state checks and the guards with their bounds), asks for
confirmation, checks the steady state, injects, reads every guard each
interval with each reading streamed, and rolls back: always, whether the
experiment passed, a guard tripped, a guard could not be read (an
experiment never continues blind), or it was interrupted. Then the report:
text, -o json or -o markdown.

Confirmation, as runbook run's: an injection is high danger by default,
so the target's name must be typed, and in a confirm: typed context the
context's name as well, or each given with --confirm, once each, in the
order asked; -y answers y for low danger only. The default answer is no.
--dry-run shows the plan, reads the steady state and injects nothing
(allowed read-only). --read-only refuses a real run before anything is
asked.

An interrupt (ctrl+c, SIGTERM) stops the run and rolls back before oncall
exits; a third ends oncall at once, naming the run whose rollback may not
have finished. A run whose process is killed leaves its fault in place:
the next oncall chaos finds it in the audit log and offers its rollback.

With --demo SCENARIO the experiment runs on the simulated fleet, its
clock the fleet's: at --speed max (the default) a ten-minute experiment
takes seconds.

Exit status 0 when the experiment passed (or a dry run); 1 when it
failed, was aborted or refused.`,
		Example: `  oncall chaos run --demo quiet testdata/experiments/payment-db-latency.yaml -y --confirm payment-db
  oncall chaos run experiments/orders-latency.yaml --dry-run
  oncall chaos run experiments/orders-latency.yaml --confirm ledger -o markdown > report.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runChaosRun(cmd.Context(), o)
		},
	}
	o.demo.Register(cmd, chaosAfter)
	cmd.Flags().Var(&o.speed, "speed", "with --demo: how fast the simulated fleet runs while the guards wait: max, or N times the wall clock's pace")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "show the plan and check it; run nothing")
	o.confirm.register(cmd, "answer y to a low-danger confirmation (a high-danger injection needs the target's name: --confirm)")
	outputFlag(cmd, &o.output, "text", "json", "markdown")
	return cmd
}

// runChaosRun refuses under read-only before it asks, shows the plan,
// asks, runs with the readings streamed, records a failed run in the
// history, and reports.
func runChaosRun(ctx context.Context, o *chaosRunOptions) error {
	e, err := chaos.LoadFile(o.file)
	if err != nil {
		return usageError{err}
	}
	if o.Global.ReadOnly && !o.dryRun {
		return actionError{refused("oncall runs read-only (--read-only or the context's read_only): no experiment runs")}
	}
	k, err := o.chaosKit(ctx, o.demo, o.speed)
	if err != nil {
		return err
	}
	o.offerRecovery(ctx, k, o.unfinishedRuns(k))
	out := o.IO.Out
	if o.output != "text" {
		// the plan and the stream are still shown, beside the report
		out = o.IO.ErrOut
	}
	p := e.Plan(k.kit.Exec.User, k.kit.Exec.Now())
	writePlan(out, p)
	fmt.Fprintln(out)
	if len(p.Problems) > 0 {
		return actionError{refused("the plan has problems")}
	}
	if !o.dryRun && !confirmNames(o.Factory, o.confirm, p.Confirmations(o.Global.typed), "Run experiment "+e.Name+" on "+e.Target, "run experiment "+e.Name) {
		return actionError{refused("not confirmed")}
	}
	if ctx.Err() != nil {
		return actionError{refused("interrupted before the run started")}
	}
	approval := chaosApproval(o.Factory, o.confirm)
	k.runner.Events = writeEvent(out)
	// the command's context ends at SIGINT or SIGTERM: the run aborts,
	// and the runner rolls back on a context of its own
	stop := o.thirdInterruptEnds(k, o.startedSince(k, e.Name))
	rep := k.runner.Run(ctx, e, approval, o.dryRun)
	stop()
	if !o.dryRun {
		o.recordChaos(ctx, k, rep)
	}
	if err := o.writeReport(o.IO.Out, o.output, rep); err != nil {
		return err
	}
	if rep.OK() {
		return nil
	}
	return exitError{code: exitFailed}
}

// writeReport writes a run's report as text, JSON or markdown, its
// times in --timezone (JSON's stay RFC 3339 in UTC, for programs).
func (f *Factory) writeReport(w io.Writer, format string, rep chaos.Report) error {
	zone := chaos.InZone(f.Global.zone())
	switch format {
	case "json":
		return writeJSON(w, rep)
	case "markdown":
		return chaos.WriteMarkdown(w, rep, zone)
	}
	return chaos.WriteText(w, rep, zone)
}

// chaosRecordBound bounds writing a run's record once the run has ended:
// a store that does not answer must not keep oncall (and the operator
// who interrupted it) waiting; a healthy one answers in milliseconds.
const chaosRecordBound = 10 * time.Second

// recordChaos keeps a run that failed, or was aborted once its fault
// was in, in the history, as an incident a postmortem can start from; a
// passed run, or one whose steady state did not hold (nothing was
// injected), is in the audit log only. A record that cannot be written is
// said on stderr: the run has happened, and the exit status stays the
// run's. It is written on a context of its own, bounded by
// chaosRecordBound: a run an interrupt ended is the one most worth
// recording, and its context is cancelled by then.
func (f *Factory) recordChaos(ctx context.Context, k *chaosKit, rep chaos.Report) {
	if !rep.Incident() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chaosRecordBound)
	defer cancel()
	rc, err := f.Recorder(ctx, k.world)
	if err == nil {
		rec := rep.Record(rc.Stack)
		if rec, err = rc.Store.Save(ctx, rec); err == nil {
			f.recorded(rec.ID, rc.Store.Where())
		}
	}
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "oncall: the run is not recorded in the history: %v\n", err)
	}
}

// chaosApproval is how an approval reads in the audit log.
func chaosApproval(f *Factory, c confirmFlags) string {
	if c.yes && len(c.names) == 0 {
		return "confirmed with -y by " + whoami(f.env)
	}
	return "confirmed by " + whoami(f.env) + " on the shell"
}
