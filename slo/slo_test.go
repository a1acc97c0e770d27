package slo

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

var t0 = time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// reading builds an SLI reading: the SLO window's counts, and an error
// ratio per other window.
func reading(total, bad float64, since time.Time, ratios map[time.Duration]float64) sources.SLIReading {
	r := sources.SLIReading{Path: "test", Since: since}
	ratio := sources.NaN()
	if total > 0 {
		ratio = sources.Float(bad / total)
	}
	r.Windows = append(r.Windows, sources.SLIWindow{Window: 28 * day, Total: sources.Float(total), Bad: sources.Float(bad), ErrorRatio: ratio, Queries: []string{"bad", "total"}})
	for w, v := range ratios {
		r.Windows = append(r.Windows, sources.SLIWindow{Window: w, Total: 1, Bad: sources.Float(v), ErrorRatio: sources.Float(v)})
	}
	return r
}

// burns gives the policy's windows burn rates, as error ratios of a
// 99.9% SLO: rate × 0.001.
func burns(b5m, b30m, b1h, b6h, b3d float64) map[time.Duration]float64 {
	return map[time.Duration]float64{5 * time.Minute: b5m * 0.001, 30 * time.Minute: b30m * 0.001,
		time.Hour: b1h * 0.001, 6 * time.Hour: b6h * 0.001, 3 * day: b3d * 0.001}
}

func TestComputeBudgetByHand(t *testing.T) {
	slo := Objective{Name: "api", Service: "api", Objective: 0.999, Window: 28 * day, Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: "api"}}
	at := t0
	full := at.Add(-28 * day)
	cases := []struct {
		name    string
		r       sources.SLIReading
		status  Status
		sli     float64 // NaN: undefined
		left    float64
		minutes float64
		exhaust time.Duration
		partial bool
	}{
		// 200 bad of a million: 0.02% errors spend a fifth of a 0.1% budget;
		// 0.8 × 0.001 × 40320 min = 32.256 min of outage left
		{"healthy", reading(1e6, 200, full, burns(0.2, 0.2, 0.2, 0.2, 0.2)), StatusOK, 0.9998, 0.8, 32.256, 0, false},
		// fast burn: 1h and 5m both over 14.4; lasts 0.8 × 28 d ÷ 20 = 26.88 h
		{"fast burn pages", reading(1e6, 200, full, burns(20, 3, 15, 2, 0.5)), StatusPage, 0.9998, 0.8, 32.256, time.Duration(0.8 * float64(28*day) / 20), false},
		// the 1h window is over 14.4 but the 5m one has recovered: no page
		{"recovered short window", reading(1e6, 200, full, burns(10, 3, 15, 2, 0.5)), StatusOK, 0.9998, 0.8, 32.256, time.Duration(0.8 * float64(28*day) / 10), false},
		// exactly at the factor does not fire: the workbook's rule is "over"
		{"at the factor", reading(1e6, 200, full, burns(14.4, 1, 14.4, 1, 1)), StatusOK, 0.9998, 0.8, 32.256, time.Duration(0.8 * float64(28*day) / 14.4), false},
		{"slow burn pages", reading(1e6, 200, full, burns(0.5, 8, 5, 7, 2)), StatusPage, 0.9998, 0.8, 32.256, 0, false},
		{"ticket", reading(1e6, 200, full, burns(0.5, 2, 1.5, 1.2, 1.5)), StatusTicket, 0.9998, 0.8, 32.256, 0, false},
		// 1500 bad of a million: 150% of the budget, -50% left
		{"overspent", reading(1e6, 1500, full, burns(0.5, 0.5, 0.5, 0.5, 0.5)), StatusSpent, 0.9985, -0.5, -0.5 * 40.32, 0, false},
		{"low", reading(1e6, 900, full, burns(0.5, 0.5, 0.5, 0.5, 0.5)), StatusDegraded, 0.9991, 0.1, 0.1 * 40.32, 0, false},
		// no requests at all: the SLI is undefined, not 100%
		{"no traffic", reading(0, 0, time.Time{}, nil), StatusNoData, math.NaN(), math.NaN(), math.NaN(), 0, false},
		// nine days of data in a 28-day window: a partial budget
		{"partial", reading(3e5, 60, at.Add(-9*day), burns(0.2, 0.2, 0.2, 0.2, 0.2)), StatusOK, 0.9998, 0.8, 32.256, 0, true},
		// four minutes of a fresh stack at 1.5×: the budget is over, but no
		// three-day ticket: 10% of it was not spent in four minutes
		{"four minutes at 1.5x", reading(2e4, 30, at.Add(-4*time.Minute), burns(1.5, 1.5, 1.5, 1.5, 1.5)), StatusSpent, 0.9985, -0.5, -0.5 * 40.32, 0, true},
		// four minutes at 900×: 2% of the budget is gone already, a page;
		// lasts nothing, the budget is spent
		{"four minutes at 900x", reading(2e4, 18000, at.Add(-4*time.Minute), burns(900, 900, 900, 900, 900)), StatusPage, 0.1, -899, -899 * 40.32, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := ComputeBudget(slo, c.r, at)
			if b.Status != c.status {
				t.Errorf("status %q, want %q", b.Status, c.status)
			}
			for _, v := range []struct {
				what      string
				got, want float64
			}{{"sli", float64(b.SLI), c.sli}, {"remaining", float64(b.Remaining), c.left}, {"minutes left", float64(b.MinutesLeft), c.minutes}} {
				if math.IsNaN(v.want) != math.IsNaN(v.got) || (!math.IsNaN(v.want) && !near(v.got, v.want)) {
					t.Errorf("%s %v, want %v", v.what, v.got, v.want)
				}
			}
			if d := b.Exhaustion - c.exhaust; d < -time.Second || d > time.Second {
				t.Errorf("exhaustion %v, want %v", b.Exhaustion, c.exhaust)
			}
			if b.Partial != c.partial {
				t.Errorf("partial %v (covered %v), want %v", b.Partial, b.Covered, c.partial)
			}
			if c.partial && b.Covered != at.Sub(c.r.Since) {
				t.Errorf("covered %v, want %v", b.Covered, at.Sub(c.r.Since))
			}
			// every number survives JSON, undefined ones as null
			js, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if math.IsNaN(c.sli) && !strings.Contains(string(js), `"sli":null`) {
				t.Errorf("an undefined SLI is not null in %s", js)
			}
		})
	}
}

