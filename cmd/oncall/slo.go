package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/sources"
)

type sloOptions struct {
	output, demo string
	seed         uint64
	after        time.Duration
	watch        watchOptions
}

func newSLOCmd(e *env, g *globalOptions) *cobra.Command {
	o := &sloOptions{}
	cmd := &cobra.Command{
		Use:     "slo",
		Aliases: []string{"slos"},
		Short:   "Error budgets of every SLO: SLI, budget left, minutes left and burn rates",
		Long: `slo computes, for each availability SLO in the config, from the service's
request and error rates over its window:

  - the SLI (good requests over all requests);
  - the error budget left, as a share of the budget and as minutes of total
    outage the rest of the window can still absorb;
  - the burn rate over 5m, 30m, 1h and 6h (1 spends the budget exactly over
    the window; 14.4 spends 2% of a 30-day budget in an hour).

Each number comes with the queries it came from (-o json). When the data
covers less than the window, the budget is that of the covered part, and
the output says so. --demo computes them on the simulator.`,
		Example: `  oncall slo
  oncall slo --demo retry-storm
  oncall slo -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSLO(cmd.Context(), e, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.demo, "demo", "", "run on the simulator with this scenario (see oncall demo --list)")
	f.Uint64Var(&o.seed, "seed", 1, "with --demo: the simulator's seed")
	durationFlag(cmd, &o.after, "after", "", 10*time.Minute, "with --demo: how long after the scenario's onset to look")
	_ = cmd.RegisterFlagCompletionFunc("demo", completeScenarios)
	outputFlag(cmd, &o.output, "text", "json")
	o.watch.flags(cmd)
	return cmd
}

// sloReport is what `oncall slo -o json` prints.
type sloReport struct {
	At      time.Time          `json:"at"`
	Budgets []correlate.Budget `json:"budgets"`
	Errors  map[string]string  `json:"errors,omitempty"` // per SLO that could not be computed
}

func runSLO(ctx context.Context, e *env, g *globalOptions, o *sloOptions) error {
	var metrics sources.Metrics
	var slos []correlate.SLO
	skipped := map[string]string{}
	now := e.Now()
	if o.demo != "" {
		f, err := simFleetAt(o.demo, o.seed, o.after)
		if err != nil {
			return usageError{err}
		}
		now, metrics, slos = f.Now(), simSources(f).Metrics, simSLOs(f.Topology())
	} else {
		cfg, path, err := g.loadConfig(e)
		if err != nil {
			return err
		}
		b, err := newBackends(cfg)
		if err != nil {
			return err
		}
		if b.Prometheus == nil {
			return usagef("slo needs a prometheus datasource (config %s), or try --demo retry-storm", path)
		}
		metrics = b.Prometheus
		slos, skipped = configSLOs(cfg)
		if len(slos) == 0 && len(skipped) == 0 {
			return usagef("no slos in %s: add them under the slos key", path)
		}
	}
	return o.watch.run(ctx, e, g, func(ctx context.Context) (func() error, error) {
		at := now
		if o.demo == "" {
			at = e.Now() // each round of a watch reads the budgets as of then
		}
		rep := sloReport{At: at, Errors: map[string]string{}}
		for n, why := range skipped {
			rep.Errors[n] = why
		}
		budgets, errs := correlate.LoadBudgets(ctx, metrics, slos, at)
		rep.Budgets = budgets
		for name, err := range errs {
			rep.Errors[name] = err.Error()
		}
		return func() error {
			if o.output == "json" {
				return writeJSONFor(e.IO.Out, rep, o.watch.on)
			}
			return renderSLOText(g.styledOut(e), rep)
		}, nil
	})
}

// configSLOs turns the config's availability SLOs (objectives in percent)
// into correlate's; latency SLOs are reported as not computed yet.
func configSLOs(cfg *config.Config) ([]correlate.SLO, map[string]string) {
	var out []correlate.SLO
	skipped := map[string]string{}
	for _, s := range cfg.SLOs {
		if s.Indicator == "latency" {
			skipped[s.Name] = "latency SLIs need the latency histogram and are not computed yet; only availability SLOs are"
			continue
		}
		out = append(out, correlate.SLO{Name: s.Name, Service: s.Service, Objective: s.Objective / 100, Window: time.Duration(s.Window)})
	}
	return out, skipped
}

// gauge draws the budget left as ten cells, with a symbol and a word so
// that the state never rests on colour.
func gauge(remaining float64) string {
	cells := int(math.Round(10 * math.Max(0, math.Min(1, remaining))))
	bar := strings.Repeat("█", cells) + strings.Repeat("░", 10-cells)
	state := "✓ ok"
	switch {
	case remaining < 0:
		state = "✗ spent"
	case remaining < 0.25:
		state = "! low"
	}
	return bar + " " + state
}

func renderSLOText(w io.Writer, rep sloReport) error {
	t := newTable("SLO", "SERVICE", "OBJECTIVE", "SLI", "BUDGET LEFT", "", "MINUTES LEFT", "BURN 5m", "30m", "1h", "6h")
	notes := []string{}
	for _, b := range rep.Budgets {
		burn := func(k string) string {
			v, ok := b.Burn[k]
			if !ok {
				return "-"
			}
			return fmt.Sprintf("%.1f", v)
		}
		t.row(b.SLO.Name, b.SLO.Service, fmt.Sprintf("%.3g%%", 100*b.SLO.Objective), fmt.Sprintf("%.3f%%", 100*b.SLI),
			fmt.Sprintf("%.1f%%", 100*b.Remaining), gauge(b.Remaining), fmt.Sprintf("%.1f", b.MinutesLeft),
			burn("5m"), burn("30m"), burn("1h"), burn("6h"))
		if b.Covered < b.SLO.Window {
			notes = append(notes, fmt.Sprintf("%s: the data covers %s of its %s window; the budget is that of the covered part", b.SLO.Name, b.Covered.Round(time.Minute), fmtWindow(b.SLO.Window)))
		}
	}
	if err := t.render(w); err != nil {
		return err
	}
	names := make([]string, 0, len(rep.Errors))
	for n := range rep.Errors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		msg := rep.Errors[n]
		if !strings.HasPrefix(msg, "slo "+n+":") {
			msg = n + ": " + msg
		}
		notes = append(notes, msg)
	}
	fmt.Fprintln(w, "\nminutes left: the budget that remains, as minutes of total outage over the window; burn: error ratio over the window ÷ (1 - objective)")
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, "note: "+n); err != nil {
			return err
		}
	}
	return nil
}

func fmtWindow(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
