package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

// runbookRunOptions are runbook run's argument and flags, and the factory
// it reads and acts through.
type runbookRunOptions struct {
	*Factory
	runbookPlanOptions
	confirm confirmFlags
	dryRun  bool
}

// NewCmdRunbookRun is `oncall runbook run NAME`; runF, when set, runs
// instead of runRunbookRun, so tests can read the options the flags gave.
func NewCmdRunbookRun(f *Factory, runF func(context.Context, *runbookRunOptions) error) *cobra.Command {
	o := &runbookRunOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Diagnose, show the plan, confirm, run, verify",
		Long: `run diagnoses, prints the plan (the diagnosis and its branch, each action
exactly as it will run, the guardrails, the verification), asks for
confirmation, runs the actions with their output streamed, and verifies.

Confirmation: y for low danger (the default answer is no, and so is no
input); for high danger the target's name must be typed, and in a
confirm: typed context the context's name as well, or each given with
--confirm, once each, in the order asked. A plan that only escalates is
asked too: paging is an action.
-y answers y for low danger only. --dry-run renders and checks everything
and runs nothing. --read-only (or a read-only context) refuses before
anything is asked.

A first interrupt (ctrl+c) lets the running action finish, and its audit
entry be written, saying so; a second stops it (the entry is still
written).

Exit status 0 when the run is resolved, done (nothing to verify) or a dry
run; 1 when an action was refused, failed, rolled back or escalated, or the
target was fixed while the symptom that started the run still fails
(target fixed).`,
		Example: `  oncall runbook run pool-full --demo db-pool-exhaustion
  oncall runbook run restart-pod --target checkout-api --dry-run
  oncall runbook run rollback --target inventory --confirm inventory
  oncall runbook run rollback --target inventory --confirm inventory --confirm prod  # in a typed context`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRunbookRun(cmd.Context(), o)
		},
	}
	o.register(cmd, f, "the service to act on (default: the one the runbook matches now)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "show the plan and check the guardrails known in advance; run nothing")
	o.confirm.register(cmd, "answer y to a low-danger confirmation (high danger needs the name: --confirm)")
	return cmd
}

// runRunbookRun refuses under read-only before it plans, shows the plan,
// asks, runs with the output streamed, and says how it went.
func runRunbookRun(ctx context.Context, o *runbookRunOptions) error {
	if o.Global.ReadOnly && !o.dryRun {
		return actionError{refused("oncall runs read-only (--read-only or the context's read_only): no runbook runs")}
	}
	k, p, err := o.plan(ctx, o.Factory)
	if err != nil {
		return err
	}
	out := o.IO.Out
	if o.output == "json" {
		// the plan is still shown, beside the JSON
		out = o.IO.ErrOut
	}
	_ = present.PlanText(out, present.NewPlan(p))
	fmt.Fprintln(out)
	if !o.dryRun && acts(p) && !confirmPlan(o.Factory, o.confirm, p) {
		return actionError{refused("not confirmed")}
	}
	if ctx.Err() != nil {
		// interrupted while it asked: what is let finish must have started
		return actionError{refused("interrupted before the run started")}
	}
	approval := "confirmed by " + whoami(o.env) + " on the shell"
	if o.confirm.yes {
		approval = "confirmed with -y by " + whoami(o.env)
	}
	var firing []sources.Alert
	if !o.dryRun {
		// what fires as it starts, for the run's record: its alerts
		firing = currentAlerts(ctx, o.world)
	}
	runCtx, stop := letFinish(ctx, o.Factory, "runbook "+p.Runbook)
	defer stop()
	res := k.Run(runCtx, p, approval, o.dryRun, func(ev remediate.Event) {
		if ev.Status {
			fmt.Fprintf(out, "[%s] %s\n", ev.Action, ev.Line)
		} else {
			fmt.Fprintf(out, "  %s | %s\n", ev.Action, ev.Line)
		}
	})
	if !o.dryRun {
		o.record(ctx, k, p, firing, res, approval)
	}
	if o.output == "json" {
		if err := writeJSON(o.IO.Out, map[string]any{"plan": p, "outcome": res}); err != nil {
			return err
		}
	} else {
		// the run has happened: the exit status says how it went, not
		// whether the terminal took the text
		_ = present.OutcomeText(out, present.NewOutcome(res))
	}
	if res.OK() {
		return nil
	}
	return exitError{code: exitFailed}
}

// record keeps the run in the history: the incident it was planned on,
// its actions by their audit entries, and the resolution when its
// verification says resolved. The run has happened whatever the record
// does: a record that cannot be written is said on stderr, and the exit
// status stays the run's.
func (o *runbookRunOptions) record(ctx context.Context, k *remediate.Kit, p *remediate.Plan, firing []sources.Alert, res remediate.Outcome, approval string) {
	if p.Inc == nil {
		return
	}
	rc, err := o.Recorder(ctx, o.world)
	if err == nil {
		var rec history.Record
		if rec, err = rc.Observe(ctx, p.Inc, firing); err == nil {
			err = recordOutcome(ctx, rc, rec.ID, p.Runbook, whoami(o.env), approval, res, k.Planner.Now())
			o.recorded(rec.ID, rc.Store.Where())
		}
	}
	if err != nil {
		fmt.Fprintf(o.IO.ErrOut, "oncall: the run is not recorded in the history: %v\n", err)
	}
}