func TestPolicyAlertsNameTheirWindows(t *testing.T) {
	slo := Objective{Name: "api", Objective: 0.999, Window: 28 * day}
	b := ComputeBudget(slo, reading(1e6, 200, t0.Add(-28*day), burns(20, 8, 15, 7, 0.5)), t0)
	if len(b.Alerts) != 3 {
		t.Fatalf("%d alerts, want the 3 of table 5-8", len(b.Alerts))
	}
	for i, want := range []struct {
		long, short time.Duration
		factor      float64
		firing      bool
	}{{time.Hour, 5 * time.Minute, 14.4, true}, {6 * time.Hour, 30 * time.Minute, 6, true}, {3 * day, 6 * time.Hour, 1, false}} {
		a := b.Alerts[i]
		if a.Long != want.long || a.Short != want.short || a.Factor != want.factor || a.Firing != want.firing {
			t.Errorf("alert %d: %+v, want %+v", i, a, want)
		}
	}
	if !near(float64(b.Alerts[0].LongRate), 15) || !near(float64(b.Alerts[0].ShortRate), 20) {
		t.Errorf("the fast-burn alert's rates: %v, %v", b.Alerts[0].LongRate, b.Alerts[0].ShortRate)
	}
	if got := slo.Windows(); len(got) != 6 || got[0] != 28*day || got[len(got)-1] != 5*time.Minute {
		t.Errorf("windows %v", got)
	}
}

func TestSLOCheck(t *testing.T) {
	ok := Objective{Name: "a", Objective: 0.99, Window: day, Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: "a"}}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []func(*Objective){
		func(s *Objective) { s.Objective = 99.9 },
		func(s *Objective) { s.Window = 0 },
		func(s *Objective) { s.Indicator.Kind = sources.SLILatency },
		func(s *Objective) { s.Policy = BurnPolicy{{Long: time.Minute, Short: time.Hour, Factor: 2}} },
	} {
		s := ok
		bad(&s)
		if err := s.Check(); err == nil || !strings.Contains(err.Error(), "slo a") {
			t.Errorf("%+v: error %v", s, err)
		}
	}
}

func history(step time.Duration, total []float64, bad []float64) sources.SLIHistory {
	h := sources.SLIHistory{Step: step, Bad: sources.Series{Query: "bad"}, Total: sources.Series{Query: "total"}}
	for i := range total {
		ts := t0.Add(time.Duration(i+1) * step)
		h.Total.Samples = append(h.Total.Samples, sources.Sample{T: ts, V: total[i]})
		h.Bad.Samples = append(h.Bad.Samples, sources.Sample{T: ts, V: bad[i]})
	}
	return h
}

