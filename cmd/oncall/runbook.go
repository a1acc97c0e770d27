package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
)

// runbookAfter is --after's default for the commands that act: five
// minutes into the scenario, while the runbooks still have work to do.
const runbookAfter = 5 * time.Minute

// NewCmdRunbook is `oncall runbook`, the group of list, show, run and
// validate.
func NewCmdRunbook(f *Factory) *cobra.Command {
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
starts (fsynced) and after it ends: see oncall audit.
docs/runbooks.md has a complete example.`,
	}
	cmd.AddCommand(showData(NewCmdRunbookList(f, nil)), showData(NewCmdRunbookShow(f, nil)), showData(NewCmdRunbookValidate(f, nil)), showData(NewCmdRunbookRun(f, nil)))
	return cmd
}

// confirmFlags are -y and --confirm: the answers to a plan's confirmation
// given without a prompt, for runbook run and proposals approve.
type confirmFlags struct {
	yes   bool
	names []string
}

// register adds -y, described by yesUsage, and --confirm to cmd.
func (c *confirmFlags) register(cmd *cobra.Command, yesUsage string) {
	cmd.Flags().BoolVarP(&c.yes, "yes", "y", false, yesUsage)
	cmd.Flags().StringArrayVar(&c.names, "confirm", nil, "a name the plan wants typed, without a prompt: the target's (high danger), the context's (a confirm: typed context); repeat for both, in that order")
}

// runbookPlanOptions are what runbook show and runbook run plan from: the
// runbook's NAME, the --target it is planned for, --demo and -o.
type runbookPlanOptions struct {
	name, target, output string
	demo                 DemoFlags
	// world is what plan planned on, for the run's record.
	world *World
}

// register makes cmd take one runbook NAME, completed from the world's
// runbooks, and adds --demo, --target (described by targetUsage) and -o.
func (r *runbookPlanOptions) register(cmd *cobra.Command, f *Factory, targetUsage string) {
	cmd.Args = cobra.ExactArgs(1)
	cmd.ValidArgsFunction = completeRunbooks(f)
	r.demo.Register(cmd, runbookAfter)
	cmd.Flags().StringVar(&r.target, "target", "", targetUsage)
	outputFlag(cmd, &r.output, "text", "json")
}

// plan builds the runbook kit of --demo or the config, then looks at the
// situation and plans the named runbook with it.
func (r *runbookPlanOptions) plan(ctx context.Context, f *Factory) (*remediate.Kit, *remediate.Plan, error) {
	w, k, err := f.RunbookWorld(ctx, r.demo)
	if err != nil {
		return nil, nil, err
	}
	r.world = w
	if err := checkService(ctx, k.Planner.Sources.Metrics, f.IO.ErrOut, r.target); err != nil {
		return nil, nil, err
	}
	p, err := planFor(ctx, k, r.name, r.target)
	return k, p, err
}

// planFor looks at the situation and plans the named runbook.
func planFor(ctx context.Context, k *remediate.Kit, name, target string) (*remediate.Plan, error) {
	rb, err := k.Find(name)
	if err != nil {
		names := make([]string, len(k.Runbooks))
		for i, rb := range k.Runbooks {
			names[i] = rb.Name
		}
		unknown := unknownName("runbook", name, names)
		if k.LoadErr != nil {
			// the one asked for may be a file that did not load: say why
			return nil, usageError{fmt.Errorf("%v; these runbooks did not load:\n%w", unknown, k.LoadErr)}
		}
		return nil, unknown
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

// confirmPlan asks before a plan acts (runs its actions, or pages a
// human when its diagnosis says escalate): y, unless the plan wants names
// typed (remediate's Confirmations: the target's for high danger, the
// context's in a confirm: typed context), each typed in turn or given
// with --confirm, once each and in the order asked, so that neither
// stands in for the other. The default is no, and so is no input at all.
func confirmPlan(f *Factory, c confirmFlags, p *remediate.Plan) bool {
	q := fmt.Sprintf("Run %s on %s", p.Runbook, p.Target)
	if p.Diagnosis.Escalate {
		q = fmt.Sprintf("Escalate %s on %s: page a human, nothing else runs", p.Runbook, p.Target)
	}
	return confirmNames(f, c, p.Confirmations(f.Global.typed), q, "run "+p.Runbook)
}

// confirmNames asks before a plan acts, under the runbook rules
// (confirmPlan's): question, answered y/N, when no name is wanted; else
// each name typed in turn ("type NAME to act", for high danger) or given
// with --confirm, once each and in the order asked, so that neither
// stands in for the other. The default is no, and so is no input.
func confirmNames(f *Factory, c confirmFlags, cs []remediate.Confirmation, question, act string) bool {
	ask := f.IO.ErrOut
	if len(cs) == 0 {
		if c.yes {
			return true
		}
		fmt.Fprintf(ask, "%s? [y/N] ", question)
		line, _ := f.stdin().ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
			return true
		}
		fmt.Fprintln(ask, "not done")
		return false
	}
	want := make([]string, len(cs))
	for i, x := range cs {
		want[i] = x.Name
	}
	flags := "--confirm " + strings.Join(want, " --confirm ")
	if len(c.names) > 0 {
		if slices.Equal(c.names, want) {
			return true
		}
		fmt.Fprintf(ask, "--confirm %s: this plan wants %s, in that order; not done\n", strings.Join(c.names, ", "), flags)
		return false
	}
	if c.yes {
		fmt.Fprintf(ask, "this plan needs %s typed: -y is not enough (use %s); not done\n", strings.Join(want, " and "), flags)
		return false
	}
	in := f.stdin()
	for _, x := range cs {
		if x.Why == remediate.ConfirmHighDanger {
			fmt.Fprintf(ask, "High danger: type %s to %s: ", x.Name, act)
		} else {
			fmt.Fprintf(ask, "This is context %s: type %s to go ahead: ", x.Name, x.Name)
		}
		line, _ := in.ReadString('\n')
		if strings.TrimSpace(line) != x.Name {
			fmt.Fprintln(ask, "not done")
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
// verification and its audit entry), saying so on standard error, and a
// second interrupt (the env's abort) stops it, its audit entry still
// written. stop releases it when the run has ended.
func letFinish(ctx context.Context, f *Factory, what string) (run context.Context, stop func()) {
	w := f.IO.ErrOut
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
		case <-f.abort:
			fmt.Fprintf(w, "oncall: interrupted again: stopping %s\n", what)
			cancel()
		}
	}()
	return run, func() { close(ended); cancel() }
}

// problemList is a load error as its problems, for JSON and for counting.
func problemList(err error) []problem.Problem {
	var ps problem.Problems
	if errors.As(err, &ps) {
		return ps
	}
	if err != nil {
		return []problem.Problem{{Msg: err.Error()}}
	}
	return nil
}

// loadProblems prints the runbooks that did not load on w and fails.
func loadProblems(w io.Writer, err error) error {
	if err == nil {
		return nil
	}
	fmt.Fprintf(w, "oncall: some runbooks did not load:\n%v\n", err)
	return exitError{code: exitFailed}
}

// completeRunbooks offers the runbooks of --demo (the simulator's) or of
// the config's runbooks directory, with their descriptions.
func completeRunbooks(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var rbs []*remediate.Runbook
		if d, _ := cmd.Flags().GetString("demo"); d != "" {
			rbs, _ = remediate.LoadFS(sim.Runbooks, "runbooks", "sim/runbooks")
		} else if cfg, _, err := f.Config(); err == nil && cfg.Runbooks != "" {
			rbs, _ = remediate.LoadDir(cfg.Runbooks)
		}
		var out []cobra.Completion
		for _, rb := range rbs {
			out = append(out, cobra.CompletionWithDesc(rb.Name, rb.Description))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
