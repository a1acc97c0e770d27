package correlate

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/sources"
)

// queueWait is what the traces read say of the time one service's
// requests wait inside it before their first call to another service: a
// worker pool, a lock or a queue that serialises them shows as a gap
// between its server span's start and its first call, while the calls
// themselves are fast.
type queueWait struct {
	service string
	spans   int           // its server spans that called another service
	queued  int           // of which waited QueueMinWait and QueueWaitShare of their time before the first call
	worst   time.Duration // the longest such wait
	trace   string        // the trace of the longest wait
	// calls are the durations of the calls its queued requests made,
	// per callee: whether the callees were slow, against their baselines
	calls map[string][]time.Duration
	// failed counts the calls of its queued requests that failed: a
	// callee failing fast is failing, not healthy
	failed int
}

// queueWaits measures, per service, the wait of its server spans before
// their first call to another service, in the traces read (whole or as
// the search described them: a server span and its client spans are
// enough). Calls are client spans and the spans of other services
// directly under the server span; a service's own internal spans are
// its work, not a call.
func queueWaits(traces []sources.Trace) map[string]*queueWait {
	out := map[string]*queueWait{}
	for _, t := range traces {
		children := childrenOf(t)
		for i := range t.Spans {
			sp := &t.Spans[i]
			if sp.Kind != "server" || sp.Duration() <= 0 {
				continue
			}
			var first time.Time
			calls := map[string][]time.Duration{}
			failed := 0
			for _, c := range children[sp.SpanID] {
				callee := calleeOf(c, children)
				if callee == "" || callee == sp.Service {
					continue
				}
				if first.IsZero() || c.Start.Before(first) {
					first = c.Start
				}
				calls[callee] = append(calls[callee], c.Duration())
				if c.Status == sources.StatusError {
					failed++
				}
			}
			if first.IsZero() {
				continue // a leaf: its time is its own, and latency says so already
			}
			q := out[sp.Service]
			if q == nil {
				q = &queueWait{service: sp.Service, calls: map[string][]time.Duration{}}
				out[sp.Service] = q
			}
			q.spans++
			wait := first.Sub(sp.Start)
			if wait < QueueMinWait || float64(wait) < QueueWaitShare*float64(sp.Duration()) {
				continue
			}
			q.queued++
			q.failed += failed
			if wait > q.worst {
				q.worst, q.trace = wait, t.ID
			}
			for c, ds := range calls {
				q.calls[c] = append(q.calls[c], ds...)
			}
		}
	}
	return out
}

// calleeOf names the service a child span calls: the peer a client span
// names, the service of the server span under it, or the child's own
// service when it is another's server span; "" for internal work.
func calleeOf(c *sources.Span, children map[string][]*sources.Span) string {
	if c.Kind == "server" {
		return c.Service
	}
	if c.Kind != "client" && c.Kind != "producer" {
		return ""
	}
	if p := c.Attributes["peer.service"]; p != "" {
		return p
	}
	for _, g := range children[c.SpanID] {
		if g.Service != c.Service {
			return g.Service
		}
	}
	return ""
}

// queueVerdict is a service whose slow requests wait inside it, with the
// evidence: its queued traces, or its worker pool at its limit.
type queueVerdict struct {
	wait    *queueWait // nil when only the worker pool says so
	workers *sources.Saturation
	fast    map[string]string // callee → "median 12 ms against a 15 ms baseline"
}

// findQueues marks the services whose slow requests are mostly their own
// wait: most of their traced server spans wait before their first call
// and the calls they then make succeed no slower than the callees'
// baselines, or their worker pool is full while no call of theirs is
// degraded. Only services whose own latency is anomalous qualify: a
// healthy service that works before it calls is not queueing.
func (a *analysis) findQueues(traced []sources.Trace) {
	a.queues = map[string]*queueVerdict{}
	waits := queueWaits(traced)
	for s, an := range a.anoms {
		if !strings.Contains(an.Kind, "latency") || an.FromEdges {
			continue
		}
		v := &queueVerdict{fast: map[string]string{}}
		if w := waits[s]; w != nil && w.spans >= QueueMinSpans && float64(w.queued) > QueueSpanShare*float64(w.spans) && w.failed == 0 {
			slow := false
			for callee, ds := range w.calls {
				d, ok := a.callFast(s, callee, ds)
				if !ok {
					slow = true
					break
				}
				v.fast[callee] = d
			}
			if !slow {
				v.wait = w
			}
		}
		for i, sat := range a.ev.Saturation {
			if sat.Service == s && sat.Resource == sources.ResourceKindWorkers && saturated(sat) && !a.anyDegraded(s) {
				v.workers = &a.ev.Saturation[i]
				for _, e := range a.g.Dependencies(s) {
					if v.fast[e.Server] != "" {
						continue
					}
					v.fast[e.Server] = "not degraded in the service graph"
					if d := a.anoms[e.Server]; a.recoveredUnder(e.Server, s) {
						v.fast[e.Server] = "recovered at " + d.Recovered.UTC().Format("15:04")
					}
				}
			}
		}
		if v.wait != nil || v.workers != nil {
			a.queues[s] = v
		}
	}
}

