package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// openRecordWindow is how far back an unresolved history record counts as
// an incident open now: a record nobody resolved weeks ago must not stop
// every experiment for ever, while one of today's is the trouble a fault
// would pile onto.
const openRecordWindow = 24 * time.Hour

// pageSeverities are the alert severities that page a human, as the
// history's statistics count pages.
var pageSeverities = []string{"page", "critical"}

// chaosDaemonOptions are chaos daemon's flags.
type chaosDaemonOptions struct {
	*Factory
	dir     string
	confirm string
}

// NewCmdChaosDaemon is `oncall chaos daemon`; runF, when set, runs
// instead of runChaosDaemon, so tests can read the options.
func NewCmdChaosDaemon(f *Factory, runF func(context.Context, *chaosDaemonOptions) error) *cobra.Command {
	o := &chaosDaemonOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the scheduled experiments, unless an SLO's budget is low or an incident is open",
		Long: `daemon runs each experiment of the directory that has a schedule (cron
syntax) at its times, until it is interrupted. Each start is refused,
and the refusal printed, while any SLO's error budget has less than the
config's chaos.budget_floor left (25% by default), while an incident is
open (a page or critical alert firing, or a history record of the last
24 hours not resolved), or while another of its experiments runs.

It asks once, at its start: it lists each scheduled experiment with its
commands, and the context's name must be typed (or given with --confirm).
Each run's audit entries say "scheduled by the daemon, confirmed by USER
at TIME". Each report is printed as the run ends; a failed run is
recorded in the history.`,
	}
	cmd.Flags().StringVar(&o.confirm, "confirm", "", "the context's name (default when the config has none), typed without a prompt")
	return experimentsDirCommand(cmd, o, &o.dir, runF, runChaosDaemon)
}

func runChaosDaemon(ctx context.Context, o *chaosDaemonOptions) error {
	if o.Global.ReadOnly {
		return actionError{refused("oncall runs read-only (--read-only or the context's read_only): the daemon runs no experiment")}
	}
	dir, k, err := o.dirKit(ctx, o.dir)
	if err != nil {
		return err
	}
	o.offerRecovery(ctx, k, o.unfinishedRuns(k))
	all, loadErr := chaos.LoadDir(dir)
	if loadErr != nil {
		fmt.Fprintf(o.IO.ErrOut, "oncall: some experiments did not load, and will not run:\n%v\n", loadErr)
	}
	var scheduled []*chaos.Experiment
	for _, e := range all {
		if e.Schedule != "" {
			scheduled = append(scheduled, e)
		}
	}
	if len(scheduled) == 0 {
		return actionError{fmt.Errorf("no experiment in %s has a schedule: nothing to run", dir)}
	}
	w := o.IO.ErrOut
	for _, e := range scheduled {
		fmt.Fprintf(w, "Scheduled %q: ", e.Schedule)
		writePlan(w, e.Plan(k.kit.Exec.User, k.kit.Exec.Now()))
		fmt.Fprintln(w)
	}
	stack := stackName(k.world.Config)
	if !o.confirmStack(stack) {
		return actionError{refused("not confirmed")}
	}
	user := whoami(o.env)
	d := &chaos.Daemon{
		Runner: k.runner, Experiments: scheduled, Floor: k.world.Config.Chaos.Floor(),
		Budgets: func(ctx context.Context) []slo.Budget {
			return slo.LoadBudgets(ctx, k.world.Sources.SLIs, k.world.SLOs, k.world.Now())
		},
		OpenIncident: o.openIncident(k.world),
		Approval:     fmt.Sprintf("scheduled by the daemon, confirmed by %s at %s", user, o.Now().UTC().Format(time.RFC3339)),
		Done: func(rep chaos.Report) {
			if rep.Verdict == chaos.VerdictRefused {
				// nothing ran: one line, as a refusal a minute would
				// otherwise bury the reports of the runs
				fmt.Fprintf(o.IO.Out, "%s %s (run %s): %s\n", o.Global.timestamp(rep.Started), rep.Experiment, rep.Run, rep.Why)
				return
			}
			_ = o.writeReport(o.IO.Out, "text", rep)
			fmt.Fprintln(o.IO.Out)
			o.recordChaos(ctx, k, rep)
		},
		Now: time.Now,
	}
	if why := d.Refusal(ctx); why != "" {
		fmt.Fprintf(w, "oncall: no experiment would start now: %s\n", why)
	}
	fmt.Fprintf(w, "oncall: the daemon runs %d scheduled experiments; interrupt to stop it (a run in progress is rolled back first)\n", len(scheduled))
	names := make([]string, len(scheduled))
	for i, e := range scheduled {
		names[i] = e.Name
	}
	defer o.thirdInterruptEnds(k, o.startedSince(k, names...))()
	if err := d.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// confirmStack asks for the context's name once, for every run the
// daemon will start: a reflex y must not schedule faults into
// production.
func (o *chaosDaemonOptions) confirmStack(stack string) bool {
	w := o.IO.ErrOut
	if o.confirm != "" {
		if o.confirm == stack {
			return true
		}
		fmt.Fprintf(w, "--confirm %s: this is context %s; not done\n", o.confirm, stack)
		return false
	}
	fmt.Fprintf(w, "Run these on their schedules in context %s: type %s to go ahead: ", stack, stack)
	line, _ := o.stdin().ReadString('\n')
	if strings.TrimSpace(line) != stack {
		fmt.Fprintln(w, "not done")
		return false
	}
	return true
}

// openIncident names the incident open now, "" when none: an alert
// of a paging severity firing, or a history record of this stack
// detected in the last openRecordWindow and not resolved. An alert source
// or a history that cannot be read is an error: the daemon then refuses,
// as it cannot tell.
func (o *chaosDaemonOptions) openIncident(w *World) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if r := w.Sources.AlertSource(); r != nil {
			alerts, err := r.Alerts(ctx)
			if err != nil {
				return "", fmt.Errorf("alerts: %w", err)
			}
			for _, a := range alerts {
				if a.State == sources.AlertFiring && slices.Contains(pageSeverities, a.Severity) {
					return fmt.Sprintf("%s (an alert of severity %s firing on %s)", a.Name, a.Severity, a.Service), nil
				}
			}
		}
		rc, err := o.Recorder(ctx, w)
		if err != nil {
			return "", fmt.Errorf("history: %w", err)
		}
		recs, err := rc.Store.List(ctx, history.Filter{Since: w.Now().Add(-openRecordWindow)})
		if err != nil {
			return "", err
		}
		for _, r := range recs {
			if r.Open() && r.Stack == rc.Stack {
				return fmt.Sprintf("%s (%s, not resolved in the history)", r.ID, r.Title), nil
			}
		}
		return "", nil
	}
}
