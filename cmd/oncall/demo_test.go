package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
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
	var s present.Demo
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

// demoOptionsFor parses args as demo's flags, running nothing.
func demoOptionsFor(t *testing.T, args ...string) (*demoOptions, error) {
	t.Helper()
	var got *demoOptions
	cmd := NewCmdDemo(testFactory(nil), func(_ context.Context, o *demoOptions) error { got = o; return nil })
	markUsageErrors(cmd) // as the root does: bad flags are usage errors
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestDemoOptions(t *testing.T) {
	o, err := demoOptionsFor(t)
	if err != nil {
		t.Fatal(err)
	}
	// the defaults: the retry storm replayed in real time in the cockpit
	if o.scenario != "retry-storm" || o.speed != "1" || o.seed != 1 || o.output != "text" || o.trafficCycle != cycleScenario ||
		o.text || o.autopilot || o.forDur != 0 || o.cockpit.refresh != 2*time.Second || o.autopilotEvery != 20*time.Second || o.pushEvery != 5*time.Second {
		t.Errorf("defaults: %+v", *o)
	}
	if o.Factory == nil {
		t.Error("the options lost the factory")
	}
	o, err = demoOptionsFor(t, "--scenario", "db-pool-exhaustion", "--speed", "max", "--seed", "7", "--for", "5m", "-o", "json",
		"--autopilot", "--autopilot-interval", "1m", "--refresh", "500ms", "--theme", "light", "--pane")
	if err != nil {
		t.Fatal(err)
	}
	if o.scenario != "db-pool-exhaustion" || o.speed != "max" || o.seed != 7 || o.forDur != 5*time.Minute || o.output != "json" ||
		!o.autopilot || o.autopilotEvery != time.Minute || o.cockpit != (cockpitOptions{refresh: 500 * time.Millisecond, ackFor: 30 * time.Minute, theme: "light", pane: true}) {
		t.Errorf("parsed: %+v", *o)
	}
	o, err = demoOptionsFor(t, "--serve", "127.0.0.1:9464", "--otlp-endpoint", "http://otel:4318", "--loki-url", "http://loki:3100", "--push-interval", "1s", "--traffic-cycle", "wall")
	if err != nil {
		t.Fatal(err)
	}
	if o.serve != "127.0.0.1:9464" || o.otlp != "http://otel:4318" || o.loki != "http://loki:3100" || o.pushEvery != time.Second || o.trafficCycle != cycleWall {
		t.Errorf("served: %+v", *o)
	}
	for _, args := range [][]string{{"--speed"}, {"--seed", "one"}, {"--for", "soon"}, {"-o", "yaml"}, {"extra"}, {"--demo", "retry-storm"}} {
		if _, err := demoOptionsFor(t, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

func TestDemoBadFlags(t *testing.T) {
	for args, want := range map[string]string{
		"demo --speed fast":                   `--speed "fast"`,
		"demo --scenario nope":                `unknown scenario "nope"`,
		"demo --otlp-endpoint http://x":       "need --serve",
		"demo --topology /nonexistent/t.yaml": "/nonexistent/t.yaml",
		"demo --traffic-cycle noon":           `--traffic-cycle "noon"`,
		"demo --traffic-cycle wall":           "wall needs --serve",
		"demo --services 20":                  "can only grow",
		"demo --services -1":                  "can only grow",
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

// TestDemoServeSameAtEveryHour: `demo --serve` starts the fleet at the
// wall clock's time, and the simulator's traffic follows a daily cycle.
// The served scenario must still be the one the replay shows, as strong
// at 03:00 as at 20:00 UTC and in any time zone: served at 09:00 UTC,
// payment-api failed 11% four minutes after the onset, the replay 46%.
func TestDemoServeSameAtEveryHour(t *testing.T) {
	const scenario = "db-pool-exhaustion"
	errorRatios := func(t *testing.T, o *demoOptions, now time.Time) map[string]float64 {
		t.Helper()
		opts, err := demoSimOptions(o, now)
		if err != nil {
			t.Fatal(err)
		}
		fleet, err := sim.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		fleet.AdvanceTo(fleet.Onset().Add(4 * time.Minute))
		s, err := demoSnapshot(fleet)
		if err != nil {
			t.Fatal(err)
		}
		ratios := map[string]float64{}
		for _, sv := range s.Services {
			ratios[sv.Service] = sv.ErrorRatio
		}
		return ratios
	}
	replay := errorRatios(t, &demoOptions{scenario: scenario, seed: 1}, time.Time{}) // the replay has no wall clock
	if replay["payment-api"] < 0.4 {
		t.Fatalf("the replay's payment-api fails %.1f%%, want the documented ~47%%", 100*replay["payment-api"])
	}
	cycle := NewCmdDemo(testFactory(nil), nil).Flag("traffic-cycle").DefValue
	for _, now := range []time.Time{
		time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 6, 9, 0, 41, 0, time.UTC), // off the 15 s grid
		time.Date(2026, 12, 6, 20, 0, 13, 0, time.UTC).In(time.FixedZone("JST", 9*3600)),
	} {
		t.Run(now.Format("15:04:05 MST"), func(t *testing.T) {
			served := errorRatios(t, &demoOptions{serve: "127.0.0.1:9464", scenario: scenario, seed: 1, trafficCycle: cycle}, now)
			for svc, want := range replay {
				if got := served[svc]; got != want {
					t.Errorf("%s fails %.2f%% when served from %s, %.2f%% in the replay", svc, 100*got, now, 100*want)
				}
			}
		})
	}
	// the wall clock's cycle, asked for, does make the morning milder
	morning := errorRatios(t, &demoOptions{serve: "127.0.0.1:9464", scenario: scenario, seed: 1, trafficCycle: cycleWall}, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	if morning["payment-api"] >= replay["payment-api"]/2 {
		t.Errorf("--traffic-cycle wall at 09:00 UTC: payment-api fails %.1f%%, the replay %.1f%%", 100*morning["payment-api"], 100*replay["payment-api"])
	}
}
