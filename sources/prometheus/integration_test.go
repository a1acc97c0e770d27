package prometheus

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

const exemplarTrace = "a4c123b1612dd272d1371c17149d4395"

// An OpenMetrics target with an exemplar on a latency bucket, for Prometheus
// to scrape with exemplar storage on.
func exemplarTarget(t *testing.T) string {
	body := `# TYPE traces_spanmetrics_latency histogram
traces_spanmetrics_latency_bucket{service="checkout",span_kind="SPAN_KIND_SERVER",le="0.5"} 10 # {trace_id="` + exemplarTrace + `"} 0.42
traces_spanmetrics_latency_bucket{service="checkout",span_kind="SPAN_KIND_SERVER",le="+Inf"} 12
traces_spanmetrics_latency_count{service="checkout",span_kind="SPAN_KIND_SERVER"} 12
traces_spanmetrics_latency_sum{service="checkout",span_kind="SPAN_KIND_SERVER"} 3.2
# EOF
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

const rules = `groups:
  - name: oncall-test
    interval: 1s
    rules:
      - record: service:requests:rate2m
        expr: sum by (service) (rate(traces_spanmetrics_calls_total[2m]))
      - alert: PaymentsErrorBudgetBurn
        expr: vector(1)
        labels: {severity: page, service: payments}
        annotations: {summary: payments burning its error budget}
`

func TestAgainstRealPrometheus(t *testing.T) {
	end := time.Now().Add(-time.Minute).Truncate(15 * time.Second)
	url := testenv.Prometheus(t, testenv.PrometheusOptions{
		OpenMetrics: testenv.FleetOpenMetrics(end, 90*time.Minute),
		Rules:       rules,
		Scrape:      []string{exemplarTarget(t)},
		Features:    []string{"exemplar-storage"},
	})
	c, err := New(url, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := sources.TimeRange{Start: end.Add(-60 * time.Minute), End: end.Add(-10 * time.Minute)}

	t.Run("RED from span metrics", func(t *testing.T) {
		red, err := c.RED(ctx, nil, r, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range red {
			names = append(names, s.Service)
		}
		if !slices.Equal(names, []string{"checkout", "payments", "web-gateway"}) {
			t.Fatalf("services %v", names)
		}
		for i, want := range map[int]testenv.FleetService{0: testenv.Fleet.Services[1], 1: testenv.Fleet.Services[2], 2: testenv.Fleet.Services[0]} {
			s := red[i]
			if len(s.Requests.Samples) != 51 {
				t.Fatalf("%s: %d request samples over 50m at 1m steps, want 51", s.Service, len(s.Requests.Samples))
			}
			for _, p := range s.Requests.Samples {
				if math.Abs(p.V-want.RPS) > 0.01 {
					t.Fatalf("%s request rate %v, want %v", s.Service, p.V, want.RPS)
				}
			}
			if got := s.Errors.Samples[0].V; math.Abs(got-want.ErrorsPerS) > 0.01 {
				t.Fatalf("%s error rate %v, want %v", s.Service, got, want.ErrorsPerS)
			}
			if p99 := s.P99.Samples[0].V; p99 <= 0.5 || p99 > 1 && want.BucketShares[4] >= 0.99 {
				t.Fatalf("%s p99 %v out of the seeded buckets", s.Service, p99)
			}
			if !strings.Contains(s.Requests.Query, `service=~".+"`) {
				t.Fatalf("query %q does not say where the number came from", s.Requests.Query)
			}
		}
		one, err := c.RED(ctx, []string{"payments"}, r, time.Minute)
		if err != nil || len(one) != 1 || one[0].Service != "payments" {
			t.Fatalf("RED(payments) = %v, %v", one, err)
		}
	})

	t.Run("RED summarized on the server agrees with RED", func(t *testing.T) {
		sums, err := c.SummarizeRED(ctx, nil, r, time.Minute, everyFigure)
		if err != nil || len(sums) != 3 {
			t.Fatalf("summaries %+v, %v; want 3", sums, err)
		}
		red, err := c.RED(ctx, nil, r, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range sums {
			want := red[i]
			p99 := want.P99.Samples[len(want.P99.Samples)-1].V
			ratio := want.Errors.Samples[0].V / want.Requests.Samples[0].V
			for what, v := range map[string][2]float64{
				"requests": {s.Requests, want.Requests.Samples[0].V}, "peak requests": {s.PeakRequests, want.Requests.Samples[0].V},
				"peak p99": {s.PeakP99, p99}, "typical p99": {s.TypicalP99, p99},
				"peak ratio": {s.PeakErrorRatio, ratio}, "typical ratio": {s.TypicalErrorRatio, ratio},
			} {
				if s.Service != want.Service || math.Abs(v[0]-v[1]) > 0.02*math.Max(1, v[1]) {
					t.Errorf("%s %s = %v, RED says %v", s.Service, what, v[0], v[1])
				}
			}
		}
	})

	t.Run("service graph with virtual nodes", func(t *testing.T) {
		edges, err := c.ServiceGraph(ctx, end.Add(-5*time.Minute), 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(edges) != len(testenv.Fleet.Edges) {
			t.Fatalf("%d edges, want %d: %+v", len(edges), len(testenv.Fleet.Edges), edges)
		}
		byPair := map[string]sources.Edge{}
		for _, e := range edges {
			byPair[e.Client+">"+e.Server] = e
		}
		for _, want := range testenv.Fleet.Edges {
			e, ok := byPair[want.Client+">"+want.Server]
			if !ok {
				t.Fatalf("edge %s>%s missing", want.Client, want.Server)
			}
			kind := sources.EdgeKind(want.ConnectionType)
			if kind == "" {
				kind = sources.EdgeService
			}
			if e.Kind != kind || math.Abs(e.RequestRate-want.RPS) > 0.01 || math.Abs(e.FailedRate-want.FailedPerS) > 0.01 || e.P99Seconds <= 0 {
				t.Errorf("edge %+v, want kind %s rate %v failed %v", e, kind, want.RPS, want.FailedPerS)
			}
		}
	})

	t.Run("services: RED and the peers they call, without Tempo's user", func(t *testing.T) {
		got, err := c.Services(ctx)
		want := []string{"checkout", "inventory", "payments", "payments-db", "web-gateway"}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("services %v, %v; want %v", got, err, want)
		}
	})

	t.Run("instant query, series and labels", func(t *testing.T) {
		v, err := c.Query(ctx, `count(traces_spanmetrics_calls_total)`, end)
		if err != nil || len(v) != 1 || v[0].Samples[0].V != 6 {
			t.Fatalf("count = %v, %v; want 6 series", v, err)
		}
		series, err := c.Series(ctx, []string{`traces_spanmetrics_calls_total{service="payments"}`}, r)
		if err != nil || len(series) != 2 {
			t.Fatalf("series %v, %v", series, err)
		}
		vals, err := c.LabelValues(ctx, "service", r)
		if err != nil || !slices.Equal(vals, []string{"checkout", "payments", "web-gateway"}) {
			t.Fatalf("label values %v, %v", vals, err)
		}
		b, err := c.BuildInfo(ctx)
		if err != nil || b.Version == "" {
			t.Fatalf("buildinfo %v, %v", b, err)
		}
	})

	t.Run("bad query names backend and request", func(t *testing.T) {
		_, err := c.Query(ctx, `sum(`, end)
		if err == nil || !strings.Contains(err.Error(), "prometheus query sum(") || !strings.Contains(err.Error(), "bad_data") || !strings.Contains(err.Error(), "parse error") {
			t.Fatalf("error %v", err)
		}
	})

	t.Run("alerts and rules from the rule file", func(t *testing.T) {
		var alerts []sources.Alert
		waitFor(t, func() bool {
			alerts, err = c.Alerts(ctx)
			return err == nil && len(alerts) == 1 && alerts[0].State == sources.AlertFiring
		})
		a := alerts[0]
		if a.Name != "PaymentsErrorBudgetBurn" || a.Severity != "page" || a.Labels["service"] != "payments" || a.Annotations["summary"] == "" {
			t.Fatalf("alert %+v", a)
		}
		groups, err := c.Rules(ctx)
		if err != nil || len(groups) != 1 || len(groups[0].Rules) != 2 {
			t.Fatalf("rules %+v, %v", groups, err)
		}
		if g := groups[0]; g.Rules[0].Type != "recording" || g.Rules[1].Type != "alerting" || g.Rules[1].Query != "vector(1)" {
			t.Fatalf("rules %+v", g.Rules)
		}
	})

	t.Run("exemplars carry trace IDs", func(t *testing.T) {
		var ex []sources.Exemplar
		waitFor(t, func() bool {
			now := time.Now()
			ex, err = c.Exemplars(ctx, []string{"checkout"}, sources.TimeRange{Start: now.Add(-time.Minute), End: now})
			return err == nil && len(ex) > 0
		})
		if ex[0].TraceID != exemplarTrace || ex[0].Value != 0.42 || ex[0].SeriesLabels["service"] != "checkout" {
			t.Fatalf("exemplar %+v", ex[0])
		}
	})

	t.Run("doctor", func(t *testing.T) {
		checks := c.Doctor(ctx)
		got := map[string]sources.CheckStatus{}
		for _, ch := range checks {
			got[ch.Name] = ch.Status
		}
		for _, name := range []string{"reachable", "auth and tenant", "version", "RED metrics", "service graph"} {
			if got[name] != sources.CheckOK {
				t.Errorf("check %q = %q, want ok (all: %+v)", name, got[name], checks)
			}
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// spikeOpenMetrics is one service, checkout, at 10 requests a second over
// span ending at end, with 1% failing until the last three minutes and
// half failing in them: a fault that a mean over the span dilutes.
func spikeOpenMetrics(end time.Time, span time.Duration) string {
	var b strings.Builder
	start := end.Add(-span)
	spike := end.Add(-3 * time.Minute)
	b.WriteString("# TYPE traces_spanmetrics_calls counter\n")
	for _, status := range []string{"STATUS_CODE_UNSET", "STATUS_CODE_ERROR"} {
		var n float64
		for ts := start; !ts.After(end); ts = ts.Add(15 * time.Second) {
			fmt.Fprintf(&b, "traces_spanmetrics_calls_total{service=\"checkout\",span_kind=\"SPAN_KIND_SERVER\",status_code=%q} %g %d\n", status, n, ts.Unix())
			failing := 0.1
			if !ts.Before(spike) {
				failing = 5
			}
			if status == "STATUS_CODE_ERROR" {
				n += failing * 15
			} else {
				n += (10 - failing) * 15
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// everyFigure asks a summary for all its figures.
const everyFigure = sources.FigureRequests | sources.FigurePeakRequests |
	sources.FigurePeakErrorRatio | sources.FigurePeakP99 | sources.FigureTypicalErrorRatio | sources.FigureTypicalP99

// TestSummarizeREDOnRealPrometheus: the server's reduction keeps a fault
// of the last minutes (the peak) apart from what the range looked like
// (the median), and the means agree with the counters.
func TestSummarizeREDOnRealPrometheus(t *testing.T) {
	end := time.Now().Add(-time.Minute).Truncate(time.Minute)
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: spikeOpenMetrics(end, 40*time.Minute)})
	c, err := New(url, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.SummarizeRED(context.Background(), nil, sources.TimeRange{Start: end.Add(-30 * time.Minute), End: end}, time.Minute, everyFigure)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Service != "checkout" {
		t.Fatalf("summaries %+v, want checkout alone", got)
	}
	s := got[0]
	near := func(what string, v, want, tol float64) {
		t.Helper()
		if math.IsNaN(v) || math.Abs(v-want) > tol {
			t.Errorf("%s = %v, want %v ± %v", what, v, want, tol)
		}
	}
	near("requests/s", s.Requests, 10, 0.2)
	near("peak requests/s", s.PeakRequests, 10, 0.2)
	near("peak error ratio", s.PeakErrorRatio, 0.5, 0.05)
	near("typical error ratio", s.TypicalErrorRatio, 0.01, 0.005)
	if !math.IsNaN(s.PeakP99) || !math.IsNaN(s.TypicalP99) {
		t.Errorf("no latency histogram was seeded, yet peak p99 %v, typical %v", s.PeakP99, s.TypicalP99)
	}
	only, err := c.SummarizeRED(context.Background(), nil, sources.TimeRange{Start: end.Add(-30 * time.Minute), End: end}, time.Minute, sources.FigurePeakErrorRatio)
	if err != nil || len(only) != 1 || math.Abs(only[0].PeakErrorRatio-0.5) > 0.05 || !math.IsNaN(only[0].Requests) || !math.IsNaN(only[0].TypicalErrorRatio) {
		t.Errorf("asked for the peak error ratio alone: %+v, %v", only, err)
	}
	one, err := c.SummarizeRED(context.Background(), []string{"payments"}, sources.TimeRange{Start: end.Add(-30 * time.Minute), End: end}, time.Minute, everyFigure)
	if err != nil || len(one) != 0 {
		t.Fatalf("a service with no series: %+v, %v; want none", one, err)
	}
}
