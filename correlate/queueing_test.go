package correlate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// queuedTrace is web → api where web's request waited wait for a worker
// before it called api, and api answered in call.
func queuedTrace(id string, wait, call time.Duration) sources.Trace {
	at := t0.Add(40 * time.Minute)
	return sources.Trace{ID: id, Spans: []sources.Span{
		{TraceID: id, SpanID: "01", Service: "web", Kind: "server", Name: "GET /", Start: at, End: at.Add(wait + call + 20*time.Millisecond), Status: sources.StatusError},
		{TraceID: id, SpanID: "02", ParentSpanID: "01", Service: "web", Kind: "client", Name: "GET /items", Start: at.Add(wait), End: at.Add(wait + call),
			Attributes: map[string]string{"peer.service": "api"}},
		{TraceID: id, SpanID: "03", ParentSpanID: "02", Service: "api", Kind: "server", Name: "GET /items", Start: at.Add(wait + time.Millisecond), End: at.Add(wait + call - time.Millisecond)},
	}}
}

// queueEvidence is a web front end whose requests queue for its one
// worker: its p99 goes from 100 ms to 2 s and it times out 15% of them,
// while the calls it then makes to api take apiP99 (api's baseline is
// 30 ms). api was deployed a minute before: the usual suspect.
func queueEvidence(apiP99 float64, traces []sources.Trace) *Evidence {
	return &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start},
		RED: []sources.RED{
			red("web", 180, 10, step(150, 0.001, 0.15), step(150, 0.1, 2)),
			red("api", 180, 10, flat(0.001), step(150, 0.03, apiP99)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "web", RequestRate: 10},
			{Client: "web", Server: "api", RequestRate: 10, P99Seconds: apiP99},
		},
		BaselineEdges: []sources.Edge{{Client: "web", Server: "api", RequestRate: 10, P99Seconds: 0.03}},
		Changes:       []sources.Change{{T: t0.Add(36*time.Minute + 30*time.Second), Service: "api", Kind: sources.ChangeDeploy, Version: "v1.4.2", Detail: "rolling update"}},
		Traces:        traces,
	}
}

func TestAQueueInsideAServiceIsBlamedOnIt(t *testing.T) {
	var traces []sources.Trace
	for i := range 6 {
		traces = append(traces, queuedTrace(fmt.Sprintf("4bf92f35%024x", i+1), 1800*time.Millisecond+time.Duration(i)*10*time.Millisecond, 30*time.Millisecond))
	}
	inc := Analyze(queueEvidence(0.03, traces), Meta{})
	if len(inc.Candidates) < 2 || inc.Candidates[0].Service != "web" || inc.Candidates[0].Likelihood != Likely {
		t.Fatalf("ranked %+v\n%s", inc.Candidates, inc.Summary)
	}
	want := "requests wait 1.9 s before their first call (trace 4bf92f35…; 6 of 6 traced requests): queued inside web, not in its callees (calls: api median 30 ms against a 30 ms baseline p99)"
	if r := reasonOf(inc.Candidates[0], ReasonQueue); r == nil || r.Detail != want || len(r.TraceIDs) != 1 {
		t.Errorf("web's queue reason %+v\nwant %q", r, want)
	}
	if r := reasonOf(inc.Candidates[0], ReasonExplained); r != nil {
		t.Errorf("web explained by its fast callee: %+v", r)
	}
	if inc.Candidates[1].Service != "api" || inc.Candidates[1].Likelihood == Likely {
		t.Errorf("api %+v", inc.Candidates[1])
	}

	// the same gap before calls that are themselves slow is the callee's
	// slowness, not a queue in web: api stays the cause
	traces = nil
	for i := range 6 {
		traces = append(traces, queuedTrace(fmt.Sprintf("%032x", i+1), 300*time.Millisecond, 1500*time.Millisecond))
	}
	inc = Analyze(queueEvidence(1.5, traces), Meta{})
	if inc.Candidates[0].Service != "api" || reasonOf(inc.Candidates[0], ReasonQueue) != nil {
		t.Errorf("slow callee: ranked %+v", inc.Candidates)
	}
	// and calls that fail fast are a failing callee, not a healthy one
	traces = nil
	for i := range 6 {
		tr := queuedTrace(fmt.Sprintf("%032x", i+1), 1800*time.Millisecond, 2*time.Millisecond)
		tr.Spans[1].Status = sources.StatusError
		traces = append(traces, tr)
	}
	inc = Analyze(queueEvidence(0.03, traces), Meta{})
	for _, c := range inc.Candidates {
		if reasonOf(c, ReasonQueue) != nil {
			t.Errorf("queue before failing calls: %+v", c)
		}
	}
}

