package sim

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// The Fleet is every backend at once.
var (
	_ sources.Metrics   = (*Fleet)(nil)
	_ sources.Rules     = (*Fleet)(nil)
	_ sources.Logs      = (*Fleet)(nil)
	_ sources.Traces    = (*Fleet)(nil)
	_ sources.Alerting  = (*Fleet)(nil)
	_ sources.Doctor    = (*Fleet)(nil)
	_ sources.Changes   = (*Fleet)(nil)
	_ sources.Resources = (*Fleet)(nil)
)

// redQueries renders, for each number the simulator returns, the PromQL a
// Prometheus scraping `oncall demo --serve` would answer it with.
var redQueries, _ = sources.DefaultConventions().CompileRED()

func (f *Fleet) origin(q string) string {
	return fmt.Sprintf("sim(seed %d, %s): %s", f.seed, f.sc.Name, q)
}

// pick resolves service names to services; empty means every
// instrumented service.
func (f *Fleet) pick(names []string) ([]*service, error) {
	if len(names) == 0 {
		var out []*service
		for _, s := range f.m.services {
			if instrumented(s) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	out := make([]*service, 0, len(names))
	for _, n := range names {
		s, ok := f.m.byName[n]
		if !ok {
			return nil, fmt.Errorf("sim: no service %q in topology %q", n, f.m.topo.Name)
		}
		out = append(out, s)
	}
	return out, nil
}

// steps cuts r into buckets of step (at least Step), aligned to r.End,
// and calls fn with the points of each, oldest first. A bucket's time is
// its end, as a Prometheus range query stamps a rate with the end of its
// window.
func (f *Fleet) steps(r sources.TimeRange, step time.Duration, fn func(t time.Time, hs []int)) {
	if step < Step {
		step = Step
	}
	var hs []int
	cur := int64(-1)
	f.store.window(r.Start, r.End, func(h int, t time.Time) {
		k := int64(r.End.Sub(t) / step)
		if k != cur && len(hs) > 0 {
			fn(r.End.Add(-time.Duration(cur)*step), hs)
			hs = hs[:0]
		}
		cur = k
		hs = append(hs, h)
	})
	if len(hs) > 0 {
		fn(r.End.Add(-time.Duration(cur)*step), hs)
	}
}

func avg(series []float32, hs []int) float64 {
	s := 0.0
	for _, h := range hs {
		s += float64(series[h])
	}
	return s / float64(len(hs))
}

func maxOf(series []float32, hs []int) float64 {
	m := 0.0
	for _, h := range hs {
		m = math.Max(m, float64(series[h]))
	}
	return m
}

// RED returns requests, errors and p99 per service at step resolution.
func (f *Fleet) RED(ctx context.Context, services []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	svcs, err := f.pick(services)
	if err != nil {
		return nil, err
	}
	out := make([]sources.RED, 0, len(svcs))
	for _, s := range svcs {
		// the rate window the Prometheus backend would use for this step
		qr, qe, ql := redQueries.Render(sources.REDTemplateData{Service: s.spec.Name, ServiceLabel: "service", Window: promDuration(max(2*step, 2*time.Minute))})
		red := sources.RED{Service: s.spec.Name,
			Requests: sources.Series{Labels: sources.Labels{"service": s.spec.Name}, Query: f.origin(qr)},
			Errors:   sources.Series{Labels: sources.Labels{"service": s.spec.Name}, Query: f.origin(qe)},
			P99:      sources.Series{Labels: sources.Labels{"service": s.spec.Name}, Query: f.origin(ql)}}
		b := s.idx * nSvcSeries
		f.steps(r, step, func(t time.Time, hs []int) {
			red.Requests.Samples = append(red.Requests.Samples, sources.Sample{T: t, V: avg(f.store.svc[b+sReq], hs)})
			red.Errors.Samples = append(red.Errors.Samples, sources.Sample{T: t, V: avg(f.store.svc[b+sErr], hs)})
			red.P99.Samples = append(red.P99.Samples, sources.Sample{T: t, V: maxOf(f.store.svc[b+sP99], hs)})
		})
		out = append(out, red)
	}
	return out, nil
}

// promDuration writes d as Prometheus does: 15s, 1m, 5m30s, 1h.
func promDuration(d time.Duration) string {
	if d < Step {
		d = Step
	}
	s := d.String()
	s = strings.Replace(s, "m0s", "m", 1)
	s = strings.Replace(s, "h0m", "h", 1)
	return s
}

func edgeKind(s *service) sources.EdgeKind {
	switch s.spec.Kind {
	case KindDatabase, KindCache:
		return sources.EdgeDatabase
	case KindQueue, KindExternal:
		return sources.EdgeVirtualNode
	}
	return sources.EdgeService
}

// ServiceGraph returns every edge with traffic over the window ending at at.
func (f *Fleet) ServiceGraph(ctx context.Context, at time.Time, w time.Duration) ([]sources.Edge, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if w < Step {
		w = Step
	}
	var hs []int
	f.store.window(at.Add(-w+time.Nanosecond), at, func(h int, _ time.Time) { hs = append(hs, h) })
	if len(hs) == 0 {
		return nil, nil
	}
	win := promDuration(w)
	var out []sources.Edge
	for i, e := range f.m.edges {
		b := i * nEdgeSeries
		rate := avg(f.store.edge[b+eReq], hs)
		if rate == 0 {
			continue
		}
		q := fmt.Sprintf(`sum by (client, server) (rate(traces_service_graph_request_total{client=%q, server=%q}[%s]))`, e.from.spec.Name, e.to.spec.Name, win)
		out = append(out, sources.Edge{Client: e.from.spec.Name, Server: e.to.spec.Name, Kind: edgeKind(e.to),
			RequestRate: rate, FailedRate: avg(f.store.edge[b+eFail], hs), P99Seconds: maxOf(f.store.edge[b+eP99], hs), Query: f.origin(q)})
	}
	return out, nil
}

// Exemplars returns, per service, traced requests in r: the slowest and
// the failed first, at most ten per service.
func (f *Fleet) Exemplars(ctx context.Context, services []string, r sources.TimeRange) ([]sources.Exemplar, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	svcs, err := f.pick(services)
	if err != nil {
		return nil, err
	}
	want := map[int16]bool{}
	for _, s := range svcs {
		want[int16(s.idx)] = true
	}
	type hit struct {
		ex    sources.Exemplar
		score float64
	}
	per := map[int16][]hit{}
	ts := f.traces
	from, to := r.Start.Sub(f.start).Nanoseconds(), r.End.Sub(f.start).Nanoseconds()
	f.eachTrace(func(tr *traceRec) {
		if tr.start < from || tr.start > to {
			return
		}
		for i := uint64(0); i < uint64(tr.n); i++ {
			sp := &ts.spans[(tr.first+i)%maxSpans]
			if sp.kind != spanServer || !want[sp.svc] {
				continue
			}
			name := f.m.services[sp.svc].spec.Name
			score := float64(sp.dur) + float64(sp.status)*1e12
			per[sp.svc] = append(per[sp.svc], hit{sources.Exemplar{
				SeriesLabels: sources.Labels{"__name__": "traces_spanmetrics_latency_bucket", "service": name},
				Labels:       sources.Labels{"trace_id": hex.EncodeToString(tr.id[:])},
				TraceID:      hex.EncodeToString(tr.id[:]), Value: float64(sp.dur) / 1e9,
				T: f.start.Add(time.Duration(sp.start + sp.dur))}, score})
		}
	})
	var out []sources.Exemplar
	for _, s := range svcs {
		hits := per[int16(s.idx)]
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
		for i := 0; i < len(hits) && i < 10; i++ {
			out = append(out, hits[i].ex)
		}
	}
	return out, nil
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

// Logs returns matching lines in q.Range, newest first unless q.Forward.
func (f *Fleet) Logs(ctx context.Context, q sources.LogQuery) ([]sources.LogLine, error) {
	tid, err := normTrace(q.TraceID)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if _, err := f.pick(q.Services); err != nil {
		return nil, err
	}
	from, to := q.Range.Start.Sub(f.start).Nanoseconds(), q.Range.End.Sub(f.start).Nanoseconds()
	var recs []*logRec
	f.logs.each(func(r *logRec) bool {
		if r.t >= from && r.t <= to && f.matches(r, &q, tid) {
			recs = append(recs, r)
		}
		return true
	})
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].t < recs[j].t })
	if !q.Forward {
		for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
			recs[i], recs[j] = recs[j], recs[i]
		}
	}
	if len(recs) > limit {
		recs = recs[:limit]
	}
	out := make([]sources.LogLine, len(recs))
	for i, r := range recs {
		out[i] = f.format(r)
	}
	return out, nil
}

