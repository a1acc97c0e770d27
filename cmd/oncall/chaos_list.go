package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
)

// chaosListOptions are chaos list's flags, and the factory it reads
// through.
type chaosListOptions struct {
	*Factory
	dir, output string
}

// NewCmdChaosList is `oncall chaos list`; runF, when set, runs instead of
// runChaosList, so tests can read the options the flags gave.
func NewCmdChaosList(f *Factory, runF func(context.Context, *chaosListOptions) error) *cobra.Command {
	o := &chaosListOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the experiments: target, duration, guards, schedule; and any run left unfinished",
		Long: `list reads the experiments directory (chaos.experiments in the config, else
$XDG_CONFIG_HOME/oncall/experiments, or --dir) and prints each
experiment's target, duration, guards and schedule. A file with problems
is named at its line; the others are still listed.

It also reads the audit log: an experiment that started and never ended
(its process was killed) is said, with the command that rolls it back.

Exit status 0, or 1 when a file has problems.`,
	}
	outputFlag(cmd, &o.output, "text", "json")
	return experimentsDirCommand(cmd, o, &o.dir, runF, runChaosList)
}

func runChaosList(ctx context.Context, o *chaosListOptions) error {
	dir, k, err := o.dirKit(ctx, o.dir)
	if err != nil {
		return err
	}
	unfinished := o.unfinishedRuns(k)
	if o.output != "json" {
		o.offerRecovery(ctx, k, unfinished)
	}
	es, loadErr := chaos.LoadDir(dir)
	if o.output == "json" {
		if es == nil {
			es = []*chaos.Experiment{}
		}
		if err := writeJSON(o.IO.Out, map[string]any{"dir": dir, "experiments": es, "unfinished": o.unfinishedJSON(ctx, k, unfinished), "problems": problemList(loadErr)}); err != nil {
			return err
		}
		if loadErr != nil {
			return exitError{code: exitFailed}
		}
		return nil
	}
	w := o.IO.Out
	if len(es) == 0 {
		fmt.Fprintf(w, "No experiments in %s.\n", dir)
	}
	for _, e := range es {
		schedule := "by hand only"
		if e.Schedule != "" {
			schedule = "schedule " + e.Schedule
		}
		fmt.Fprintf(w, "%-24s %s:%d\n", e.Name, e.File, e.Line)
		fmt.Fprintf(w, "  target %s, %s, %s\n", e.Target, timeparse.FormatDuration(time.Duration(e.Duration)), schedule)
		labels := make([]string, len(e.Guards))
		for i, g := range e.Guards {
			labels[i] = g.Label()
		}
		fmt.Fprintf(w, "  guards: %s\n", strings.Join(labels, "; "))
	}
	if loadErr != nil {
		fmt.Fprintf(o.IO.ErrOut, "oncall: some experiments did not load:\n%v\n", loadErr)
		return exitError{code: exitFailed}
	}
	return nil
}

// unfinishedRun is an unfinished run as list -o json writes it, with the
// command that rolls it back.
type unfinishedRun struct {
	remediate.ExperimentRef
	Started  time.Time `json:"started"`
	By       string    `json:"by"`
	Injected []string  `json:"injected"`
	// RollbackFailed is the end entry's detail of a rollback that failed.
	RollbackFailed string `json:"rollback_failed,omitempty"`
	// Running is set when the run is live (in another process): it has
	// no rollback command then, since its own rollback runs at its end.
	Running  string `json:"running,omitempty"`
	Rollback string `json:"rollback,omitempty"`
}

func (f *Factory) unfinishedJSON(ctx context.Context, k *chaosKit, us []chaos.Unfinished) []unfinishedRun {
	out := make([]unfinishedRun, len(us))
	for i, u := range us {
		out[i] = unfinishedRun{ExperimentRef: u.Ref, Started: u.Started, By: u.By, Injected: u.Injected, RollbackFailed: u.RollbackFailed,
			Running: f.runningNow(ctx, k, u)}
		if out[i].Running == "" {
			out[i].Rollback = "oncall chaos rollback " + u.Ref.Run
		}
	}
	return out
}