// anyDegraded is whether any call of s fails or slows down, or cannot be
// told to be healthy without service-graph data (see degraded). A callee
// healthy again while s still fails does not count: the graph's figures
// still carry its earlier fault, which does not keep s's workers busy now.
func (a *analysis) anyDegraded(s string) bool {
	return slices.ContainsFunc(a.g.Dependencies(s), func(e *GraphEdge) bool {
		return a.degraded(e) && !a.recoveredUnder(e.Server, s)
	})
}

// recoveredUnder is whether callee's anomaly recovered while s's is
// still going on (see recoveredBefore).
func (a *analysis) recoveredUnder(callee, s string) bool {
	d, an := a.anoms[callee], a.anoms[s]
	return d != nil && an != nil && recoveredBefore(d, an)
}

// callFast is whether the calls of s to callee, in its queued requests,
// took no longer than the callee's baseline allows (the median against
// LatencyFactor times its baseline p99, as detect judges a p99), with
// how it was judged. A callee with no known baseline is judged by the
// wait alone: the wait already dominates those requests. A callee whose
// own latency is anomalous is not fast, whatever the few calls traced:
// the wait may be for a connection to it, held longer by its slowness.
func (a *analysis) callFast(s, callee string, ds []time.Duration) (string, bool) {
	if an := a.anoms[callee]; an != nil && strings.Contains(an.Kind, "latency") {
		return "", false
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	med := sorted[len(sorted)/2]
	base := a.baselineP99(s, callee)
	if base <= 0 {
		return "median " + humanize.Seconds(med.Seconds()), true
	}
	return fmt.Sprintf("median %s against a %s baseline p99", humanize.Seconds(med.Seconds()), humanize.Seconds(base)), !slowerThan(med.Seconds(), base)
}

// baselineP99 is the callee's healthy p99: from its own metrics before
// the window, else from the service graph's calls of s to it.
func (a *analysis) baselineP99(s, callee string) float64 {
	for _, r := range a.ev.RED {
		if r.Service != callee {
			continue
		}
		var base []point
		for _, p := range redPoints(r) {
			if p.req > 0 && !p.t.After(a.ev.Window.Start) {
				base = append(base, p)
			}
		}
		if len(base) > 0 {
			if _, _, p99 := robustBaseline(base); p99 > 0 {
				return p99
			}
		}
	}
	return a.edgeBaseP99(s, callee)
}

// notQueuedOn is whether e's caller is not a queued service whose calls
// on e were fast: such a caller's slowness is its own, not e's callee's.
func (a *analysis) notQueuedOn(e *GraphEdge) bool {
	v := a.queues[e.Client]
	return v == nil || v.fast[e.Server] == ""
}

// queuedBefore is the queued caller whose fast calls to s say that the
// slow requests wait in the caller, not in s: "" when none.
func (a *analysis) queuedBefore(s string) string {
	var out []string
	for q, v := range a.queues {
		if _, ok := v.fast[s]; ok {
			out = append(out, q)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return ""
	}
	return out[0]
}

// scoreQueue weighs a service's own queue: its slow requests wait inside
// it, before they call anything.
func (a *analysis) scoreQueue(sc *scoring) {
	v := a.queues[sc.Service]
	if v == nil {
		return
	}
	var parts []string
	if w := v.wait; w != nil {
		parts = append(parts, fmt.Sprintf("requests wait %s before their first call (trace %s; %d of %d traced requests)",
			humanize.Seconds(w.worst.Seconds()), shortID(w.trace), w.queued, w.spans))
	}
	if s := v.workers; s != nil {
		peak, limit := peakOf(*s)
		parts = append(parts, "workers at "+ofLimit(peak.V, limit))
	}
	d := strings.Join(parts, ", ") + ": queued inside " + sc.Service + ", not in its callees"
	var callees []string
	for c := range v.fast {
		callees = append(callees, c)
	}
	sort.Strings(callees)
	if len(callees) > 0 {
		var fast []string
		for _, c := range callees {
			fast = append(fast, c+" "+v.fast[c])
		}
		d += " (calls: " + strings.Join(fast, "; ") + ")"
	}
	r := sc.add(ReasonQueue, weights.queue, d)
	if v.wait != nil {
		r.TraceIDs = []string{v.wait.trace}
	}
	if v.workers != nil {
		r.Source = v.workers.Used.Query
	}
	sc.kinds++
}

// shortID is a trace ID as people quote it: its first eight characters.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}
