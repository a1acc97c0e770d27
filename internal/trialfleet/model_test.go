package trialfleet

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const tinyTopology = `
prefix: tiny
apps:
  - name: shop
    entry: front
    rate: 5
    pool_metrics: go_sql
    services:
      - {name: front, version: v1, workers: 4, self: 5ms, cpu: 1ms, cores: 1, timeout: 200ms, retries: 2, calls: [stock]}
      - {name: stock, version: v1, self: 5ms, cpu: 1ms, cores: 1, pool: {name: stockdb, db: stock-pg, max: 3, wait: 1s, queries: 1, hold: 1ms}}
    databases:
      - {name: stock-pg, system: postgresql, db_name: stock, latency: 2ms}
    faults:
      retry-storm: stock
`

func tiny(t *testing.T) Topology {
	t.Helper()
	topo, err := ParseTopology([]byte(tinyTopology), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func attr(s Span, key string) (Attr, bool) {
	for _, a := range s.Attrs {
		if a.Key == key {
			return a, true
		}
	}
	return Attr{}, false
}

func TestTimedOutCallsAreRetriedWithResendCount(t *testing.T) {
	f := NewFleet(tiny(t), t0, 1)
	f.nodes["stock"].stallShare, f.nodes["stock"].stallFor = 1, time.Second // every request outlasts the 200ms timeout
	f.Advance(t0)
	var tid [16]byte
	tid[0] = 1
	var status int
	f.serve(f.nodes["front"], tid, [8]byte{}, false, func(s int, _ string) { status = s })
	f.Advance(t0.Add(5 * time.Second))
	spans, lines := f.Drain()
	if status != statusTimeout {
		t.Errorf("front answered %d, want %d after its retries time out", status, statusTimeout)
	}
	var resend []int64
	servedByStock := 0
	for _, s := range spans {
		if s.Service == "front" && s.Kind == KindClient {
			a, ok := attr(s, "http.request.resend_count")
			if ok == (len(resend) == 0) {
				t.Errorf("attempt %d: resend_count present=%v, want it on retries only", len(resend), ok)
			}
			resend = append(resend, a.Int)
			if !s.Err || !strings.Contains(s.Message, "timeout") {
				t.Errorf("attempt %d: err=%v %q, want a timeout", a.Int, s.Err, s.Message)
			}
		}
		if s.Service == "stock" && s.Kind == KindServer {
			servedByStock++
		}
	}
	if !slices.Equal(resend, []int64{0, 1, 2}) {
		t.Errorf("resend counts = %v, want [0 1 2] (no attribute on the first attempt)", resend)
	}
	if servedByStock != 3 {
		t.Errorf("stock served %d requests, want 3: abandoned attempts keep running", servedByStock)
	}
	warns := 0
	for _, l := range lines {
		if l.Level == "warn" && strings.Contains(l.Line, "retrying") {
			warns++
		}
	}
	if warns != 2 {
		t.Errorf("%d retry warnings, want 2", warns)
	}
}

func TestDatabaseIsSeenOnlyThroughClientSpans(t *testing.T) {
	f := NewFleet(tiny(t), t0, 1)
	f.Start()
	f.Advance(t0.Add(10 * time.Second))
	spans, _ := f.Drain()
	queries := 0
	for _, s := range spans {
		if s.Service == "stock-pg" {
			t.Fatalf("the database has a span of its own: %+v", s)
		}
		if sys, ok := attr(s, "db.system"); ok {
			queries++
			addr, _ := attr(s, "server.address")
			name, _ := attr(s, "db.name")
			if s.Kind != KindClient || sys.Str != "postgresql" || addr.Str != "stock-pg" || name.Str != "stock" {
				t.Errorf("query span = %+v, want a client span to server.address stock-pg", s)
			}
		}
	}
	if queries == 0 {
		t.Fatal("no query spans in 10s of traffic")
	}
}

func TestBlastRadiusIsWhoFailedOrSlowed(t *testing.T) {
	app := tiny(t).Apps[0]
	base := map[string]Stats{}
	onset := map[string]Stats{
		"front":    {Requests: 1000, Failed: 2, Latency: 1000 * 50 * time.Millisecond},
		"stock":    {Requests: 1000, Failed: 0, Latency: 1000 * 10 * time.Millisecond},
		"stock-pg": {Requests: 1000, Latency: 1000 * 2 * time.Millisecond},
	}
	end := map[string]Stats{
		"front":    {Requests: 2000, Failed: 102, Latency: onset["front"].Latency + 1000*55*time.Millisecond}, // 10% failing
		"stock":    {Requests: 2000, Failed: 0, Latency: onset["stock"].Latency + 1000*11*time.Millisecond},   // within noise
		"stock-pg": {Requests: 2000, Latency: onset["stock-pg"].Latency + 1000*40*time.Millisecond},           // 20× slower
	}
	got, measured := BlastRadius(app, "stock-pg", base, onset, end)
	if !slices.Equal(got, []string{"front", "stock-pg"}) {
		t.Errorf("blast radius = %v, want [front stock-pg]", got)
	}
	if m := measured["front"]; m.ErrorRatio < 0.09 || m.BaseErrorRatio > 0.003 {
		t.Errorf("front measured %+v", m)
	}
}

func TestMetricsUseTheExportersNames(t *testing.T) {
	topo := loadFleet(t)
	f := NewFleet(topo, t0, 1)
	var b bytes.Buffer
	if err := f.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	for _, want := range []string{"tidewater_deploy_info", "process_start_time_seconds", "process_cpu_seconds_total", "machine_cpu_cores",
		"hikaricp_connections_active", "hikaricp_connections_max", "go_sql_stats_connections_in_use", "go_sql_stats_connections_max_open",
		"tidewater_workers_busy", "tidewater_workers_max"} {
		if families[want] == nil {
			t.Errorf("no %s", want)
		}
	}
	text := b.String()
	for _, want := range []string{`hikaricp_connections_max{service="harbor-berth",pool="BerthPool"} 10`,
		`go_sql_stats_connections_max_open{service="orchard-basket",db_name="baskets"} 10`,
		`tidewater_deploy_info{service="harbor-tally",version="v1.3.3"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(text, `hikaricp_connections_active{service="orchard`) {
		t.Error("a go_sql app exports HikariCP names")
	}
}

func TestBadDeployChangesVersionAndStartTime(t *testing.T) {
	topo := loadFleet(t)
	f := NewFleet(topo, t0, 1)
	f.Advance(t0.Add(time.Minute))
	end := f.inject(BadDeploy, "harbor-tally")
	var b bytes.Buffer
	_ = f.WriteMetrics(&b)
	if !strings.Contains(b.String(), `tidewater_deploy_info{service="harbor-tally",version="v1.3.3-rc.bad"} 1`) ||
		!strings.Contains(b.String(), `process_start_time_seconds{service="harbor-tally"} 1796547660`) {
		t.Errorf("deploy not visible in metrics:\n%s", grep(b.String(), "harbor-tally"))
	}
	end()
	b.Reset()
	_ = f.WriteMetrics(&b)
	if !strings.Contains(b.String(), `version="v1.3.3"`) {
		t.Error("the rollback did not restore the version")
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestPlanGivesEveryClassItsRunsWithGapsPerApp(t *testing.T) {
	topo := loadFleet(t)
	classes := Classes[:6]
	plan := Plan(topo, t0, 8*time.Minute, 3*time.Minute, 4*time.Minute, classes, 5)
	count := map[Class]int{}
	last := map[string]time.Time{}
	for _, p := range plan {
		count[p.Class]++
		if p.Target == "" {
			t.Errorf("%s in %s has no target", p.Class, p.App)
		}
		if prev, ok := last[p.App]; ok && p.Onset.Sub(prev) < 4*time.Minute {
			t.Errorf("%s: fault at %s only %s after the previous one ended", p.App, p.Onset, p.Onset.Sub(prev))
		}
		last[p.App] = p.End
	}
	for _, c := range classes {
		if count[c] != 5 {
			t.Errorf("%s: %d runs, want 5", c, count[c])
		}
	}
	if span := plan[len(plan)-1].End.Sub(t0); span > 48*time.Minute {
		t.Errorf("plan lasts %s, want at most 48m", span)
	}
	if one := Plan(topo, t0, 0, time.Minute, time.Minute, Classes, 1); len(one) != len(Classes) {
		t.Errorf("one run of each of %d classes over 5 apps planned %d faults", len(Classes), len(one))
	}
}

func TestJudgeScoresRankAndRecall(t *testing.T) {
	c := Case{Root: "berth-pg", BlastRadius: []string{"berth-pg", "harbor-berth", "harbor-gate"}}
	out, _ := json.Marshal(map[string]any{
		"candidates":   []map[string]any{{"service": "harbor-berth"}, {"service": "berth-pg"}},
		"blast_radius": map[string]any{"services": []map[string]any{{"service": "harbor-berth"}, {"service": "harbor-gate"}}},
	})
	v, err := Judge(c, out)
	if err != nil {
		t.Fatal(err)
	}
	if v.Top1 || !v.Top3 || v.Recall < 0.66 || v.Recall > 0.67 {
		t.Errorf("verdict = %+v, want second place and recall 2/3", v)
	}
	if _, err := Judge(c, []byte("oncall: no datasource")); err == nil {
		t.Error("text output was judged as JSON")
	}
}

func TestIsolatedLooksForOtherLiveFaults(t *testing.T) {
	a := Case{App: "harbor", Onset: t0, End: t0.Add(3 * time.Minute)}
	b := Case{App: "meadow", Onset: t0.Add(-20 * time.Minute), End: t0.Add(-17 * time.Minute)}
	if !Isolated(a, []Case{a, b}, t0.Add(2*time.Minute), 15*time.Minute) {
		t.Error("a fault ended 19 minutes earlier counts as live in a 15m window")
	}
	b.End = t0.Add(-10 * time.Minute)
	if Isolated(a, []Case{a, b}, t0.Add(2*time.Minute), 15*time.Minute) {
		t.Error("a fault live 12 minutes earlier was missed")
	}
}

func TestTopologyErrorsNameTheService(t *testing.T) {
	bad := strings.Replace(tinyTopology, "calls: [stock]", "calls: [stok]", 1)
	_, err := ParseTopology([]byte(bad), "tiny.yaml")
	if err == nil || !strings.Contains(err.Error(), `tiny.yaml: app shop: front calls unknown service "stok"`) {
		t.Errorf("err = %v", err)
	}
	bad = strings.Replace(tinyTopology, "retry-storm: stock", "slow-db: stock", 1)
	if _, err := ParseTopology([]byte(bad), "tiny.yaml"); err == nil || !strings.Contains(err.Error(), `fault slow-db: "stock" is not a database`) {
		t.Errorf("err = %v", err)
	}
}

func TestLokiPushCarriesStructuredMetadata(t *testing.T) {
	body, err := LokiPushBody([]LogLine{{Time: t0, App: "shop", Service: "front", Level: "error", TraceID: "ab", Line: "boom"},
		{Time: t0, App: "shop", Service: "front", Level: "info", Line: "starting"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"streams":[{"stream":{"app":"shop","service_name":"front"},"values":[["1796547600000000000","boom",{"level":"error","trace_id":"ab"}],["1796547600000000000","starting",{"level":"info"}]]}]}`
	if string(body) != want {
		t.Errorf("push body\n got %s\nwant %s", body, want)
	}
}

func TestARerunShowsNoRestart(t *testing.T) {
	topo := loadFleet(t)
	var first, second bytes.Buffer
	_ = NewFleet(topo, t0, 1).WriteMetrics(&first)
	_ = NewFleet(topo, t0.Add(30*time.Hour), 2).WriteMetrics(&second) // the next day
	if a, b := grep(first.String(), "process_start_time_seconds{"), grep(second.String(), "process_start_time_seconds{"); a != b {
		t.Errorf("start times differ between runs:\n%s\n%s", a, b)
	}
}

func TestCPUSaturationRunsTheCoresAtTheirLimit(t *testing.T) {
	f := NewFleet(loadFleet(t), t0, 3)
	f.Start()
	f.Advance(t0.Add(time.Minute))
	crane := f.nodes["harbor-crane"]
	healthy := crane.cpuSec
	f.inject(CPUSaturation, "harbor-crane")
	f.Advance(t0.Add(2 * time.Minute))
	if healthy > 15 {
		t.Errorf("healthy minute used %.1f CPU seconds of 60", healthy)
	}
	if used := crane.cpuSec - healthy; used < 55 || used > 60.5 {
		t.Errorf("saturated minute used %.1f CPU seconds, want its one core's 60", used)
	}
}

func TestCrashLoopRefusesConnectionsAndMovesTheStartTime(t *testing.T) {
	f := NewFleet(loadFleet(t), t0, 4)
	f.Start()
	f.Advance(t0.Add(time.Minute))
	f.Drain()
	f.inject(CrashLoop, "harbor-crane")
	f.Advance(t0.Add(time.Minute + 5*time.Second))
	spans, _ := f.Drain()
	refused, served := 0, 0
	for _, s := range spans {
		if s.Service == "harbor-manifest" && s.Kind == KindClient && strings.Contains(s.Message, "connection refused") {
			refused++
		}
		if s.Service == "harbor-crane" && s.Kind == KindServer && s.Start.After(t0.Add(time.Minute)) {
			served++
		}
	}
	if refused == 0 || served != 0 {
		t.Errorf("while down: %d refused client spans, %d served requests; want some and none", refused, served)
	}
	f.Advance(t0.Add(time.Minute + 10*time.Second))
	if got := f.nodes["harbor-crane"].started; !got.Equal(t0.Add(time.Minute + 8*time.Second)) {
		t.Errorf("started = %s, want the restart 8s after the crash", got)
	}
}
