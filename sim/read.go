package sim

import (
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// This file is how the fleet's recorded telemetry is read: its metric
// rings, its log, span and change records, at the resolution they were
// recorded. It speaks the world's own terms (services, edges, resources,
// Step-resolution points). The sources/sim adapter turns domain queries
// into these reads, as the other adapters turn them into PromQL, LogQL
// and TraceQL, and it alone writes the queries each number came from.

// Seed is the seed the fleet was built with.
func (f *Fleet) Seed() uint64 { return f.seed }

// Instrumented lists the services that report metrics and spans of their
// own (gateways, APIs and services), in topology order. Databases,
// caches, queues and external peers are seen only through their callers.
func (f *Fleet) Instrumented() []string {
	var out []string
	for _, s := range f.m.services {
		if instrumented(s) {
			out = append(out, s.spec.Name)
		}
	}
	return out
}

// ServiceMetrics is a service's recorded requests and errors per second
// and p99 latency in seconds, at Step resolution, oldest first.
type ServiceMetrics struct {
	Requests, Errors, P99 []sources.Sample
}

// ServiceMetrics reads a service's series over [from, to]; false when
// the topology has no such service.
func (f *Fleet) ServiceMetrics(name string, from, to time.Time) (ServiceMetrics, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.m.byName[name]
	if !ok {
		return ServiceMetrics{}, false
	}
	b := s.idx * nSvcSeries
	var out ServiceMetrics
	f.store.window(from, to, func(h int, t time.Time) {
		out.Requests = append(out.Requests, sources.Sample{T: t, V: float64(f.store.svc[b+sReq].at(h))})
		out.Errors = append(out.Errors, sources.Sample{T: t, V: float64(f.store.svc[b+sErr].at(h))})
		out.P99 = append(out.P99, sources.Sample{T: t, V: float64(f.store.svc[b+sP99].at(h))})
	})
	return out, true
}

// EdgeMetrics is one call edge's recorded attempts and failures per
// second and its p99 as the server side saw it, oldest first. ServerKind
// is the kind of the callee (KindDatabase, KindCache, …).
type EdgeMetrics struct {
	Client, Server, ServerKind string
	Attempts, Failed, P99      []sources.Sample
}

// EdgeMetrics reads every call edge's series over [from, to], in
// topology order.
func (f *Fleet) EdgeMetrics(from, to time.Time) []EdgeMetrics {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var hs []int
	var ts []time.Time
	f.store.window(from, to, func(h int, t time.Time) { hs, ts = append(hs, h), append(ts, t) })
	out := make([]EdgeMetrics, 0, len(f.m.edges))
	for i, e := range f.m.edges {
		b := i * nEdgeSeries
		em := EdgeMetrics{Client: e.from.spec.Name, Server: e.to.spec.Name, ServerKind: e.to.spec.Kind}
		em.Attempts, em.Failed, em.P99 = make([]sources.Sample, len(hs)), make([]sources.Sample, len(hs)), make([]sources.Sample, len(hs))
		for j, h := range hs {
			em.Attempts[j] = sources.Sample{T: ts[j], V: float64(f.store.edge[b+eReq].at(h))}
			em.Failed[j] = sources.Sample{T: ts[j], V: float64(f.store.edge[b+eFail].at(h))}
			em.P99[j] = sources.Sample{T: ts[j], V: float64(f.store.edge[b+eP99].at(h))}
		}
		out = append(out, em)
	}
	return out
}

// Resource names.
const (
	ResWorkers     = "workers"     // requests being worked on; instrumented services
	ResCPU         = "cpu"         // cores in use
	ResPoolPrefix  = "pool:"       // "pool:<store>": client connections in use towards a store
	ResConnections = "connections" // databases: server-side connections in use
)

// Resource is one saturable resource of a service: its limit now and
// its recorded use, oldest first.
type Resource struct {
	Name string
	Max  float64
	Used []sources.Sample
}

// Resources reads a service's worker pool, CPU, client connection pools
// and (for a database) server connections over [from, to]; false when
// the topology has no such service.
func (f *Fleet) Resources(name string, from, to time.Time) ([]Resource, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.m.byName[name]
	if !ok {
		return nil, false
	}
	read := func(res string, max float64, data ring) Resource {
		r := Resource{Name: res, Max: max}
		f.store.window(from, to, func(h int, t time.Time) { r.Used = append(r.Used, sources.Sample{T: t, V: float64(data.at(h))}) })
		return r
	}
	b := s.idx * nSvcSeries
	var out []Resource
	if instrumented(s) {
		out = append(out, read(ResWorkers, s.workersMax, f.store.svc[b+sWorkers]))
	}
	out = append(out, read(ResCPU, s.ready*s.spec.Cores, f.store.svc[b+sCPU]))
	for i, p := range f.store.pools {
		if p.owner == s {
			out = append(out, read(ResPoolPrefix+p.target.spec.Name, p.size(), f.store.pool[i]))
		}
	}
	if s.spec.MaxConnections > 0 {
		out = append(out, read(ResConnections, float64(s.maxConnections()), f.store.svc[b+sConns]))
	}
	return out, true
}

// Exemplar is a traced request attached to a service's latency metric,
// as an instrumented app attaches one to a histogram observation.
type Exemplar struct {
	Service string
	TraceID string // 32 lowercase hex characters
	Seconds float64
	Failed  bool
	T       time.Time // when the request ended
}

// Exemplars returns, per instrumented service in topology order, the
// traced server spans that started in [from, to]: the failed ones first,
// then the slowest, at most perService each.
func (f *Fleet) Exemplars(from, to time.Time, perService int) []Exemplar {
	f.mu.RLock()
	defer f.mu.RUnlock()
	type hit struct {
		ex    Exemplar
		score float64
	}
	per := map[int16][]hit{}
	ts := f.traces
	lo, hi := from.Sub(f.start).Nanoseconds(), to.Sub(f.start).Nanoseconds()
	f.eachTrace(func(tr *traceRec) {
		if tr.start < lo || tr.start > hi {
			return
		}
		for i := uint64(0); i < uint64(tr.n); i++ {
			sp := &ts.spans[(tr.first+i)%maxSpans]
			if sp.kind != spanServer {
				continue
			}
			per[sp.svc] = append(per[sp.svc], hit{Exemplar{Service: f.m.services[sp.svc].spec.Name, TraceID: hex.EncodeToString(tr.id[:]),
				Seconds: float64(sp.dur) / 1e9, Failed: sp.status == 1, T: f.start.Add(time.Duration(sp.start + sp.dur))},
				float64(sp.dur) + float64(sp.status)*1e12})
		}
	})
	var out []Exemplar
	for _, s := range f.m.services {
		hits := per[int16(s.idx)]
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
		for i := 0; i < len(hits) && i < perService; i++ {
			out = append(out, hits[i].ex)
		}
	}
	return out
}

// eachTrace calls fn for every trace whose spans are all still kept.
func (f *Fleet) eachTrace(fn func(tr *traceRec)) {
	ts := f.traces
	from := uint64(0)
	if ts.tseq > maxTraces {
		from = ts.tseq - maxTraces
	}
	for i := from; i < ts.tseq; i++ {
		tr := &ts.traces[i%maxTraces]
		if ts.live(tr) {
			fn(tr)
		}
	}
}

// LogSelector picks kept log lines. Empty lists select everything.
type LogSelector struct {
	From, To time.Time
	Services []string
	Levels   []string
	TraceID  string         // 32 lowercase hex characters; empty: any
	Grep     *regexp.Regexp // the formatted line matches it; nil: any
	// Limit keeps the newest lines (the oldest with OldestFirst); 0 keeps all.
	Limit       int
	OldestFirst bool
}

// SelectLogs returns the kept lines that match, newest first unless
// OldestFirst. Records are filtered before they are formatted, so a
// narrow selection over the whole ring stays cheap.
func (f *Fleet) SelectLogs(sel LogSelector) []sources.LogLine {
	f.mu.RLock()
	defer f.mu.RUnlock()
	from, to := sel.From.Sub(f.start).Nanoseconds(), sel.To.Sub(f.start).Nanoseconds()
	var recs []*logRec
	f.logs.each(func(r *logRec) bool {
		if r.t >= from && r.t <= to && f.matches(r, &sel) && (sel.Grep == nil || sel.Grep.MatchString(f.format(r).Line)) {
			recs = append(recs, r)
		}
		return true
	})
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].t < recs[j].t })
	if !sel.OldestFirst {
		for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
			recs[i], recs[j] = recs[j], recs[i]
		}
	}
	if sel.Limit > 0 && len(recs) > sel.Limit {
		recs = recs[:sel.Limit]
	}
	out := make([]sources.LogLine, len(recs))
	for i, r := range recs {
		out[i] = f.format(r)
	}
	return out
}

