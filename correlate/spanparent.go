package correlate

import "github.com/oncall-cockpit/oncall/sources"

// childOf is whether c can be a child of p in time: it starts within p,
// give or take SpanParentSlack. A consumer's span may start any time after
// its producer's ended: a message waits in its queue.
func childOf(p, c *sources.Span) bool {
	if c.Start.Before(p.Start.Add(-SpanParentSlack)) {
		return false
	}
	return c.Kind == "consumer" || p.End.IsZero() || !c.Start.After(p.End.Add(SpanParentSlack))
}

// childrenOf indexes t's spans by their parent's span ID, leaving out a
// span that cannot be its named parent's child in time (see childOf).
func childrenOf(t sources.Trace) map[string][]*sources.Span {
	byID := make(map[string]*sources.Span, len(t.Spans))
	for i := range t.Spans {
		byID[t.Spans[i].SpanID] = &t.Spans[i]
	}
	out := map[string][]*sources.Span{}
	for i := range t.Spans {
		c := &t.Spans[i]
		if p := byID[c.ParentSpanID]; p != nil && childOf(p, c) {
			out[c.ParentSpanID] = append(out[c.ParentSpanID], c)
		}
	}
	return out
}
