package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
)

// runbookShowOptions are runbook show's argument and flags, and the
// factory it reads through.
type runbookShowOptions struct {
	*Factory
	runbookPlanOptions
}

// NewCmdRunbookShow is `oncall runbook show NAME`; runF, when set, runs
// instead of runRunbookShow, so tests can read the options the flags gave.
func NewCmdRunbookShow(f *Factory, runF func(context.Context, *runbookShowOptions) error) *cobra.Command {
	o := &runbookShowOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a runbook and its plan now: diagnosis, actions as they would run, guardrails, verification",
		Long: `show diagnoses now and prints the plan the runbook would carry out: the
diagnosis and the branch taken, each action rendered exactly as it would
run, the guardrails in force and how it would be verified. Nothing runs.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRunbookShow(cmd.Context(), o)
		},
	}
	o.register(cmd, f, "the service to plan for (default: the one the runbook matches now)")
	return cmd
}

func runRunbookShow(ctx context.Context, o *runbookShowOptions) error {
	_, p, err := o.plan(ctx, o.Factory)
	if err != nil {
		return err
	}
	if o.output == "json" {
		return writeJSON(o.IO.Out, p)
	}
	return present.PlanText(o.IO.Out, present.NewPlan(p))
}
