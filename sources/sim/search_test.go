package sim

import (
	"slices"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// TestSearchDescribesTheFailedSpansAndCalls: a search for span sets
// answers, as Tempo's does, each failed trace's failed spans and its
// calls with what the search selects of them, up to SpansPerTrace, and
// counts every match.
func TestSearchDescribesTheFailedSpansAndCalls(t *testing.T) {
	f, b := run(t, "db-pool-exhaustion", 5*time.Minute)
	r := sources.TimeRange{Start: f.Now().Add(-5 * time.Minute), End: f.Now()}
	hits, err := b.SearchTraces(bg, sources.TraceSearch{ErrorsOnly: true, Range: r, Limit: 5, SpansPerTrace: 100, WithCalls: true})
	if err != nil || len(hits) == 0 {
		t.Fatalf("%d hits, %v", len(hits), err)
	}
	for _, h := range hits {
		whole, err := b.Trace(bg, h.TraceID)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]sources.Span{}
		for _, sp := range whole.Spans {
			byID[sp.SpanID] = sp
		}
		failed, calls := 0, 0
		for _, sp := range h.Spans {
			w := byID[sp.SpanID]
			if sp.Service != w.Service || sp.Name != w.Name || sp.Kind != w.Kind || sp.Status != w.Status || sp.StatusMessage != w.StatusMessage ||
				sp.ParentSpanID != w.ParentSpanID || !sp.Start.Equal(w.Start) || !sp.End.Equal(w.End) || sp.Attributes["peer.service"] != w.Attributes["peer.service"] {
				t.Fatalf("span %+v\nin the trace %+v", sp, w)
			}
			if sp.Attributes["service.version"] != "" {
				t.Errorf("span %s carries an attribute the search does not select", sp.SpanID)
			}
			if sp.Status == sources.StatusError {
				failed++
			}
			if sp.Kind == "client" {
				calls++
			}
		}
		if failed == 0 || calls == 0 || h.Matched != len(h.Spans) {
			t.Fatalf("trace %s: %d failed spans, %d calls, %d of %d matched", h.TraceID, failed, calls, len(h.Spans), h.Matched)
		}
	}
	capped, err := b.SearchTraces(bg, sources.TraceSearch{ErrorsOnly: true, Range: r, Limit: 5, SpansPerTrace: 1, WithCalls: true})
	if err != nil || len(capped[0].Spans) != 1 || capped[0].Matched != len(hits[0].Spans) {
		t.Fatalf("capped to %d spans of %d matched, want 1 of %d (%v)", len(capped[0].Spans), capped[0].Matched, len(hits[0].Spans), err)
	}
}

// TestSearchKeepsFailuresWithoutCalls: asking for the calls as well does
// not narrow the search to the traces that made one. In the retry storm
// some requests fail in the service they entered (rejected, queue full)
// and call nothing; where they failed is still in their span sets.
func TestSearchKeepsFailuresWithoutCalls(t *testing.T) {
	f, b := run(t, "retry-storm", 5*time.Minute)
	r := sources.TimeRange{Start: f.Now().Add(-5 * time.Minute), End: f.Now()}
	hits, err := b.SearchTraces(bg, sources.TraceSearch{ErrorsOnly: true, Range: r, Limit: 200, SpansPerTrace: 100, WithCalls: true})
	if err != nil {
		t.Fatal(err)
	}
	without := 0
	for _, h := range hits {
		whole, err := b.Trace(bg, h.TraceID)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(whole.Spans, func(sp sources.Span) bool { return sp.Kind == "client" }) {
			continue
		}
		without++
		if !slices.ContainsFunc(h.Spans, func(sp sources.Span) bool { return sp.Status == sources.StatusError }) {
			t.Fatalf("trace %s failed without a call, and its span set %+v does not say where", h.TraceID, h.Spans)
		}
	}
	if without == 0 {
		t.Fatalf("none of %d failed traces made no call: the scenario no longer tests this", len(hits))
	}
}
