package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

// forecastReport is what `oncall forecast -o json` prints.
type forecastReport struct {
	At         time.Time            `json:"at"`
	Source     string               `json:"source"`
	Budgets    []correlate.Forecast `json:"budgets"`
	Saturation []correlate.Forecast `json:"saturation"`
	// Notes say what could not be forecast, and why.
	Notes []string `json:"notes,omitempty"`
}

func newForecastCmd(e *env, g *globalOptions) *cobra.Command {
	o := &sloOptions{}
	var satHorizon time.Duration
	cmd := &cobra.Command{
		Use:   "forecast",
		Short: "What is predicted to run out: error budgets, and pools or CPU about to fill",
		Long: `forecast lists what the overview flags with ⚠: the SLO budgets predicted to
run out within --horizon (Holt's damped trend on the error ratio, and
Holt-Winters with a daily season on the traffic when three days of history
exist), and the resources (connection pools, workers, CPU) predicted to
reach 95% within --saturation-horizon (Holt's linear trend on the last half
hour). Each forecast comes with its 80% interval: "in 23 min (±5 min)", or
"(13 min at the earliest)" when the optimistic edge does not cross within
the horizon.

Saturation needs a backend that reports pools and CPU: the simulator does;
with Prometheus alone, forecast says so and lists the budgets.`,
		Example: `  oncall forecast
  oncall forecast --demo connection-leak --after 8m
  oncall forecast --horizon 24h -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runForecast(cmd.Context(), e, g, o, satHorizon)
		},
	}
	o.flags(cmd, true)
	durationFlag(cmd, &satHorizon, "saturation-horizon", "", correlate.SaturationHorizon, "how far ahead to forecast resources filling")
	return cmd
}

func runForecast(ctx context.Context, e *env, g *globalOptions, o *sloOptions, satHorizon time.Duration) error {
	se, res, err := o.forecastEnv(e, g)
	if err != nil {
		return err
	}
	return o.watch.run(ctx, e, g, func(ctx context.Context) (func() error, error) {
		at := se.now()
		rep := forecastReport{At: at, Source: se.label, Budgets: []correlate.Forecast{}, Saturation: []correlate.Forecast{}}
		for _, b := range loadWithForecasts(ctx, se, se.slos, at, o.horizon) {
			switch {
			case b.Err != "":
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %s", b.SLO.Name, b.Err))
			case b.Forecast != nil && b.Forecast.Within():
				fc := *b.Forecast
				fc.What = b.SLO.Name + " budget"
				fc.Query = b.Path
				rep.Budgets = append(rep.Budgets, fc)
			}
		}
		if res == nil {
			rep.Notes = append(rep.Notes, "saturation: no configured backend reports pools or CPU (the simulator does)")
		} else if sat, err := correlate.LoadSaturationForecasts(ctx, res, nil, at, satHorizon); err != nil {
			rep.Notes = append(rep.Notes, "saturation: "+err.Error())
		} else {
			rep.Saturation = sat
		}
		return func() error {
			if o.output == "json" {
				return writeJSONFor(e.IO.Out, rep, o.watch.on)
			}
			return renderForecast(g.styledOut(e), rep)
		}, nil
	})
}

// forecastEnv is the SLO environment and, where one exists, the
// resources backend.
func (o *sloOptions) forecastEnv(e *env, g *globalOptions) (sloEnv, sources.Resources, error) {
	if o.demo != "" {
		f, err := simFleetAt(o.demo, o.seed, o.after)
		if err != nil {
			return sloEnv{}, nil, usageError{err}
		}
		src := simSources(f)
		return sloEnv{slis: src.SLIs, slos: simSLOs(f.Topology()), now: f.Now, currency: f.Topology().Currency,
			label: fmt.Sprintf("simulator, %s seed %d", o.demo, o.seed)}, src.Resources, nil
	}
	se, err := o.env(e, g)
	return se, nil, err
}

func renderForecast(w io.Writer, rep forecastReport) error {
	t := newTable("PREDICTED", "WHEN", "METHOD")
	for _, f := range rep.Budgets {
		t.row("✗ "+termsafe.Line(f.What)+" runs out", f.Describe(), f.Method)
	}
	for _, f := range rep.Saturation {
		t.row("! "+termsafe.Line(f.What)+" full", f.Describe(), f.Method)
	}
	if len(rep.Budgets)+len(rep.Saturation) == 0 {
		fmt.Fprintln(w, "✓ nothing is predicted to run out or fill")
	} else if err := t.render(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nat %s from %s; intervals are 80%%. Queries: -o json.\n", rep.At.UTC().Format(time.RFC3339), rep.Source)
	for _, n := range rep.Notes {
		if _, err := fmt.Fprintln(w, "note: "+termsafe.Line(n)); err != nil {
			return err
		}
	}
	return nil
}
