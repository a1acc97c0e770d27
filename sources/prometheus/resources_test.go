package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// fakeResources is a Prometheus whose range queries are answered by the
// first entry whose key the query contains: a JSON array of matrix
// series, or "FAIL" for a bad_data error. Any other query answers no
// series, as a server without those metrics does. It records the queries.
type fakeResources struct {
	answers [][2]string
	mu      sync.Mutex
	queries []string
}

func (f *fakeResources) client(t *testing.T, conv sources.Conventions) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query_range" {
			t.Errorf("unexpected %s", r.URL.Path)
			http.NotFound(w, r)
			return
		}
		q := r.FormValue("query")
		f.mu.Lock()
		f.queries = append(f.queries, q)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		result := "[]"
		for _, a := range f.answers {
			if strings.Contains(q, a[0]) {
				result = a[1]
				break
			}
		}
		if result == "FAIL" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"parse error"}`)
			return
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":%s}}`, result)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, http.DefaultClient, conv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// matrix is one series of the labels (a JSON object body) with a point a
// minute from 1700000000 per value.
func matrix(labels string, values ...string) string {
	var points []string
	for i, v := range values {
		points = append(points, fmt.Sprintf(`[%d,%q]`, 1700000000+60*i, v))
	}
	return fmt.Sprintf(`{"metric":{%s},"values":[%s]}`, labels, strings.Join(points, ","))
}

var someRange = sources.TimeRange{Start: time.Unix(1700000000, 0), End: time.Unix(1700000240, 0)}

