package correlate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// poolEvidence is gw → api → db, db an uninstrumented database seen
// through api's calls. api's pool to db (100 connections) fills at step
// 151 and api's requests fail waiting for a connection; api retries its
// failed queries, so three times the calls reach db while api's own
// traffic is flat. dbP99 is the p99 of api's calls to db (25 ms before).
// No attribute marks the retries: the traces show each query tried
// again after it failed.
func poolEvidence(dbP99 float64) *Evidence {
	used := sources.Series{Query: "pool of api"}
	for i := 120; i < 180; i++ {
		v := 20.0
		if i >= 151 {
			v = 100
		}
		used.Samples = append(used.Samples, sources.Sample{T: t0.Add(time.Duration(i) * 15 * time.Second), V: v})
	}
	var traces []sources.Trace
	for i := range 10 {
		id := fmt.Sprintf("%032x", i+1)
		at := t0.Add(40 * time.Minute)
		query := func(sid string, n int, status sources.SpanStatus) sources.Span {
			from := at.Add(time.Duration(n) * 400 * time.Millisecond)
			return sources.Span{TraceID: id, SpanID: sid, ParentSpanID: "01", Service: "api", Kind: "client", Name: "SELECT", Start: from, End: from.Add(350 * time.Millisecond),
				Status: status, Attributes: map[string]string{"peer.service": "db"}}
		}
		traces = append(traces, sources.Trace{ID: id, Spans: []sources.Span{
			{TraceID: id, SpanID: "01", Service: "api", Kind: "server", Name: "POST /pay", Start: at, End: at.Add(1100 * time.Millisecond), Status: sources.StatusError},
			query("02", 0, sources.StatusError), query("03", 1, sources.StatusError), query("04", 2, sources.StatusError),
		}})
	}
	return &Evidence{Window: window, Traces: traces, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start},
		RED: []sources.RED{
			red("gw", 180, 100, step(152, 0.001, 0.3), step(152, 0.1, 1.2)),
			red("api", 180, 100, step(152, 0.001, 0.4), step(152, 0.05, 1.1)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "gw", RequestRate: 100},
			{Client: "gw", Server: "api", RequestRate: 100, FailedRate: 40, P99Seconds: 1.1},
			{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 300, FailedRate: 60, P99Seconds: dbP99, Query: "calls into db"},
		},
		BaselineEdges: []sources.Edge{
			{Client: "gw", Server: "api", RequestRate: 100, P99Seconds: 0.05},
			{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 100, P99Seconds: 0.025},
		},
		Saturation: []sources.Saturation{{Service: "api", Resource: "pool:db", Max: 100, Used: used}},
		Logs: []sources.LogLine{{T: t0.Add(40 * time.Minute), Service: "api", Level: "error",
			Line: `msg="POST /pay failed: timeout acquiring connection from pool db (100/100 in use)" pool=db`}},
	}
}

func TestAPoolFullBecauseItsDatabaseIsSlowBlamesTheDatabase(t *testing.T) {
	inc := Analyze(poolEvidence(0.35), Meta{})
	if len(inc.Candidates) < 2 || inc.Candidates[0].Service != "db" || inc.Candidates[0].Likelihood != Likely {
		t.Fatalf("ranked %+v\n%s", inc.Candidates, inc.Summary)
	}
	db := inc.Candidates[0]
	want := "api's pool:db full (100/100 at 23:37:45) after db's latency rose (p99 25 ms → 350 ms since 23:38): the pool is full because db is slow"
	if r := reasonOf(db, ReasonPool); r == nil || r.Detail != want || r.Source != "pool of api" {
		t.Errorf("db's pool reason %+v\nwant %q", r, want)
	}
	for _, c := range inc.Candidates {
		for _, r := range c.Reasons {
			if r.Kind == ReasonLoad {
				t.Errorf("the retries credit a caller as load: %s %+v", c.Service, r)
			}
		}
	}
	if r := reasonOf(inc.Candidates[1], ReasonExplained); inc.Candidates[1].Service != "api" || r == nil {
		t.Errorf("api %+v", inc.Candidates[1])
	}
	if !hasMechanism(inc, "saturation", "api") {
		t.Errorf("api's full pool is not the mechanism: %+v", inc.Mechanisms)
	}
	// another caller's pool to db, full at the same time, is counted
	ev := poolEvidence(0.35)
	ev.Saturation = append(ev.Saturation, sources.Saturation{Service: "worker", Resource: "pool:db", Max: 100, Used: ev.Saturation[0].Used})
	inc = Analyze(ev, Meta{})
	if r := reasonOf(inc.Candidates[0], ReasonPool); r == nil || r.Detail != want+" (and 1 more callers' pools)" {
		t.Errorf("two pools: %+v", r)
	}
}

