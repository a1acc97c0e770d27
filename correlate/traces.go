package correlate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/oncall-cockpit/oncall/sources"
)

// searchSpansPerTrace is how many of a failed trace's spans the search
// returns: Tempo's default max_spans_per_span_set, above which it refuses
// the search. A trace with more failed spans and calls is a sample.
const searchSpansPerTrace = 100

// maxWholeTraces bounds the traces fetched whole, by ID: the trigger's,
// the slowest exemplar's, and one per failure origin and log signature,
// the commonest first. The search has told where each failure started;
// a whole trace is for reading one request end to end, and the incident
// shows a few. Each costs a real Tempo on 2 cores 35–60 ms alone, and
// eight asked at once take 0.55–0.63 s each.
const maxWholeTraces = 6

// wholeTracesPart names the part of Gather that fetches traces whole. It
// is supplementary: the "traces" part's search already said where each
// failure started, so a late or failed fetch is a note, not a part down.
const wholeTracesPart = "traces: whole"

// wholeTracesAside is what a note on the whole traces adds: what still
// stands without them.
const wholeTracesAside = "; where failures start comes from the search's span sets"

// traceFetches is how many traces are fetched by ID at once: more only
// queue on a small Tempo's cores, fewer leave a large one idle.
const traceFetches = 3

// spanSets turns search hits into partial traces: the spans each hit
// described, for the analysis that fetched traces fed.
func spanSets(hits []sources.TraceSummary) []sources.Trace {
	var out []sources.Trace
	for _, h := range hits {
		if len(h.Spans) > 0 {
			out = append(out, sources.Trace{ID: h.TraceID, Spans: h.Spans})
		}
	}
	return out
}

// tracedSpans is every trace the analysis reads, whole where it was
// fetched and as the search described it otherwise: the trigger's trace
// first, then the search's in its order, then the other whole ones.
func tracedSpans(ev *Evidence) []sources.Trace {
	if len(ev.SpanSets) == 0 {
		return ev.Traces
	}
	whole := map[string]int{}
	for i, t := range ev.Traces {
		if _, ok := whole[t.ID]; !ok {
			whole[t.ID] = i
		}
	}
	used := map[string]bool{}
	out := make([]sources.Trace, 0, len(ev.SpanSets)+len(ev.Traces))
	take := func(t sources.Trace) {
		if i, ok := whole[t.ID]; ok {
			t = ev.Traces[i]
		}
		if !used[t.ID] {
			used[t.ID] = true
			out = append(out, t)
		}
	}
	if i, ok := whole[ev.Trigger.TraceID]; ok {
		take(ev.Traces[i])
	}
	for _, t := range ev.SpanSets {
		take(t)
	}
	for _, t := range ev.Traces {
		take(t)
	}
	return out
}

// wholeTraceIDs picks the traces to fetch whole, up to maxWholeTraces:
// the trigger's, the slowest exemplar's (the p99 is made of such
// requests), then one for each service where failures start, the
// commonest first, and one for each log signature, the loudest first.
func wholeTraceIDs(trigger string, sets []sources.Trace, exemplars []sources.Exemplar, logs []sources.LogLine) []string {
	var ids []string
	add := func(id string) {
		if id != "" && len(ids) < maxWholeTraces && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add(trigger)
	slowest := -1
	for i, e := range exemplars {
		if e.TraceID != "" && (slowest < 0 || e.Value > exemplars[slowest].Value) {
			slowest = i
		}
	}
	if slowest >= 0 {
		add(exemplars[slowest].TraceID)
	}
	type origin struct {
		service, first string
		n              int
	}
	var byService []*origin
	for _, o := range ErrorOrigins(sets) {
		i := slices.IndexFunc(byService, func(b *origin) bool { return b.service == o.Service })
		if i < 0 {
			byService = append(byService, &origin{service: o.Service, first: o.TraceID})
			i = len(byService) - 1
		}
		byService[i].n++
	}
	slices.SortStableFunc(byService, func(a, b *origin) int { return cmp.Compare(b.n, a.n) })
	for _, o := range byService {
		add(o.first)
	}
	for _, sg := range Signatures(logs) {
		if len(sg.TraceIDs) > 0 {
			add(sg.TraceIDs[0])
		}
	}
	return ids
}

// fetchEach fetches ids, traceFetches at a time: each trace, or why not.
func fetchEach(ctx context.Context, tr sources.Traces, ids []string) ([]sources.Trace, []error) {
	got := make([]sources.Trace, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, traceFetches)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			got[i], errs[i] = tr.Trace(ctx, id)
		})
	}
	wg.Wait()
	return got, errs
}

