package present

import (
	"cmp"
	"fmt"
	"io"
	"slices"
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
	At           time.Time
}

// NewForecastReport builds the presentation of the budgets and resources
// predicted to cross their limits, soonest first whatever they are, read
// at at from source, and of what could not be read.
func NewForecastReport(at time.Time, source string, budgets, saturation []slo.Forecast, unread, notes []string) ForecastReport {
	r := ForecastReport{At: at, Source: Safe(source), Unread: safeAll(unread), Notes: safeAll(notes)}
	for _, f := range budgets {
		r.Predictions = append(r.Predictions, Prediction{Level: correlate.Failing, What: Safe(f.What) + " runs out", When: f.Describe(), Method: f.Method, At: f.At})
	}
	for _, f := range saturation {
		r.Predictions = append(r.Predictions, Prediction{Level: correlate.Degraded, What: Safe(f.What) + " full", When: f.Describe(), Method: f.Method, At: f.At})
	}
	// what comes first is what to act on first
	slices.SortStableFunc(r.Predictions, func(a, b Prediction) int { return a.At.Compare(b.At) })
	return r
}

// WithExhausted lists first the budgets already spent (remaining ≤ 0):
// nothing is left to predict of them, and a report that leaves them out
// would call calm a service that is out of budget now.
func (r ForecastReport) WithExhausted(budgets []slo.Budget) ForecastReport {
	spent := slices.DeleteFunc(slices.Clone(budgets), func(b slo.Budget) bool { return !Exhausted(b) })
	slices.SortStableFunc(spent, func(a, b slo.Budget) int { return cmp.Compare(a.Remaining, b.Remaining) }) // the most overspent first
	var out []Prediction
	for _, b := range spent {
		out = append(out, Prediction{Level: correlate.Failing, What: Safe(b.SLO.Name) + " budget exhausted", When: "out now", Method: BudgetPercent(b) + " left", At: b.At})
	}
	r.Predictions = append(out, r.Predictions...)
	return r
}

// Exhausted reports whether a budget was read and is already spent.
func Exhausted(b slo.Budget) bool {
	return b.Err == "" && b.Remaining.Defined() && b.Remaining <= 0
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
