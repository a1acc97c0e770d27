package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// sloOptions are the flags the commands that read budgets share (the slo
// verbs and forecast), and the factory they read through.
type sloOptions struct {
	*Factory
	output  string
	demo    DemoFlags
	horizon time.Duration
}

// flags registers the shared flags, and --watch and --refresh into watch
// for the commands that can redraw.
func (o *sloOptions) flags(cmd *cobra.Command, watch *watchOptions) {
	o.demo.Register(cmd, 10*time.Minute)
	durationFlag(cmd, &o.horizon, "horizon", "", slo.ForecastHorizon, "how far ahead to forecast the budget's exhaustion")
	outputFlag(cmd, &o.output, "text", "json")
	if watch != nil {
		watch.flags(cmd)
	}
}

// world is where budgets are read from: the simulator's with --demo, else
// the config's, which must have SLOs and a Prometheus.
func (o *sloOptions) world(ctx context.Context) (*World, error) {
	w, err := o.World(ctx, o.demo)
	if err != nil {
		return nil, err
	}
	if err := sloWorld(w); err != nil {
		return nil, err
	}
	return w, nil
}

// sloWorld refuses a world whose SLOs cannot be read: a config with none,
// or no Prometheus to read them from. The simulator has both.
func sloWorld(w *World) error {
	if w.Simulated() {
		return nil
	}
	if len(w.Config.SLOs) == 0 {
		return usagef("%s", noSLOs(w.Path))
	}
	if w.Backends.Prometheus == nil {
		return usagef("slo needs a prometheus datasource (config %s), or try --demo retry-storm", w.Path)
	}
	return nil
}

// noSLOs says a config holds no SLOs, and how to add them.
func noSLOs(path string) string {
	return "no slos in " + path + ": add them under the slos key, or import Sloth, Pyrra or OpenSLO files with slo_files (see oncall slo import --help)"
}