func TestAPoolFullWhileItsDatabaseHeldBlamesItsOwner(t *testing.T) {
	// a shrunk pool or a leak: the calls into db stay at 25 ms, and api
	// (its own traffic flat) is the cause
	ev := poolEvidence(0.025)
	ev.Edges[2].RequestRate, ev.Edges[2].FailedRate = 100, 0
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "api" {
		t.Fatalf("ranked %+v", inc.Candidates)
	}
	want := "api's pool:db full (100/100 at 23:37:45) while db's latency held (p99 of api's calls 25 ms → 25 ms): the pool filled from api's side"
	if r := reasonOf(inc.Candidates[0], ReasonPool); r == nil || r.Detail != want {
		t.Errorf("api's pool reason %+v\nwant %q", r, want)
	}
	// the database slowed as three times the calls reached it, none of
	// them known to be a retry: new calls (a cache that stopped hitting)
	// load it, and the pool did not fill because db is slow
	ev = poolEvidence(0.35)
	ev.Traces = nil
	if v := poolVerdicts(ev); len(v) != 1 || v[0].targetSlow || !strings.HasPrefix(v[0].why, "as calls into db surged from api (db p99 25 ms → 350 ms") {
		t.Errorf("first calls surged: %+v", v)
	}
	// the database slowed, but api's own demand tripled first: a flash
	// sale that the pool caps, not a slow database
	for i := range ev.RED[1].Requests.Samples {
		if i >= 150 {
			ev.RED[1].Requests.Samples[i].V = 300
			ev.RED[1].Errors.Samples[i].V = 300 * 0.4
		}
	}
	if v := poolVerdicts(ev); len(v) != 1 || v[0].targetSlow || !strings.HasPrefix(v[0].why, "as api's own traffic surged (db p99 25 ms → 350 ms") {
		t.Errorf("flash sale: %+v", v)
	}
	for _, c := range Analyze(ev, Meta{}).Candidates {
		if c.Service == "db" && reasonOf(c, ReasonPool) != nil {
			t.Errorf("flash sale blames db's slowness: %+v", c)
		}
	}
}

// poolVerdicts judges the pools of ev as Analyze does.
func poolVerdicts(ev *Evidence) []*poolVerdict {
	a := &analysis{ev: ev, anoms: Anomalies(ev), tolerance: OnsetTolerance * ev.Step, g: BuildGraph(tracedSpans(ev), ev.Edges, ev.BaselineEdges, nil)}
	a.sigs = Signatures(ev.Logs)
	a.findLoad()
	a.findPools()
	return a.pools
}

func hasMechanism(inc *Incident, kind, service string) bool {
	for _, m := range inc.Mechanisms {
		if m.Kind == kind && m.Service == service {
			return true
		}
	}
	return false
}

func TestADatabaseSlightlySlowerBehindAFullPoolIsNotNoise(t *testing.T) {
	// db's calls went from 25 ms to 40 ms, a small anomaly on its own,
	// but api's pool filled after it: the pool is how a small slowness
	// of each query becomes a full pool, and db is the cause
	ev := poolEvidence(0.04)
	ev.Edges[2].FailedRate = 0 // its queries still succeed, slowly
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "db" || inc.Candidates[0].Likelihood != Likely {
		t.Fatalf("ranked %+v", inc.Candidates)
	}
	if r := reasonOf(inc.Candidates[0], ReasonNoise); r != nil {
		t.Errorf("db is called noise: %+v", r)
	}
}

func TestAPeerSeenFromItsEdgesNamesItsBaseline(t *testing.T) {
	ev := poolEvidence(0.35)
	ev.Baseline = sources.TimeRange{Start: t0, End: window.Start}
	if db := Anomalies(ev)["db"]; db == nil || db.Baseline != ev.Baseline {
		t.Errorf("db's baseline %+v, want the service graph's %+v", db, ev.Baseline)
	}
	// with no service graph before the window, the window's earliest slice
	ev.EdgeBaseline = sources.TimeRange{Start: window.Start, End: window.Start.Add(5 * time.Minute)}
	db := Anomalies(ev)["db"]
	if db == nil || db.Baseline != ev.EdgeBaseline {
		t.Errorf("db's baseline %+v, want the earliest slice %+v", db, ev.EdgeBaseline)
	}
	// and a zero baseline is left out of the JSON, never year 1
	db.Baseline = sources.TimeRange{}
	if b, _ := json.Marshal(db); strings.Contains(string(b), `"baseline"`) {
		t.Errorf("a zero baseline is printed: %s", b)
	}
}

func TestAFullPoolSeenOnlyInMetricsIsNotALoadVictim(t *testing.T) {
	// a shrunk pool: db holds at 25 ms, api logs only that waiting for a
	// connection timed out (no pool-exhausted signature), and gw's
	// retries send it seven times its calls. The metrics' full pool makes
	// api the bottleneck the surge revealed, not a victim of the load.
	ev := poolEvidence(0.025)
	ev.Traces = nil
	ev.Edges[1].RequestRate = 700
	ev.Edges[2].RequestRate, ev.Edges[2].FailedRate = 100, 0
	ev.Logs[0].Line = `msg="POST /pay 500 in 1010ms: acquiring connection to db: context deadline exceeded after 1000ms (1/1 open, 7 waiting)"`
	if sigs := Signatures(ev.Logs); len(sigs) == 0 || sigs[0].Kind == SigPoolExhausted {
		t.Fatalf("the log line must not read as an exhausted pool: %+v", sigs)
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "api" {
		t.Fatalf("ranked %+v", inc.Candidates)
	}
	if r := reasonOf(inc.Candidates[0], ReasonLoad); r != nil {
		t.Errorf("api's full pool is called a load victim: %+v", r)
	}
	if r := reasonOf(inc.Candidates[0], ReasonPool); r == nil || !strings.Contains(r.Detail, "the pool filled from api's side") {
		t.Errorf("api's pool reason %+v", r)
	}
}