func TestAccountBudgetByHand(t *testing.T) {
	slo := Objective{Name: "api", Objective: 0.999, Window: 10 * time.Hour}
	total := make([]float64, 10)
	bad := make([]float64, 10)
	for i := range total {
		total[i], bad[i] = 100000, 20 // burn 0.2
	}
	// an incident at steps 2-3 and 5 (burn 3), with one quiet step
	// between: one spend of 300+300+20+300 events
	bad[2], bad[3], bad[5] = 300, 300, 300
	// and, three quiet steps on, a one-step blip at step 9, burn 2.5
	bad[9] = 250
	a := AccountBudget(slo, history(time.Hour, total, bad))
	// budget: 0.001 × 1,000,000 = 1000 events
	if len(a.Spends) != 2 {
		t.Fatalf("spends %+v", a.Spends)
	}
	sp := a.Spends[0]
	if !near(sp.Share, 0.92) || !sp.Start.Equal(t0.Add(2*time.Hour)) || !sp.End.Equal(t0.Add(6*time.Hour)) || !near(sp.PeakBurn, 3) {
		t.Errorf("the incident: %+v", sp)
	}
	if !near(a.Spends[1].Share, 0.25) {
		t.Errorf("the blip: %+v", a.Spends[1])
	}
	// left after everything: 1 - (6×20 + 900 + 250)/1000
	last := a.BurnDown.Remaining[len(a.BurnDown.Remaining)-1]
	if !near(float64(last), 1-(6*20+900+250)/1000.0) || !near(float64(a.BurnDown.Remaining[0]), 1-20/1000.0) {
		t.Errorf("burn-down %v", a.BurnDown.Remaining)
	}
}

func TestForecastExhaustionAtAConstantBurn(t *testing.T) {
	slo := Objective{Name: "api", Objective: 0.999, Window: 28 * day}
	// 1000 events a minute, 1% failing, for two hours
	var total, bad []float64
	for range 120 {
		total, bad = append(total, 1000), append(bad, 10)
	}
	recent := history(time.Minute, total, bad)
	windowEvents := 1000.0 * 28 * 24 * 60
	b := Budget{SLO: slo, Total: sources.Float(windowEvents), Covered: 28 * day, Remaining: 0.5}
	f, err := ForecastExhaustion(b, recent, sources.SLIHistory{}, 3*day)
	if err != nil {
		t.Fatal(err)
	}
	// half the budget is 0.5 × 0.001 × 40,320,000 = 20,160 events; ten a
	// minute spend it in 2016 minutes
	// (give or take the minute a rounding error in the sum can cost)
	want := f.Made.Add(2016 * time.Minute)
	if d := f.At.Sub(want); d < 0 || d > time.Minute {
		t.Errorf("forecast %v, want %v", f.At, want)
	}
	// with no noise at all, the interval is the level's least spread:
	// ±5% of the ratio at 80% (z 1.28): 2016 ÷ (1 ± 0.064) minutes
	minutes := func(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }
	z := zOf(ForecastConfidence) * ForecastLevelSpread
	early, late := f.Made.Add(minutes(2016/(1+z))), f.Made.Add(minutes(2016/(1-z)))
	if d := f.Early.Sub(early); d < -2*time.Minute || d > 2*time.Minute {
		t.Errorf("early edge %v, want %v", f.Early, early)
	}
	if d := f.Late.Sub(late); d < -2*time.Minute || d > 2*time.Minute {
		t.Errorf("late edge %v, want %v", f.Late, late)
	}
	if !strings.Contains(f.Method, "flat") {
		t.Errorf("method %q: two hours are no daily season", f.Method)
	}
	if got := f.Describe(); got != "in 33 h 37 min (±2 h 10 min)" {
		t.Errorf("described as %q", got)
	}
	// beyond the horizon: no crossing
	f, _ = ForecastExhaustion(b, recent, sources.SLIHistory{}, day)
	if f.Within() || !strings.Contains(f.Describe(), "not within 24 h") {
		t.Errorf("a day's horizon: %+v %q", f, f.Describe())
	}
	// too little history
	if _, err := ForecastExhaustion(b, history(time.Minute, total[:5], bad[:5]), sources.SLIHistory{}, day); err == nil {
		t.Error("five minutes gave a forecast")
	}
}

