package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
)

// proposalsOptions are proposals' arguments and flags, and the factory it
// reads and acts through.
type proposalsOptions struct {
	*Factory
	// verb is approve or reject, with the proposal's id; empty lists them.
	verb, id string
	output   string
	confirm  confirmFlags
	demo     DemoFlags
}

// NewCmdProposals is `oncall proposals [approve|reject ID]`; runF, when
// set, runs instead of runProposals, so tests can read the options the
// arguments and flags gave.
func NewCmdProposals(f *Factory, runF func(context.Context, *proposalsOptions) error) *cobra.Command {
	o := &proposalsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "proposals [approve|reject ID]",
		Short: "List the autopilot's proposals waiting for a human; approve or reject one",
		Long: `proposals lists what the autopilot would do but may not do alone, with why.
approve ID plans the runbook again now, shows the plan, asks for the usual
confirmation (the target's name for high danger) and runs it; reject ID
ends the proposal. Either is written to the audit log.`,
		Args: cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				if len(args) != 2 || (args[0] != "approve" && args[0] != "reject") {
					return usagef("want: proposals approve ID, or proposals reject ID")
				}
				o.verb, o.id = args[0], args[1]
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runProposals(cmd.Context(), o)
		},
	}
	o.demo.Register(cmd, runbookAfter)
	o.confirm.register(cmd, "answer y to a low-danger confirmation")
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

// runProposals lists the proposals waiting, or approves (plan, confirm,
// run) or rejects one; under read-only it decides nothing.
func runProposals(ctx context.Context, o *proposalsOptions) error {
	if o.verb != "" && o.Global.ReadOnly {
		return actionError{refused("oncall runs read-only (--read-only or the context's read_only): proposals are neither approved nor rejected")}
	}
	k, _, err := o.RunbookKit(ctx, o.demo)
	if err != nil {
		return err
	}
	ps, err := remediate.Proposals(ctx, k.Ledger)
	if err != nil {
		return err
	}
	if o.verb == "" {
		return listProposals(o, ps)
	}
	var p *remediate.Proposal
	for i := range ps {
		if ps[i].ID == o.id {
			p = &ps[i]
		}
	}
	if p == nil {
		return usagef("no proposal %s is waiting (it may have expired, or another cockpit decided it)", o.id)
	}
	if o.verb == "reject" {
		if err := remediate.Decide(ctx, k.Ledger, k.Audit, *p, false, whoami(o.env), k.Exec.Host); err != nil {
			return actionError{err}
		}
		fmt.Fprintf(o.IO.Out, "rejected %s\n", p.ID)
		return nil
	}
	return approveProposal(ctx, o, k, p)
}

// listProposals prints the proposals waiting, each with why a human must
// decide and what it would run.
func listProposals(o *proposalsOptions, ps []remediate.Proposal) error {
	if o.output == "json" {
		return writeJSON(o.IO.Out, ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(o.IO.Out, "No proposal is waiting.")
	}
	for _, p := range ps {
		fmt.Fprintf(o.IO.Out, "%s  %s on %s (%s danger), by %s, expires %s\n  why a human: %s\n", p.ID, p.Runbook, p.Target, p.Danger, p.By, o.Global.clock(p.Expires), p.Why)
		for _, a := range p.Actions {
			fmt.Fprintf(o.IO.Out, "    %s\n", a)
		}
	}
	return nil
}

// approveProposal plans the proposal's runbook again now, shows the plan,
// asks as runbook run does, and only then decides and runs it.
func approveProposal(ctx context.Context, o *proposalsOptions, k *remediate.Kit, p *remediate.Proposal) error {
	plan, err := planFor(ctx, k, p.Runbook, p.Target)
	if err != nil {
		return err
	}
	_ = present.PlanText(o.IO.Out, present.NewPlan(plan))
	if !acts(plan) || !confirmPlan(o.Factory, o.confirm, plan) {
		return actionError{refused("not confirmed")}
	}
	if err := remediate.Decide(ctx, k.Ledger, k.Audit, *p, true, whoami(o.env), k.Exec.Host); err != nil {
		return actionError{err}
	}
	runCtx, stop := letFinish(ctx, o.Factory, "runbook "+plan.Runbook)
	defer stop()
	res := k.Run(runCtx, plan, "proposal "+p.ID+" approved by "+whoami(o.env), false, func(ev remediate.Event) { fmt.Fprintf(o.IO.Out, "[%s] %s\n", ev.Action, ev.Line) })
	_ = present.OutcomeText(o.IO.Out, present.NewOutcome(res))
	if !res.OK() {
		return exitError{code: exitFailed}
	}
	return nil
}
