package tui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

// The fleet of BenchmarkOverviewAt2000: as many services as the field
// report of issue 20, each calling one other, with the last cockpitFaulty
// failing for the last cockpitFaultFor, and history enough for the
// overview's half hour and its first rate window, sampled every 30 s.
const (
	cockpitServices = 2000
	cockpitFaulty   = 30
	cockpitFaultFor = 8 * time.Minute
	cockpitHistory  = 35 * time.Minute
	cockpitSample   = 30 * time.Second
)

// BenchmarkOverviewAt2000 is what one cockpit costs a real Prometheus
// holding 2,000 services: it runs the overview's refresh rounds (the
// load, then the series of the rows on screen) at 160×48 and reads
// Prometheus's own counters before and after. "whole" is a backend
// without summaries, read as before issue 20 (every service's series at
// 30 s steps); "summaries" is the Prometheus adapter as it is. Reported
// per round: queries, samples, seconds; and queries a minute at the
// cadence the round's time gives (the refresh backs off past 2 s).
//
//	go test -run XXX -bench BenchmarkOverviewAt2000 -benchtime 30x ./tui
func BenchmarkOverviewAt2000(b *testing.B) {
	at := time.Now().Add(-time.Minute).Truncate(time.Minute)
	om := filepath.Join(b.TempDir(), "fleet.om")
	if err := writeCockpitFleet(om, at); err != nil {
		b.Fatal(err)
	}
	promURL := testenv.Prometheus(b, testenv.PrometheusOptions{OpenMetricsFile: om})
	proxyURL, reqs := testenv.LoggingProxy(b, promURL)
	pc, err := prometheus.New(proxyURL, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct {
		name    string
		metrics sources.Metrics
	}{{"whole", plainMetrics{pc}}, {"summaries", pc}} {
		b.Run(mode.name, func(b *testing.B) {
			// busy is the rounds' time; paced, the time they take at the
			// cadence each sets for the next (a round starts a refresh
			// after the one before, or when it ends if it ends later).
			// The data's clock moves with paced, from a little before the
			// history's end, so the bases are read again as often as a
			// cockpit would: once a simulated minute.
			var busy, paced time.Duration
			d := Deps{Title: "bench", Sources: sources.Set{Metrics: mode.metrics}, Wall: time.Now, Refresh: 2 * time.Second, Timeout: time.Minute,
				Now: func() time.Time { return at.Add(-3*time.Minute + paced) }}
			a := New(d, styles())
			a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
			o := ov(a)
			round := func() {
				_, cmd := a.Update(refreshMsg{})
				run(a, cmd)
				if o.data == nil || o.data.REDOf.Err != nil || len(o.data.Services) < cockpitServices {
					b.Fatalf("the round read no fleet: %+v", o.data)
				}
			}
			round() // the blocks into the page cache, before anything is counted
			before := engineCounters(b, promURL)
			reqs.Reset() // the rounds' requests are replayed for their samples
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				round()
				took := time.Since(start)
				busy, paced = busy+took, paced+max(took, o.cadence.every)
			}
			b.StopTimer()
			after := engineCounters(b, promURL)
			n := float64(b.N)
			queries := (after.queries - before.queries) / n
			samples := (after.samples - before.samples) / n
			if !after.hasSamples {
				samples = replayedSamples(b, promURL, reqs.Requests()) / n
			}
			b.ReportMetric(queries, "queries/round")
			b.ReportMetric(samples, "samples/round")
			b.ReportMetric(busy.Seconds()/n, "s/round")
			b.ReportMetric(paced.Seconds()/n, "refresh-s")
			b.ReportMetric(queries*n*60/paced.Seconds(), "queries/min")
			b.ReportMetric(busy.Seconds()/paced.Seconds(), "busy-share")
			b.Logf("%s: %d services; status: refresh %s %s", mode.name, len(o.data.Services), o.cadence.every, o.cadence.why())
			rs := reqs.Requests()
			for _, r := range rs[max(0, len(rs)-int(queries)):] {
				b.Logf("  last round: %6s %s step %s: %.100s", r.Took.Round(time.Millisecond), r.Path, r.Form.Get("step"), r.Query)
			}
		})
	}
}

// engine is Prometheus's own count of the queries it evaluated and the
// samples they read. Prometheus counts samples from 2.44 on
// (prometheus_engine_query_samples_total); before, hasSamples is false.
type engine struct {
	queries, samples float64
	hasSamples       bool
}

