package sim

import (
	"context"
	"fmt"
	"math"

	world "github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// defaultTraceLimit is Tempo's default search limit.
const defaultTraceLimit = 20

// Trace returns one sampled trace by ID.
func (b *Backend) Trace(_ context.Context, id string) (sources.Trace, error) {
	tid, err := sources.NormalizeTraceID(id)
	if err != nil {
		return sources.Trace{}, fmt.Errorf("sim: trace ID %q: %w", id, err)
	}
	t, ok := b.f.TraceByID(tid)
	if !ok {
		return sources.Trace{}, fmt.Errorf("sim: trace %s: %w (only 1 in %.0f requests is traced, and traces age out)", tid, sources.ErrNotFound, 1/math.Max(b.f.TraceSampleRate(), 1e-9))
	}
	return t, nil
}

// SearchTraces finds sampled traces in q.Range, newest first.
func (b *Backend) SearchTraces(_ context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	if q.Limit <= 0 {
		q.Limit = defaultTraceLimit
	}
	if _, err := b.services(q.Services); err != nil {
		return nil, err
	}
	hits := b.f.FindTraces(world.TraceSelector{From: q.Range.Start, To: q.Range.End, Services: q.Services,
		ErrorsOnly: q.ErrorsOnly, MinDuration: q.MinDuration, Limit: q.Limit})
	if q.SpansPerTrace <= 0 {
		return hits, nil
	}
	for i := range hits {
		t, ok := b.f.TraceByID(hits[i].TraceID)
		if !ok {
			continue // aged out between the two reads
		}
		hits[i].Spans, hits[i].Matched = matchedSpans(t, hits[i].SpanIDs, q)
	}
	return hits, nil
}

// matchedSpans is what Tempo's search says of a trace's matched spans:
// the first SpansPerTrace of them in trace order, each with only what the
// search selects, and how many matched in all.
func matchedSpans(t sources.Trace, ids []string, q sources.TraceSearch) ([]sources.Span, int) {
	matched := map[string]bool{}
	for _, id := range ids {
		matched[id] = true
	}
	var out []sources.Span
	n := 0
	for _, sp := range t.Spans {
		if !matched[sp.SpanID] && !(q.WithCalls && sp.Kind == "client") {
			continue
		}
		if n++; len(out) >= q.SpansPerTrace {
			continue
		}
		attrs := map[string]string{}
		for _, k := range []string{"peer.service", "http.request.resend_count"} {
			if v, ok := sp.Attributes[k]; ok {
				attrs[k] = v
			}
		}
		sp.Attributes = attrs
		out = append(out, sp)
	}
	return out, n
}
