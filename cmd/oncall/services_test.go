package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServicesFromTheDemo lists the scenario's services as the overview
// judges them: the failing ones first, peers from their callers' calls.
func TestServicesFromTheDemo(t *testing.T) {
	demo := []string{"services", "--demo", "db-pool-exhaustion"}
	r := oncall(t, nil, "", demo...)
	lines := strings.Split(r.out, "\n")
	if r.code != 0 || len(lines) < 10 || !strings.HasPrefix(lines[0], "   SERVICE") {
		t.Fatalf("%+v", r)
	}
	if !strings.HasPrefix(lines[1], "✗  ") || !strings.Contains(lines[1], "failing") || !strings.Contains(r.out, "payment-db (peer)") ||
		!strings.Contains(r.out, "simulator: db-pool-exhaustion") {
		t.Errorf("not the worst first, or no peers:\n%s", r.out)
	}
	js := oncall(t, nil, "", append(demo, "--sort", "name", "-o", "json")...)
	var s struct {
		Sort     string `json:"sort"`
		Services []struct {
			Service    string   `json:"service"`
			Health     string   `json:"health"`
			Rate       *float64 `json:"rate_per_second"`
			ErrorRatio *float64 `json:"error_ratio"`
			P99        *float64 `json:"p99_seconds"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(js.out), &s); js.code != 0 || err != nil || s.Sort != "name" || len(s.Services) < 10 {
		t.Fatalf("json: %v %+v", err, js)
	}
	for i, row := range s.Services {
		if i > 0 && row.Service < s.Services[i-1].Service {
			t.Errorf("--sort name: %s after %s", row.Service, s.Services[i-1].Service)
		}
		if row.Service == "payment-api" && (row.Health != "failing" || row.Rate == nil || *row.ErrorRatio < 0.1 || row.P99 == nil) {
			t.Errorf("payment-api: %+v", row)
		}
	}
	for args, want := range map[string]string{"--sort size": `--sort "size"`, "--window 1m": "--window 1m", "extra": "unknown command"} {
		if r := oncall(t, nil, "", append(demo, strings.Fields(args)...)...); r.code != 2 || !strings.Contains(r.err, want) {
			t.Errorf("%s: exit %d %q, want 2 and %q", args, r.code, r.err, want)
		}
	}
}

// TestServicesWithDeadMetricsSaySoAndExit3: a Prometheus that refuses
// connections is not an empty, healthy fleet.
func TestServicesWithDeadMetricsSaySoAndExit3(t *testing.T) {
	cfg := writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: \"http://127.0.0.1:1\", timeout: 2s, retries: 0}\n")
	r := oncall(t, nil, "", "services", "--config", cfg)
	if r.code != 3 || !strings.HasPrefix(r.err, "oncall: the services' metrics could not be read") || r.out != "" {
		t.Fatalf("%+v", r)
	}
	if r := oncall(t, nil, "", "services", "--config", writeFile(t, "c.yaml", "datasources: {}\n")); r.code != 2 || !strings.Contains(r.err, "no prometheus datasource") {
		t.Errorf("without prometheus: %+v", r)
	}
}

// TestServicesWithoutTheServiceGraphSayTheyAreIncomplete: a Prometheus
// that answers RED but fails the service-graph queries lists the
// services, says first that the peers are missing, and exits 3.
func TestServicesWithoutTheServiceGraphSayTheyAreIncomplete(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query_range" {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"error","errorType":"unavailable","error":"service graph down"}`))
			return
		}
		w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"service":"checkout-api"},"values":[[1795575540,"12"],[1795575600,"12"]]}]}}`))
	}))
	t.Cleanup(srv.Close)
	cfg := writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: "+srv.URL+", retries: 0}\n")
	r := oncall(t, nil, "", "services", "--config", cfg)
	if r.code != 3 || !strings.HasPrefix(r.err, "oncall: incomplete: the peers without metrics of their own were not read") ||
		!strings.Contains(r.err, "service graph down") || !strings.Contains(r.out, "checkout-api") {
		t.Fatalf("%+v", r)
	}
}

func TestServicesOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdServices)
	if err != nil {
		t.Fatal(err)
	}
	if o.Factory == nil || o.output != "text" || o.sortBy != "health" || o.window != 30*time.Minute || o.demo != (DemoFlags{Seed: 1, After: 10 * time.Minute}) {
		t.Errorf("defaults: %+v", *o)
	}
	if o, err = optionsFor(t, NewCmdServices, "--sort", "p99", "--window", "1h", "-o", "json", "--demo", "retry-storm", "--after", "5m"); err != nil ||
		o.sortBy != "p99" || o.window != time.Hour || o.output != "json" || o.demo != (DemoFlags{Scenario: "retry-storm", Seed: 1, After: 5 * time.Minute}) {
		t.Errorf("parsed: %v %+v", err, o)
	}
}

// TestCockpitNamesServicesAsItsTextCommand: the overview's services panel
// has a text command, and the cockpit says so off a terminal.
func TestCockpitNamesServicesAsItsTextCommand(t *testing.T) {
	cfg := writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: \"http://127.0.0.1:1\"}\n")
	if r := oncall(t, nil, "", "--config", cfg); r.code != 2 || !strings.Contains(r.err, "oncall services     services by health") {
		t.Fatalf("%+v", r)
	}
}