func TestForecastFollowsARisingErrorRatio(t *testing.T) {
	slo := Objective{Name: "api", Objective: 0.999, Window: 28 * day}
	// the error ratio climbs 0.0001 a minute from 0: a leak
	var total, bad []float64
	for i := range 120 {
		total, bad = append(total, 1000), append(bad, 1000*0.0001*float64(i))
	}
	b := Budget{SLO: slo, Total: sources.Float(1000.0 * 28 * 24 * 60), Covered: 28 * day, Remaining: 0.5}
	f, err := ForecastExhaustion(b, history(time.Minute, total, bad), sources.SLIHistory{}, 3*day)
	if err != nil {
		t.Fatal(err)
	}
	// on the true line: spend 1000 × Σ_{k=1..n} 0.0001 (119 + k) ≥ 20,160
	// → 0.1 × (119 n + n(n+1)/2) ≥ 20,160 → n ≈ 538 minutes. A flat
	// forecast would say 20,160 ÷ 11.9 ≈ 1694.
	n := 0
	for s := 0.0; s < 20160; {
		n++
		s += 1000 * 0.0001 * float64(119+n)
	}
	want := f.Made.Add(time.Duration(n) * time.Minute)
	if d := f.At.Sub(want); d < -30*time.Minute || d > 30*time.Minute {
		t.Errorf("forecast %v, want about %v (%d min)", f.At.Sub(f.Made), want.Sub(f.Made), n)
	}
}

func TestHoltWintersFollowsADailySeason(t *testing.T) {
	// three days of 5-minute traffic with a daily cycle of ±30%
	m := 288
	var y []float64
	truth := func(i int) float64 { return 1000 * (1 + 0.3*math.Cos(2*math.Pi*float64(i)/float64(m))) }
	for i := range 3 * m {
		y = append(y, truth(i))
	}
	hw := fitHoltWinters(y, m)
	for _, k := range []int{1, 36, 144, 287} {
		got, want := hw.at(k), truth(3*m+k-1)
		if math.Abs(got-want) > 0.02*want {
			t.Errorf("%d steps ahead: %v, want %v", k, got, want)
		}
	}
}

func TestForecastSaturationOfAFillingPool(t *testing.T) {
	// a pool filling by 1% every 30 s from 50%: 95% is 45 steps on from
	// the start, 15 from the last of 31 points
	var use []sources.Sample
	for i := range 31 {
		use = append(use, sources.Sample{T: t0.Add(time.Duration(i) * 30 * time.Second), V: 0.5 + 0.01*float64(i)})
	}
	f, err := ForecastSaturation("pool:payment-db", use, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.In(); got < 7*time.Minute || got > 8*time.Minute {
		t.Errorf("predicted full in %v, want 7.5 min", got)
	}
	// a flat pool never fills
	flat := make([]sources.Sample, 31)
	for i := range flat {
		flat[i] = sources.Sample{T: t0.Add(time.Duration(i) * 30 * time.Second), V: 0.4}
	}
	if f, _ := ForecastSaturation("pool", flat, time.Hour); f.Within() {
		t.Errorf("a flat pool is predicted full: %+v", f)
	}
}

// A budget whose data begins now covers 0 of its window: JSON says 0, for
// the budget and for each alert, while an unread budget says null.
func TestCoveredZeroIsWrittenAndUnreadIsNull(t *testing.T) {
	slo := Objective{Name: "api", Objective: 0.999, Window: 28 * day}
	fields := func(v any) map[string]any {
		t.Helper()
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	fresh := ComputeBudget(slo, reading(10, 0, t0, burns(0, 0, 0, 0, 0)), t0)
	b := fields(fresh)
	if v, ok := b["covered_ns"]; !ok || v != float64(0) {
		t.Errorf("fresh budget: covered_ns %v (present %v), want 0", v, ok)
	}
	for i, a := range b["alerts"].([]any) {
		if v, ok := a.(map[string]any)["covered_ns"]; !ok || v != float64(0) {
			t.Errorf("alert %d: covered_ns %v (present %v), want 0", i, v, ok)
		}
	}
	full := fields(ComputeBudget(slo, reading(10, 0, t0.Add(-28*day), burns(0, 0, 0, 0, 0)), t0))
	if v := full["covered_ns"]; v != float64(28*day) {
		t.Errorf("full budget: covered_ns %v", v)
	}
	if _, ok := full["alerts"].([]any)[0].(map[string]any)["covered_ns"]; ok {
		t.Error("an alert whose long window is covered says covered_ns")
	}
	if v, ok := fields(Unread(slo, t0, "refused"))["covered_ns"]; !ok || v != nil {
		t.Errorf("unread budget: covered_ns %v (present %v), want null", v, ok)
	}
}
