package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/remediate"
)

// autopilotOptions are autopilot's flags, and the factory it reads and
// acts through.
type autopilotOptions struct {
	*Factory
	output   string
	demo     DemoFlags
	interval time.Duration
	once     bool
	rounds   int
}

// NewCmdAutopilot is `oncall autopilot`; runF, when set, runs instead of
// runAutopilot, so tests can read the options the flags gave.
func NewCmdAutopilot(f *Factory, runF func(context.Context, *autopilotOptions) error) *cobra.Command {
	o := &autopilotOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "autopilot",
		Short: "Run headless: fix the obvious, propose or escalate the rest",
		Long: `autopilot watches alerts and the incident and matches runbooks, every
--interval. It runs on its own only the plans whose every action is marked
auto: true, has a category the config's remediation.automatable lists, is
low danger, and whose target is the incident's likeliest cause, and that
cause likely, on an incident whose evidence is not thin, all within every
guardrail. After a verified fix only later evidence counts, so a fix is not
repeated on the signs it cured. A diagnosis that finds nothing, or an
action that fails verification, escalates. Everything else becomes a
proposal: every cockpit on the same Alertmanager shows it under "waiting for
approval", where one key approves (after the usual confirmation) and
another rejects; oncall proposals does the same from the shell. Proposals
expire after remediation.proposal_ttl.

Proposals, locks and past runs are kept in Alertmanager as silences that
match no alert (label oncall_remediation), so that every cockpit and
autopilot sees them without a database. Each line printed is one decision.`,
		Example: `  oncall autopilot
  oncall autopilot --once -o json
  oncall autopilot --demo crash-loop --once`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runAutopilot(cmd.Context(), o)
		},
	}
	o.demo.Register(cmd, runbookAfter)
	fl := cmd.Flags()
	durationFlag(cmd, &o.interval, "interval", "", 30*time.Second, "how often to look")
	fl.BoolVar(&o.once, "once", false, "look once, act, and exit")
	fl.IntVar(&o.rounds, "rounds", 0, "stop after this many rounds (default: run until interrupted)")
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

// runAutopilot refuses under read-only, then looks every interval and
// prints each decision on a line.
func runAutopilot(ctx context.Context, o *autopilotOptions) error {
	if o.Global.ReadOnly {
		return actionError{refused("oncall runs read-only: the autopilot would only watch; run the cockpit instead")}
	}
	if o.interval < time.Second {
		return usagef("--interval %s: at least 1s", o.interval)
	}
	w, k, err := o.RunbookWorld(ctx, o.demo)
	if err != nil {
		return err
	}
	if err := loadProblems(o.IO.ErrOut, k.LoadErr); err != nil && len(k.Runbooks) == 0 {
		return err
	}
	if !k.Ledger.Shared() {
		fmt.Fprintln(o.IO.ErrOut, "oncall autopilot: locks and proposals reach "+k.Ledger.Where())
	}
	ap, seen := recordedAutopilot(k, "autopilot@"+k.Exec.Host)
	rc, err := o.Recorder(ctx, w)
	if err != nil {
		// the autopilot's work matters more than its record
		fmt.Fprintf(o.IO.ErrOut, "oncall autopilot: %v: nothing it does is recorded in the history\n", err)
	}
	auto := strings.Join(k.Policy.Automatable, ", ")
	if auto == "" {
		auto = "none (remediation.automatable), so it only proposes and escalates"
	}
	fmt.Fprintf(o.IO.ErrOut, "oncall autopilot: %d runbook(s), %s; automatable: %s\n", len(k.Runbooks), w.Label, auto)
	failed := false
	for round := 1; ; round++ {
		ds, err := ap.Round(ctx)
		stamp := k.Planner.Now().UTC().Format(time.RFC3339)
		if err != nil {
			fmt.Fprintf(o.IO.ErrOut, "%s round failed: %v\n", stamp, err)
		}
		if err := recordRound(ctx, rc, seen(), ds, k.Planner.Now()); err != nil {
			fmt.Fprintf(o.IO.ErrOut, "%s not recorded: %v\n", stamp, err)
		}
		for _, d := range ds {
			if d.Outcome != nil && !d.Outcome.OK() {
				failed = true
			}
			if o.output == "json" {
				if err := writeJSONFor(o.IO.Out, map[string]any{"t": stamp, "decision": d}, true); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintln(o.IO.Out, decisionLine(stamp, d))
		}
		if o.once || (o.rounds > 0 && round >= o.rounds) || ctx.Err() != nil {
			break
		}
		if err := k.Exec.Wait(ctx, o.interval); err != nil {
			break
		}
	}
	if failed && o.once {
		return exitError{code: exitFailed}
	}
	return nil
}

// decisionLine is one decision of the autopilot's, with how a run it
// made went and each action's verification.
func decisionLine(stamp string, d remediate.Decision) string {
	line := fmt.Sprintf("%s %-9s %s on %s: %s", stamp, d.Did, d.Runbook, d.Target, d.Why)
	if d.Outcome != nil {
		line += " → " + d.Outcome.Result
		for _, a := range d.Outcome.Actions {
			if a.Verification != "" {
				line += "; " + a.Name + ": " + a.Verification
			}
		}
	}
	return line
}

// autopilot is the kit's autopilot, deciding as by.
func autopilot(k *remediate.Kit, by string) *remediate.Autopilot {
	return &remediate.Autopilot{Runbooks: k.Runbooks, Planner: k.Planner, Exec: &k.Exec, Ledger: k.Ledger, Policy: k.Policy, Now: k.Planner.Now, By: by, Situation: k.Look}
}
