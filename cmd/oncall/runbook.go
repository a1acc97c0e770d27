package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
)

type runbookOptions struct {
	demo, output, target string
	confirmNames         []string
	seed                 uint64
	after                time.Duration
	dryRun, yes          bool
}

func (o *runbookOptions) demoFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.demo, "demo", "", "use the simulator with this scenario and its built-in runbooks (see oncall demo --list)")
	f.Uint64Var(&o.seed, "seed", 1, "with --demo: the simulator's seed")
	durationFlag(cmd, &o.after, "after", "", 5*time.Minute, "with --demo: how long after the scenario's onset to start")
	_ = cmd.RegisterFlagCompletionFunc("demo", completeScenarios)
}

func newRunbookCmd(e *env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runbook",
		Short: "List, check and run runbooks: diagnosis, actions, guardrails, verification",
		Long: `A runbook is a YAML file in the config's runbooks: directory. It says when it
applies (alerts, labels, services, SLOs, or the incident's root cause and
mechanism), how to diagnose (steps that read logs, metrics, saturation,
traces or the incident, and branch on what they find), what it may do
(exec'd argv, HTTP requests, silences, simulator actions), how success is
verified, and what happens on failure (roll back, escalate).

Nothing runs without its exact command shown first and a confirmation:
y for low danger, the target's name typed for high danger. --read-only
refuses every action. Every run is written to the audit log before it
starts (fsynced) and after it ends: see oncall audit. The README's
Runbooks section has a complete example.`,
	}
	cmd.AddCommand(showData(newRunbookListCmd(e, g)), showData(newRunbookShowCmd(e, g)), showData(newRunbookValidateCmd(e)), showData(newRunbookRunCmd(e, g)))
	return cmd
}

func newRunbookListCmd(e *env, g *globalOptions) *cobra.Command {
	o := &runbookOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the runbooks, and which match what is happening now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, _, err := kitFor(e, g, o)
			if err != nil {
				return err
			}
			s, err := k.Look(cmd.Context())
			if err != nil {
				fmt.Fprintf(e.IO.ErrOut, "oncall: %v: matches are not known\n", err)
			}
			matches := remediate.MatchAll(k.Runbooks, s)
			if o.output == "json" {
				return writeJSON(e.IO.Out, map[string]any{"runbooks": k.Runbooks, "matches": matches, "problems": problemList(k.LoadErr)})
			}
			w := e.IO.Out
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
			return loadProblems(e, k.LoadErr)
		},
	}
	o.demoFlags(cmd)
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func autoLabel(auto, automatable bool) string {
	switch {
	case auto && automatable:
		return ", auto (the autopilot may run it)"
	case auto:
		return ", auto (but the policy does not automate its category)"
	}
	return ""
}

func problemList(err error) []remediate.Problem {
	var ps remediate.Problems
	if errors.As(err, &ps) {
		return ps
	}
	if err != nil {
		return []remediate.Problem{{Msg: err.Error()}}
	}
	return nil
}

// loadProblems prints the runbooks that did not load and fails.
func loadProblems(e *env, err error) error {
	if err == nil {
		return nil
	}
	fmt.Fprintf(e.IO.ErrOut, "oncall: some runbooks did not load:\n%v\n", err)
	return exitError{code: exitFailed}
}

