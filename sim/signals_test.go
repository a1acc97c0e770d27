package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestPushOTLPAndLoki checks the pushes against receivers that decode
// them as the real servers do: OTLP protobuf with the official types, and
// Loki's documented push JSON.
func TestPushOTLPAndLoki(t *testing.T) {
	f := run(t, "retry-storm", 0)
	var mu sync.Mutex
	var got tracepb.TracesData
	var push struct {
		Streams []struct {
			Stream map[string]string   `json:"stream"`
			Values [][]json.RawMessage `json:"values"`
		} `json:"streams"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/v1/traces":
			if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
				t.Errorf("OTLP content type %q", ct)
			}
			if err := proto.Unmarshal(body, &got); err != nil {
				t.Errorf("OTLP body: %v", err)
			}
		case "/loki/api/v1/push":
			if err := json.Unmarshal(body, &push); err != nil {
				t.Errorf("Loki body: %v", err)
			}
		default:
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	p := &sim.Pusher{Fleet: f, OTLPEndpoint: srv.URL, LokiURL: srv.URL}
	if n, m, err := p.Push(bg); err != nil || n != 0 || m != 0 {
		t.Fatalf("first push sends only what is new: %d %d %v", n, m, err)
	}
	f.Advance(30 * time.Second)
	nt, nl, err := p.Push(bg)
	if err != nil || nt == 0 || nl == 0 {
		t.Fatalf("push: %d traces, %d logs, %v", nt, nl, err)
	}
	mu.Lock()
	defer mu.Unlock()
	spans, services := 0, map[string]bool{}
	for _, rs := range got.ResourceSpans {
		for _, kv := range rs.Resource.Attributes {
			if kv.Key == "service.name" {
				services[kv.Value.GetStringValue()] = true
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				spans++
				if len(sp.TraceId) != 16 || len(sp.SpanId) != 8 || sp.EndTimeUnixNano < sp.StartTimeUnixNano {
					t.Fatalf("bad span %v", sp)
				}
			}
		}
	}
	if spans == 0 || !services["web-gateway"] {
		t.Errorf("%d spans from %v", spans, services)
	}
	lines, withTrace := 0, 0
	for _, s := range push.Streams {
		if s.Stream["service_name"] == "" || s.Stream["level"] == "" {
			t.Errorf("stream labels %v", s.Stream)
		}
		for _, v := range s.Values {
			lines++
			var ts, line string
			if json.Unmarshal(v[0], &ts) != nil || json.Unmarshal(v[1], &line) != nil || len(ts) < 19 || line == "" {
				t.Fatalf("entry %s", v)
			}
			if len(v) == 3 {
				var md map[string]string
				if err := json.Unmarshal(v[2], &md); err != nil || len(md["trace_id"]) != 32 {
					t.Fatalf("structured metadata %s", v[2])
				}
				withTrace++
			}
		}
	}
	if lines != nl || withTrace == 0 {
		t.Errorf("%d lines (%d with trace IDs), pushed %d", lines, withTrace, nl)
	}

	// a receiver that is down is reported, and the simulation goes on
	srv.Close()
	f.Advance(5 * time.Second)
	if _, _, err := p.Push(bg); err == nil || !strings.Contains(err.Error(), "otlp:") || !strings.Contains(err.Error(), "loki:") {
		t.Errorf("push to a closed server: %v", err)
	}
}

func TestServeMetricsAndActions(t *testing.T) {
	f := run(t, "db-pool-exhaustion", 2*time.Minute)
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`traces_spanmetrics_calls_total{service="payment-api",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_ERROR"}`,
		`traces_spanmetrics_latency_bucket{service="payment-api",span_kind="SPAN_KIND_SERVER",le="0.5"}`,
		`traces_service_graph_request_total{client="payment-api",connection_type="database",server="payment-db"}`,
		`db_client_connection_count{pool_name="payment-db",service="payment-api",state="used"} 100`,
		`db_client_connection_max{pool_name="payment-db",service="payment-api"} 100`,
		`oncall_sim_info{scenario="db-pool-exhaustion",seed="7",topology="shop"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	post := func(body string) (int, string) {
		resp, err := http.Post(srv.URL+"/api/v1/actions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, b := post(`{"kind":"scale","service":"payment-api","replicas":24}`); code != 200 || !strings.Contains(b, "replicas 10 → 24") {
		t.Errorf("scale: %d %s", code, b)
	}
	if code, b := post(`{"kind":"scale","service":"nope","replicas":2}`); code != 422 || !strings.Contains(b, `no service "nope"`) {
		t.Errorf("unknown service: %d %s", code, b)
	}
	if code, b := post(`{"kind":"scale","servce":"x"}`); code != 400 || !strings.Contains(b, "unknown field") {
		t.Errorf("typo: %d %s", code, b)
	}
}

func TestActionsShowInSignals(t *testing.T) {
	f := run(t, "retry-storm", 5*time.Minute)
	zero := 0
	for _, a := range []sim.Action{
		{Kind: sim.ActSetCall, Service: "payment-api", Target: "user-preferences-api", Retries: &zero, Timeout: 300 * time.Millisecond},
		{Kind: sim.ActResizePool, Service: "payment-api", Target: "payment-db", Size: 20},
		{Kind: sim.ActWarmCache, Service: "product-cache"},
		{Kind: sim.ActRestart, Service: "cart"},
	} {
		if _, err := f.Apply(a); err != nil {
			t.Fatalf("%+v: %v", a, err)
		}
	}
	f.Advance(time.Minute)
	ch, _ := src(f).Changes(bg, sources.TimeRange{Start: f.Onset(), End: f.Now()})
	var details []string
	for _, c := range ch {
		details = append(details, c.Service+": "+c.Detail)
	}
	want := []string{"payment-api: calls to user-preferences-api: retries 3 → 0, timeout 1s → 300ms", "payment-api: pool payment-db: 10 → 20 connections per replica", "product-cache: cache warm-up job started", "cart: rolling restart of 6 replicas"}
	if strings.Join(details, "|") != strings.Join(want, "|") {
		t.Errorf("changes\n%q\nwant\n%q", details, want)
	}
	sat, _ := src(f).Saturation(bg, []string{"payment-api"}, sources.TimeRange{Start: f.Now().Add(-15 * time.Second), End: f.Now()}, sim.Step)
	for _, s := range sat {
		if s.Resource == "pool:payment-db" && s.Max != 200 {
			t.Errorf("pool max %v after resize", s.Max)
		}
	}
	for _, bad := range []sim.Action{
		{Kind: sim.ActRollback, Service: "cart"},
		{Kind: sim.ActWarmCache, Service: "cart"},
		{Kind: sim.ActResizePool, Service: "cart", Target: "payment-db", Size: 5},
		{Kind: sim.ActScale, Service: "cart", Replicas: 0},
		{Kind: "reboot", Service: "cart"},
	} {
		if _, err := f.Apply(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestTopologyErrorsNameTheLine(t *testing.T) {
	cases := map[string]string{
		"name: x\nservices:\n  - name: a\n    kind: api\n    replicas: 1\n    workers: 1\n    calls: [{to: b}]\n":                                                                                                                                                    `topo.yaml:7`,
		"name: x\nservices:\n  - name: a\n    kind: api\n    replicas: 1\n    workers: 1\n    latency: {p50: fast}\n":                                                                                                                                                `topo.yaml:7`,
		"name: x\nservices:\n  - name: a\n    kind: api\n    replicas: 1\n    workers: 1\n    timeout: 1s\n":                                                                                                                                                         `topo.yaml:7`,
		"name: x\ntraffic: {rps: 10}\nservices:\n  - {name: a, kind: api, entry: 1, replicas: 1, workers: 1, latency: {p50: 1ms, p99: 2ms}, calls: [{to: b}]}\n  - {name: b, kind: api, replicas: 1, workers: 1, latency: {p50: 1ms, p99: 2ms}, calls: [{to: a}]}\n": "cycle",
	}
	for src, want := range cases {
		p := filepath.Join(t.TempDir(), "topo.yaml")
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := sim.LoadTopology(p)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to contain %q", src, err, want)
		}
	}
	// the default topology is the one the issue describes
	d := sim.DefaultTopology()
	if len(d.Services) != 47 {
		t.Errorf("%d services", len(d.Services))
	}
	for _, n := range []string{"checkout-api", "payment-api", "fraud-detection-api", "user-preferences-api", "payment-db", "order-service", "inventory", "cart", "search", "recommendations"} {
		if _, ok := d.Service(n); !ok {
			t.Errorf("no %s", n)
		}
	}
}

// TestTestdataTopologiesRun runs every topology in testdata/topologies for
// twenty quiet minutes: each loads, serves traffic at every instrumented
// service, traces and logs, and pages nobody.
func TestTestdataTopologiesRun(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "testdata", "topologies", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no topologies in testdata/topologies: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			topo, err := sim.LoadTopology(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := sim.New(sim.Options{Topology: topo, Scenario: "quiet", Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			f.Advance(20 * time.Minute)
			b := src(f)
			r := sources.TimeRange{Start: f.Now().Add(-5 * time.Minute), End: f.Now()}
			reds, err := b.RED(bg, nil, r, time.Minute)
			if err != nil || len(reds) == 0 {
				t.Fatalf("RED: %v %v", reds, err)
			}
			for _, red := range reds {
				n := len(red.Requests.Samples)
				if n == 0 || red.Requests.Samples[n-1].V <= 0 {
					t.Errorf("%s serves no traffic", red.Service)
				}
			}
			if tr, _ := b.SearchTraces(bg, sources.TraceSearch{Range: r}); len(tr) == 0 {
				t.Error("no traces")
			}
			if l, _ := b.Logs(bg, sources.LogQuery{Range: r}); len(l) == 0 {
				t.Error("no logs")
			}
			for _, a := range firing(t, f) {
				t.Errorf("a quiet %s pages: %s %v", topo.Name, a.Name, a.Labels)
			}
		})
	}
}