// NewCmdSLO is the `oncall slo` group: by itself it lists every budget,
// as `oncall slo list` does.
func NewCmdSLO(f *Factory) *cobra.Command {
	o := &sloListOptions{sloOptions: sloOptions{Factory: f}}
	cmd := &cobra.Command{
		Use:     "slo",
		Aliases: []string{"slos"},
		Short:   "Error budgets: SLI, budget and minutes left, burn rates, alerts and forecasts",
		Long: `slo reads every SLO's indicator on the server (one query per window, so a
short history or a coarse scrape still gives exact counts) and shows, per
SLO:

  - the SLI: good events over all events (undefined with no traffic);
  - the error budget left, as a share and as minutes of full outage the
    rest of the window can absorb;
  - the burn rates, and the multiwindow burn-rate alerts of its policy
    (the SRE Workbook's by default: page at 14.4x over 1h and 5m or 6x over
    6h and 30m, ticket at 1x over 3d and 6h);
  - when the budget runs out: at the current (5m) burn, and as forecast.

A window longer than the data says "partial: 9 of 28 days": the budget is
that of the covered part. One SLO that cannot be read is reported alone
("? unread", its numbers null and its status "unread" in -o json); the
others are still computed, and the exit status is 3, said first on
stderr. Where Sloth or Pyrra recording rules run, they are read instead,
and the path each SLO took is said (-o json, or oncall slo show NAME).

SLOs come from the config's slos key and the Sloth, Pyrra and OpenSLO files
its slo_files names. --demo computes them on the simulator.`,
		Example: `  oncall slo
  oncall slo show payments-availability
  oncall slo gate --min-budget 25% --slo payments-availability
  oncall slo import sloth/checkout.yaml
  oncall slo --demo retry-storm --after 20m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSLOList(cmd.Context(), o) },
	}
	o.flags(cmd, &o.watch)
	cmd.AddCommand(NewCmdSLOList(f, nil), NewCmdSLOShow(f, nil), NewCmdSLOGate(f, nil), NewCmdSLOImport(f, nil), NewCmdSLOValidate(f, nil))
	return cmd
}

// loadWithForecasts reads every budget and, for those with budget left,
// forecasts its exhaustion. unread names each part that could not be
// read, and why: the budgets, and the histories forecasts are fitted on.
// A history read but too short is no failure (that budget has no
// forecast); every other error is, a deadline as much as a refusal.
func loadWithForecasts(ctx context.Context, w *World, slos []slo.Objective, at time.Time, horizon time.Duration) (bs []slo.Budget, unread []unreadPart) {
	bs = slo.LoadBudgets(ctx, w.Sources.SLIs, slos, at)
	forecastErrs := make([]error, len(bs))
	var wg sync.WaitGroup
	for i := range bs {
		if bs[i].Err != "" || !bs[i].Remaining.Defined() || bs[i].Remaining <= 0 {
			continue
		}
		wg.Go(func() {
			f, err := slo.LoadForecast(ctx, w.Sources.SLIs, bs[i], horizon)
			if err == nil {
				bs[i].Forecast = &f
			}
			forecastErrs[i] = err
		})
	}
	wg.Wait()
	for i, b := range bs {
		switch err := forecastErrs[i]; {
		case b.Err != "":
			unread = append(unread, unreadPart{What: b.SLO.Name, Err: b.Err, Cause: b.Cause})
		case err != nil && !errors.Is(err, slo.ErrNoForecast):
			unread = append(unread, unreadOf(b.SLO.Name+" forecast", err))
		}
	}
	return bs, unread
}

// unreadPart is a part of a report that could not be read: the whole
// error is said once, on stderr first (and in -o json); the rows that
// point to it say its cause in a few words.
type unreadPart struct {
	What, Err, Cause string
}

func unreadOf(what string, err error) unreadPart {
	return unreadPart{What: what, Err: err.Error(), Cause: sources.Cause(err)}
}

// String is the part and its whole error.
func (u unreadPart) String() string { return u.What + ": " + u.Err }

// whole and short are the parts with their whole errors, and with their
// causes in a few words.
func whole(us []unreadPart) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.String()
	}
	return out
}

func short(us []unreadPart) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.What + ": " + u.Cause
	}
	return out
}

// incomplete says, on stderr and before the data, that parts of what a
// command reports could not be read, naming the first with its whole
// error (the rows then say only its cause), and returns the exit status
// that says so (nil when all was read). A watch says it in each round and
// goes on: a backend down for a minute must not end it.
func incomplete(f *Factory, watching bool, unread []unreadPart) error {
	if len(unread) == 0 {
		return nil
	}
	fmt.Fprintf(f.IO.ErrOut, "oncall: incomplete: %s could not be read (%s)\n", humanize.Count(len(unread), "part"), unread[0])
	if watching {
		return nil
	}
	return exitError{code: exitIncomplete}
}

// pick finds the named SLOs, or a usage error with suggestions.
func (w *World) pick(names []string) ([]slo.Objective, error) {
	if len(names) == 0 {
		return w.SLOs, nil
	}
	var out []slo.Objective
	var all []string
	for _, s := range w.SLOs {
		all = append(all, s.Name)
	}
	for _, n := range names {
		found := false
		for _, s := range w.SLOs {
			if s.Name == n {
				out, found = append(out, s), true
			}
		}
		if !found {
			return nil, unknownName("SLO", n, all)
		}
	}
	return out, nil
}

// completeSLONames offers the SLOs of the config, or of the simulator
// with --demo.
func completeSLONames(o *sloOptions) cobra.CompletionFunc {
	return complete(func(context.Context) ([]cobra.Completion, error) {
		var names []cobra.Completion
		if o.demo.On() {
			for _, s := range simSLOs(sim.DefaultTopology()) {
				names = append(names, s.Name)
			}
			return names, nil
		}
		cfg, _, err := o.Config()
		if err != nil {
			return nil, err
		}
		for _, s := range cfg.SLOs {
			names = append(names, cobra.CompletionWithDesc(s.Name, s.Service))
		}
		return names, nil
	})
}
