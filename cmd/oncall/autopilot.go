package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/remediate"
)

type autopilotOptions struct {
	runbookOptions
	interval time.Duration
	once     bool
	rounds   int
}

func newAutopilotCmd(e *env, g *globalOptions) *cobra.Command {
	o := &autopilotOptions{}
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
			return runAutopilot(cmd.Context(), e, g, o)
		},
	}
	o.demoFlags(cmd)
	f := cmd.Flags()
	f.DurationVar(&o.interval, "interval", 30*time.Second, "how often to look")
	f.BoolVar(&o.once, "once", false, "look once, act, and exit")
	f.IntVar(&o.rounds, "rounds", 0, "stop after this many rounds (default: run until interrupted)")
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func runAutopilot(ctx context.Context, e *env, g *globalOptions, o *autopilotOptions) error {
	if g.ReadOnly {
		return actionError{refused("oncall runs read-only: the autopilot would only watch; run the cockpit instead")}
	}
	if o.interval < time.Second {
		return usagef("--interval %s: at least 1s", o.interval)
	}
	k, label, err := kitFor(e, g, &o.runbookOptions)
	if err != nil {
		return err
	}
	if err := loadProblems(e, k.LoadErr); err != nil && len(k.Runbooks) == 0 {
		return err
	}
	if !k.Ledger.Shared() {
		fmt.Fprintln(e.IO.ErrOut, "oncall autopilot: locks and proposals reach "+k.Ledger.Where())
	}
	ap := autopilot(k, "autopilot@"+k.Exec.Host)
	auto := strings.Join(k.Policy.Automatable, ", ")
	if auto == "" {
		auto = "none (remediation.automatable), so it only proposes and escalates"
	}
	fmt.Fprintf(e.IO.ErrOut, "oncall autopilot: %d runbook(s), %s; automatable: %s\n", len(k.Runbooks), label, auto)
	failed := false
	for round := 1; ; round++ {
		ds, err := ap.Round(ctx)
		stamp := k.Planner.Now().UTC().Format(time.RFC3339)
		if err != nil {
			fmt.Fprintf(e.IO.ErrOut, "%s round failed: %v\n", stamp, err)
		}
		for _, d := range ds {
			if d.Outcome != nil && !d.Outcome.OK() {
				failed = true
			}
			if o.output == "json" {
				if err := writeJSONFor(e.IO.Out, map[string]any{"t": stamp, "decision": d}, true); err != nil {
					return err
				}
				continue
			}
			line := fmt.Sprintf("%s %-9s %s on %s: %s", stamp, d.Did, d.Runbook, d.Target, d.Why)
			if d.Outcome != nil {
				line += " → " + d.Outcome.Result
				for _, a := range d.Outcome.Actions {
					if a.Verification != "" {
						line += "; " + a.Name + ": " + a.Verification
					}
				}
			}
			fmt.Fprintln(e.IO.Out, line)
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

// autopilot is the kit's autopilot.
func autopilot(k *remediate.Kit, by string) *remediate.Autopilot {
	return &remediate.Autopilot{Runbooks: k.Runbooks, Planner: k.Planner, Exec: &k.Exec, Ledger: k.Ledger, Policy: k.Policy, Now: k.Planner.Now, By: by, Situation: k.Look}
}

func newProposalsCmd(e *env, g *globalOptions) *cobra.Command {
	o := &runbookOptions{}
	cmd := &cobra.Command{
		Use:   "proposals [approve|reject ID]",
		Short: "List the autopilot's proposals waiting for a human; approve or reject one",
		Long: `proposals lists what the autopilot would do but may not do alone, with why.
approve ID plans the runbook again now, shows the plan, asks for the usual
confirmation (the target's name for high danger) and runs it; reject ID
ends the proposal. Either is written to the audit log.`,
		Args: cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) > 0 {
				if len(args) != 2 || (args[0] != "approve" && args[0] != "reject") {
					return usagef("want: proposals approve ID, or proposals reject ID")
				}
				if g.ReadOnly {
					return actionError{refused("oncall runs read-only (--read-only or the context's read_only): proposals are neither approved nor rejected")}
				}
			}
			k, _, err := kitFor(e, g, o)
			if err != nil {
				return err
			}
			ps, err := remediate.Proposals(ctx, k.Ledger)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				if o.output == "json" {
					return writeJSON(e.IO.Out, ps)
				}
				if len(ps) == 0 {
					fmt.Fprintln(e.IO.Out, "No proposal is waiting.")
				}
				for _, p := range ps {
					fmt.Fprintf(e.IO.Out, "%s  %s on %s (%s danger), by %s, expires %s\n  why a human: %s\n", p.ID, p.Runbook, p.Target, p.Danger, p.By, g.clock(p.Expires), p.Why)
					for _, a := range p.Actions {
						fmt.Fprintf(e.IO.Out, "    %s\n", a)
					}
				}
				return nil
			}
			var p *remediate.Proposal
			for i := range ps {
				if ps[i].ID == args[1] {
					p = &ps[i]
				}
			}
			if p == nil {
				return usagef("no proposal %s is waiting (it may have expired, or another cockpit decided it)", args[1])
			}
			if args[0] == "reject" {
				if err := remediate.Decide(ctx, k.Ledger, k.Audit, *p, false, whoami(e), k.Exec.Host); err != nil {
					return actionError{err}
				}
				fmt.Fprintf(e.IO.Out, "rejected %s\n", p.ID)
				return nil
			}
			o.target = p.Target
			plan, err := planFor(ctx, k, p.Runbook, p.Target)
			if err != nil {
				return err
			}
			writePlan(e.IO.Out, plan)
			if !acts(plan) || !confirmPlan(e, g, o, plan) {
				return actionError{refused("not confirmed")}
			}
			if err := remediate.Decide(ctx, k.Ledger, k.Audit, *p, true, whoami(e), k.Exec.Host); err != nil {
				return actionError{err}
			}
			runCtx, stop := letFinish(ctx, e, e.IO.ErrOut, "runbook "+plan.Runbook)
			defer stop()
			res := k.Run(runCtx, plan, "proposal "+p.ID+" approved by "+whoami(e), false, func(ev remediate.Event) { fmt.Fprintf(e.IO.Out, "[%s] %s\n", ev.Action, ev.Line) })
			writeOutcome(e.IO.Out, res)
			if !res.OK() {
				return exitError{code: exitFailed}
			}
			return nil
		},
	}
	o.demoFlags(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.yes, "yes", "y", false, "answer y to a low-danger confirmation")
	f.StringArrayVar(&o.confirmNames, "confirm", nil, "a name the plan wants typed, without a prompt: the target's (high danger), the context's (a confirm: typed context); repeat for both, in that order")
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func newAuditCmd(e *env, g *globalOptions) *cobra.Command {
	var output, path string
	var limit int
	var demo bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the audit log: every action, before and after, and unfinished ones",
		Long: `audit lists the append-only audit log ($XDG_DATA_HOME/oncall/audit.jsonl,
or the config's remediation.audit_log; --demo, the simulator's runs, which
go to demo-audit.jsonl beside it): one row per action with who, where,
when, the command as shown, the incident, and after it ran the exit code,
a digest of the output, the duration and the verification. An action whose
process died between the two entries is shown as UNFINISHED. Approvals,
rejections and escalations are listed too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if demo {
				path = demoAuditPath(e)
			}
			if path == "" {
				// a config that does not load may name another log: say
				// so rather than read the default one
				cfg, _, err := g.loadConfig(e)
				if err != nil {
					return err
				}
				path = auditPath(e, cfg.Remediation.AuditLog)
			}
			rows, bad, err := (&remediate.Audit{Path: path}).Read()
			if err != nil {
				return err
			}
			if limit > 0 && len(rows) > limit {
				rows = rows[len(rows)-limit:]
			}
			for _, b := range bad {
				fmt.Fprintln(e.IO.ErrOut, "oncall audit:", b)
			}
			if output == "json" {
				return writeJSON(e.IO.Out, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintf(e.IO.Out, "The audit log %s is empty.\n", path)
			}
			for _, r := range rows {
				writeAuditRow(e, g, r)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "file", "", "audit log to read (default: the config's remediation.audit_log, else $XDG_DATA_HOME/oncall/audit.jsonl)")
	cmd.Flags().IntVar(&limit, "limit", 0, "only the last N rows")
	cmd.Flags().BoolVar(&demo, "demo", false, "the demo's audit log ($XDG_DATA_HOME/oncall/demo-audit.jsonl), which simulated runs write instead")
	cmd.MarkFlagsMutuallyExclusive("file", "demo")
	outputFlag(cmd, &output, "text", "json")
	return cmd
}

func writeAuditRow(e *env, g *globalOptions, r remediate.Row) {
	b := r.Before
	w := e.IO.Out
	if b.Phase == remediate.PhaseDecision {
		fmt.Fprintf(w, "%s  %s@%s  %s on %s: %s\n", g.timestamp(b.Time), b.User, b.Host, b.Runbook, b.Target, b.Result)
		return
	}
	fmt.Fprintf(w, "%s  %s@%s  %s/%s on %s  [%s]\n", g.timestamp(b.Time), b.User, b.Host, b.Runbook, b.Action, b.Target, b.Approval)
	fmt.Fprintf(w, "    command: %s\n", strings.ReplaceAll(b.Command, "\n", "\n             "))
	if b.Incident != "" {
		fmt.Fprintf(w, "    incident: %s\n", b.Incident)
	}
	if r.Unfinished {
		fmt.Fprintf(w, "    UNFINISHED: no after entry: the process stopped while it ran (id %s)\n", b.ID)
		return
	}
	a := r.After
	code := "-"
	if a.ExitCode != nil {
		code = fmt.Sprint(*a.ExitCode)
	}
	fmt.Fprintf(w, "    after %s: %s, exit %s, output %d bytes sha256 %.12s", time.Duration(a.DurationMS)*time.Millisecond, a.Result, code, a.OutputBytes, a.OutputSHA256)
	if a.Verification != "" {
		fmt.Fprintf(w, ", verification: %s", a.Verification)
	}
	if a.Error != "" {
		fmt.Fprintf(w, ", error: %s", a.Error)
	}
	fmt.Fprintln(w)
}
