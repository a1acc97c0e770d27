package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

// slothRule records the 1h error ratio of orders as Sloth would, so that
// the recorded path is read where it exists (over an hour, because the
// backfilled data ends as the test starts).
const slothRule = `groups:
  - name: sloth-slo-sli-recordings-orders-requests-availability
    interval: 1s
    rules:
      - record: slo:sli_error:ratio_rate1h
        expr: sum(rate(http_requests_total{job="orders",code=~"5.."}[1h])) / sum(rate(http_requests_total{job="orders"}[1h]))
        labels: {sloth_id: orders-requests-availability, sloth_service: orders, sloth_slo: requests-availability}
`

// The check on a real Prometheus: a month of history seeded with
// promtool, budgets read by the built command and checked against PromQL
// the test runs itself and against the data's own truth.
func TestSLOsOnAMonthOfRealPrometheusHistory(t *testing.T) {
	end := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	day := 24 * time.Hour
	// the incident at noon UTC about nine days back, whatever the hour
	// now: its spend is told by the day it began, and one that began near
	// midnight was dated by the minute before it
	incident := end.Add(-9 * day).Truncate(day).Add(12 * time.Hour)
	h := testenv.SLOHistory{
		Job: "orders", End: end, Span: 30 * day, Step: time.Minute, RPS: 10, ErrorRatio: 0.0002,
		IncidentStart: incident, IncidentEnd: incident.Add(2 * time.Hour), IncidentRatio: 0.08,
		ResetAt: end.Add(-15 * day), GapStart: end.Add(-20 * day), GapEnd: end.Add(-20*day + 6*time.Hour),
		Fast: map[string]float64{"0.1": 0.6, "0.25": 0.97, "0.5": 0.995, "1": 0.999},
	}
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: h.OpenMetrics(), Rules: slothRule})
	cfg := writeFile(t, "oncall.yaml", fmt.Sprintf(`datasources:
  prometheus: {url: %q}
currency: EUR
slos:
  - name: orders-availability
    service: orders
    objective: 99.9
    window: 30d
    errors: http_requests_total{job="orders",code=~"5.."}
    total: http_requests_total{job="orders"}
    value_per_minute_down: 100
  - name: orders-week
    service: orders
    objective: 99
    window: 7d
    errors: http_requests_total{job="orders",code=~"5.."}
    total: http_requests_total{job="orders"}
  - name: orders-latency
    service: orders
    indicator: latency
    objective: 95
    window: 30d
    latency_threshold: 300ms
    histogram: http_request_duration_seconds_bucket{job="orders"}
  - name: requests-availability
    service: orders
    indicator: raw
    objective: 99.9
    window: 30d
    error_query: sum(rate(http_requests_total{job="orders",code=~"5.."}[{{.Window}}]))
    total_query: sum(rate(http_requests_total{job="orders"}[{{.Window}}]))
    recorded: {by: sloth, id: orders-requests-availability}
  - name: ghost-availability
    service: ghost
    objective: 99.9
    window: 30d
    errors: http_requests_total{job="ghost",code=~"5.."}
    total: http_requests_total{job="ghost"}
`, url))
	// wait for the Sloth recording rule's first evaluations
	c, err := prometheus.New(url, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var at time.Time
	testenv.WaitFor(t, time.Minute, func() bool {
		at = time.Now().Truncate(time.Second)
		s, err := c.Query(ctx, `slo:sli_error:ratio_rate1h`, at)
		return err == nil && len(s) == 1
	})
	now := func() time.Time { return at }
	r, by := budgetsOf(t, oncallAt(t, now, nil, "", "slo", "--config", cfg, "-o", "json"))
	// what PromQL says, asked by the test itself
	promql := func(q string) float64 {
		t.Helper()
		s, err := c.Query(ctx, q, at)
		if err != nil || len(s) != 1 {
			t.Fatalf("%s: %v %v", q, s, err)
		}
		return s[0].Samples[0].V
	}
	closeTo := func(what string, got, want, rel float64) {
		t.Helper()
		if math.Abs(got-want) > rel*math.Abs(want) {
			t.Errorf("%s: %v, want %v (±%g%%)", what, got, want, 100*rel)
		}
	}

	t.Run("availability over a month with a reset, a gap and an incident", func(t *testing.T) {
		b := by["orders-availability"]
		if b.Err != "" || b.Partial {
			t.Fatalf("%+v", b)
		}
		ratio := promql(`sum(increase(http_requests_total{job="orders",code=~"5.."}[30d])) / sum(increase(http_requests_total{job="orders"}[30d]))`)
		closeTo("SLI against PromQL", float64(b.SLI), 1-ratio, 1e-9)
		total, bad := h.Events(at.Add(-30*day), at)
		closeTo("events against the data's truth", float64(b.Total), total, 0.01)
		closeTo("bad events against the data's truth", float64(b.Bad), bad, 0.02)
		// 0.02% errors and a 2-hour incident at 8%: 20% + 2h×8%/(30d×0.1%)
		wantLeft := 1 - (bad/total)/0.001
		closeTo("budget left", float64(b.Remaining), wantLeft, 0.02)
		closeTo("minutes left", float64(b.MinutesLeft), wantLeft*0.001*30*24*60, 0.02)
		if b.Status != slo.StatusDegraded && wantLeft < slo.LowBudget {
			t.Errorf("status %q", b.Status)
		}
		if !strings.Contains(b.Path, "increase()") || len(b.Queries) != 2 {
			t.Errorf("path %q queries %v", b.Path, b.Queries)
		}
		// the data stopped two minutes ago: no burn over 5m is undefined,
		// the hour's is the baseline
		if br := b.BurnOver(time.Hour); !br.Defined() || math.Abs(float64(br)-0.2) > 0.05 {
			t.Errorf("1h burn %v, want 0.2", br)
		}
	})

	t.Run("a week holds the incident too", func(t *testing.T) {
		b := by["orders-week"]
		total, bad := h.Events(at.Add(-7*day), at)
		_ = total
		if b.Err != "" || math.Abs(float64(b.Remaining)-(1-(bad/total)/0.01)) > 0.01 {
			t.Errorf("%+v, want %v left", b, 1-(bad/total)/0.01)
		}
	})

	t.Run("latency snapped to a bucket and said", func(t *testing.T) {
		b := by["orders-latency"]
		if b.Err != "" || b.Threshold != 250*time.Millisecond {
			t.Fatalf("threshold %v (%s)", b.Threshold, b.Err)
		}
		// 97% under 250ms against a 95% objective: 3% of 5% spent
		closeTo("latency SLI", float64(b.SLI), 0.97, 0.001)
		closeTo("latency budget left", float64(b.Remaining), 1-0.03/0.05, 0.01)
	})

	t.Run("sloth recording rules where they run", func(t *testing.T) {
		b := by["requests-availability"]
		if b.Err != "" || !strings.Contains(b.Path, "sloth recording rules for 1h") {
			t.Fatalf("path %q (%s) burns %+v", b.Path, b.Err, b.Burns)
		}
		for _, br := range b.Burns {
			if br.Recorded != (br.Window == time.Hour) {
				t.Errorf("window %s recorded %v", br.Window, br.Recorded)
			}
		}
		closeTo("raw SLI", float64(b.SLI), float64(by["orders-availability"].SLI), 1e-6)
	})

	t.Run("an SLO without data greys alone", func(t *testing.T) {
		b := by["ghost-availability"]
		if b.Status != slo.StatusNoData || b.SLI.Defined() || b.Remaining.Defined() {
			t.Errorf("ghost: %+v", b)
		}
		if !strings.Contains(r.out, `"sli": null`) {
			t.Error("an undefined SLI is not null in the JSON")
		}
	})

	t.Run("text", func(t *testing.T) {
		r := oncallAt(t, now, map[string]string{"NO_COLOR": "1"}, "", "slo", "--config", cfg)
		for _, want := range []string{"orders-availability", "? no traffic", "orders-latency"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("missing %q:\n%s", want, r.out)
			}
		}
		r = oncallAt(t, now, map[string]string{"NO_COLOR": "1"}, "", "slo", "show", "orders-availability", "--config", cfg)
		for _, want := range []string{"worth", "EUR", "SPENT BY", "over 1h and 5m > 14.4×", "increase(http_requests_total{job=\"orders\""} {
			if !strings.Contains(r.out, want) {
				t.Errorf("show is missing %q:\n%s", want, r.out)
			}
		}
		// the incident nine days ago is what spent the budget
		incident := h.IncidentStart.UTC().Format("2006-01-02")
		if !strings.Contains(r.out, incident) {
			t.Errorf("the incident of %s is not among what spent the budget:\n%s", incident, r.out)
		}
	})

	t.Run("gate", func(t *testing.T) {
		left := float64(by["orders-availability"].Remaining)
		pass := oncallAt(t, now, nil, "", "slo", "gate", "--config", cfg, "--min-budget", fmt.Sprintf("%.0f%%", 100*left-5), "--slo", "orders-availability")
		if pass.code != 0 || !strings.Contains(pass.out, "pass") {
			t.Errorf("gate under the budget left: %+v", pass)
		}
		block := oncallAt(t, now, nil, "", "slo", "gate", "--config", cfg, "--min-budget", fmt.Sprintf("%.0f%%", 100*left+5), "--slo", "orders-availability", "--slo", "ghost-availability")
		if block.code != 1 || !strings.Contains(block.out, "orders-availability has") || !strings.Contains(block.out, "deploys blocked") || strings.Count(block.out, "\n") != 1 {
			t.Errorf("gate over the budget left: %+v", block)
		}
		if !strings.Contains(block.err, "ghost-availability has no traffic") {
			t.Errorf("the ghost's note: %q", block.err)
		}
	})
}

