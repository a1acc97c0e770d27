package correlate

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// SLO is an availability objective on a service's requests.
type SLO struct {
	Name      string        `json:"name"`
	Service   string        `json:"service"`
	Objective float64       `json:"objective"` // a ratio: 0.999
	Window    time.Duration `json:"window_ns"` // the rolling window: 28 days
}

// BurnWindows are the windows burn rates are reported over: those of the
// SRE workbook's multiwindow alerts.
var BurnWindows = []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour}

// Budget is an SLO's error budget as the data shows it.
type Budget struct {
	SLO SLO `json:"slo"`
	// Total and Bad are requests and failed requests over the part of the
	// window the data covers.
	Total float64 `json:"total"`
	Bad   float64 `json:"bad"`
	// Covered is how much of the window the data covers; when it is
	// shorter than the window, the budget is that of the covered part.
	Covered time.Duration `json:"covered_ns"`
	SLI     float64       `json:"sli"` // good / total
	// Remaining is the share of the error budget left: 1 - bad/(total ×
	// (1 - objective)). It goes below 0 when the budget is spent.
	Remaining float64 `json:"remaining"`
	// MinutesLeft is the remaining budget as minutes of total outage over
	// the window: Remaining × (1 - objective) × window.
	MinutesLeft float64 `json:"minutes_left"`
	// Burn is the error ratio over each of BurnWindows divided by the
	// budget ratio (1 - objective): 1 spends the budget exactly over the
	// window; 14.4 spends 2% of a 30-day budget in an hour. Keyed by the
	// window, as "5m", "1h".
	Burn   map[string]float64 `json:"burn"`
	Source string             `json:"source"` // the queries the numbers came from
}

// ErrorBudget computes an SLO's budget from the service's RED series
// ending at now. Samples are rates per second at a fixed step.
func ErrorBudget(slo SLO, red sources.RED, now time.Time) (Budget, error) {
	b := Budget{SLO: slo, Burn: map[string]float64{}, Source: red.Requests.Query + " ; " + red.Errors.Query}
	if slo.Objective <= 0 || slo.Objective >= 1 {
		return b, fmt.Errorf("slo %s: objective %v is not between 0 and 1", slo.Name, slo.Objective)
	}
	if slo.Window <= 0 {
		return b, fmt.Errorf("slo %s: window must be positive", slo.Name)
	}
	req, errs := red.Requests.Samples, red.Errors.Samples
	if len(req) < 2 {
		return b, fmt.Errorf("slo %s: no request data for %s", slo.Name, slo.Service)
	}
	step := req[1].T.Sub(req[0].T)
	errAt := make(map[int64]float64, len(errs))
	for _, e := range errs {
		if !math.IsNaN(e.V) {
			errAt[e.T.UnixNano()] = e.V
		}
	}
	from := now.Add(-slo.Window)
	type acc struct{ total, bad float64 }
	per := make([]acc, len(BurnWindows))
	var first time.Time
	for _, s := range req {
		if s.T.Before(from) || s.T.After(now) || math.IsNaN(s.V) {
			continue
		}
		if first.IsZero() {
			first = s.T
		}
		n, bad := s.V*step.Seconds(), errAt[s.T.UnixNano()]*step.Seconds()
		b.Total += n
		b.Bad += bad
		for i, w := range BurnWindows {
			if now.Sub(s.T) < w {
				per[i].total += n
				per[i].bad += bad
			}
		}
	}
	if b.Total == 0 {
		return b, fmt.Errorf("slo %s: no requests at %s in the window", slo.Name, slo.Service)
	}
	b.Covered = now.Sub(first) + step
	if b.Covered > slo.Window {
		b.Covered = slo.Window
	}
	allowed := 1 - slo.Objective
	b.SLI = 1 - b.Bad/b.Total
	b.Remaining = 1 - (b.Bad/b.Total)/allowed
	b.MinutesLeft = b.Remaining * allowed * slo.Window.Minutes()
	for i, w := range BurnWindows {
		if per[i].total > 0 {
			b.Burn[windowName(w)] = (per[i].bad / per[i].total) / allowed
		}
	}
	return b, nil
}

func windowName(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}

// Budgets computes every SLO's budget from the RED series of its service,
// worst first. An SLO whose service has no data gets an error instead.
func Budgets(slos []SLO, reds []sources.RED, now time.Time) ([]Budget, map[string]error) {
	byService := map[string]sources.RED{}
	for _, r := range reds {
		byService[r.Service] = r
	}
	var out []Budget
	errs := map[string]error{}
	for _, s := range slos {
		r, ok := byService[s.Service]
		if !ok {
			errs[s.Name] = fmt.Errorf("slo %s: no data for service %s", s.Name, s.Service)
			continue
		}
		b, err := ErrorBudget(s, r, now)
		if err != nil {
			errs[s.Name] = err
			continue
		}
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Remaining < out[j].Remaining })
	return out, errs
}

// LoadBudgets reads each SLO's service through m and computes its budget,
// worst first: over the SLO's window at a step of 1 to 15 minutes for the
// budget, and over the last six hours at one minute for the burn rates.
func LoadBudgets(ctx context.Context, m sources.Metrics, slos []SLO, now time.Time) ([]Budget, map[string]error) {
	var out []Budget
	errs := map[string]error{}
	for _, s := range slos {
		b, err := loadBudget(ctx, m, s, now)
		if err != nil {
			errs[s.Name] = err
			continue
		}
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Remaining < out[j].Remaining })
	return out, errs
}

func loadBudget(ctx context.Context, m sources.Metrics, s SLO, now time.Time) (Budget, error) {
	step := min(15*time.Minute, max(time.Minute, (s.Window/720).Truncate(time.Minute)))
	long, err := m.RED(ctx, []string{s.Service}, sources.TimeRange{Start: now.Add(-s.Window), End: now}, step)
	if err != nil {
		return Budget{}, fmt.Errorf("slo %s: %w", s.Name, err)
	}
	bs, errs := Budgets([]SLO{s}, long, now)
	if err := errs[s.Name]; err != nil {
		return Budget{}, err
	}
	b := bs[0]
	short, err := m.RED(ctx, []string{s.Service}, sources.TimeRange{Start: now.Add(-6 * time.Hour), End: now}, time.Minute)
	if err != nil {
		return b, fmt.Errorf("slo %s burn rates: %w", s.Name, err)
	}
	if recent, errs := Budgets([]SLO{s}, short, now); errs[s.Name] == nil {
		b.Burn = recent[0].Burn
	}
	return b, nil
}