func newRunbookShowCmd(e *env, g *globalOptions) *cobra.Command {
	o := &runbookOptions{}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a runbook and its plan now: diagnosis, actions as they would run, guardrails, verification",
		Long: `show diagnoses now and prints the plan the runbook would carry out: the
diagnosis and the branch taken, each action rendered exactly as it would
run, the guardrails in force and how it would be verified. Nothing runs.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRunbooks(e, g),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, _, err := kitFor(e, g, o)
			if err != nil {
				return err
			}
			p, err := planFor(cmd.Context(), k, args[0], o.target)
			if err != nil {
				return err
			}
			if o.output == "json" {
				return writeJSON(e.IO.Out, p)
			}
			writePlan(e.IO.Out, p)
			return nil
		},
	}
	o.demoFlags(cmd)
	cmd.Flags().StringVar(&o.target, "target", "", "the service to plan for (default: the one the runbook matches now)")
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

// planFor looks at the situation and plans the named runbook.
func planFor(ctx context.Context, k *remediate.Kit, name, target string) (*remediate.Plan, error) {
	rb, err := k.Find(name)
	if err != nil {
		return nil, usageError{err}
	}
	s, err := k.Look(ctx)
	if err != nil {
		return nil, err
	}
	m, ok := k.MatchFor(rb, s, target)
	if !ok {
		return nil, actionError{fmt.Errorf("runbook %s matches nothing happening now: give --target SERVICE to run it anyway", name)}
	}
	return k.Planner.Plan(ctx, m, s.Incident), nil
}

func writePlan(w io.Writer, p *remediate.Plan) {
	for i, s := range p.Sections() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, s.Title)
		for _, l := range s.Lines {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

func newRunbookValidateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate DIR|FILE...",
		Short: "Check runbook files: every problem with its file and line",
		Long: `validate reads runbook files (a directory's *.yaml, or files) and reports
every problem with its file and line: unknown fields, bad templates,
actions a step names that do not exist, data an action reads without a
typed input (inputs: NAME: {from, type}), an argument that begins with a
value that could be an option, and templates that reach code: a shell's
command string, an interpreter's program, the program a wrapper runs, a
command ssh sends (pass values to a fixed script as positional arguments:
bash -c 'restart "$1"' _ {{.Inputs.unit}}).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var all remediate.Problems
			n := 0
			for _, a := range args {
				st, err := os.Stat(a)
				if err != nil {
					return usageError{err}
				}
				if st.IsDir() {
					rbs, err := remediate.LoadDir(a)
					n += len(rbs)
					all = append(all, problemList(err)...)
					continue
				}
				b, err := os.ReadFile(a)
				if err != nil {
					return usageError{err}
				}
				if _, ps := remediate.Parse(b, a); len(ps) > 0 {
					all = append(all, ps...)
				} else {
					n++
				}
			}
			for _, p := range all {
				fmt.Fprintln(e.IO.Out, p.Error())
			}
			if len(all) > 0 {
				fmt.Fprintf(e.IO.ErrOut, "%d problem(s); %d runbook(s) valid\n", len(all), n)
				return exitError{code: exitFailed}
			}
			fmt.Fprintf(e.IO.Out, "%d runbook(s) valid\n", n)
			return nil
		},
	}
}

func newRunbookRunCmd(e *env, g *globalOptions) *cobra.Command {
	o := &runbookOptions{}
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
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRunbooks(e, g),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunbook(cmd.Context(), e, g, o, args[0])
		},
	}
	o.demoFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "", "the service to act on (default: the one the runbook matches now)")
	f.BoolVar(&o.dryRun, "dry-run", false, "show the plan and check the guardrails known in advance; run nothing")
	f.BoolVarP(&o.yes, "yes", "y", false, "answer y to a low-danger confirmation (high danger needs the name: --confirm)")
	f.StringArrayVar(&o.confirmNames, "confirm", nil, "a name the plan wants typed, without a prompt: the target's (high danger), the context's (a confirm: typed context); repeat for both, in that order")
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func runRunbook(ctx context.Context, e *env, g *globalOptions, o *runbookOptions, name string) error {
	if g.ReadOnly && !o.dryRun {
		return actionError{refused("oncall runs read-only (--read-only or the context's read_only): no runbook runs")}
	}
	k, _, err := kitFor(e, g, o)
	if err != nil {
		return err
	}
	p, err := planFor(ctx, k, name, o.target)
	if err != nil {
		return err
	}
	out := e.IO.Out
	if o.output == "json" {
		out = e.IO.ErrOut
	}
	writePlan(out, p)
	fmt.Fprintln(out)
	if !o.dryRun && acts(p) && !confirmPlan(e, g, o, p) {
		return actionError{refused("not confirmed")}
	}
	if ctx.Err() != nil {
		// interrupted while it asked: what is let finish must have started
		return actionError{refused("interrupted before the run started")}
	}
	approval := "confirmed by " + whoami(e) + " on the shell"
	if o.yes {
		approval = "confirmed with -y by " + whoami(e)
	}
	runCtx, stop := letFinish(ctx, e, e.IO.ErrOut, "runbook "+p.Runbook)
	defer stop()
	res := k.Run(runCtx, p, approval, o.dryRun, func(ev remediate.Event) {
		if ev.Status {
			fmt.Fprintf(out, "[%s] %s\n", ev.Action, ev.Line)
		} else {
			fmt.Fprintf(out, "  %s | %s\n", ev.Action, ev.Line)
		}
	})
	if o.output == "json" {
		if err := writeJSON(e.IO.Out, map[string]any{"plan": p, "outcome": res}); err != nil {
			return err
		}
	} else {
		writeOutcome(out, res)
	}
	if res.OK() {
		return nil
	}
	return exitError{code: exitFailed}
}

