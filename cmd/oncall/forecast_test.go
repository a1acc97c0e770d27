package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/slo"
)

func TestForecast(t *testing.T) {
	r := oncall(t, nil, "", "forecast", "--demo", "connection-leak", "--after", "8m", "-o", "json")
	var rep forecastReport
	if r.code != 0 || json.Unmarshal([]byte(r.out), &rep) != nil {
		t.Fatalf("%+v", r)
	}
	if len(rep.Saturation) != 1 || rep.Saturation[0].What != "payment-api pool:payment-db" || !rep.Saturation[0].Within() || !strings.Contains(rep.Saturation[0].Query, "db_client_connection_count") {
		t.Errorf("saturation forecasts %+v", rep.Saturation)
	}
	if in := rep.Saturation[0].In(); in < 10*time.Minute || in > 40*time.Minute {
		t.Errorf("the pool fills about 20 minutes later; forecast says %s", in)
	}
	quiet := oncall(t, nil, "", "forecast", "--demo", "quiet", "--after", "1h", "--no-color")
	if quiet.code != 0 || !strings.HasPrefix(quiet.out, "✓ nothing is predicted") {
		t.Errorf("quiet: %+v", quiet)
	}
}

func TestForecastOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdForecast)
	if err != nil {
		t.Fatal(err)
	}
	if o.demo != (DemoFlags{Seed: 1, After: 10 * time.Minute}) || o.horizon != slo.ForecastHorizon || o.satHorizon != slo.SaturationHorizon || o.output != "text" || o.watch.on {
		t.Errorf("defaults: %+v", *o)
	}
	o, err = optionsFor(t, NewCmdForecast, "--demo", "connection-leak", "--after", "8m", "--horizon", "24h", "--saturation-horizon", "2h", "-o", "json", "--watch")
	if err != nil {
		t.Fatal(err)
	}
	if o.demo != (DemoFlags{Scenario: "connection-leak", Seed: 1, After: 8 * time.Minute}) || o.horizon != 24*time.Hour || o.satHorizon != 2*time.Hour || o.output != "json" || !o.watch.on {
		t.Errorf("parsed: %+v", *o)
	}
	for _, args := range [][]string{{"--saturation-horizon", "soon"}, {"-o", "markdown"}, {"extra"}} {
		if _, err := optionsFor(t, NewCmdForecast, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

// TestForecastWithDeadPrometheusIsNotCalm: budgets and saturation that
// could not be read are named, and the forecast never says that nothing is
// predicted.
func TestForecastWithDeadPrometheusIsNotCalm(t *testing.T) {
	cfg := deadSLOConfig(t)
	r := oncallAt(t, time.Now, nil, "", "forecast", "--config", cfg, "--no-color")
	if r.code != exitIncomplete || strings.Contains(r.out, "nothing is predicted") || !strings.HasPrefix(r.out, "? unread: a: connection refused\n") {
		t.Errorf("blind forecast: exit %d\n%s", r.code, r.out)
	}
	r = oncallAt(t, time.Now, nil, "", "forecast", "--config", cfg, "-o", "json")
	var rep forecastReport
	if r.code != exitIncomplete || json.Unmarshal([]byte(r.out), &rep) != nil || len(rep.Unread) != 2 || !strings.Contains(rep.Unread[0], "connection refused") ||
		!strings.HasPrefix(rep.Unread[1], "saturation: ") {
		t.Errorf("json: %+v", r)
	}
}

// TestForecastNamesSpentBudgets: two hours into the incident the checkout
// and payments budgets are spent; forecast lists them first, out now, and
// -o json names them, rather than calling the fleet calm.
func TestForecastNamesSpentBudgets(t *testing.T) {
	demo := []string{"forecast", "--demo", "db-pool-exhaustion", "--after", "2h"}
	r := oncall(t, nil, "", append(demo, "--no-color")...)
	lines := strings.Split(r.out, "\n")
	if r.code != 0 || len(lines) < 3 || !strings.HasPrefix(lines[1], "✗ checkout-availability budget exhausted  out now") ||
		!strings.HasPrefix(lines[2], "✗ payments-availability budget exhausted  out now") || strings.Contains(r.out, "nothing is predicted") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	r = oncall(t, nil, "", append(demo, "-o", "json")...)
	var rep forecastReport
	if r.code != 0 || json.Unmarshal([]byte(r.out), &rep) != nil || strings.Join(rep.Exhausted, " ") != "checkout-availability payments-availability" {
		t.Errorf("json exhausted %q: %+v", rep.Exhausted, r)
	}
}