// CountLogs counts the matching lines per service in buckets of step
// from sel.From; Limit and OldestFirst are ignored.
func (f *Fleet) CountLogs(sel LogSelector, step time.Duration) map[string][]float64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := int(sel.To.Sub(sel.From)/step) + 1
	out := map[string][]float64{}
	from, to := sel.From.Sub(f.start).Nanoseconds(), sel.To.Sub(f.start).Nanoseconds()
	f.logs.each(func(r *logRec) bool {
		if r.t >= from && r.t <= to && f.matches(r, &sel) && (sel.Grep == nil || sel.Grep.MatchString(f.format(r).Line)) {
			name := f.m.services[r.svc].spec.Name
			c := out[name]
			if c == nil {
				c = make([]float64, n)
				out[name] = c
			}
			c[int((r.t-from)/int64(step))]++
		}
		return true
	})
	return out
}

// TraceByID returns a kept trace; id is 32 lowercase hex characters.
// Only Tracing.Sample of requests are traced, and traces age out of the
// span ring after about an hour.
func (f *Fleet) TraceByID(id string) (sources.Trace, bool) {
	var key [16]byte
	if n, err := hex.Decode(key[:], []byte(id)); err != nil || n != len(key) {
		return sources.Trace{}, false
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if !f.traces.kept(key) {
		return sources.Trace{}, false
	}
	return f.buildTrace(&f.traces.traces[f.traces.byID[key]%maxTraces]), true
}

func (f *Fleet) buildTrace(tr *traceRec) sources.Trace {
	ts := f.traces
	t := sources.Trace{ID: hex.EncodeToString(tr.id[:]), Spans: make([]sources.Span, 0, tr.n)}
	for i := 0; i < int(tr.n); i++ {
		sp := &ts.spans[(tr.first+uint64(i))%maxSpans]
		t.Spans = append(t.Spans, f.span(tr, i, sp))
	}
	return t
}

func (f *Fleet) span(tr *traceRec, i int, sp *spanRec) sources.Span {
	s := f.m.services[sp.svc]
	out := sources.Span{TraceID: hex.EncodeToString(tr.id[:]), SpanID: spanID(tr.id, i), Service: s.spec.Name,
		Start: f.start.Add(time.Duration(sp.start)), Status: sources.StatusUnset, Attributes: map[string]string{}}
	out.End = out.Start.Add(time.Duration(sp.dur))
	if sp.parent >= 0 {
		out.ParentSpanID = spanID(tr.id, int(sp.parent))
	}
	var peer *service
	if sp.peer >= 0 {
		peer = f.m.services[sp.peer]
	}
	switch sp.kind {
	case spanServer:
		out.Kind, out.Name = "server", "request"
		if n := len(s.spec.Operations); n > 0 {
			out.Name = s.spec.Operations[int(sp.op)%n]
		}
		out.Attributes["service.version"] = s.version
	case spanProducer:
		out.Kind, out.Name = "producer", "publish "+peer.spec.Name
		out.Attributes["messaging.destination.name"] = peer.spec.Name
		out.Attributes["messaging.system"] = "kafka"
	default:
		out.Kind = "client"
		switch peer.spec.Kind {
		case KindDatabase:
			out.Name = "SELECT " + peer.spec.Name
			out.Attributes["db.system"] = "postgresql"
			out.Attributes["db.name"] = peer.spec.Name
		case KindCache:
			out.Name = "GET"
			out.Attributes["db.system"] = "redis"
		default:
			out.Name = "POST"
		}
		out.Attributes["peer.service"] = peer.spec.Name
		if sp.attempt > 1 {
			out.Attributes["http.request.resend_count"] = fmt.Sprint(sp.attempt - 1)
		}
	}
	if sp.status == 1 {
		out.Status = sources.StatusError
		r := logRec{cause: sp.cause, a: float32(sp.used), b: float32(sp.size), op: sp.op}
		pn := ""
		if peer != nil {
			pn = peer.spec.Name
			if e := f.m.edgeOf(int(sp.svc), int(sp.peer)); e != nil {
				r.retries = uint8(e.retries)
			}
		}
		out.StatusMessage = statusMessage(causeMessage(&r, s, pn, out.Name))
		if sp.kind != spanServer {
			// a client sees only what came back over the wire
			switch {
			case sp.cause == causeUpstreamTimeout:
				out.StatusMessage = "context deadline exceeded"
			case sp.cause == causeBreakerOpen:
				out.StatusMessage = "circuit breaker open"
			case peer != nil && !instrumented(peer):
				out.StatusMessage = peer.spec.Name + ": request failed"
			default:
				out.StatusMessage = "HTTP 503 Service Unavailable from " + pn
			}
		}
	}
	return out
}

// statusMessage pulls the msg out of a logfmt line.
func statusMessage(line string) string {
	if i := strings.Index(line, `msg="`); i >= 0 {
		rest := line[i+5:]
		if j := strings.Index(rest, `"`); j >= 0 {
			return rest[:j]
		}
	}
	return line
}

// TraceSelector picks kept traces. An empty Services selects every span.
type TraceSelector struct {
	From, To    time.Time // when the trace started
	Services    []string  // traces with a span of these services (the matched spans are listed)
	ErrorsOnly  bool      // traces with a failed span (of Services, if given)
	MinDuration time.Duration
	Limit       int // the newest; 0 keeps all
}

// FindTraces summarises the kept traces that match, newest first.
func (f *Fleet) FindTraces(sel TraceSelector) []sources.TraceSummary {
	f.mu.RLock()
	defer f.mu.RUnlock()
	want := map[int16]bool{}
	for _, n := range sel.Services {
		if s, ok := f.m.byName[n]; ok {
			want[int16(s.idx)] = true
		}
	}
	from, to := sel.From.Sub(f.start).Nanoseconds(), sel.To.Sub(f.start).Nanoseconds()
	var out []sources.TraceSummary
	f.eachTrace(func(tr *traceRec) {
		if tr.start < from || tr.start > to || (sel.ErrorsOnly && !tr.errs) || time.Duration(tr.dur) < sel.MinDuration {
			return
		}
		sum := sources.TraceSummary{TraceID: hex.EncodeToString(tr.id[:]), RootService: f.m.services[tr.root].spec.Name,
			Start: f.start.Add(time.Duration(tr.start)), Duration: time.Duration(tr.dur)}
		for i := 0; i < int(tr.n); i++ {
			sp := &f.traces.spans[(tr.first+uint64(i))%maxSpans]
			if i == 0 {
				sum.RootName = f.span(tr, 0, sp).Name
			}
			if len(sel.Services) > 0 && !want[sp.svc] {
				continue
			}
			if sel.ErrorsOnly && sp.status != 1 {
				continue
			}
			sum.SpanIDs = append(sum.SpanIDs, spanID(tr.id, i))
			if sp.status == 1 {
				if sum.Errors == nil {
					sum.Errors = map[string]int{}
				}
				sum.Errors[f.m.services[sp.svc].spec.Name]++
			}
		}
		if len(sum.SpanIDs) > 0 {
			out = append(out, sum)
		}
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.After(out[j].Start) })
	if sel.Limit > 0 && len(out) > sel.Limit {
		out = out[:sel.Limit]
	}
	return out
}

// ChangesBetween lists deploys and operator changes in [from, to].
func (f *Fleet) ChangesBetween(from, to time.Time) []sources.Change {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []sources.Change
	for _, c := range f.changes {
		if !c.T.Before(from) && !c.T.After(to) {
			out = append(out, c)
		}
	}
	return out
}

// TraceSampleRate is the share of entry requests that are traced.
func (f *Fleet) TraceSampleRate() float64 { return math.Max(f.m.topo.Tracing.Sample, 0) }
