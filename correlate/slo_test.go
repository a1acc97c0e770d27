package correlate

import (
	"math"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

func TestErrorBudgetIsExact(t *testing.T) {
	// 1 hour of 100 req/s at 1-minute steps: 0.05% errors for 50 minutes,
	// then 1% for the last 10
	r := sources.RED{Service: "api"}
	for i := 0; i < 60; i++ {
		ts := t0.Add(time.Duration(i) * time.Minute)
		e := 0.05
		if i >= 50 {
			e = 1
		}
		r.Requests.Samples = append(r.Requests.Samples, sources.Sample{T: ts, V: 100})
		r.Errors.Samples = append(r.Errors.Samples, sources.Sample{T: ts, V: e})
	}
	now := t0.Add(59 * time.Minute)
	b, err := ErrorBudget(SLO{Name: "a", Service: "api", Objective: 0.999, Window: time.Hour}, r, now)
	if err != nil {
		t.Fatal(err)
	}
	total, bad := 60*60*100.0, (50*0.05+10*1)*60
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9*math.Max(1, math.Abs(want)) }
	if !near(b.Total, total) || !near(b.Bad, bad) || b.Covered != time.Hour {
		t.Fatalf("total %v bad %v covered %v", b.Total, b.Bad, b.Covered)
	}
	if !near(b.SLI, 1-bad/total) || !near(b.Remaining, 1-(bad/total)/0.001) {
		t.Errorf("sli %v remaining %v", b.SLI, b.Remaining)
	}
	// the budget is 0.1% of 60 minutes: 3.6 s of total outage
	if !near(b.MinutesLeft, b.Remaining*0.001*60) {
		t.Errorf("minutes left %v", b.MinutesLeft)
	}
	// the last 5 minutes fail 1%: ten times the budget rate
	if !near(b.Burn["5m"], 10) || !near(b.Burn["30m"], ((20*0.05+10*1)/3000)/0.001) {
		t.Errorf("burn %v", b.Burn)
	}
	if b.Remaining >= 0 {
		t.Errorf("the budget is spent: remaining %v", b.Remaining)
	}
	if _, err := ErrorBudget(SLO{Name: "bad", Objective: 99.9, Window: time.Hour}, r, now); err == nil {
		t.Error("a percent objective was accepted as a ratio")
	}
	bs, errs := Budgets([]SLO{{Name: "a", Service: "api", Objective: 0.99, Window: 2 * time.Hour}, {Name: "b", Service: "nope", Objective: 0.99, Window: time.Hour}}, []sources.RED{r}, now)
	if len(bs) != 1 || bs[0].Covered != time.Hour || errs["b"] == nil {
		t.Errorf("budgets %+v errs %v", bs, errs)
	}
}
