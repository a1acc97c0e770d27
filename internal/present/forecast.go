package present

import (
	"fmt"
	"io"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/slo"
)

// ForecastReport is the presentation of what is predicted to run out:
// the budgets, then the resources about to fill; what `oncall forecast`
// prints. Every string is terminal-safe.
type ForecastReport struct {
	At          time.Time
	Source      string // the world's label
	Predictions []Prediction
	// Unread names what could not be read, and why: nothing is known of
	// what it would predict, so the report cannot say all is well.
	Unread []string
	// Notes say what cannot be forecast here, and why.
	Notes []string
}

// Prediction is one predicted crossing.
type Prediction struct {
	// Level is failing for a budget that runs out, degraded for a
	// resource that fills: a full pool hurts only once it queues.
	Level        correlate.Health
	What         string // "checkout-availability budget runs out"
	When, Method string // "in 14 min (±1 min)"
}

// NewForecastReport builds the presentation of the budgets and resources
// predicted to cross their limits, read at at from source, and of what
// could not be read.
func NewForecastReport(at time.Time, source string, budgets, saturation []slo.Forecast, unread, notes []string) ForecastReport {
	r := ForecastReport{At: at, Source: Safe(source), Unread: safeAll(unread), Notes: safeAll(notes)}
	for _, f := range budgets {
		r.Predictions = append(r.Predictions, Prediction{Level: correlate.Failing, What: Safe(f.What) + " runs out", When: f.Describe(), Method: f.Method})
	}
	for _, f := range saturation {
		r.Predictions = append(r.Predictions, Prediction{Level: correlate.Degraded, What: Safe(f.What) + " full", When: f.Describe(), Method: f.Method})
	}
	return r
}

// ForecastText writes what could not be read, then the predictions as a
// table, or that nothing is predicted only when everything was read, then
// its notes.
func ForecastText(w io.Writer, r ForecastReport) error {
	for _, u := range r.Unread {
		fmt.Fprintln(w, "? unread: "+u)
	}
	switch {
	case len(r.Predictions) == 0 && len(r.Unread) == 0:
		fmt.Fprintln(w, "✓ nothing is predicted to run out or fill")
	case len(r.Predictions) == 0:
		fmt.Fprintln(w, "none of what was read is predicted to run out or fill")
	default:
		t := NewTable("PREDICTED", "WHEN", "METHOD")
		for _, p := range r.Predictions {
			t.Row(healthSymbols[p.Level]+" "+p.What, p.When, p.Method)
		}
		if err := t.Render(w); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nat %s from %s; intervals are 80%%. Queries: -o json.\n", r.At.UTC().Format(time.RFC3339), r.Source)
	return writeNotes(w, r.Notes)
}
