package sim

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"time"
)

// Trace retention is a fixed number of spans, like a Tempo whose blocks
// age out: at 1% sampling of 2,000 requests per second it holds roughly
// the last hour of traces.
const (
	maxSpans  = 1 << 20
	maxTraces = 1 << 17
)

// spanRec is one span, compactly: times relative to the fleet start and
// services by index, so a million spans fit in about 40 MB.
type spanRec struct {
	start   int64 // ns since fleet start
	dur     int64 // ns
	parent  int32 // index within the trace, -1 for the root
	svc     int16 // the service that emitted it
	peer    int16 // client spans: the callee; -1 otherwise
	op      uint8 // operation index of a server span
	kind    uint8
	status  uint8 // 0 unset, 1 error
	cause   cause
	attempt uint8
	used    uint16 // pool timeouts: connections in use, and pool size
	size    uint16
}

const (
	spanServer uint8 = iota
	spanClient
	spanProducer
	spanConsumer
)

// traceRec locates a trace's spans in the span ring.
type traceRec struct {
	id    [16]byte
	first uint64 // sequence number of its first span
	n     int32
	start int64
	dur   int64
	root  int16
	errs  bool
}

type traceStore struct {
	spans  []spanRec
	seq    uint64 // spans written
	traces []traceRec
	tseq   uint64 // traces written
	byID   map[[16]byte]uint64
	rngA   uint64 // id generator state
	cur    []spanRec
	start  time.Time
	// served is, per service, the last successful server span of a
	// sampled trace: an access line names its trace.
	served []servedSpan
}

// servedSpan is a request a service served well, in a kept trace.
type servedSpan struct {
	id       [16]byte
	end, dur int64 // ns since fleet start
	op       uint8
}

func newTraceStore(seed uint64) *traceStore {
	return &traceStore{spans: make([]spanRec, maxSpans), traces: make([]traceRec, maxTraces), byID: map[[16]byte]uint64{}, rngA: seed*0x9e3779b97f4a7c15 + 1}
}

// splitmix64, for deterministic IDs that do not disturb the model's stream.
func (ts *traceStore) next() uint64 {
	ts.rngA += 0x9e3779b97f4a7c15
	z := ts.rngA
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (ts *traceStore) newID() [16]byte {
	var id [16]byte
	binary.BigEndian.PutUint64(id[:8], ts.next())
	binary.BigEndian.PutUint64(id[8:], ts.next())
	return id
}

// spanID derives a span's ID from its trace's ID and its index.
func spanID(trace [16]byte, i int) string {
	x := binary.BigEndian.Uint64(trace[:8]) ^ binary.BigEndian.Uint64(trace[8:])*31 ^ uint64(i+1)*0x9e3779b97f4a7c15
	x = (x ^ (x >> 33)) * 0xff51afd7ed558ccd
	x ^= x >> 33
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], x)
	return hex.EncodeToString(b[:])
}

// sample draws this tick's traced requests at every entry service and
// walks each through the model's current state.
func (ts *traceStore) sample(f *Fleet) {
	m := f.m
	if ts.start.IsZero() {
		ts.start = f.start
	}
	rate := m.topo.Tracing.Sample
	for _, s := range m.services {
		if s.entry <= 0 || rate <= 0 || s.spec.Kind == KindQueue {
			continue
		}
		n := int(poisson(m.rng, s.entry*rate))
		for i := 0; i < n; i++ {
			offset := time.Duration(m.rng.Float64() * float64(tick))
			ts.walkTrace(f, s, m.now.Add(-tick+offset))
		}
	}
}

