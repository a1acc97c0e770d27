package sim

import (
	"math"
	"time"
)

// Step is the resolution metrics are kept at, as a Prometheus scraping
// every 15 s would; Retention is how far back they go. Memory is fixed:
// every series is a ring of Retention/Step points.
const (
	Step      = 15 * time.Second
	Retention = 6 * time.Hour
	points    = int(Retention / Step)
)

// buckets are the latency histogram bounds, in seconds, the simulator
// exposes (the spanmetrics defaults, trimmed).
var buckets = []float64{0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15}

// logBuckets are the bounds' logarithms: addBuckets runs for every
// service and edge every tick, so they are taken once.
var logBuckets = func() []float64 {
	out := make([]float64, len(buckets))
	for i, le := range buckets {
		out[i] = math.Log(le)
	}
	return out
}()

// phiSaturated is where phi is exactly 1: math.Erfc returns exactly 2
// below -6, and 8.5/√2 is 6.01, clear of rounding, so past it the
// remaining bounds hold every observation.
const phiSaturated = 8.5

// per-service series
const (
	sReq     = iota // requests per second
	sErr            // failed requests per second
	sP99            // seconds
	sCPU            // cores
	sWorkers        // workers busy
	sReady          // replicas serving
	sHit            // cache hit ratio
	sConns          // databases: server-side connections in use
	nSvcSeries
)

// per-edge series
const (
	eReq = iota // attempts per second
	eFail
	eP99
	nEdgeSeries
)

// ring is one series' points, Retention/Step of them, as a Prometheus
// block would hold. A series that has not changed since the fleet
// started (an idle service's zero requests, a fixed replica count) is
// kept as its one value: at 2,000 services most series are, and whole
// rings for them would be most of the fleet's memory.
type ring struct {
	pts []float32 // nil while constant
	c   float32   // the value of every point while constant
}

// at is the point at ring position h.
func (r *ring) at(h int) float32 {
	if r.pts == nil {
		return r.c
	}
	return r.pts[h]
}

// set writes v at position h of a store holding filled points.
func (r *ring) set(h int, v float32, filled int) {
	if r.pts == nil {
		if filled == 0 || v == r.c {
			r.c = v
			return
		}
		r.pts = make([]float32, points)
		for i := range r.pts {
			r.pts[i] = r.c
		}
	}
	r.pts[h] = v
}

// store keeps every metric as fixed-size rings, plus the cumulative
// counters /metrics exposes.
type store struct {
	times []time.Time // ring of sample times
	n     int         // points filled
	head  int         // next write
	svc   []ring      // [service*nSvcSeries+k]
	edge  []ring
	pool  []ring // connections in use per pool, in model pool order
	pools []*pool

	// accumulators for the current step
	acc     []float64 // per service: req, err, cpu, workers
	accEdge []float64 // per edge: attempts, failed
	accPool []float64
	ticks   int

	// cumulative counters for exposition
	reqTotal, errTotal  []float64
	bucketTotal         [][]float64 // per service, per bucket (cumulative, le)
	svcShape, edgeShape []latencyShape
	sumTotal            []float64
	edgeReqTotal        []float64
	edgeFailTotal       []float64
	edgeBucketTotal     [][]float64
	restarts            []int
	// this tick's events per service, for the SLO history
	tickReq, tickErr []float64
}

func newStore(m *model) *store {
	st := &store{times: make([]time.Time, points)}
	for range m.services {
		for k := 0; k < nSvcSeries; k++ {
			st.svc = append(st.svc, ring{})
		}
		st.bucketTotal = append(st.bucketTotal, make([]float64, len(buckets)))
	}
	for range m.edges {
		for k := 0; k < nEdgeSeries; k++ {
			st.edge = append(st.edge, ring{})
		}
		st.edgeBucketTotal = append(st.edgeBucketTotal, make([]float64, len(buckets)))
	}
	for _, s := range m.services {
		for _, p := range s.pools {
			st.pools = append(st.pools, p)
			st.pool = append(st.pool, ring{})
		}
	}
	ns, ne := len(m.services), len(m.edges)
	st.svcShape, st.edgeShape = make([]latencyShape, ns), make([]latencyShape, ne)
	st.acc = make([]float64, 4*ns)
	st.accEdge = make([]float64, 2*ne)
	st.accPool = make([]float64, len(st.pools))
	st.reqTotal, st.errTotal, st.sumTotal = make([]float64, ns), make([]float64, ns), make([]float64, ns)
	st.tickReq, st.tickErr = make([]float64, ns), make([]float64, ns)
	st.edgeReqTotal, st.edgeFailTotal = make([]float64, ne), make([]float64, ne)
	st.restarts = make([]int, ns)
	return st
}