// engineCounters reads engine from Prometheus's /metrics.
func engineCounters(b *testing.B, promURL string) engine {
	b.Helper()
	resp, err := http.Get(promURL + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	var e engine
	found := 0
	for _, line := range strings.Split(string(text), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		switch {
		case err != nil:
		case name == "prometheus_engine_query_samples_total":
			e.samples, e.hasSamples = v, true
		case name == `prometheus_engine_query_duration_seconds_count{slice="inner_eval"}`:
			e.queries, found = v, found+1
		}
	}
	if found != 1 {
		var engine []string
		for _, line := range strings.Split(string(text), "\n") {
			if strings.HasPrefix(line, "prometheus_engine") {
				engine = append(engine, line)
			}
		}
		b.Fatalf("Prometheus's /metrics has not the engine's counters:\n%s", strings.Join(engine, "\n"))
	}
	return e
}

// replayedSamples asks the requests of a round again with stats=all
// and sums the samples Prometheus says each read: its own count, for a
// Prometheus too old to count them in /metrics.
func replayedSamples(b *testing.B, promURL string, rs []testenv.LoggedRequest) float64 {
	b.Helper()
	total := 0.0
	for _, r := range rs {
		if r.Path != "/api/v1/query" && r.Path != "/api/v1/query_range" {
			continue
		}
		form := url.Values{}
		for k, v := range r.Form {
			form[k] = v
		}
		form.Set("stats", "all")
		resp, err := http.PostForm(promURL+r.Path, form)
		if err != nil {
			b.Fatal(err)
		}
		var answer struct {
			Data struct {
				Stats struct {
					Samples struct {
						TotalQueryableSamples float64 `json:"totalQueryableSamples"`
					} `json:"samples"`
				} `json:"stats"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		total += answer.Data.Stats.Samples.TotalQueryableSamples
	}
	return total
}

// writeCockpitFleet writes the benchmark's fleet to path as OpenMetrics
// for promtool, in the shape of Tempo's metrics-generator (the default
// conventions): span metrics per service and a service-graph edge from
// each service to the next, counters sampled every cockpitSample up to at.
func writeCockpitFleet(path string, at time.Time) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	from := at.Add(-cockpitHistory)
	name := func(i int) string { return fmt.Sprintf("svc-%04d", i) }
	rps := func(i int) float64 { return 1 + float64(i%40) }
	// errRatio is the share failed at t: 0.5% each, and 30% for the
	// faulty ones once their fault starts
	errRatio := func(i int, t time.Time) float64 {
		if i >= cockpitServices-cockpitFaulty && t.After(at.Add(-cockpitFaultFor)) {
			return 0.3
		}
		return 0.005
	}
	shares := []float64{0.2, 0.5, 0.8, 0.95, 0.99, 1}
	// counter writes one series: its per-second rate at t, summed
	counter := func(metric, labels string, perSecond func(t time.Time) float64) {
		total := 0.0
		for t := from; !t.After(at); t = t.Add(cockpitSample) {
			total += perSecond(t) * cockpitSample.Seconds()
			fmt.Fprintf(w, "%s{%s} %g %d\n", metric, labels, total, t.Unix())
		}
	}
	server := func(i int) string {
		return fmt.Sprintf(`service=%q,span_kind="SPAN_KIND_SERVER",span_name="handle"`, name(i))
	}
	fmt.Fprintln(w, "# TYPE traces_spanmetrics_calls counter")
	for i := range cockpitServices {
		counter("traces_spanmetrics_calls_total", server(i)+`,status_code="STATUS_CODE_OK"`, func(t time.Time) float64 { return rps(i) * (1 - errRatio(i, t)) })
		counter("traces_spanmetrics_calls_total", server(i)+`,status_code="STATUS_CODE_ERROR"`, func(t time.Time) float64 { return rps(i) * errRatio(i, t) })
	}
	fmt.Fprintln(w, "# TYPE traces_spanmetrics_latency_bucket unknown")
	for i := range cockpitServices {
		for j, le := range les {
			counter("traces_spanmetrics_latency_bucket", server(i)+fmt.Sprintf(",le=%q", le), func(time.Time) float64 { return rps(i) * shares[j] })
		}
	}
	edge := func(i int) string { return fmt.Sprintf("client=%q,server=%q", name(i), name((i+1)%cockpitServices)) }
	fmt.Fprintln(w, "# TYPE traces_service_graph_request counter")
	for i := range cockpitServices {
		counter("traces_service_graph_request_total", edge(i), func(time.Time) float64 { return rps(i) / 2 })
	}
	fmt.Fprintln(w, "# TYPE traces_service_graph_request_failed counter")
	for i := range cockpitServices {
		counter("traces_service_graph_request_failed_total", edge(i), func(t time.Time) float64 { return rps(i) / 2 * errRatio((i+1)%cockpitServices, t) })
	}
	fmt.Fprintln(w, "# TYPE traces_service_graph_request_server_seconds_bucket unknown")
	for i := range cockpitServices {
		for j, le := range les {
			counter("traces_service_graph_request_server_seconds_bucket", edge(i)+fmt.Sprintf(",le=%q", le), func(time.Time) float64 { return rps(i) / 2 * shares[j] })
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// les are the latency buckets' bounds, as Tempo's metrics-generator
// writes them, shortened.
var les = []string{"0.05", "0.1", "0.25", "0.5", "1", "+Inf"}