func (ts *traceStore) walkTrace(f *Fleet, root *service, at time.Time) {
	ts.cur = ts.cur[:0]
	id := ts.newID()
	w := walker{f: f, ts: ts, id: id}
	end, failed, _ := w.server(root, -1, at, 0)
	first := ts.seq
	for _, sp := range ts.cur {
		ts.spans[ts.seq%maxSpans] = sp
		ts.seq++
	}
	// drop the index entries of traces whose spans were overwritten
	tr := traceRec{id: id, first: first, n: int32(len(ts.cur)), start: at.Sub(ts.start).Nanoseconds(), dur: end.Sub(at).Nanoseconds(), root: int16(root.idx), errs: failed}
	slot := ts.tseq % maxTraces
	if ts.tseq >= maxTraces {
		delete(ts.byID, ts.traces[slot].id)
	}
	ts.traces[slot] = tr
	ts.byID[id] = ts.tseq
	ts.tseq++
	if len(ts.served) < len(f.m.services) {
		ts.served = make([]servedSpan, len(f.m.services))
	}
	for i := range ts.cur {
		if sp := &ts.cur[i]; sp.kind == spanServer && sp.status == 0 {
			ts.served[sp.svc] = servedSpan{id: id, end: sp.start + sp.dur, dur: sp.dur, op: sp.op}
		}
	}
	if failed {
		// the request's error, logged with its trace ID
		for i := range ts.cur {
			sp := &ts.cur[i]
			if sp.kind == spanServer && sp.status == 1 {
				f.logSpan(sp, id)
			}
		}
	}
}

// kept reports whether the trace of id is held whole, as TraceByID
// returns it.
func (ts *traceStore) kept(id [16]byte) bool {
	seq, ok := ts.byID[id]
	return ok && ts.live(&ts.traces[seq%maxTraces])
}

// servedSince is the last request svc served well in a kept trace that
// ended at or after from (ns since fleet start).
func (ts *traceStore) servedSince(svc int, from int64) (servedSpan, bool) {
	if svc >= len(ts.served) {
		return servedSpan{}, false
	}
	sv := ts.served[svc]
	return sv, sv.end >= from && sv.end > 0 && ts.kept(sv.id)
}

// live reports whether a trace's spans are all still in the ring.
func (ts *traceStore) live(t *traceRec) bool {
	return ts.seq-t.first <= maxSpans
}

// walker walks one request through the fleet, drawing each outcome from
// the probabilities the model computed this tick.
type walker struct {
	f  *Fleet
	ts *traceStore
	id [16]byte
}

func (w *walker) add(sp spanRec) int {
	if len(w.ts.cur) >= 2000 {
		return -1 // a pathological fan-out: stop recording, keep timing
	}
	w.ts.cur = append(w.ts.cur, sp)
	return len(w.ts.cur) - 1
}

func (w *walker) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*w.f.m.rng.NormFloat64())
}

// server walks a request served by s, starting at t. It returns when the
// server finished, whether it failed, and the cause.
func (w *walker) server(s *service, parent int, t time.Time, depth int) (time.Time, bool, cause) {
	rng := w.f.m.rng
	sp := spanRec{start: t.Sub(w.ts.start).Nanoseconds(), parent: int32(parent), svc: int16(s.idx), peer: -1, kind: spanServer}
	if n := len(s.spec.Operations); n > 0 {
		sp.op = uint8(rng.IntN(n))
	}
	self := w.add(sp)
	finish := func(end time.Time, failed bool, c cause, peer int, used, size float64) (time.Time, bool, cause) {
		if self >= 0 {
			r := &w.ts.cur[self]
			r.dur = end.Sub(t).Nanoseconds()
			if failed {
				r.status, r.cause, r.peer = 1, c, int16(peer)
				r.used, r.size = uint16(math.Min(used, 65535)), uint16(math.Min(size, 65535))
			}
		}
		return end, failed, c
	}
	// refused before doing anything
	if rng.Float64() < s.rejectQ {
		return finish(t.Add(time.Millisecond), true, causeQueueFull, -1, s.workersUsed, s.workersMax)
	}
	if rng.Float64() < s.crashFrac {
		return finish(t.Add(time.Duration(rng.Float64()*float64(time.Second))), true, causeCrash, -1, 0, 0)
	}
	now := t
	if s.wait > 0 {
		now = now.Add(secs(rng.ExpFloat64() * s.wait))
	}
	own := w.lognormal(time.Duration(s.spec.Latency.P50).Seconds()*s.latencyFactor, s.sigma)
	now = now.Add(secs(own / 2))
	// pools: a request that cannot get a connection fails after the acquire timeout
	for _, p := range s.pools {
		if p.fail > 0 && rng.Float64() < p.fail*p.need {
			c := causePoolTimeout
			if p.target.dbGrant < 0.999 && p.usable < p.size() {
				c = causeTooManyConnections
			}
			return finish(now.Add(secs(p.acquire)), true, c, p.target.idx, p.used, p.size())
		}
	}
	failed, fc, peer := false, causeNone, -1
	var routed bool
	for _, e := range s.out {
		n := w.calls(e, &routed)
		for k := 0; k < n; k++ {
			end, ok := w.call(e, self, now, depth)
			now = end
			if !ok && !e.spec.Optional && !failed {
				failed, fc = true, causeUpstreamError
				if e.breaker == breakerOpen {
					fc = causeBreakerOpen
				} else if e.qTimeout > e.to.pErr {
					fc = causeUpstreamTimeout
				}
				peer = e.to.idx
			}
		}
	}
	now = now.Add(secs(own / 2))
	if !failed {
		base := math.Min(1, s.spec.ErrorRate+s.errorBoost+s.noiseBoost+s.inj.errRatio)
		if rng.Float64() < base {
			failed, fc = true, causeInternal
			if s.errorBoost > 0 && rng.Float64() < s.errorBoost/base {
				fc = s.bugCause
			}
		}
	}
	return finish(now, failed, fc, peer, 0, 0)
}

