package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

func TestDemoList(t *testing.T) {
	r := oncall(t, nil, "", "demo", "--list")
	for _, s := range []string{"retry-storm", "db-pool-exhaustion", "bad-deploy", "crash-loop", "cache-miss-storm", "quiet"} {
		if r.code != 0 || !strings.Contains(r.out, s) {
			t.Fatalf("--list lacks %s: %d %s %s", s, r.code, r.out, r.err)
		}
	}
}

func TestDemoShowsTheIncident(t *testing.T) {
	r := oncall(t, nil, "", "demo", "--scenario", "retry-storm", "--speed", "max", "--for", "10m", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	// NDJSON: every line is one whole summary
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	var s demoSnapshot
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("line %q: %v", l[:min(80, len(l))], err)
		}
	}
	if s.Scenario != "retry-storm" || s.SimTime.Sub(s.Onset) != 8*time.Minute {
		t.Errorf("snapshot at %s, onset %s", s.SimTime, s.Onset)
	}
	if len(s.Services) == 0 || s.Services[0].ErrorRatio < 0.5 || !strings.Contains(s.Services[0].Source, "traces_spanmetrics_calls_total") {
		t.Errorf("worst service %+v", s.Services[:1])
	}
	paged := false
	for _, a := range s.Alerts {
		paged = paged || (a.Name == "ErrorBudgetBurn" && a.Severity == "page")
	}
	if !paged {
		t.Errorf("no page after 8 minutes of retry storm: %+v", s.Alerts)
	}
	text := oncall(t, nil, "", "demo", "--scenario", "db-pool-exhaustion", "--speed", "max", "--for", "6m", "--no-color")
	for _, want := range []string{"payment-api", "ConnectionPoolExhausted", "FIRING", "onset +4m0s"} {
		if !strings.Contains(text.out, want) {
			t.Errorf("text summary lacks %q:\n%s", want, text.out)
		}
	}
}

func TestDemoBadFlags(t *testing.T) {
	for args, want := range map[string]string{
		"demo --speed fast":                   `--speed "fast"`,
		"demo --scenario nope":                `unknown scenario "nope"`,
		"demo --otlp-endpoint http://x":       "need --serve",
		"demo --topology /nonexistent/t.yaml": "/nonexistent/t.yaml",
	} {
		r := oncall(t, nil, "", strings.Fields(args)...)
		if r.code == 0 || !strings.Contains(r.err, want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", args, r.code, r.err, want)
		}
	}
}

// TestDemoServeScrapedByRealPrometheus runs `oncall demo --serve`, lets a
// real Prometheus scrape it, and reads the fleet back through oncall's own
// Prometheus client, as a user pointing oncall at that Prometheus would.
func TestDemoServeScrapedByRealPrometheus(t *testing.T) {
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		var out, errOut strings.Builder
		e := &env{IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now}
		code := run(ctx, e, []string{"demo", "--serve", addr, "--scenario", "db-pool-exhaustion", "--speed", "60"})
		done <- result{out.String(), errOut.String(), code}
	}()
	defer func() {
		cancel()
		if r := <-done; r.code != 0 {
			t.Errorf("demo --serve exit %d: %s", r.code, r.err)
		}
	}()
	waitFor(t, "http://"+addr+"/metrics")
	promURL := testenv.Prometheus(t, testenv.PrometheusOptions{Scrape: []string{addr}})
	c, err := prometheus.New(promURL, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	// at 60x the onset comes two wall seconds in; give Prometheus scrapes on both sides
	deadline := time.Now().Add(60 * time.Second)
	for {
		reds, err := c.RED(context.Background(), []string{"payment-api", "checkout-api"}, sources.TimeRange{Start: time.Now().Add(-time.Minute), End: time.Now()}, 5*time.Second)
		edges, gerr := c.ServiceGraph(context.Background(), time.Now(), time.Minute)
		ok := err == nil && gerr == nil && len(reds) == 2
		var pay sources.RED
		for _, r := range reds {
			if r.Service == "payment-api" {
				pay = r
			}
		}
		errorsSeen := false
		if n := len(pay.Errors.Samples); ok && n > 0 {
			errorsSeen = pay.Errors.Samples[n-1].V > 0.2*pay.Requests.Samples[n-1].V
		}
		dbEdge := false
		for _, e := range edges {
			dbEdge = dbEdge || (e.Client == "payment-api" && e.Server == "payment-db" && e.RequestRate > 0)
		}
		if ok && errorsSeen && dbEdge {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never showed payment-api failing: reds %+v edges %d err %v %v", reds, len(edges), err, gerr)
		}
		time.Sleep(time.Second)
	}
}

// waitFor waits for a server to answer 200. The demo simulates its
// warm-up before it listens, which takes seconds under the race detector
// on two busy cores; a minute is the patience of CI, not of a user.
func waitFor(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}