func TestSaturationMapsPoolsToTargetsAndSkipsNoLimit(t *testing.T) {
	conv := sources.DefaultConventions()
	conv.Resources.Targets = map[string]string{"checkout/HikariPool-1": "orders-db", "HikariPool-1": "shared-db"}
	f := &fakeResources{answers: [][2]string{
		{"hikaricp_connections_active", "[" + strings.Join([]string{
			matrix(`"job":"checkout","oncall_pool":"HikariPool-1"`, "2", "9", "10"),
			matrix(`"job":"billing","oncall_pool":"HikariPool-1"`, "1", "1", "1"),
			matrix(`"job":"zero","oncall_pool":"p"`, "1", "1", "1"),
			matrix(`"job":"nan","oncall_pool":"p"`, "NaN", "1", "+Inf"),
			matrix(`"job":"nolimit","oncall_pool":"p"`, "1", "1", "1"),
			matrix(`"oncall_pool":"ownerless"`, "1", "1", "1"),
		}, ",") + "]"},
		{"hikaricp_connections_max", "[" + strings.Join([]string{
			matrix(`"job":"checkout","oncall_pool":"HikariPool-1"`, "10", "10", "10"),
			matrix(`"job":"billing","oncall_pool":"HikariPool-1"`, "4", "4", "4"),
			matrix(`"job":"zero","oncall_pool":"p"`, "0", "0", "0"),
			matrix(`"job":"nan","oncall_pool":"p"`, "NaN", "NaN", "NaN"),
			matrix(`"oncall_pool":"ownerless"`, "1", "1", "1"),
		}, ",") + "]"},
	}}
	c := f.client(t, conv)
	sats, err := c.Saturation(context.Background(), nil, someRange, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sats {
		got = append(got, fmt.Sprintf("%s %s %g/%g %s %d", s.Service, s.Resource, peakOf(s), s.Max, s.Source, len(s.Used.Samples)))
	}
	want := []string{"billing pool:shared-db 1/4 prometheus: hikaricp 3", "checkout pool:orders-db 10/10 prometheus: hikaricp 3"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(sats[1].Used.Query, "hikaricp_connections_active") {
		t.Errorf("used query %q", sats[1].Used.Query)
	}
	if len(f.queries) != 2*len(sources.ResourcePresets) {
		t.Errorf("%d queries for %d presets, want two each", len(f.queries), len(sources.ResourcePresets))
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func peakOf(s sources.Saturation) float64 {
	p := 0.0
	for _, x := range s.Used.Samples {
		p = max(p, x.V)
	}
	return p
}

// Service names reach the query only escaped; label values in answers
// are kept verbatim, whatever they hold.
func TestSaturationHostileNames(t *testing.T) {
	hostile := "orders\"}\x1b[31m|db\\"
	f := &fakeResources{answers: [][2]string{
		{"go_sql_stats_connections_in_use", "[" + matrix(`"job":"a\"b","oncall_pool":`+jsonString(hostile), "5") + "]"},
		{"go_sql_stats_connections_max_open", "[" + matrix(`"job":"a\"b","oncall_pool":`+jsonString(hostile), "5") + "]"},
	}}
	c := f.client(t, sources.DefaultConventions())
	sats, err := c.Saturation(context.Background(), []string{`a"b`, `x|y`, `\`, "c\nd"}, someRange, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(sats) != 1 || sats[0].Resource != "pool:"+hostile || sats[0].Service != `a"b` || sats[0].Max != 5 {
		t.Fatalf("%+v", sats)
	}
	want := `=~"a\"b|x\\|y|\\\\|c\nd"` // job, or cadvisor's container
	for _, q := range f.queries {
		if !strings.Contains(q, want) || strings.Contains(q, "\n") {
			t.Errorf("query %s does not select exactly %s", q, want)
		}
	}
}

// A custom pool whose label is not "pool", with its own target map and
// service label, comes first and wins over a preset reporting the same.
func TestCustomPoolWithItsOwnLabels(t *testing.T) {
	conv := sources.DefaultConventions()
	conv.Resources.Presets = []string{sources.ResourceHikariCP}
	conv.Resources.Custom = []sources.CustomResource{{Name: "shop_db", Kind: sources.ResourceKindPool,
		Used:         `sum by ({{.ServiceLabel}}, datasource) (shop_pool_used{ {{- .ServiceLabel}}=~"{{.Service}}"})`,
		Max:          `sum by ({{.ServiceLabel}}, datasource) (shop_pool_size{ {{- .ServiceLabel}}=~"{{.Service}}"})`,
		ServiceLabel: "app", TargetLabel: "datasource", Targets: map[string]string{"primary": "orders-db"}}}
	conv.Resources.Targets = map[string]string{"HikariPool-1": "orders-db"}
	f := &fakeResources{answers: [][2]string{
		{"shop_pool_used", "[" + matrix(`"app":"shop","datasource":"primary"`, "3") + "]"},
		{"shop_pool_size", "[" + matrix(`"app":"shop","datasource":"primary"`, "6") + "]"},
		{"hikaricp_connections_active", "[" + matrix(`"job":"shop","oncall_pool":"HikariPool-1"`, "1") + "]"},
		{"hikaricp_connections_max", "[" + matrix(`"job":"shop","oncall_pool":"HikariPool-1"`, "10") + "]"},
	}}
	c := f.client(t, conv)
	sats, err := c.Saturation(context.Background(), []string{"shop"}, someRange, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(sats) != 1 || sats[0].Resource != "pool:orders-db" || sats[0].Max != 6 || sats[0].Source != "prometheus: shop_db" {
		t.Fatalf("%+v", sats)
	}
	// a custom resource's limit is kept as a series too, with its query
	if l := sats[0].Limit; len(l.Samples) != 1 || l.Samples[0].V != 6 || !strings.Contains(l.Query, "shop_pool_size") {
		t.Errorf("custom limit series %+v", l)
	}
	if !slices.ContainsFunc(f.queries, func(q string) bool { return strings.Contains(q, `shop_pool_used{app=~"shop"}`) }) {
		t.Errorf("queries %q", f.queries)
	}
}

func TestSaturationNotReportedAndPartialFailure(t *testing.T) {
	c := (&fakeResources{}).client(t, sources.DefaultConventions())
	sats, err := c.Saturation(context.Background(), nil, someRange, time.Minute)
	if !errors.Is(err, sources.ErrNotReported) || sats != nil || !strings.Contains(err.Error(), "prometheus: no series for the saturation presets otel_pool, hikaricp, go_sql, pgbouncer, cadvisor, process") {
		t.Fatalf("nothing found: %v, %v", sats, err)
	}

	f := &fakeResources{answers: [][2]string{
		{"hikaricp", "FAIL"},
		{"go_sql_stats_connections_in_use", "[" + matrix(`"job":"api","oncall_pool":"main"`, "1") + "]"},
		{"go_sql_stats_connections_max_open", "[" + matrix(`"job":"api","oncall_pool":"main"`, "2") + "]"},
	}}
	sats, err = f.client(t, sources.DefaultConventions()).Saturation(context.Background(), nil, someRange, time.Minute)
	if !errors.Is(err, sources.ErrPartial) || !strings.HasPrefix(err.Error(), "preset hikaricp: ") || len(sats) != 1 || sats[0].Resource != "pool:main" {
		t.Fatalf("one preset failing: %+v, %v; want go_sql's pool and a partial error naming hikaricp", sats, err)
	}

	f = &fakeResources{answers: [][2]string{{"hikaricp", "FAIL"}}}
	_, err = f.client(t, sources.DefaultConventions()).Saturation(context.Background(), nil, someRange, time.Minute)
	if err == nil || errors.Is(err, sources.ErrNotReported) || !strings.HasPrefix(err.Error(), "saturation preset hikaricp: ") {
		t.Fatalf("a failure and nothing found is a failure that names its preset, not 'not reported': %v", err)
	}

	// a preset's two queries failing differently (one may be the client's
	// breaker turning it away after the other's failure) keep both causes
	f = &fakeResources{answers: [][2]string{
		{"go_sql_stats_connections_in_use", "FAIL"},
		{"go_sql_stats_connections_max_open", "not json"},
	}}
	_, err = f.client(t, sources.DefaultConventions()).Saturation(context.Background(), nil, someRange, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "parse error") || !strings.Contains(err.Error(), "invalid character") {
		t.Fatalf("both queries' failures, want the used query's and the max's: %v", err)
	}
}

// TestSaturationServiceFromTheFirstLabelASeriesHas: with several service
// labels, the series are selected by any of them and named by the first
// each has; a series named so as a service not asked for is dropped.
func TestSaturationServiceFromTheFirstLabelASeriesHas(t *testing.T) {
	conv := sources.DefaultConventions()
	conv.Resources.Presets = []string{sources.ResourceHikariCP}
	conv.Resources.ServiceLabels = map[string]sources.LabelList{sources.ResourceHikariCP: {"app", "job"}}
	f := &fakeResources{answers: [][2]string{
		{"hikaricp_connections_active", "[" + matrix(`"oncall_service":"checkout","oncall_pool":"p"`, "3") + "," +
			matrix(`"oncall_service":"other","oncall_pool":"p"`, "3") + "]"},
		{"hikaricp_connections_max", "[" + matrix(`"oncall_service":"checkout","oncall_pool":"p"`, "4") + "," +
			matrix(`"oncall_service":"other","oncall_pool":"p"`, "4") + "]"},
	}}
	sats, err := f.client(t, conv).Saturation(context.Background(), []string{"checkout"}, someRange, time.Minute)
	if err != nil || len(sats) != 1 || sats[0].Service != "checkout" || sats[0].Resource != "pool:p" {
		t.Fatalf("got %+v, %v", sats, err)
	}
	want := `sum by (oncall_service, oncall_pool) (label_replace(label_replace(label_replace(` +
		`hikaricp_connections_active{app=~"checkout"} or hikaricp_connections_active{job=~"checkout"}, ` +
		`"oncall_service", "$1", "job", "(.+)"), "oncall_service", "$1", "app", "(.+)"), "oncall_pool", "$1", "pool", "(.+)"))`
	if !slices.Contains(f.queries, want) {
		t.Errorf("queries %q\nwant %s", f.queries, want)
	}
}

// TestSaturationPresetOrderIsPrecedence: the first preset listed tells a
// resource two presets report, as with the change presets.
func TestSaturationPresetOrderIsPrecedence(t *testing.T) {
	answers := [][2]string{
		{"process_cpu_seconds_total", "[" + matrix(`"job":"a"`, "1") + "]"},
		{"machine_cpu_cores", "[" + matrix(`"job":"a"`, "8") + "]"},
		{"container_cpu_usage_seconds_total", "[" + matrix(`"job":"a","oncall_resource":"cpu"`, "1") + "]"},
		{"kube_pod_container_resource_limits", "[" + matrix(`"job":"a","oncall_resource":"cpu"`, "2") + "]"},
	}
	for _, presets := range [][]string{{sources.ResourceProcess, sources.ResourceCAdvisor}, {sources.ResourceCAdvisor, sources.ResourceProcess}} {
		conv := sources.DefaultConventions()
		conv.Resources.Presets = presets
		conv.Resources.ServiceLabels = map[string]sources.LabelList{sources.ResourceCAdvisor: {"job"}}
		sats, err := (&fakeResources{answers: answers}).client(t, conv).Saturation(context.Background(), nil, someRange, time.Minute)
		if err != nil || len(sats) != 1 || sats[0].Source != "prometheus: "+presets[0] {
			t.Errorf("presets %v: %+v, %v; want %s's reading", presets, sats, err, presets[0])
		}
	}
}

func TestDoctorSaysWhichPresetsFoundSeries(t *testing.T) {
	pools := func(metric string, vals ...string) [2]string {
		return [2]string{metric, "[" + matrix(`"job":"a","oncall_pool":"p1"`, vals...) + "," +
			matrix(`"job":"a","oncall_pool":"p2"`, vals...) + "," + matrix(`"job":"b","oncall_pool":"p1"`, vals...) + "]"}
	}
	f := &fakeResources{answers: [][2]string{
		pools("hikaricp_connections_active", "1"), pools("hikaricp_connections_max", "4"),
		{"process_cpu_seconds_total", "[" + matrix(`"job":"a"`, "0.5") + "]"},
		{"machine_cpu_cores", "[" + matrix(`"job":"a"`, "4") + "]"},
		{"pgbouncer", "FAIL"},
	}}
	c := f.client(t, sources.DefaultConventions())
	got := c.saturationCheck(context.Background(), time.Unix(1700000000, 0))
	// a failed preset warns, as in the changes check: not all that could
	// reach incidents does
	want := "hikaricp: 2 services (3 pools), process: 1 service; no series: otel_pool, go_sql, cadvisor; failed: pgbouncer (bad_data: parse error)"
	if got.Status != sources.CheckWarn || got.Detail != want {
		t.Errorf("%s %q\nwant warn %q", got.Status, got.Detail, want)
	}
	got = (&fakeResources{}).client(t, sources.DefaultConventions()).saturationCheck(context.Background(), time.Unix(1700000000, 0))
	if got.Status != sources.CheckWarn || !strings.HasPrefix(got.Detail, "no series: otel_pool, hikaricp, go_sql, pgbouncer, cadvisor, process (") {
		t.Errorf("%s %q", got.Status, got.Detail)
	}
}

// stackT0 pins the integration history: an hour of 15s samples from it.
var stackT0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// stackOpenMetrics is an hour of a stack's pools and containers, as its
// exporters write them:
//   - checkout's HikariPool-1 (max 10) runs 2 until 10:30, then 10: full;
//   - payments' go_sql pool shrinks from 20 to 5 at 10:20 and runs 5 of 5
//     (4 before);
//   - basket's HikariPool-1 is cut from 10 to 1 at 10:45 by a config push:
//     7 of 10 before, 1 of 1 after;
//   - search's HikariPool-1 fills linearly from 0 at 10:00 to 10 at 11:00;
//   - inventory's OTel pool (current names, with an idle series to
//     ignore) runs 3 of 8, and legacy's older names 2 of 4;
//   - web's two pods use 0.5 core each against limits of 0.5 each, and
//     200MiB each of 256MiB; web's process also reports 3 cores, which
//     cAdvisor's reading must win over;
//   - pgbouncer's orders pool runs 18 of 20.
func stackOpenMetrics() string {
	var b strings.Builder
	var times []time.Time
	for t := stackT0; !t.After(stackT0.Add(time.Hour)); t = t.Add(15 * time.Second) {
		times = append(times, t)
	}
	type series struct {
		labels string
		value  func(at time.Duration) float64
	}
	family := func(name, kind string, ss ...series) {
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, kind)
		suffix := ""
		if kind == "counter" {
			suffix = "_total"
		}
		for _, s := range ss {
			for _, t := range times {
				fmt.Fprintf(&b, "%s%s{%s} %g %d\n", name, suffix, s.labels, s.value(t.Sub(stackT0)), t.Unix())
			}
		}
	}
	constant := func(v float64) func(time.Duration) float64 { return func(time.Duration) float64 { return v } }
	step := func(before, after float64, at time.Duration) func(time.Duration) float64 {
		return func(d time.Duration) float64 {
			if d < at {
				return before
			}
			return after
		}
	}
	perSecond := func(r float64) func(time.Duration) float64 {
		return func(d time.Duration) float64 { return r * d.Seconds() }
	}
	family("hikaricp_connections_active", "gauge",
		series{`job="checkout",pool="HikariPool-1"`, step(2, 10, 30*time.Minute)},
		series{`job="search",pool="HikariPool-1"`, func(d time.Duration) float64 { return 10 * d.Minutes() / 60 }},
		series{`job="basket",pool="HikariPool-1"`, step(7, 1, 45*time.Minute)})
	family("hikaricp_connections_max", "gauge",
		series{`job="checkout",pool="HikariPool-1"`, constant(10)},
		series{`job="search",pool="HikariPool-1"`, constant(10)},
		series{`job="basket",pool="HikariPool-1"`, step(10, 1, 45*time.Minute)})
	family("go_sql_stats_connections_in_use", "gauge", series{`job="payments",db_name="payments"`, step(4, 5, 20*time.Minute)})
	family("go_sql_stats_connections_max_open", "gauge", series{`job="payments",db_name="payments"`, step(20, 5, 20*time.Minute)})
	family("db_client_connection_count", "gauge",
		series{`job="inventory",state="used",db_client_connection_pool_name="inventory-db"`, constant(3)},
		series{`job="inventory",state="idle",db_client_connection_pool_name="inventory-db"`, constant(5)})
	family("db_client_connection_max", "gauge", series{`job="inventory",db_client_connection_pool_name="inventory-db"`, constant(8)})
	family("db_client_connections_usage", "gauge",
		series{`job="legacy",state="used",pool_name="legacy-db"`, constant(2)},
		series{`job="legacy",state="idle",pool_name="legacy-db"`, constant(2)})
	family("db_client_connections_max", "gauge", series{`job="legacy",pool_name="legacy-db"`, constant(4)})
	family("container_cpu_usage_seconds", "counter",
		series{`job="kubelet",container="web",pod="web-a"`, perSecond(0.5)},
		series{`job="kubelet",container="web",pod="web-b"`, perSecond(0.5)},
		series{`job="kubelet",container="POD",pod="web-a"`, perSecond(0.01)})
	family("container_memory_working_set_bytes", "gauge",
		series{`job="kubelet",container="web",pod="web-a"`, constant(200 << 20)},
		series{`job="kubelet",container="web",pod="web-b"`, constant(200 << 20)})
	family("kube_pod_container_resource_limits", "gauge",
		series{`job="kube-state-metrics",container="web",pod="web-a",resource="cpu",unit="core"`, constant(0.5)},
		series{`job="kube-state-metrics",container="web",pod="web-b",resource="cpu",unit="core"`, constant(0.5)},
		series{`job="kube-state-metrics",container="web",pod="web-a",resource="memory",unit="byte"`, constant(256 << 20)},
		series{`job="kube-state-metrics",container="web",pod="web-b",resource="memory",unit="byte"`, constant(256 << 20)})
	family("process_cpu_seconds", "counter", series{`job="web",instance="web-a:9090"`, perSecond(3)})
	family("machine_cpu_cores", "gauge", series{`job="web",instance="node-1"`, constant(4)})
	family("pgbouncer_pools_server_active_connections", "gauge",
		series{`job="pgbouncer",database="orders",user="app"`, constant(18)},
		series{`job="pgbouncer",database="orders",user="report"`, constant(3)})
	family("pgbouncer_databases_pool_size", "gauge", series{`job="pgbouncer",name="orders",database="orders_prod"`, constant(20)})
	b.WriteString("# EOF\n")
	return b.String()
}

func TestSaturationOnRealPrometheus(t *testing.T) {
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: stackOpenMetrics()})
	conv := sources.DefaultConventions()
	conv.Resources.Targets = map[string]string{"checkout/HikariPool-1": "orders-db", "search/HikariPool-1": "search-db", "basket/HikariPool-1": "basket-mysql"}
	c, err := New(url, http.DefaultClient, conv)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := sources.TimeRange{Start: stackT0.Add(5 * time.Minute), End: stackT0.Add(55 * time.Minute)}
	sats, err := c.Saturation(ctx, nil, r, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	type reading struct {
		peak, max float64
		source    string
		fullAt    time.Time // the first point at its peak
	}
	got := map[string]reading{}
	limits := map[string]sources.Series{}
	for _, s := range sats {
		limits[s.Service+" "+s.Resource] = s.Limit
		var x reading
		x.max, x.source = s.Max, s.Source
		for _, p := range s.Used.Samples {
			if p.V > x.peak+1e-9 {
				x.peak, x.fullAt = p.V, p.T
			}
		}
		got[s.Service+" "+s.Resource] = x
		if len(s.Used.Samples) != 51 {
			t.Errorf("%s %s: %d samples over 50m at 1m steps, want 51", s.Service, s.Resource, len(s.Used.Samples))
		}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*max(1, math.Abs(b)) }
	for k, want := range map[string]reading{
		"checkout pool:orders-db":     {10, 10, "prometheus: hikaricp", stackT0.Add(30 * time.Minute)},
		"basket pool:basket-mysql":    {7, 1, "prometheus: hikaricp", r.Start}, // 7 of 10; fullest at 1 of 1
		"search pool:search-db":       {10 * 55.0 / 60, 10, "prometheus: hikaricp", r.End},
		"payments pool:payments":      {5, 5, "prometheus: go_sql", stackT0.Add(20 * time.Minute)},
		"inventory pool:inventory-db": {3, 8, "prometheus: otel_pool", r.Start},
		"legacy pool:legacy-db":       {2, 4, "prometheus: otel_pool", r.Start},
		"web cpu":                     {1, 1, "prometheus: cadvisor", time.Time{}},
		"web memory":                  {400 << 20, 512 << 20, "prometheus: cadvisor", r.Start},
		"pgbouncer pool:orders":       {18, 20, "prometheus: pgbouncer", r.Start},
	} {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: missing; got %v", k, got)
		case !near(g.peak, want.peak) || !near(g.max, want.max) || g.source != want.source:
			t.Errorf("%s: %g/%g from %q, want %g/%g from %q", k, g.peak, g.max, g.source, want.peak, want.max, want.source)
		case !want.fullAt.IsZero() && !g.fullAt.Equal(want.fullAt):
			t.Errorf("%s: peaked at %s, want %s", k, g.fullAt, want.fullAt)
		}
	}
	if len(got) != 9 {
		t.Errorf("%d resources, want 9: %v", len(got), got)
	}

	t.Run("every preset keeps its limit over time", func(t *testing.T) {
		// limit(at) is the limit the fixture wrote in force at a minute
		// of the range; constant limits are their Max throughout
		step := func(before, after float64, at time.Duration) func(time.Duration) float64 {
			return func(d time.Duration) float64 { return map[bool]float64{true: before, false: after}[d < at] }
		}
		resized := map[string]func(time.Duration) float64{
			"basket pool:basket-mysql": step(10, 1, 45*time.Minute),
			"payments pool:payments":   step(20, 5, 20*time.Minute),
		}
		for k, l := range limits {
			if len(l.Samples) != 51 || l.Query == "" {
				t.Errorf("%s: %d limit samples (query %q), want 51 with its query", k, len(l.Samples), l.Query)
				continue
			}
			for _, p := range l.Samples {
				want := got[k].max
				if f := resized[k]; f != nil {
					want = f(p.T.Sub(stackT0))
				}
				if !near(p.V, want) {
					t.Errorf("%s: limit %g at %s, want %g", k, p.V, p.T.Format("15:04"), want)
				}
			}
		}
		var basket sources.Saturation
		for _, s := range sats {
			if s.Service == "basket" {
				basket = s
			}
		}
		cut := stackT0.Add(45 * time.Minute)
		if a, b := basket.LimitAt(cut.Add(-time.Minute)), basket.LimitAt(cut); a != 10 || b != 1 {
			t.Errorf("basket's limit %g before 10:45 and %g from it, want 10 then 1", a, b)
		}
		if used, limit, _ := basket.Fullest(); !used.T.Equal(cut) || used.V != 1 || limit != 1 || basket.Max != 1 {
			t.Errorf("basket fullest at %g/%g %s (Max %g), want 1/1 at 10:45", used.V, limit, used.T.Format("15:04"), basket.Max)
		}
	})

	t.Run("hostile service names select nothing and break nothing", func(t *testing.T) {
		sats, err := c.Saturation(ctx, []string{`a"b`, `x|y`, `\`, "c\nd", "checkout"}, r, time.Minute)
		if err != nil || len(sats) != 1 || sats[0].Resource != "pool:orders-db" {
			t.Fatalf("%+v, %v", sats, err)
		}
	})

	t.Run("several service labels read the same on a real server", func(t *testing.T) {
		rq, err := conv.CompileResources()
		if err != nil {
			t.Fatal(err)
		}
		multi := conv
		multi.Resources.ServiceLabels = map[string]sources.LabelList{}
		for _, p := range sources.ResourcePresets {
			// no series has app: each is named by the label it has
			multi.Resources.ServiceLabels[p] = append(sources.LabelList{"app"}, rq.ServiceLabels(p)...)
		}
		mc, err := New(url, http.DefaultClient, multi)
		if err != nil {
			t.Fatal(err)
		}
		sats, err := mc.Saturation(ctx, []string{"checkout", "web", "pgbouncer"}, r, time.Minute)
		var names []string
		for _, s := range sats {
			names = append(names, s.Service+" "+s.Resource)
		}
		if err != nil || strings.Join(names, ", ") != "checkout pool:orders-db, pgbouncer pool:orders, web cpu, web memory" {
			t.Fatalf("%v, %v", names, err)
		}
	})

	t.Run("a window with no series is not reported", func(t *testing.T) {
		_, err := c.Saturation(ctx, nil, sources.TimeRange{Start: stackT0.Add(-3 * time.Hour), End: stackT0.Add(-2 * time.Hour)}, time.Minute)
		if !errors.Is(err, sources.ErrNotReported) {
			t.Fatalf("%v", err)
		}
	})

	t.Run("the filling pool is forecast", func(t *testing.T) {
		at := stackT0.Add(40 * time.Minute)
		fs, err := slo.LoadSaturationForecasts(ctx, c, nil, at, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, f := range fs {
			if f.What != "search pool:search-db" {
				continue
			}
			found = true
			// 10 per hour from 0: 95% of 10 at 10:57
			if want := stackT0.Add(57 * time.Minute); f.At.Before(want.Add(-2*time.Minute)) || f.At.After(want.Add(2*time.Minute)) {
				t.Errorf("search's pool full at %s, want about %s", f.At, want)
			}
		}
		if !found {
			t.Errorf("no forecast of search's pool: %+v", fs)
		}
	})
}