// calls is how many times one request of the caller calls e: routes are
// exclusive (a gateway sends each request down one), rates below one
// are probabilities, above one counts.
func (w *walker) calls(e *edge, routed *bool) int {
	rng := w.f.m.rng
	r := e.multiplicity()
	if e.spec.Route {
		if *routed {
			return 0
		}
		// the chance of this route among those not yet tried
		rest := 0.0
		seen := false
		for _, o := range e.from.out {
			if o == e {
				seen = true
			}
			if seen && o.spec.Route {
				rest += o.multiplicity()
			}
		}
		if rest > 0 && rng.Float64() < r/math.Max(rest, 1) {
			*routed = true
			return 1
		}
		return 0
	}
	n := int(r)
	if rng.Float64() < r-float64(n) {
		n++
	}
	return n
}

// call makes one logical call with its retries, as client spans of the
// caller; instrumented callees get a server span under each attempt.
func (w *walker) call(e *edge, parent int, t time.Time, depth int) (time.Time, bool) {
	rng := w.f.m.rng
	callee := e.to
	now := t
	instrumented := callee.spec.Kind == KindGateway || callee.spec.Kind == KindAPI || callee.spec.Kind == KindService
	for a := 0; a <= e.retries; a++ {
		if a > 0 {
			now = now.Add(secs(e.backoff * (1 + rng.Float64()))) // jittered backoff
		}
		cs := spanRec{start: now.Sub(w.ts.start).Nanoseconds(), parent: int32(parent), svc: int16(e.from.idx), peer: int16(callee.idx), kind: spanClient, attempt: uint8(a + 1)}
		if callee.spec.Kind == KindQueue {
			cs.kind = spanProducer
		}
		ci := w.add(cs)
		var end time.Time
		var failed bool
		var c cause
		// network latency a chaos experiment injected: the request reaches the callee later
		start := now.Add(secs(w.delayFor(callee)))
		switch {
		case e.breaker == breakerOpen:
			end, failed, c = now.Add(20*time.Microsecond), true, causeBreakerOpen
			a = e.retries // an open breaker fails fast, without retries
		case instrumented && depth < 12:
			end, failed, c = w.server(callee, ci, start.Add(250*time.Microsecond), depth+1)
			end = end.Add(250 * time.Microsecond)
		default:
			// stores, queues and external peers: no server span
			d := w.lognormal(callee.median, callee.sigma)
			if callee.wait > 0 {
				d += rng.ExpFloat64() * callee.wait
			}
			end = start.Add(secs(d + 0.0005))
			failed = rng.Float64() < callee.pErr
			c = causeInternal
		}
		if limit := now.Add(secs(e.timeout)); end.After(limit) {
			end, failed, c = limit, true, causeUpstreamTimeout
		}
		if ci >= 0 {
			r := &w.ts.cur[ci]
			r.dur = end.Sub(now).Nanoseconds()
			if failed {
				r.status, r.cause = 1, c
			}
		}
		now = end
		if !failed {
			return now, true
		}
	}
	return now, false
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