func writeOutcome(w io.Writer, o remediate.Outcome) {
	fmt.Fprintf(w, "Result: %s\n", o.Result)
	for _, a := range o.Actions {
		line := "  " + a.String()
		if a.AuditID != "" {
			line += "; audit " + a.AuditID
		}
		fmt.Fprintln(w, line)
	}
	for _, x := range o.Escalation {
		fmt.Fprintln(w, "  escalation: "+x)
	}
}

// confirmPlan asks before a plan acts (runs its actions, or pages a
// human when its diagnosis says escalate): y, unless the plan wants names
// typed (remediate's Confirmations: the target's for high danger, the
// context's in a confirm: typed context), each typed in turn or given
// with --confirm, once each and in the order asked, so that neither
// stands in for the other. The default is no, and so is no input at all.
func confirmPlan(e *env, g *globalOptions, o *runbookOptions, p *remediate.Plan) bool {
	cs := p.Confirmations(g.typed)
	if len(cs) == 0 {
		if o.yes {
			return true
		}
		q := fmt.Sprintf("Run %s on %s?", p.Runbook, p.Target)
		if p.Diagnosis.Escalate {
			q = fmt.Sprintf("Escalate %s on %s: page a human, nothing else runs?", p.Runbook, p.Target)
		}
		fmt.Fprintf(e.IO.ErrOut, "%s [y/N] ", q)
		line, _ := bufio.NewReader(e.IO.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
			return true
		}
		fmt.Fprintln(e.IO.ErrOut, "not done")
		return false
	}
	want := make([]string, len(cs))
	for i, c := range cs {
		want[i] = c.Name
	}
	flags := "--confirm " + strings.Join(want, " --confirm ")
	if len(o.confirmNames) > 0 {
		if slices.Equal(o.confirmNames, want) {
			return true
		}
		fmt.Fprintf(e.IO.ErrOut, "--confirm %s: this plan wants %s, in that order; not done\n", strings.Join(o.confirmNames, ", "), flags)
		return false
	}
	if o.yes {
		fmt.Fprintf(e.IO.ErrOut, "this plan needs %s typed: -y is not enough (use %s); not done\n", strings.Join(want, " and "), flags)
		return false
	}
	// one reader for every answer: a second would lose what the first read ahead
	in := bufio.NewReader(e.IO.In)
	for _, c := range cs {
		if c.Why == remediate.ConfirmHighDanger {
			fmt.Fprintf(e.IO.ErrOut, "High danger: type %s to run %s: ", c.Name, p.Runbook)
		} else {
			fmt.Fprintf(e.IO.ErrOut, "This is context %s: type %s to go ahead: ", c.Name, c.Name)
		}
		line, _ := in.ReadString('\n')
		if strings.TrimSpace(line) != c.Name {
			fmt.Fprintln(e.IO.ErrOut, "not done")
			return false
		}
	}
	return true
}

// acts says whether carrying out a plan does anything: runs its actions,
// or pages a human because its diagnosis says escalate. Either is asked
// for first.
func acts(p *remediate.Plan) bool {
	return p.Runnable() || len(p.Problems) == 0 && p.Diagnosis.Escalate
}

// letFinish is the context a run goes on under once the command's own
// (ctx) ends with a first interrupt: the run finishes (its action, its
// verification and its audit entry), saying so on w, and a second
// interrupt (e.abort) stops it, its audit entry still written. stop
// releases it when the run has ended.
func letFinish(ctx context.Context, e *env, w io.Writer, what string) (run context.Context, stop func()) {
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ended := make(chan struct{})
	go func() {
		select {
		case <-ended:
			return
		case <-ctx.Done():
		}
		fmt.Fprintf(w, "oncall: interrupted: finishing %s, so that the audit log says how it ended; interrupt again to stop it now\n", what)
		select {
		case <-ended:
		case <-e.abort:
			fmt.Fprintf(w, "oncall: interrupted again: stopping %s\n", what)
			cancel()
		}
	}()
	return run, func() { close(ended); cancel() }
}

func completeRunbooks(e *env, g *globalOptions) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var rbs []*remediate.Runbook
		if d, _ := cmd.Flags().GetString("demo"); d != "" {
			rbs, _ = remediate.LoadFS(sim.Runbooks, "runbooks", "sim/runbooks")
		} else if cfg, _, err := g.loadConfig(e); err == nil && cfg.Runbooks != "" {
			rbs, _ = remediate.LoadDir(cfg.Runbooks)
		}
		var out []string
		for _, rb := range rbs {
			out = append(out, rb.Name+"\t"+rb.Description)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
