package present

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// The forecast list is soonest first, whatever the config order and
// whether a budget or a resource: what comes first is acted on first.
func TestForecastIsSoonestFirst(t *testing.T) {
	made := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	in := func(what string, d time.Duration) slo.Forecast {
		return slo.Forecast{What: what, Made: made, Horizon: 6 * time.Hour, At: made.Add(d), Early: made.Add(d), Late: made.Add(d)}
	}
	budgets := []slo.Forecast{in("web budget", 137*time.Minute), in("checkout budget", 14*time.Minute)}
	saturation := []slo.Forecast{in("payments pool", 40*time.Minute)}
	var b strings.Builder
	if err := ForecastText(&b, NewForecastReport(made, "test", budgets, saturation, nil, nil)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	checkout, pool, web := strings.Index(out, "checkout budget"), strings.Index(out, "payments pool"), strings.Index(out, "web budget")
	if checkout < 0 || pool < 0 || web < 0 || !(checkout < pool && pool < web) {
		t.Errorf("want checkout (14 min), then the pool (40 min), then web (2 h 17 min):\n%s", out)
	}
}

// A budget already spent is listed first, "out now", and the report never
// says that nothing is predicted while one is.
func TestForecastListsExhaustedBudgetsFirst(t *testing.T) {
	made := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	spent := func(name string, remaining float64) slo.Budget {
		return slo.Budget{SLO: slo.Objective{Name: name}, At: made, Remaining: sources.Float(remaining)}
	}
	budgets := []slo.Budget{spent("ok", 0.4), spent("web", -0.2), spent("checkout", -999), spent("unread", math.NaN())}
	for _, c := range []struct {
		soon []slo.Forecast
		want string
	}{
		{nil, "✗ checkout budget exhausted  out now  -99900.0% left\n✗ web budget exhausted       out now  -20.0% left\n"},
		{[]slo.Forecast{{What: "ok budget", Made: made, Horizon: time.Hour, At: made.Add(time.Minute)}}, "✗ checkout budget exhausted  out now"},
	} {
		var b strings.Builder
		if err := ForecastText(&b, NewForecastReport(made, "test", c.soon, nil, nil, nil).WithExhausted(budgets)); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "nothing is predicted") || !strings.Contains(out, "PREDICTED") || !strings.Contains(out, c.want) || strings.Contains(out, "unread budget") {
			t.Errorf("want the spent budgets first, worst first:\n%s", out)
		}
	}
}
