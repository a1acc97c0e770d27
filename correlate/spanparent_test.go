package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// collidedTrace is one trace ID that two unrelated requests drew: api's
// request, queued 3 s and refused, and twenty minutes later web's call to
// posts, whose client span names api's server span as its parent because
// the span ID was drawn again too.
func collidedTrace() sources.Trace {
	at := t0.Add(20 * time.Minute)
	later := at.Add(20 * time.Minute)
	return sources.Trace{ID: "37623b42f67ba2d2047b223144828c8", Spans: []sources.Span{
		{SpanID: "dc", Service: "api", Kind: "server", Name: "GET /api", Start: at, End: at.Add(3 * time.Second), Status: sources.StatusError},
		{SpanID: "b1", ParentSpanID: "dc", Service: "web", Kind: "client", Name: "GET", Start: later, End: later.Add(400 * time.Millisecond)},
		{SpanID: "b2", ParentSpanID: "b1", Service: "posts", Kind: "server", Name: "GET /posts", Start: later.Add(time.Millisecond), End: later.Add(390 * time.Millisecond)},
	}}
}

func TestASpanOutsideItsParentInTimeIsNotItsChild(t *testing.T) {
	g := BuildGraph([]sources.Trace{collidedTrace()}, nil, nil, nil)
	for _, e := range g.Edges {
		if e.Client == "api" {
			t.Errorf("a collided trace ID invents a call: %+v", e)
		}
	}
	if len(g.Dependencies("web")) != 1 {
		t.Errorf("web's real call to posts is lost: %+v", g.Edges)
	}
	if w := queueWaits([]sources.Trace{collidedTrace()})["api"]; w != nil {
		t.Errorf("api waits 20 minutes before a call it never made: %+v", w)
	}

	// a child a little outside its parent is clock drift, and a
	// consumer may start long after its producer ended
	p := &sources.Span{Start: t0, End: t0.Add(time.Second)}
	for _, c := range []sources.Span{
		{Kind: "client", Start: t0.Add(-time.Second)},
		{Kind: "server", Start: t0.Add(2 * time.Second)},
		{Kind: "consumer", Start: t0.Add(10 * time.Minute)},
	} {
		if !childOf(p, &c) {
			t.Errorf("%s at %s is not a child of a span from %s to %s", c.Kind, c.Start, p.Start, p.End)
		}
	}
}

func TestACollidedTraceDoesNotScopeAnotherAppIn(t *testing.T) {
	// quarry's api refuses requests, its workers full; the blog's posts
	// fail worse and earlier, and one trace ID both drew makes api seem to
	// call web
	ev := &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start},
		Trigger: Trigger{Service: "api"},
		RED: []sources.RED{
			red("api", 180, 100, step(150, 0.001, 0.5), step(150, 0.1, 3)),
			red("ledger", 180, 100, flat(0.001), flat(0.05)),
			red("web", 180, 100, step(130, 0.001, 0.5), flat(0.05)),
			red("posts", 180, 100, step(130, 0.001, 0.9), flat(0.05)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "api", RequestRate: 100},
			{Client: "api", Server: "ledger", RequestRate: 100},
			{Client: sources.UserNode, Server: "web", RequestRate: 100},
			{Client: "web", Server: "posts", RequestRate: 100, FailedRate: 90},
		},
		Traces: []sources.Trace{collidedTrace()}}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "api" {
		t.Fatalf("candidates %+v", inc.Candidates)
	}
	for _, c := range inc.Candidates {
		if c.Service == "posts" || c.Service == "web" {
			t.Errorf("the other app is a candidate: %+v", c)
		}
	}
	if want := "elsewhere: 2 services anomalous outside what api calls and its callers (posts, web)"; !strings.Contains(strings.Join(inc.Notes, "\n"), want) {
		t.Errorf("notes %q", inc.Notes)
	}
}