func TestAQueuedCallersFastCalleeIsAVictim(t *testing.T) {
	// api is anomalous too (its errors rise with web's timeouts), but
	// web's calls to it were fast: web's requests queue before calling it
	var traces []sources.Trace
	for i := range 6 {
		traces = append(traces, queuedTrace(fmt.Sprintf("%032x", i+1), 1800*time.Millisecond, 30*time.Millisecond))
	}
	ev := queueEvidence(0.03, traces)
	ev.Changes = nil
	ev.RED[1] = red("api", 180, 10, step(150, 0.001, 0.15), flat(0.03))
	inc := Analyze(ev, Meta{})
	api := inc.Candidates[1]
	if r := reasonOf(api, ReasonExplained); inc.Candidates[0].Service != "web" || api.Service != "api" || r == nil ||
		r.Detail != "its calls from web are fast (median 30 ms against a 30 ms baseline p99): web's requests queue before calling it" {
		t.Errorf("ranked %+v", inc.Candidates)
	}
}

func TestAFullWorkerPoolIsAQueue(t *testing.T) {
	// no traces, but web reports its one worker busy while its calls
	// stay healthy
	ev := queueEvidence(0.03, nil)
	ev.Edges[1].FailedRate = 0
	ev.Saturation = []sources.Saturation{{Service: "web", Resource: "workers", Max: 1, Used: sources.Series{Query: "workers of web",
		Samples: []sources.Sample{{T: window.Start, V: 0}, {T: window.Start.Add(10 * time.Minute), V: 1}}}}}
	inc := Analyze(ev, Meta{})
	r := reasonOf(inc.Candidates[0], ReasonQueue)
	if inc.Candidates[0].Service != "web" || r == nil || r.Detail != "workers at 1/1: queued inside web, not in its callees (calls: api not degraded in the service graph)" || r.Source != "workers of web" {
		t.Errorf("ranked %+v", inc.Candidates)
	}
	// a worker pool full because the calls it makes are degraded is the
	// callee's doing
	ev.Edges[1].FailedRate = 1.5
	ev.RED[1] = red("api", 180, 10, step(150, 0.001, 0.15), flat(0.03))
	inc = Analyze(ev, Meta{})
	for _, c := range inc.Candidates {
		if reasonOf(c, ReasonQueue) != nil {
			t.Errorf("queue with a degraded callee: %+v", c)
		}
	}
}

func TestAFullWorkerPoolBehindARecoveredCalleeIsAQueue(t *testing.T) {
	// api failed first and recovered; web's errors went on, its one
	// worker busy, though the graph's figures still carry api's failures
	ev := queueEvidence(0.03, nil)
	ev.Changes = nil
	ev.Edges[1].FailedRate = 5
	ev.RED[0] = red("web", 180, 10, step(140, 0.001, 0.3), step(140, 0.1, 3))
	ev.RED[1] = red("api", 180, 10, func(i int) float64 {
		if i >= 140 && i < 150 {
			return 0.4
		}
		return 0.001
	}, flat(0.03))
	ev.Saturation = []sources.Saturation{{Service: "web", Resource: "workers", Max: 1, Used: sources.Series{Query: "workers of web",
		Samples: []sources.Sample{{T: window.Start, V: 0}, {T: window.Start.Add(10 * time.Minute), V: 1}}}}}
	inc := Analyze(ev, Meta{})
	r := reasonOf(inc.Candidates[0], ReasonQueue)
	if inc.Candidates[0].Service != "web" || r == nil || !strings.Contains(r.Detail, "(calls: api recovered at ") {
		t.Errorf("ranked %+v", inc.Candidates)
	}
}
