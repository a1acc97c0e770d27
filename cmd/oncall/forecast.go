package main

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/httpx"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
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
hour, against the limit in force now: a pool resized in that half hour is
forecast to fill its new size). Each forecast comes with its 80% interval:
"in 23 min (±5 min)", or "(13 min at the earliest)" when the optimistic
edge does not cross within the horizon. Budgets already spent come first,
"out now"; the rest is soonest first, budgets and resources together (-o
json: each list soonest first, and the spent budgets under "exhausted").

Saturation is read from Prometheus through the conventions' resources
presets (OTel, HikariCP and database/sql pools, pgbouncer, cAdvisor CPU
and memory against kube-state-metrics limits, process CPU against the
cores, and custom templates), or from the simulator. When none of the
presets finds series, forecast says which it tried, lists the budgets, and
points to oncall doctor, which shows what each preset looks for. A config
with no SLOs gets its resources forecast alone, and a note that there are
no budgets to forecast. What could
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
	w, noBudgets, err := o.forecastWorld(ctx)
	if err != nil {
		return err
	}
	return o.watch.run(ctx, o.Factory, func(ctx context.Context) (func() error, error) {
		at := w.Now()
		rep := forecastReport{At: at, Source: w.Label, Budgets: []slo.Forecast{}, Saturation: []slo.Forecast{}}
		if noBudgets != "" {
			rep.Notes = append(rep.Notes, noBudgets)
		}
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
		sat, note, err := saturationForecasts(ctx, w.Sources.Resources, at, o.satHorizon)
		switch {
		case err != nil:
			unread = append(unread, saturationUnread(err))
		case note != "":
			rep.Notes = append(rep.Notes, note)
		default:
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

// forecastWorld is the world slo reads, but a config with no SLOs is not
// refused: its pools and CPU are still forecast, and noBudgets, the note
// that says there are no budgets to forecast, is set.
func (o *forecastOptions) forecastWorld(ctx context.Context) (w *World, noBudgets string, err error) {
	w, err = o.World(ctx, o.demo)
	if err != nil {
		return nil, "", err
	}
	if !w.Simulated() && len(w.Config.SLOs) == 0 {
		return w, "budgets: none to forecast, " + noSLOs(w.Path), nil
	}
	return w, "", sloWorld(w)
}

// saturationForecasts forecasts the resources res reports. A stack that
// reports none (no backend for them, or none of the presets found series)
// is a note saying so, not a failure: nothing is unread.
func saturationForecasts(ctx context.Context, res sources.Resources, at time.Time, horizon time.Duration) ([]slo.Forecast, string, error) {
	if res == nil {
		return nil, "saturation: no configured backend reports pools or CPU (prometheus or the simulator does)", nil
	}
	sat, err := slo.LoadSaturationForecasts(ctx, res, nil, at, horizon)
	if errors.Is(err, sources.ErrNotReported) {
		return nil, "saturation: " + err.Error() + "; oncall doctor lists what each preset looks for", nil
	}
	return sat, "", err
}

// saturationUnread is the unread part of a saturation read that failed:
// the whole error, which names every preset that failed ("saturation
// preset hikaricp: …"), and as its cause the first failure the circuit
// breaker did not make, since a backend down fails every preset alike.
func saturationUnread(err error) unreadPart {
	u := unreadOf("saturation", err)
	// the presets, and a preset's two queries, are asked at once: those the
	// breaker turned away after the first failures say less than the
	// failure itself, wherever in the joined errors that is
	failure := firstLeaf(err, func(e error) bool { return !errors.Is(e, httpx.ErrCircuitOpen) })
	u.Cause = sources.Cause(cmp.Or(failure, firstLeaf(err, func(error) bool { return true })))
	return u
}

// firstLeaf is the first innermost error in err's tree, depth first, that
// ok accepts; nil when there is none.
func firstLeaf(err error, ok func(error) bool) error {
	if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
		for _, inner := range j.Unwrap() {
			if f := firstLeaf(inner, ok); f != nil {
				return f
			}
		}
		return nil
	}
	if inner := errors.Unwrap(err); inner != nil {
		return firstLeaf(inner, ok)
	}
	if ok(err) {
		return err
	}
	return nil
}
