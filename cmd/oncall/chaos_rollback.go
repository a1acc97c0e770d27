package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/chaos"
)

// chaosRollbackOptions are chaos rollback's argument and flags.
type chaosRollbackOptions struct {
	*Factory
	run     string
	output  string
	confirm confirmFlags
}

// NewCmdChaosRollback is `oncall chaos rollback RUN`; runF, when set,
// runs instead of runChaosRollback, so tests can read the options.
func NewCmdChaosRollback(f *Factory, runF func(context.Context, *chaosRollbackOptions) error) *cobra.Command {
	o := &chaosRollbackOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "rollback RUN",
		Short: "Roll back an experiment whose run never finished (its process was killed)",
		Long: `rollback finds the run in the audit log (it started and never ended), reads
its experiment from the file it ran, shows the rollback commands exactly
as they will run, asks (y; in a confirm: typed context the context's
name), runs them and writes the run's end. A file edited since the run is
used as it reads now: that is said before the question, and in the
report, and -y is not enough then: the run's ID is typed, or given as
the first --confirm (before the context's name, in a confirm: typed
context).

Exit status 0 when every rollback action ran; 1 otherwise.`,
		Example: `  oncall chaos rollback 7f3a9c21e0b4d5a6 -y
  oncall chaos rollback 7f3a9c21e0b4d5a6 --confirm 7f3a9c21e0b4d5a6   # the file was edited since the run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.run = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runChaosRollback(cmd.Context(), o)
		},
	}
	o.confirm.register(cmd, "answer y without a prompt")
	outputFlag(cmd, &o.output, "text", "json", "markdown")
	return cmd
}

func runChaosRollback(ctx context.Context, o *chaosRollbackOptions) error {
	if o.Global.ReadOnly {
		return actionError{refused("oncall runs read-only (--read-only or the context's read_only): no rollback runs")}
	}
	k, err := o.chaosKit(ctx, DemoFlags{}, 0)
	if err != nil {
		return err
	}
	us := o.unfinishedRuns(k)
	i := slices.IndexFunc(us, func(u chaos.Unfinished) bool { return u.Ref.Run == o.run })
	if i < 0 {
		runs := make([]string, len(us))
		for j, u := range us {
			runs[j] = u.Ref.Run
		}
		return unknownName("unfinished run in "+k.kit.Audit.Path, o.run, runs)
	}
	u := us[i]
	if running := o.runningNow(ctx, k, u); running != "" {
		return actionError{refused(fmt.Sprintf("run %s of %s is %s: it is running now, and rolls back at its end", u.Ref.Run, u.Ref.Name, running))}
	}
	e, cs, edited, err := o.showRollback(k, u)
	if err != nil {
		return actionError{err}
	}
	if !confirmRollback(o.Factory, o.confirm, u.Ref.Run, edited, cs, "Roll back "+u.Ref.Name+" on "+e.Target, "roll back "+u.Ref.Name) {
		return actionError{refused("not confirmed")}
	}
	stop := o.thirdInterruptEnds(k, func() []string { return []string{u.Ref.Run} })
	rep := k.runner.Recover(context.WithoutCancel(ctx), u, e, chaosApproval(o.Factory, o.confirm))
	stop()
	// the run's history record, resolved when every rollback action
	// succeeded
	o.recordChaos(ctx, k, rep)
	if err := o.writeReport(o.IO.Out, o.output, rep); err != nil {
		return err
	}
	if !rep.RolledBack() {
		// a refusal (another run holds the target) ran nothing either
		return exitError{code: exitFailed}
	}
	return nil
}