// keptTraces is the traces of ids that were fetched, in their order, with
// notes on those that were not found or failed.
func keptTraces(ids []string, got []sources.Trace, errs []error) ([]sources.Trace, []Missing) {
	var out []sources.Trace
	notFound, failed := 0, 0
	var firstErr error
	for i := range ids {
		switch err := errs[i]; {
		case err == nil:
			out = append(out, got[i])
		case errors.Is(err, sources.ErrNotFound):
			notFound++
		default:
			if failed++; firstErr == nil {
				firstErr = err
			}
		}
	}
	var notes []Missing
	if notFound > 0 {
		// unsampled or aged-out IDs are normal; say how many
		notes = append(notes, Missing{What: wholeTracesPart, Why: fmt.Sprintf("%d of %d trace IDs named by logs or search were not found (unsampled or aged out)", notFound, len(ids))})
	}
	if failed > 0 {
		notes = append(notes, Missing{wholeTracesPart, fmt.Sprintf("%d of %d traces could not be fetched: %v%s", failed, len(ids), firstErr, wholeTracesAside), false})
	}
	return out, notes
}

// retryAttrs are span attributes whose value above zero marks a repeated
// attempt: OpenTelemetry's HTTP resend count, and gRPC's count of the
// attempts before this one.
var retryAttrs = []string{"http.request.resend_count", "grpc.previous-rpc-attempts"}

// retriesMarked is whether any call in the traces carries a retry
// attribute: then the instrumentation marks its retries, and a call that
// repeats a failed one without the mark is another call (a handler that
// queries the same table twice), not a retry. It is decided for the
// fleet, not per calling service: the attributes are set on the repeats
// only (OpenTelemetry's resend count is absent from a first attempt), so
// a service none of whose traced calls was a retry shows no mark
// whatever its library, and inferring retries there reads its repeated
// queries as a retry storm (per service, the held-out fleets' flushed
// cache lost its first place to the database behind it).
func retriesMarked(traces []sources.Trace) bool {
	for _, t := range traces {
		for _, sp := range t.Spans {
			for _, k := range retryAttrs {
				if _, ok := sp.Attributes[k]; ok {
					return true
				}
			}
		}
	}
	return false
}

// retryAttempts names the calls of a trace that were repeated attempts:
// those that say so in an attribute, and, where the instrumentation
// marks no retries (marked false, see retriesMarked), those that repeat
// a call (same service, parent, callee and name) that had failed before
// they began, which is how an unmarked retry looks. A loop of calls that
// succeed is not a retry.
func retryAttempts(t sources.Trace, marked bool) map[string]bool {
	out := map[string]bool{}
	type call struct{ service, parent, peer, name string }
	byCall := map[call][]*sources.Span{}
	for i := range t.Spans {
		sp := &t.Spans[i]
		if sp.Kind == "server" {
			continue
		}
		for _, k := range retryAttrs {
			if n, err := strconv.Atoi(sp.Attributes[k]); err == nil && n > 0 {
				out[sp.SpanID] = true
			}
		}
		if sp.ParentSpanID != "" && !marked {
			c := call{sp.Service, sp.ParentSpanID, sp.Attributes["peer.service"], sp.Name}
			byCall[c] = append(byCall[c], sp)
		}
	}
	for _, calls := range byCall {
		for _, sp := range calls {
			for _, before := range calls {
				if before != sp && before.Status == sources.StatusError && !before.End.After(sp.Start) {
					out[sp.SpanID] = true
					break
				}
			}
		}
	}
	return out
}