// poisson draws a Poisson count with the given mean: exactly below 30,
// by the normal approximation above.
func poisson(r interface {
	Float64() float64
	NormFloat64() float64
}, mean float64) float64 {
	if mean <= 0 {
		return 0
	}
	if mean < 30 {
		l, k, p := math.Exp(-mean), 0.0, 1.0
		for {
			p *= r.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	return math.Max(0, math.Round(mean+math.Sqrt(mean)*r.NormFloat64()))
}

// record accumulates one tick and, on step boundaries, writes a point.
func (st *store) record(f *Fleet) {
	m := f.m
	rng := m.rng
	for i, s := range m.services {
		req := poisson(rng, s.offered)
		errs := math.Min(req, poisson(rng, req*s.pErr))
		st.acc[4*i] += req
		st.acc[4*i+1] += errs
		st.tickReq[i], st.tickErr[i] = req, errs
		st.acc[4*i+2] += s.cpu
		st.acc[4*i+3] += s.workersUsed
		st.reqTotal[i] += req
		st.errTotal[i] += errs
		st.sumTotal[i] += req * s.mean
		st.svcShape[i].add(st.bucketTotal[i], req, s.median, s.sigma, s.p99, st.ticks == 0)
		st.restarts[i] = s.restarts
	}
	for i, e := range m.edges {
		att := poisson(rng, e.attempts)
		fail := math.Min(att, poisson(rng, att*e.q))
		st.accEdge[2*i] += att
		st.accEdge[2*i+1] += fail
		st.edgeReqTotal[i] += att
		st.edgeFailTotal[i] += fail
		to := e.to
		st.edgeShape[i].add(st.edgeBucketTotal[i], att, math.Min(to.median, e.timeout), to.sigma, e.p99, st.ticks == 0)
	}
	for i, p := range st.pools {
		st.accPool[i] += p.used
	}
	f.recordHistory(func(i int) float64 { return st.tickReq[i] }, func(i int) float64 { return st.tickErr[i] })
	st.ticks++
	if m.now.Unix()%int64(Step/time.Second) != 0 {
		return
	}
	n := float64(st.ticks)
	h := st.head
	st.times[h] = m.now
	for i, s := range m.services {
		b := i * nSvcSeries
		st.svc[b+sReq].set(h, float32(st.acc[4*i]/n), st.n)
		st.svc[b+sErr].set(h, float32(st.acc[4*i+1]/n), st.n)
		st.svc[b+sP99].set(h, float32(s.p99), st.n)
		st.svc[b+sCPU].set(h, float32(st.acc[4*i+2]/n), st.n)
		st.svc[b+sWorkers].set(h, float32(st.acc[4*i+3]/n), st.n)
		st.svc[b+sReady].set(h, float32(s.ready), st.n)
		st.svc[b+sHit].set(h, float32(s.hitRatio), st.n)
		st.svc[b+sConns].set(h, float32(s.dbConns), st.n)
	}
	for i, e := range m.edges {
		b := i * nEdgeSeries
		st.edge[b+eReq].set(h, float32(st.accEdge[2*i]/n), st.n)
		st.edge[b+eFail].set(h, float32(st.accEdge[2*i+1]/n), st.n)
		st.edge[b+eP99].set(h, float32(e.p99), st.n)
	}
	for i := range st.pools {
		st.pool[i].set(h, float32(st.accPool[i]/n), st.n)
	}
	clear(st.acc)
	clear(st.accEdge)
	clear(st.accPool)
	st.ticks = 0
	st.head = (h + 1) % points
	if st.n < points {
		st.n++
	}
}

// shapeDrift is how far a latency's median or p99 may move before its
// histogram shape is worked out again within a Step: the shape costs
// thirteen erfc per service and per edge, which at 2,000 services was
// most of a tick, and a scrape sees only one point per Step anyway.
const shapeDrift = 0.05

// latencyShape is the share of a latency's observations under each bound,
// as last worked out, and the latency it was worked out for.
type latencyShape struct {
	median, sigma, p99 float64
	cum                []float64 // per bound of buckets
}

// add spreads n observations over dst with the shape of this latency:
// the cached one, unless fresh is asked (once per Step) or the latency
// moved by more than shapeDrift.
func (ls *latencyShape) add(dst []float64, n, median, sigma, p99 float64, fresh bool) {
	if n == 0 || median <= 0 {
		return
	}
	if fresh || ls.median <= 0 || sigma != ls.sigma || drifted(median, ls.median) || drifted(p99, ls.p99) {
		ls.median, ls.sigma, ls.p99 = median, sigma, p99
		if ls.cum == nil {
			ls.cum = make([]float64, len(buckets))
		}
		clear(ls.cum)
		addBuckets(ls.cum, 1, median, sigma, p99)
	}
	for i, c := range ls.cum {
		dst[i] += n * c
	}
}

func drifted(v, ref float64) bool { return math.Abs(v-ref) > shapeDrift*ref }

// addBuckets spreads n observations of a log-normal latency over the
// cumulative histogram, with the p99 pinned where queueing puts it.
func addBuckets(dst []float64, n, median, sigma, p99 float64) {
	if n == 0 || median <= 0 {
		return
	}
	mu := math.Log(median)
	// widen the shape so the histogram's p99 matches the model's
	if p99 > median && sigma > 0 {
		sigma = math.Max(sigma, math.Log(p99/median)/z99)
	}
	for i, lle := range logBuckets {
		z := (lle - mu) / sigma
		if z > phiSaturated {
			// phi is 1 here and above: the bounds are increasing
			for j := i; j < len(dst); j++ {
				dst[j] += n
			}
			return
		}
		dst[i] += n * phi(z)
	}
}

// window calls fn for each stored point in [from, to], oldest first.
func (st *store) window(from, to time.Time, fn func(h int, t time.Time)) {
	for k := st.n; k >= 1; k-- {
		h := (st.head - k + points) % points
		t := st.times[h]
		if t.Before(from) || t.After(to) {
			continue
		}
		fn(h, t)
	}
}

// sumOver sums a per-service series times Step over the window ending at
// the newest point: the number of events in it.
func (st *store) sumOver(series ring, d time.Duration) float64 {
	k := min(st.n, int(d/Step))
	sum := 0.0
	for j := 1; j <= k; j++ {
		sum += float64(series.at((st.head - j + points) % points))
	}
	return sum * Step.Seconds()
}