// LogRate counts matching lines per service per step.
func (f *Fleet) LogRate(ctx context.Context, q sources.LogQuery, step time.Duration) ([]sources.Series, error) {
	tid, err := normTrace(q.TraceID)
	if err != nil {
		return nil, err
	}
	if step <= 0 {
		return nil, fmt.Errorf("sim: log rate step must be positive, got %s", step)
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if _, err := f.pick(q.Services); err != nil {
		return nil, err
	}
	n := int(q.Range.End.Sub(q.Range.Start)/step) + 1
	if n > 11000 {
		return nil, fmt.Errorf("sim: %d steps of %s over the range; at most 11000", n, step)
	}
	counts := map[int16][]float64{}
	from, to := q.Range.Start.Sub(f.start).Nanoseconds(), q.Range.End.Sub(f.start).Nanoseconds()
	f.logs.each(func(r *logRec) bool {
		if r.t >= from && r.t <= to && f.matches(r, &q, tid) {
			c := counts[r.svc]
			if c == nil {
				c = make([]float64, n)
				counts[r.svc] = c
			}
			c[int((r.t-from)/int64(step))]++
		}
		return true
	})
	var out []sources.Series
	for idx, c := range counts {
		name := f.m.services[idx].spec.Name
		s := sources.Series{Labels: sources.Labels{"service_name": name},
			Query: f.origin(fmt.Sprintf(`sum by (service_name) (count_over_time({service_name=%q}[%s]))`, name, promDuration(step)))}
		for i, v := range c {
			s.Samples = append(s.Samples, sources.Sample{T: q.Range.Start.Add(time.Duration(i) * step), V: v})
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Labels["service_name"] < out[j].Labels["service_name"] })
	return out, nil
}

// Trace returns one sampled trace by ID.
func (f *Fleet) Trace(ctx context.Context, id string) (sources.Trace, error) {
	tid, err := normTrace(id)
	if err != nil || tid == "" {
		return sources.Trace{}, fmt.Errorf("sim: trace ID %q: %w", id, err)
	}
	var key [16]byte
	if _, err := hex.Decode(key[:], []byte(tid)); err != nil {
		return sources.Trace{}, fmt.Errorf("sim: trace ID %q: %w", id, err)
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	seq, ok := f.traces.byID[key]
	if !ok || !f.traces.live(&f.traces.traces[seq%maxTraces]) {
		return sources.Trace{}, fmt.Errorf("sim: trace %s: %w (only 1 in %.0f requests is traced, and traces age out)", tid, sources.ErrNotFound, 1/math.Max(f.m.topo.Tracing.Sample, 1e-9))
	}
	return f.buildTrace(&f.traces.traces[seq%maxTraces]), nil
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

// SearchTraces finds sampled traces in q.Range, newest first.
func (f *Fleet) SearchTraces(ctx context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	svcs, err := f.pick(q.Services)
	if err != nil {
		return nil, err
	}
	want := map[int16]bool{}
	if len(q.Services) > 0 {
		for _, s := range svcs {
			want[int16(s.idx)] = true
		}
	}
	from, to := q.Range.Start.Sub(f.start).Nanoseconds(), q.Range.End.Sub(f.start).Nanoseconds()
	var out []sources.TraceSummary
	f.eachTrace(func(tr *traceRec) {
		if tr.start < from || tr.start > to || (q.ErrorsOnly && !tr.errs) || time.Duration(tr.dur) < q.MinDuration {
			return
		}
		sum := sources.TraceSummary{TraceID: hex.EncodeToString(tr.id[:]), RootService: f.m.services[tr.root].spec.Name,
			Start: f.start.Add(time.Duration(tr.start)), Duration: time.Duration(tr.dur)}
		for i := 0; i < int(tr.n); i++ {
			sp := &f.traces.spans[(tr.first+uint64(i))%maxSpans]
			if i == 0 {
				sum.RootName = f.span(tr, 0, sp).Name
			}
			if len(want) > 0 && !want[sp.svc] {
				continue
			}
			if q.ErrorsOnly && sp.status != 1 {
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
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Changes lists deploys and operator changes in r.
func (f *Fleet) Changes(ctx context.Context, r sources.TimeRange) ([]sources.Change, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []sources.Change
	for _, c := range f.changes {
		if !c.T.Before(r.Start) && !c.T.After(r.End) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Saturation reports worker pools, connection pools, database
// connections and CPU per service.
func (f *Fleet) Saturation(ctx context.Context, services []string, r sources.TimeRange, step time.Duration) ([]sources.Saturation, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	svcs, err := f.pick(services)
	if err != nil {
		return nil, err
	}
	var out []sources.Saturation
	series := func(svc, res string, max float64, data []float32, q string) {
		s := sources.Saturation{Service: svc, Resource: res, Max: max, Used: sources.Series{Labels: sources.Labels{"service": svc, "resource": res}, Query: f.origin(q)}}
		f.steps(r, step, func(t time.Time, hs []int) {
			s.Used.Samples = append(s.Used.Samples, sources.Sample{T: t, V: avg(data, hs)})
		})
		out = append(out, s)
	}
	for _, s := range svcs {
		b := s.idx * nSvcSeries
		n := s.spec.Name
		if instrumented(s) {
			series(n, "workers", s.workersMax, f.store.svc[b+sWorkers], fmt.Sprintf(`sum(sim_workers_busy{service=%q})`, n))
		}
		series(n, "cpu", s.ready*s.spec.Cores, f.store.svc[b+sCPU], fmt.Sprintf(`sum(sim_cpu_cores{service=%q})`, n))
		for i, p := range f.store.pools {
			if p.owner == s {
				series(n, "pool:"+p.target.spec.Name, p.size(), f.store.pool[i],
					fmt.Sprintf(`sum(db_client_connection_count{service=%q, pool_name=%q, state="used"})`, n, p.target.spec.Name))
			}
		}
		if s.spec.MaxConnections > 0 {
			series(n, "connections", float64(s.spec.MaxConnections), f.store.svc[b+sConns], fmt.Sprintf(`pg_stat_activity_count{datname=%q}`, n))
		}
	}
	return out, nil
}

// Doctor reports the simulator's state: it is always reachable.
func (f *Fleet) Doctor(ctx context.Context) []sources.Check {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return []sources.Check{
		{Name: "simulator", Status: sources.CheckOK, Detail: fmt.Sprintf("topology %q, %d services, scenario %s, seed %d", f.m.topo.Name, len(f.m.services), f.sc.Name, f.seed)},
		{Name: "clock", Status: sources.CheckOK, Detail: "simulated time " + f.m.now.UTC().Format(time.RFC3339)},
	}
}
