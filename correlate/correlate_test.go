package correlate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

var t0 = time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)

// red builds a RED with rps requests and the given error ratio and p99
// per 15 s step, from the functions of the step index.
func red(svc string, n int, rps float64, errRatio, p99 func(i int) float64) sources.RED {
	r := sources.RED{Service: svc, Errors: sources.Series{Query: "errors of " + svc}}
	for i := 0; i < n; i++ {
		t := t0.Add(time.Duration(i) * 15 * time.Second)
		r.Requests.Samples = append(r.Requests.Samples, sources.Sample{T: t, V: rps})
		r.Errors.Samples = append(r.Errors.Samples, sources.Sample{T: t, V: rps * errRatio(i)})
		r.P99.Samples = append(r.P99.Samples, sources.Sample{T: t, V: p99(i)})
	}
	return r
}

func flat(v float64) func(int) float64 { return func(int) float64 { return v } }

func step(at int, before, after float64) func(int) float64 {
	return func(i int) float64 {
		if i >= at {
			return after
		}
		return before
	}
}

var window = sources.TimeRange{Start: t0.Add(30 * time.Minute), End: t0.Add(45 * time.Minute)}

func TestAnomalyOnsetAndKind(t *testing.T) {
	ev := &Evidence{Window: window, RED: []sources.RED{
		red("errs", 180, 100, step(130, 0.001, 0.2), flat(0.05)),
		red("slow", 180, 100, flat(0.001), step(125, 0.05, 0.5)),
		red("blip", 180, 100, func(i int) float64 {
			if i == 140 {
				return 0.03 // one sample of +2 points: not sustained, not a jump
			}
			return 0.001
		}, flat(0.05)),
		red("healthy", 180, 100, flat(0.001), flat(0.05)),
	}}
	got := Anomalies(ev)
	if len(got) != 2 {
		t.Fatalf("anomalies %v", keys(got))
	}
	if a := got["errs"]; a.Kind != "errors" || !a.Onset.Equal(t0.Add(130*15*time.Second)) || a.Magnitude < 0.9 {
		t.Errorf("errs: %+v", a)
	}
	if a := got["slow"]; a.Kind != "latency" || !a.Onset.Equal(t0.Add(125*15*time.Second)) || a.describe() != "p99 50 ms → 500 ms" {
		t.Errorf("slow: %+v %q", a, a.describe())
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestGraphMergesProvenanceAndSurvivesCycles(t *testing.T) {
	traces := []sources.Trace{{ID: "t1", Spans: []sources.Span{
		{SpanID: "a", Service: "api", Kind: "server"},
		{SpanID: "b", ParentSpanID: "a", Service: "api", Kind: "client", Attributes: map[string]string{"peer.service": "db"}},
		{SpanID: "c", ParentSpanID: "a", Service: "api", Kind: "client", Attributes: map[string]string{"peer.service": "svc", "http.request.resend_count": "1"}},
		{SpanID: "d", ParentSpanID: "c", Service: "svc", Kind: "server"},
		{SpanID: "e", ParentSpanID: "a", Service: "api", Kind: "internal"}, // same service: no edge
	}}}
	edges := []sources.Edge{{Client: "svc", Server: "api", RequestRate: 5}, {Client: "api", Server: "db", RequestRate: 10, FailedRate: 1, Kind: sources.EdgeDatabase}}
	g := BuildGraph(traces, edges, []sources.Edge{{Client: "api", Server: "db", RequestRate: 2}}, map[string][]string{"api": {"cache", "api"}})
	var got []string
	for _, e := range g.Edges {
		got = append(got, fmt.Sprintf("%s>%s %v", e.Client, e.Server, e.Provenance))
	}
	want := "api>cache [config]|api>db [service-graph traces]|api>svc [traces]|svc>api [service-graph]"
	if strings.Join(got, "|") != want {
		t.Errorf("edges\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	for _, e := range g.Edges {
		if e.Client == "api" && e.Server == "db" && (e.Surge() != 5 || e.ErrorRatio != 0.1) {
			t.Errorf("api>db %+v", e)
		}
		if e.Client == "api" && e.Server == "svc" && (e.TraceCalls != 1 || e.Retries != 1) {
			t.Errorf("api>svc %+v", e)
		}
	}
	// api and svc call each other: walking upstream ends
	if up := g.upstream("db", nil); !up["api"] || !up["svc"] || len(up) != 2 {
		t.Errorf("upstream of db %v", up)
	}
}

func TestSignaturesClassifyAndSanitise(t *testing.T) {
	logs := []sources.LogLine{
		{Service: "pay", Level: "error", TraceID: "t1", Line: `msg="POST failed: timeout acquiring connection from pool payment-db (100/100 in use)" pool=payment-db`},
		{Service: "pay", Level: "error", TraceID: "t1", Line: `msg="POST retry failed: timeout acquiring connection from pool payment-db (100/100 in use)" pool=payment-db`},
		{Service: "pay", Level: "error", Line: "msg=\"boom \x1b]0;pwned\x07\" OOMKilled"},
		{Service: "co", Level: "warn", Line: `msg="retrying call to pay (attempt 2/4): context deadline exceeded" peer=pay`},
		{Service: "co", Level: "info", Line: `msg="timeout but info"`},
	}
	sigs := Signatures(logs)
	byKind := map[string]Signature{}
	for _, s := range sigs {
		byKind[s.Service+"/"+s.Kind] = s
	}
	if s := byKind["pay/pool-exhausted"]; s.Usage != "100/100" || s.Peer != "payment-db" || len(s.TraceIDs) != 1 || s.TraceIDs[0] != "t1" {
		t.Errorf("pool %+v", s)
	}
	if s := byKind["pay/oom-killed"]; s.Count != 1 || strings.ContainsRune(s.Samples[0], '\x1b') {
		t.Errorf("oom sample not sanitised: %q", s.Samples)
	}
	if s := byKind["co/timeout"]; s.Count != 1 || s.Peer != "pay" {
		t.Errorf("timeout %+v (info lines do not count)", s)
	}
}

func TestErrorOriginIsTheDeepestFailureWithHealthyChildren(t *testing.T) {
	tr := sources.Trace{ID: "t", Spans: []sources.Span{
		{SpanID: "1", Service: "gw", Kind: "server", Status: sources.StatusError},
		{SpanID: "2", ParentSpanID: "1", Service: "gw", Kind: "client", Status: sources.StatusError, Attributes: map[string]string{"peer.service": "api"}},
		{SpanID: "3", ParentSpanID: "2", Service: "api", Kind: "server", Status: sources.StatusError, StatusMessage: "pool exhausted"},
		{SpanID: "4", ParentSpanID: "3", Service: "api", Kind: "client", Status: sources.StatusOK, Attributes: map[string]string{"peer.service": "db"}},
	}}
	o := ErrorOrigins([]sources.Trace{tr})
	if len(o) != 1 || o[0].Service != "api" || o[0].Message != "pool exhausted" {
		t.Errorf("origin %+v", o)
	}
	// a timed-out client call to a callee whose server span succeeded blames the callee
	tr.Spans[2].Status, tr.Spans[1].StatusMessage = sources.StatusOK, "context deadline exceeded"
	if o := ErrorOrigins([]sources.Trace{tr}); o[0].Service != "api" || o[0].Message != "context deadline exceeded" {
		t.Errorf("timeout origin %+v", o)
	}
}

func TestJoinAttachesLogsWithinTheTraceWindow(t *testing.T) {
	tr := sources.Trace{ID: "t", Spans: []sources.Span{
		{SpanID: "1", Service: "gw", Kind: "server", Start: t0, End: t0.Add(time.Second)},
		{SpanID: "2", ParentSpanID: "1", Service: "api", Kind: "server", Status: sources.StatusError, Start: t0.Add(100 * time.Millisecond), End: t0.Add(900 * time.Millisecond)},
	}}
	logs := []sources.LogLine{
		{TraceID: "t", Service: "api", Level: "error", T: t0.Add(900*time.Millisecond + 2*time.Second), Line: "skewed by 2s"},
		{TraceID: "t", Service: "gw", Level: "error", T: t0.Add(time.Second), Line: "gw line"},
		{TraceID: "t", Service: "api", Level: "error", T: t0.Add(time.Hour), Line: "same ID an hour later"},
		{TraceID: "t", Service: "other", Level: "error", T: t0, Line: "no span of its service"},
		{TraceID: "u", Service: "api", Level: "error", T: t0, Line: "another trace"},
	}
	v := JoinTraces([]sources.Trace{tr}, logs, nil)
	if len(v) != 1 || len(v[0].Spans[1].Logs) != 1 || v[0].Spans[1].Logs[0].Line != "skewed by 2s" || len(v[0].Spans[0].Logs) != 1 {
		t.Fatalf("join %+v", v)
	}
	if len(v[0].Unattached) != 1 || v[0].Unattached[0].Line != "no span of its service" {
		t.Errorf("unattached %+v", v[0].Unattached)
	}
}

// A Tempo that answers every ID asked with the same trace gives that
// trace once per log line naming it: the incident lists it once.
func TestCitedTracesListEachTraceOnce(t *testing.T) {
	tr := sources.Trace{ID: "t", Spans: []sources.Span{{SpanID: "1", Service: "api", Kind: "server", Status: sources.StatusError, Start: t0, End: t0.Add(time.Second)}}}
	other := sources.Trace{ID: "u", Spans: tr.Spans}
	ev := &Evidence{Trigger: Trigger{TraceID: "t"}, Traces: []sources.Trace{tr, tr, other, tr, tr, other}}
	v := citedTraces(ev, []ErrorOrigin{{TraceID: "u"}}, nil)
	var ids []string
	for _, x := range v {
		ids = append(ids, x.TraceID)
	}
	if !slices.Equal(ids, []string{"t", "u"}) {
		t.Errorf("traces %v, want t, u once each", ids)
	}
}

func TestBlastRadiusFollowsDependentsAndLoad(t *testing.T) {
	g := BuildGraph(nil, []sources.Edge{
		{Client: "gw", Server: "api", RequestRate: 100}, {Client: "api", Server: "root", RequestRate: 50},
		{Client: "api", Server: "db", RequestRate: 500}, {Client: "gw", Server: "other", RequestRate: 10},
	}, []sources.Edge{{Client: "api", Server: "db", RequestRate: 50}}, nil)
	an := func(s string, rate, errs float64) *Anomaly {
		return &Anomaly{Service: s, Rate: rate, ErrorRate: errs, BaseErrors: 0.001, PeakErrors: errs / rate, Kind: "errors"}
	}
	anoms := map[string]*Anomaly{"gw": an("gw", 100, 10), "api": an("api", 100, 20), "root": an("root", 50, 25), "db": an("db", 500, 0), "other": an("other", 10, 1)}
	b := Blast("root", g, anoms, map[string][]string{"db": {"api"}}, map[string]bool{"other": true},
		map[string]ServiceMeta{"api": {ValuePerRequest: 2}}, "EUR")
	if got := strings.Join(b.Names(), ","); got != "root,api,gw,db" {
		t.Errorf("members %s", got)
	}
	if len(b.EntryPoints) != 1 || b.EntryPoints[0] != "gw" || b.FailingPerMin != 600 || b.AtRiskPerMin != 6000 {
		t.Errorf("entry %+v", b)
	}
	if want := (20 - 0.001*100) * 2 * 60; b.MoneyPerMin != round2(want) || b.Currency != "EUR" || b.How["money_per_min"] == "" {
		t.Errorf("money %v want %v", b.MoneyPerMin, want)
	}
}

type failingMetrics struct{ sources.Metrics }

func (failingMetrics) RED(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.RED, error) {
	return nil, fmt.Errorf("prometheus query_range: HTTP 503")
}
func (failingMetrics) ServiceGraph(context.Context, time.Time, time.Duration) ([]sources.Edge, error) {
	return nil, nil
}
func (failingMetrics) Exemplars(context.Context, []string, sources.TimeRange) ([]sources.Exemplar, error) {
	return nil, nil
}

func TestNothingToGoOnIsSaidPlainly(t *testing.T) {
	ev := Gather(context.Background(), sources.Set{Metrics: failingMetrics{}}, Trigger{At: t0}, GatherOptions{})
	var what []string
	for _, m := range ev.Missing {
		what = append(what, m.What+": "+m.Why)
	}
	got := strings.Join(what, "|")
	for _, want := range []string{"alerts: no datasource configured", "logs: no datasource configured", "metrics: RED: prometheus query_range: HTTP 503", "traces: no datasource configured"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %s", want, got)
		}
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) != 0 || !inc.Thin || inc.Summary == "" || inc.Blast != nil || inc.Schema != SchemaVersion {
		t.Errorf("empty incident %+v", inc)
	}
}
