package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/httpx"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

// TestSourcesWireChangesAndResources: with Prometheus configured the set
// has resources and changes; with Grafana's annotations too, the changes
// are both merged, and a Prometheus that reports none does not hide the
// annotations; the token goes to Grafana and nowhere in the errors.
func TestSourcesWireChangesAndResources(t *testing.T) {
	// a Prometheus whose every query answers no series
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
	}))
	t.Cleanup(prom.Close)
	grafana := fakeGrafana(t, "glsa_t0ken", `[{"id":41,"time":1772355600000,"timeEnd":1772355600000,"text":"deploy","tags":["deploy","service:checkout","version:2.0.1"],"dashboardUID":"","panelId":0}]`)
	load := func(src string) sources.Set {
		t.Helper()
		cfg, err := config.Parse("config.yaml", []byte(src), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		b, err := newBackends(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b.sources()
	}

	s := load(fmt.Sprintf("datasources:\n  prometheus: {url: %s}\n", prom.URL))
	if s.Resources == nil || s.Changes == nil {
		t.Fatalf("prometheus alone: resources %v, changes %v", s.Resources, s.Changes)
	}
	r := sources.TimeRange{Start: time.Unix(1772355000, 0), End: time.Unix(1772356000, 0)}
	if _, err := s.Resources.Saturation(context.Background(), nil, r, time.Minute); !errors.Is(err, sources.ErrNotReported) {
		t.Errorf("a Prometheus with no pools: %v, want ErrNotReported", err)
	}
	if _, err := s.Changes.Changes(context.Background(), r); !errors.Is(err, sources.ErrNotReported) {
		t.Errorf("a Prometheus with no deploy series: %v, want ErrNotReported", err)
	}

	s = load(fmt.Sprintf("datasources:\n  prometheus: {url: %s}\ngrafana: {url: %s, bearer_token: glsa_t0ken, annotations: {}}\n", prom.URL, grafana.URL))
	got, err := s.Changes.Changes(context.Background(), r)
	if err != nil || len(got) != 1 || got[0].Service != "checkout" || got[0].Version != "2.0.1" || got[0].Source != "grafana annotation 41" {
		t.Errorf("merged changes: %+v, %v", got, err)
	}

	s = load(fmt.Sprintf("grafana: {url: %s, bearer_token: glsa_wr0ng, annotations: {}}\n", grafana.URL))
	if s.Resources != nil {
		t.Errorf("resources without prometheus: %v", s.Resources)
	}
	_, err = s.Changes.Changes(context.Background(), r)
	if sources.StatusOf(err) != http.StatusUnauthorized || strings.Contains(err.Error(), "glsa_wr0ng") {
		t.Errorf("refused token: %v", err)
	}
}

// fakeGrafana answers its health, and the annotations to the token only;
// anything else is refused as Grafana refuses a bad API key.
func fakeGrafana(t *testing.T, token, annotations string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/health":
			fmt.Fprint(w, `{"database":"ok","version":"11.3.0"}`)
		case r.Header.Get("Authorization") != "Bearer "+token:
			http.Error(w, `{"message":"invalid API key"}`, http.StatusUnauthorized)
		default:
			fmt.Fprint(w, annotations)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFailingPresetsLeaveREDsBreakerShut: the presets' queries go through
// a client of their own, so a Prometheus that answers every preset with
// 503 (a heavy kube query timing out on a big cluster) opens the presets'
// breaker and not the one RED and SLOs go through; -v logs both clients.
func TestFailingPresetsLeaveREDsBreakerShut(t *testing.T) {
	var red, presets atomic.Int32
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.FormValue("query"), "traces_spanmetrics") {
			red.Add(1)
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
			return
		}
		presets.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"status":"error","errorType":"unavailable","error":"query timed out"}`)
	}))
	t.Cleanup(prom.Close)
	cfg, err := config.Parse("config.yaml", []byte("datasources:\n  prometheus: {url: "+prom.URL+", retries: 0}\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	b, err := newBackends(cfg, &httpx.RequestLog{W: &log})
	if err != nil {
		t.Fatal(err)
	}
	s := b.sources()
	ctx := context.Background()
	r := sources.TimeRange{Start: time.Unix(1772355000, 0), End: time.Unix(1772356000, 0)}
	for range 6 { // more than the breaker's five failures in a row
		if _, err := s.Changes.Changes(ctx, r); err == nil {
			t.Fatal("changes from a Prometheus failing every preset: no error")
		}
		if _, err := s.Resources.Saturation(ctx, nil, r, time.Minute); err == nil {
			t.Fatal("saturation from a Prometheus failing every preset: no error")
		}
	}
	if presets.Load() < 5 {
		t.Fatalf("%d preset queries reached the server; the test needs the breaker's five", presets.Load())
	}
	if _, err := s.Changes.Changes(ctx, r); !errors.Is(err, httpx.ErrCircuitOpen) {
		t.Errorf("the presets' breaker after %d failures: %v, want it open", presets.Load(), err)
	}
	if _, err := b.Prometheus.QueryRange(ctx, `sum(rate(traces_spanmetrics_calls_total[5m]))`, r, time.Minute); err != nil || red.Load() != 1 {
		t.Errorf("RED after the presets failed: %v (%d RED queries served)", err, red.Load())
	}
	for _, backend := range []string{"oncall: http prometheus POST", "oncall: http " + presetsBackend + " POST"} {
		if !strings.Contains(log.String(), backend) {
			t.Errorf("-v logs no line %q:\n%s", backend, log.String())
		}
	}
}

// TestSplitConcurrency: the RED client and the presets' client together
// send no more than the datasource's max_concurrency, the presets a
// quarter of it, each at least one.
func TestSplitConcurrency(t *testing.T) {
	for _, c := range []struct{ limit, red, presets int }{
		{0, 6, 2}, // the default, 8
		{1, 1, 1},
		{2, 1, 1},
		{4, 3, 1},
		{8, 6, 2},
		{64, 48, 16},
	} {
		if red, presets := splitConcurrency(c.limit); red != c.red || presets != c.presets {
			t.Errorf("splitConcurrency(%d) = %d, %d; want %d, %d", c.limit, red, presets, c.red, c.presets)
		}
	}
}

// TestIncidentKeepsREDWhenThePresetsFail: behind a proxy that answers
// every preset query 503 (RED, the service graph and SLOs go through to a
// real Prometheus), the incident has the same verdict as with the presets
// off; what it lacks is the changes and the saturation, named as missing
// (a backend that fails is missing evidence, so it exits 3), never RED.
func TestIncidentKeepsREDWhenThePresetsFail(t *testing.T) {
	end := time.Now().Add(-30 * time.Second).Truncate(15 * time.Second)
	target, err := neturl.Parse(testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: testenv.FleetOpenMetrics(end, 45*time.Minute)}))
	if err != nil {
		t.Fatal(err)
	}
	pass := httputil.NewSingleHostReverseProxy(target)
	var failed atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := neturl.ParseQuery(string(body))
		q := form.Get("query") + r.URL.Query().Get("query")
		if strings.HasPrefix(r.URL.Path, "/api/v1/query") && !strings.Contains(q, "traces_") {
			failed.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":"error","errorType":"unavailable","error":"query timed out"}`)
			return
		}
		pass.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	at := end.Add(30 * time.Second)
	run := func(conventions string) (incident struct {
		Summary string
		Chain   []struct{ Service, What string }
		Missing []struct{ What, Why string }
	}, code int) {
		t.Helper()
		cfg := writeFile(t, "oncall.yaml", "datasources:\n  prometheus: {url: "+front.URL+"}\n"+conventions)
		r := oncallAt(t, func() time.Time { return at }, nil, "", "incident", "--config", cfg, "--at", at.Format(time.RFC3339), "-o", "json")
		if err := json.Unmarshal([]byte(r.out), &incident); err != nil {
			t.Fatalf("%v, exit %d\n%s%s", err, r.code, r.out, r.err)
		}
		return incident, r.code
	}
	without, code := run("conventions:\n  changes: {presets: []}\n  resources: {presets: []}\n")
	if code != 0 || strings.Contains(fmt.Sprint(without.Missing), "metrics") || failed.Load() != 0 {
		t.Fatalf("without presets: exit %d, %+v (%d failed queries)", code, without, failed.Load())
	}
	with, code := run("")
	var down []string
	for _, m := range with.Missing {
		// the presets' breaker opens too: their own, after their 503s
		if strings.Contains(m.Why, "HTTP 503") || strings.Contains(m.Why, httpx.ErrCircuitOpen.Error()) {
			down = append(down, m.What)
		}
	}
	if failed.Load() < 5 || code != exitIncomplete || strings.Join(down, ",") != "changes,saturation" || strings.Contains(fmt.Sprint(with.Missing), "metrics") {
		t.Errorf("presets failing %d times: exit %d, missing %+v; want 3 for changes and saturation alone", failed.Load(), code, with.Missing)
	}
	if with.Summary != without.Summary || fmt.Sprint(with.Chain) != fmt.Sprint(without.Chain) {
		t.Errorf("the verdict changed with the presets failing: %q %+v, want %q %+v", with.Summary, with.Chain, without.Summary, without.Chain)
	}
}
