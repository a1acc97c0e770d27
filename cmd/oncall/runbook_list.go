package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/remediate"
)

// runbookListOptions are runbook list's flags, and the factory it reads
// through.
type runbookListOptions struct {
	*Factory
	output string
	demo   DemoFlags
}

// NewCmdRunbookList is `oncall runbook list`; runF, when set, runs
// instead of runRunbookList, so tests can read the options the flags gave.
func NewCmdRunbookList(f *Factory, runF func(context.Context, *runbookListOptions) error) *cobra.Command {
	o := &runbookListOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the runbooks, and which match what is happening now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRunbookList(cmd.Context(), o)
		},
	}
	o.demo.Register(cmd, runbookAfter)
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func runRunbookList(ctx context.Context, o *runbookListOptions) error {
	k, _, err := o.RunbookKit(ctx, o.demo)
	if err != nil {
		return err
	}
	s, err := k.Look(ctx)
	if err != nil {
		fmt.Fprintf(o.IO.ErrOut, "oncall: %v: matches are not known\n", err)
	}
	matches := remediate.MatchAll(k.Runbooks, s)
	if o.output == "json" {
		return writeJSON(o.IO.Out, map[string]any{"runbooks": k.Runbooks, "matches": matches, "problems": problemList(k.LoadErr)})
	}
	w := o.IO.Out
	for _, rb := range k.Runbooks {
		fmt.Fprintf(w, "%-20s %s:%d  %s\n", rb.Name, rb.File, rb.Line, rb.Description)
		for _, a := range rb.Actions {
			fmt.Fprintf(w, "  %-20s %s, %s danger, %s%s\n", a.Name, a.Kind, a.Danger, a.Category, autoLabel(a.Auto, k.Policy.Automates(a.Category)))
		}
	}
	if len(matches) > 0 {
		fmt.Fprintln(w, "\nMatching now, best first:")
		for _, m := range matches {
			fmt.Fprintf(w, "  %-20s on %-22s %s\n", m.Name, m.Service, m.Why)
		}
	} else {
		fmt.Fprintln(w, "\nNo runbook matches what is happening now.")
	}
	return loadProblems(o.IO.ErrOut, k.LoadErr)
}

// autoLabel says whether the autopilot may run an action marked auto:
// only when the policy automates its category too.
func autoLabel(auto, automatable bool) string {
	switch {
	case auto && automatable:
		return ", auto (the autopilot may run it)"
	case auto:
		return ", auto (but the policy does not automate its category)"
	}
	return ""
}
