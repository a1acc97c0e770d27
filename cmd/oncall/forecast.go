package main

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/slo"
)

// forecastOptions are forecast's flags: the budgets' (as slo reads
// them), --watch, and how far ahead resources are forecast.
type forecastOptions struct {
	sloOptions
	watch      watchOptions
	satHorizon time.Duration
}

// NewCmdForecast is `oncall forecast`; runF, when set, runs instead of
// runForecast, so tests can read the options the flags gave.
func NewCmdForecast(f *Factory, runF func(context.Context, *forecastOptions) error) *cobra.Command {
	o := &forecastOptions{sloOptions: sloOptions{Factory: f}}
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
the horizon. Budgets already spent come first, "out now"; the rest is
soonest first, budgets and resources together (-o json: each list soonest
first, and the spent budgets under "exhausted").

Saturation needs a backend that reports pools and CPU: the simulator does;
with Prometheus alone, forecast says so and lists the budgets. What could
not be read is named first, and the exit status is then 3: forecast says
that nothing is predicted only when it read everything.`,
		Example: `  oncall forecast
  oncall forecast --demo connection-leak --after 8m
  oncall forecast --horizon 24h -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runForecast(cmd.Context(), o)
		},
	}
	o.flags(cmd, &o.watch)
	durationFlag(cmd, &o.satHorizon, "saturation-horizon", "", slo.SaturationHorizon, "how far ahead to forecast resources filling")
	return cmd
}

// forecastReport is what `oncall forecast -o json` prints.
type forecastReport struct {
	At         time.Time      `json:"at"`
	Source     string         `json:"source"`
	Budgets    []slo.Forecast `json:"budgets"`
	Saturation []slo.Forecast `json:"saturation"`
	// Exhausted names the SLOs whose budget is already spent: out now,
	// before any forecast.
	Exhausted []string `json:"exhausted"`
	// Unread names what could not be read, and why: nothing is known of
	// what it would predict.
	Unread []string `json:"unread,omitempty"`
	// Notes say what cannot be forecast here, and why.
	Notes []string `json:"notes,omitempty"`
}

func runForecast(ctx context.Context, o *forecastOptions) error {
	w, err := o.world(ctx)
	if err != nil {
		return err
	}
	return o.watch.run(ctx, o.Factory, func(ctx context.Context) (func() error, error) {
		at := w.Now()
		rep := forecastReport{At: at, Source: w.Label, Budgets: []slo.Forecast{}, Saturation: []slo.Forecast{}}
		bs, unread := loadWithForecasts(ctx, w, w.SLOs, at, o.horizon)
		rep.Exhausted = []string{}
		for _, b := range bs {
			if present.Exhausted(b) {
				rep.Exhausted = append(rep.Exhausted, b.SLO.Name)
			}
			if b.Forecast != nil && b.Forecast.Within() {
				fc := *b.Forecast
				fc.What = b.SLO.Name + " budget"
				fc.Query = b.Path
				rep.Budgets = append(rep.Budgets, fc)
			}
		}
		slices.SortStableFunc(rep.Budgets, func(a, b slo.Forecast) int { return a.At.Compare(b.At) })
		if w.Sources.Resources == nil {
			rep.Notes = append(rep.Notes, "saturation: no configured backend reports pools or CPU (the simulator does)")
		} else if sat, err := slo.LoadSaturationForecasts(ctx, w.Sources.Resources, nil, at, o.satHorizon); err != nil {
			unread = append(unread, unreadOf("saturation", err))
		} else {
			rep.Saturation = sat
		}
		rep.Unread = whole(unread)
		return func() error {
			status := incomplete(o.Factory, o.watch.on, unread)
			var err error
			if o.output == "json" {
				err = writeJSONFor(o.IO.Out, rep, o.watch.on)
			} else {
				err = present.ForecastText(o.StyledOut(), present.NewForecastReport(rep.At, rep.Source, rep.Budgets, rep.Saturation, short(unread), rep.Notes).WithExhausted(bs))
			}
			return cmp.Or(err, status)
		}, nil
	})
}