// A fresh stack: ten minutes of data under 28-day windows gives partial
// budgets, correct for what there is.
func TestSLOsOnTenMinutesOfPrometheus(t *testing.T) {
	end := time.Now().Add(-30 * time.Second).Truncate(15 * time.Second)
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: testenv.FleetOpenMetrics(end, 10*time.Minute)})
	cfg := writeFile(t, "oncall.yaml", fmt.Sprintf(`datasources:
  prometheus: {url: %q}
slos:
  - {name: checkout-availability, service: checkout, objective: 99, window: 28d}
  - {name: web-availability, service: web-gateway, objective: 90, window: 28d}
  - {name: hotrod-availability, service: frontend, objective: 99.9, window: 28d}
`, url))
	// read half a minute after the data ends, however long Prometheus took
	// to start: the covered span is then the same on a slow machine
	at := end.Add(30 * time.Second)
	_, by := budgetsOf(t, oncallAt(t, func() time.Time { return at }, nil, "", "slo", "--config", cfg, "-o", "json"))
	for _, c := range []struct {
		name           string
		rps, errs, obj float64
	}{{"checkout-availability", 10, 0.5, 0.99}, {"web-availability", 20, 0.5, 0.9}} {
		b := by[c.name]
		if b.Err != "" || !b.Partial || b.Covered < 8*time.Minute || b.Covered > 11*time.Minute {
			t.Errorf("%s: partial %v covered %v (%s)", c.name, b.Partial, b.Covered, b.Err)
		}
		want := 1 - (c.errs/c.rps)/(1-c.obj)
		if math.Abs(float64(b.Remaining)-want) > 0.01 {
			t.Errorf("%s: %v left, want %v", c.name, b.Remaining, want)
		}
	}
	if b := by["hotrod-availability"]; b.Status != slo.StatusNoData {
		t.Errorf("an SLO whose service has no data: %+v", b)
	}
	text := oncallAt(t, func() time.Time { return at }, map[string]string{"NO_COLOR": "1"}, "", "slo", "--config", cfg)
	if !strings.Contains(text.out, "partial: 10 min of 28 days") && !strings.Contains(text.out, "partial: 9 min of 28 days") {
		t.Errorf("no partial note:\n%s", text.out)
	}
}

// budgetsOf reads `oncall slo -o json` into its budgets by name.
func budgetsOf(t *testing.T, r result) (result, map[string]slo.Budget) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var rep sloReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	by := map[string]slo.Budget{}
	for _, b := range rep.Budgets {
		by[b.SLO.Name] = b
	}
	return r, by
}
