package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// tick is the model's time step: one simulated second.
const tick = time.Second

// z99 is the standard normal quantile of 0.99.
const z99 = 2.3263

// cause is why a request failed, so logs and spans can say it in words.
type cause uint8

const (
	causeNone cause = iota
	causeInternal
	causeBadDeploy
	causeUpstreamTimeout
	causeUpstreamError
	causeBreakerOpen
	causePoolTimeout
	causeQueueFull
	causeCrash
	causeTooManyConnections
	causeLeak
)

// service is one service's mutable state: what scenarios and actions
// change (the controls), and what the last tick computed.
type service struct {
	spec      *ServiceSpec
	idx       int
	sigma     float64 // log-normal shape of its own latency
	out       []*edge // calls, in spec order
	in        []*edge
	pools     []*pool
	hasRoutes bool
	// consumes are the queues it consumes, and consumers, for a queue,
	// how many services share its messages: fixed, so found once
	consumes  []*service
	consumers int
	// dbPools are, for a database, the distinct pools towards it, in the
	// order of its incoming edges
	dbPools []*pool
	noise   float64 // AR(1) traffic noise of an entry service
	// idle is a service no traffic can reach: no entry share, no caller,
	// no queue that a reached service publishes to
	idle bool

	// controls
	replicas      int     // desired
	ready         float64 // serving replicas
	pending       []time.Time
	latencyFactor float64
	errorBoost    float64 // extra error probability (a bad build)
	bugCause      cause
	noiseBoost    float64 // background noise bursts
	version       string
	prevVersion   string
	rolloutUntil  time.Time
	rolloutTarget float64 // errorBoost once the rollout completes
	hitRatio      float64 // caches
	hitTarget     float64
	warmPerSec    float64
	crash         *crashLoop
	kills         []time.Time // the last few container kills, for the crash-loop alert
	crashPod      string
	inj           injected // a chaos experiment's faults

	// computed by the last tick
	entry       float64 // entry requests per second (gateways, consumers)
	offered     float64 // requests per second arriving
	active      float64 // requests per second doing work
	served      float64
	backlog     float64
	pErr        float64 // server-side failure probability
	reject      float64 // refused before calling anything (queue full, pool, crash)
	rejectQ     float64
	crashFrac   float64
	poolFail    float64
	depFail     float64
	ownMean     float64 // seconds
	svcTime     float64 // mean service time excluding queueing
	wait        float64 // mean queueing delay
	mean        float64 // mean response time
	median      float64
	p99         float64
	workersUsed float64
	workersMax  float64
	cpu         float64 // cores in use
	topCause    cause
	topPeer     int // the dependency behind topCause, or -1
	restarts    int
	dbConns     float64 // databases: server-side connections in use
	dbGrant     float64 // databases: share of requested connections granted
	dbDemand    float64
	published   float64 // queues: messages per second published
	impactedAt  time.Time
	overSince   time.Time
	baseErr     float64
	baseMean    float64

	// routes are its route edges, reused every tick; mixIn and mixOut
	// are the last mixtureP99's inputs and answer, reused while they
	// hold, and mixAt is where this tick's inputs are gathered
	routes       []*edge
	mixIn, mixAt []float64
	mixOut       float64
}

// edge is one caller→callee relation.
type edge struct {
	from, to *service
	spec     *CallSpec
	timeout  float64 // seconds; actions may change it
	retries  int
	backoff  float64
	boost    float64 // scenario multiplier on this call's rate (a flash sale)
	pool     *pool   // the pool this call uses or holds, if any
	onMiss   *service

	calls    float64 // logical calls per second
	attempts float64 // attempts per second, retries included
	q        float64 // per-attempt failure probability seen by the caller
	qSmooth  float64 // q smoothed over ticks: what drives retries
	qTimeout float64 // of which timeouts
	failAll  float64 // probability a call fails after all retries
	callTime float64 // mean time per request spent in this call
	attemptT float64 // mean time of one attempt
	p99      float64

	breaker      breakerState
	breakerUntil time.Time
	failEWMA     float64

	// the last truncatedMean's inputs and answer: an idle or steady callee
	// asks the same question every tick, and at 2,000 services most are
	tmIn  [3]float64
	tmOut [2]float64
}

type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

func (b breakerState) String() string {
	return [...]string{"closed", "open", "half-open"}[b]
}

// pool is a client-side connection pool of one service towards a store.
type pool struct {
	owner   *service
	target  *service
	perRep  int
	acquire float64 // seconds
	hold    float64 // seconds a request holds a connection
	demand  float64 // connections wanted
	usable  float64 // connections available (size, capped by the server)
	used    float64
	leaked  float64 // connections checked out and never returned
	limit   int     // a chaos experiment's cap per replica, 0 when none
	fail    float64 // share of pooled requests that time out acquiring
	need    float64 // share of requests that need a connection
}

func (p *pool) size() float64 { return float64(p.limited()) * p.owner.ready }

// crashLoop is one replica restarting again and again, as Kubernetes'
// CrashLoopBackOff does: up a while, killed, backed off, started again.
type crashLoop struct {
	pod     string
	state   int // 0 running, 1 crashed (still in endpoints), 2 backing off, 3 starting
	until   time.Time
	backoff time.Duration
	uptime  time.Duration
}

// model is the fleet's state and the engine that steps it.
type model struct {
	topo          *Topology
	services      []*service
	byName        map[string]*service
	order         []*service // callers before callees
	edges         []*edge
	rng           *rand.Rand
	now           time.Time
	cycleShift    time.Duration // from the simulated clock to the daily cycle's (Options.CycleStart)
	trafficFactor float64
}

func newModel(t *Topology, seed uint64, start time.Time, cycleShift time.Duration) *model {
	m := &model{
		topo:          t,
		byName:        map[string]*service{},
		rng:           rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now:           start,
		cycleShift:    cycleShift,
		trafficFactor: 1,
	}
	for i := range t.Services {
		sp := &t.Services[i]
		s := &service{
			spec: sp, idx: i, replicas: sp.Replicas, ready: float64(sp.Replicas),
			latencyFactor: 1, version: sp.Version, hitRatio: sp.HitRatio, hitTarget: sp.HitRatio,
			sigma: math.Log(float64(sp.Latency.P99)/float64(sp.Latency.P50)) / z99, topPeer: -1, dbGrant: 1,
		}
		m.services = append(m.services, s)
		m.byName[sp.Name] = s
	}
	for _, s := range m.services {
		for _, ps := range s.spec.Pools {
			s.pools = append(s.pools, &pool{owner: s, target: m.byName[ps.To], perRep: ps.Size, acquire: time.Duration(ps.AcquireTimeout).Seconds()})
		}
		for j := range s.spec.Calls {
			c := &s.spec.Calls[j]
			e := &edge{from: s, to: m.byName[c.To], spec: c, timeout: time.Duration(c.Timeout).Seconds(),
				retries: c.Retries, backoff: time.Duration(c.Backoff).Seconds(), boost: 1}
			for _, p := range s.pools {
				if p.target.spec.Name == c.To || p.target.spec.Name == c.Hold {
					e.pool = p
				}
			}
			if c.OnMiss != "" {
				e.onMiss = m.byName[c.OnMiss]
			}
			s.hasRoutes = s.hasRoutes || c.Route
			s.out = append(s.out, e)
			e.to.in = append(e.to.in, e)
			m.edges = append(m.edges, e)
		}
	}
	for _, s := range m.services {
		for _, q := range s.spec.Consumes {
			qs := m.byName[q]
			s.consumes = append(s.consumes, qs)
			qs.consumers++
		}
		for _, e := range s.in {
			if p := e.pool; p != nil && p.target == s && !containsPool(s.dbPools, p) {
				s.dbPools = append(s.dbPools, p)
			}
		}
	}
	markIdle(m.services)
	m.order = topoOrder(m.services)
	return m
}

// markIdle marks the services that no traffic reaches: those not found
// from the entry points down calls and through queues to consumers.
func markIdle(svcs []*service) {
	consumers := map[*service][]*service{}
	var next []*service
	for _, s := range svcs {
		s.idle = true
		for _, q := range s.consumes {
			consumers[q] = append(consumers[q], s)
		}
		if s.spec.Entry > 0 {
			s.idle = false
			next = append(next, s)
		}
	}
	for len(next) > 0 {
		s := next[len(next)-1]
		next = next[:len(next)-1]
		reach := append([]*service(nil), consumers[s]...)
		for _, e := range s.out {
			reach = append(reach, e.to)
		}
		for _, t := range reach {
			if t.idle {
				t.idle = false
				next = append(next, t)
			}
		}
	}
}

func containsPool(ps []*pool, p *pool) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// topoOrder sorts services so that every caller comes before its callees.
// Validation has rejected cycles.
func topoOrder(svcs []*service) []*service {
	indeg := make([]int, len(svcs))
	for _, s := range svcs {
		for _, e := range s.out {
			indeg[e.to.idx]++
		}
	}
	var queue, order []*service
	for _, s := range svcs {
		if indeg[s.idx] == 0 {
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		order = append(order, s)
		for _, e := range s.out {
			if indeg[e.to.idx]--; indeg[e.to.idx] == 0 {
				queue = append(queue, e.to)
			}
		}
	}
	return order
}

// daily is the traffic multiplier for the time of day. The peak hour is
// UTC, so the hour is read in UTC, not in the zone the start was given in.
func (m *model) daily(t time.Time) float64 {
	t = t.Add(m.cycleShift).UTC()
	h := float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
	return 1 + m.topo.Traffic.DailyAmplitude*math.Cos(2*math.Pi*(h-m.topo.Traffic.PeakHour)/24)
}

// step advances the model by one tick.
func (m *model) step() {
	m.now = m.now.Add(tick)
	dt := tick.Seconds()
	m.updateControls()

	// Load flows down: callers first, each callee's failure probability
	// from the previous tick deciding how many retries its callers send.
	for _, s := range m.services {
		s.offered = 0
		s.entry = 0
		if s.spec.Entry > 0 {
			n := 0.95*s.noise + math.Sqrt(1-0.95*0.95)*m.topo.Traffic.Noise*m.rng.NormFloat64()
			s.noise = n
			s.entry = m.topo.Traffic.RPS * s.spec.Entry * m.daily(m.now) * math.Exp(n) * m.trafficFactor
		}
		for _, q := range s.consumes {
			s.entry += q.published / float64(q.consumers)
		}
		s.offered = s.entry
	}
	for _, s := range m.order {
		s.active = s.offered * (1 - s.reject)
		for _, e := range s.out {
			e.calls = s.active * e.multiplicity()
			if e.pool != nil {
				e.calls *= 1 - e.pool.fail
			}
			e.qSmooth = 0.5*e.qSmooth + 0.5*e.q
			a := attemptsFactor(e.qSmooth, e.retries)
			switch e.breaker {
			case breakerOpen:
				a = 0
			case breakerHalfOpen:
				a *= 0.05
			}
			e.attempts = e.calls * a
			e.to.offered += e.attempts
		}
	}

	// Time and failure flow up: callees first.
	for i := len(m.order) - 1; i >= 0; i-- {
		m.computeService(m.order[i], dt)
	}
	m.settleDatabases()
	m.updateBreakers()
}

// multiplicity is calls to this dependency per request of the caller.
func (e *edge) multiplicity() float64 {
	r := e.spec.Rate * e.boost
	if e.onMiss != nil {
		r *= 1 - e.onMiss.hitRatio
	}
	return r
}

// attemptsFactor is the expected number of attempts when each fails with
// probability q and r retries are allowed: 1 + q + q² + … + q^r.
func attemptsFactor(q float64, r int) float64 {
	a, p := 1.0, 1.0
	for k := 0; k < r; k++ {
		p *= q
		a += p
	}
	return a
}

func phi(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// truncatedMean is E[min(T, c)] and P(T > c) for log-normal T with the
// given median and shape.
func truncatedMean(median, sigma, c float64) (mean, pOver float64) {
	if median <= 0 {
		return 0, 0
	}
	if sigma < 1e-6 {
		if median > c {
			return c, 1
		}
		return median, 0
	}
	mu := math.Log(median)
	lc := math.Log(c)
	pOver = 1 - phi((lc-mu)/sigma)
	below := math.Exp(mu+sigma*sigma/2) * phi((lc-mu-sigma*sigma)/sigma)
	return below + c*pOver, pOver
}

func (m *model) computeService(s *service, dt float64) {
	sp := s.spec
	own := time.Duration(sp.Latency.P50).Seconds() * s.latencyFactor
	s.ownMean = own * math.Exp(s.sigma*s.sigma/2)

	// Pools first: a request that cannot get a connection fails without
	// making the calls the connection is for.
	for _, p := range s.pools {
		p.hold, p.need = 0, 0
	}
	s.depFail = 0
	okAll := 1.0
	callTime := 0.0
	worstCause, worstPeer, worst := causeNone, -1, 0.0
	for _, e := range s.out {
		t := e.to
		mult := e.multiplicity()
		if e.breaker == breakerOpen {
			e.q, e.qTimeout, e.failAll, e.attemptT, e.callTime = 1, 0, 1, 0, 0
			e.p99 = 0
		} else {
			tm, pOver, p99 := e.attempt(t)
			e.attemptT = tm
			e.qTimeout = (1 - t.pErr) * pOver
			e.q = math.Min(1, t.pErr+e.qTimeout)
			a := attemptsFactor(e.q, e.retries)
			e.failAll = math.Pow(e.q, float64(e.retries+1))
			e.callTime = mult * (a*tm + (a-1)*e.backoff)
			e.p99 = p99
			if e.breaker == breakerHalfOpen {
				e.failAll = 1 - 0.05*(1-e.failAll)
			}
		}
		if p := e.pool; p != nil {
			p.hold += e.callTime
			p.need = math.Min(1, p.need+mult)
		}
		callTime += e.callTime
		if !e.spec.Optional {
			var f float64
			if mult <= 1 {
				f = mult * e.failAll
			} else {
				f = 1 - math.Pow(1-e.failAll, mult)
			}
			okAll *= 1 - f
			if f > worst {
				worst, worstPeer = f, t.idx
				switch {
				case e.breaker == breakerOpen:
					worstCause = causeBreakerOpen
				case e.qTimeout > t.pErr:
					worstCause = causeUpstreamTimeout
				default:
					worstCause = causeUpstreamError
				}
			}
		}
	}
	s.depFail = 1 - okAll

	poolOK := 1.0
	poolWait := 0.0
	for _, p := range s.pools {
		p.demand = s.offered * (1 - s.rejectQ) * p.hold // wanted by every request admitted, including those that will time out waiting
		size := p.size()
		leaked := math.Min(p.leaked, size)
		p.usable = size - leaked
		if g := p.target.dbGrant; g < 1 {
			p.usable = math.Min(p.usable, math.Min(p.demand, size)*g)
		}
		p.fail = 0
		if p.demand > p.usable && p.demand > 0 {
			p.fail = 1 - p.usable/p.demand
		}
		p.used = math.Min(p.demand, p.usable) + leaked
		f := p.fail * p.need
		poolOK *= 1 - f
		poolWait += f * p.acquire
		if f > worst {
			worst, worstPeer = f, p.target.idx
			worstCause = causePoolTimeout
			if p.target.dbGrant < 1 && p.usable < size {
				worstCause = causeTooManyConnections
			}
		}
	}
	s.poolFail = 1 - poolOK

	// Workers: each request occupies one for its whole service time.
	s.svcTime = s.ownMean + callTime*poolOK + poolWait
	if s.svcTime <= 0 {
		s.svcTime = 1e-6
	}
	c := s.ready * float64(sp.Workers)
	s.workersMax = c
	lambda := s.offered
	s.rejectQ = 0
	if c <= 0 {
		s.rejectQ, s.wait, s.workersUsed = 1, 0, 0
	} else {
		mu := c / s.svcTime
		s.backlog = math.Max(0, s.backlog+(lambda-mu)*dt)
		maxQueue := 2 * c
		if s.backlog > maxQueue {
			if lambda > 0 {
				s.rejectQ = math.Min(1, (s.backlog-maxQueue)/(lambda*dt))
			}
			s.backlog = maxQueue
		}
		rho := math.Min(lambda, mu) / mu
		if s.backlog > 0 {
			s.wait = s.backlog / mu
		} else {
			s.wait = s.svcTime * sakasegawa(rho, c)
		}
		s.workersUsed = math.Min(c, lambda*(1-s.rejectQ)*s.svcTime)
	}
	if s.rejectQ > worst {
		worst, worstPeer, worstCause = s.rejectQ, -1, causeQueueFull
	}

	base := math.Min(1, sp.ErrorRate+s.errorBoost+s.noiseBoost+s.inj.errRatio)
	if s.crashFrac > worst {
		worst, worstPeer, worstCause = s.crashFrac, -1, causeCrash
	}
	if base > worst {
		worstCause, worstPeer = causeInternal, -1
		if s.errorBoost > 0 {
			worstCause = s.bugCause
		}
	}
	s.pErr = 1 - (1-base)*(1-s.depFail)*(1-s.poolFail)*(1-s.rejectQ)*(1-s.crashFrac)
	// smoothed for the next tick's load, so the loop settles instead of ringing
	s.reject = 0.5*s.reject + 0.5*(1-(1-s.poolFail)*(1-s.rejectQ)*(1-s.crashFrac))
	s.topCause, s.topPeer = worstCause, worstPeer
	s.served = lambda * (1 - s.rejectQ)

	s.mean = s.wait + s.svcTime
	s.median = s.mean / math.Exp(s.sigma*s.sigma/2)
	// The tail: the mean of everything plus the largest excess of one
	// part's p99 over its mean (own work, or a call made on most requests),
	// plus a queueing tail. A gateway's tail is that of its route mix.
	ownP99 := time.Duration(sp.Latency.P99).Seconds() * s.latencyFactor
	excess := ownP99 - s.ownMean
	routes := s.routes[:0]
	for _, e := range s.out {
		switch {
		case e.breaker == breakerOpen:
		case e.spec.Route:
			routes = append(routes, e)
		case e.multiplicity() >= 0.5:
			excess = math.Max(excess, e.attemptT*attemptsFactor(e.q, e.retries)+e.p99-e.attemptT-e.callTime+e.attemptT)
		}
	}
	s.routes = routes
	s.p99 = s.mean + 3*s.wait + excess
	if len(routes) > 0 {
		s.p99 = math.Max(s.p99, s.ownMean+3*s.wait+s.mixtureP99(routes))
	}
	s.cpu = s.served * sp.CPUms / 1000 * (1 + 0.2*s.poolFail)
	if max := s.ready * sp.Cores; s.cpu > max {
		s.cpu = max
	}
	if sp.Kind == KindQueue {
		s.published = s.served
	}
}

// truncatedMean is the package's truncatedMean, answered from the last
// call when its inputs are the same.
func (e *edge) truncatedMean(median, sigma, c float64) (mean, pOver float64) {
	in := [3]float64{median, sigma, c}
	if in != e.tmIn || (e.tmOut == [2]float64{}) {
		e.tmIn = in
		e.tmOut[0], e.tmOut[1] = truncatedMean(median, sigma, c)
	}
	return e.tmOut[0], e.tmOut[1]
}

// mixtureP99 is mixtureP99 of s's routes, answered from the last call
// when every route's inputs are the same.
func (s *service) mixtureP99(routes []*edge) float64 {
	in := s.mixAt[:0]
	for _, e := range routes {
		in = append(in, e.to.median, e.timeout, e.p99, e.multiplicity())
	}
	s.mixAt = in
	if len(in) == len(s.mixIn) && s.mixOut != 0 && equalFloats(in, s.mixIn) {
		return s.mixOut
	}
	s.mixIn = append(s.mixIn[:0], in...)
	s.mixOut = mixtureP99(routes)
	return s.mixOut
}

func equalFloats(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mixtureP99 is the 99th percentile of a request sent down one of the
// routes with their weights, each route's latency log-normal.
func mixtureP99(routes []*edge) float64 {
	total := 0.0
	for _, e := range routes {
		total += e.multiplicity()
	}
	if total == 0 {
		return 0
	}
	// each route's shape, taken once rather than at every bisection step
	type shape struct{ mult, p99, logMed, sig float64 }
	var buf [16]shape
	shapes := buf[:0]
	for _, e := range routes {
		sh := shape{mult: e.multiplicity(), p99: e.p99, sig: -1}
		if med := math.Min(e.to.median, e.timeout); med > 0 && e.p99 > med {
			sh.logMed, sh.sig = math.Log(med), math.Log(e.p99/med)/z99
		}
		shapes = append(shapes, sh)
	}
	over := func(x float64) float64 {
		p := 0.0
		lx := math.Log(x)
		for _, sh := range shapes {
			if sh.sig < 0 {
				if sh.p99 > x {
					p += sh.mult
				}
				continue
			}
			p += sh.mult * (1 - phi((lx-sh.logMed)/sh.sig))
		}
		return p / total
	}
	lo, hi := 1e-4, 0.0
	for _, e := range routes {
		hi = math.Max(hi, e.p99)
	}
	if hi <= lo {
		return hi
	}
	for i := 0; i < 30; i++ {
		mid := math.Sqrt(lo * hi)
		if over(mid) > 0.01 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// sakasegawa approximates the M/M/c queueing delay as a multiple of the
// service time (Sakasegawa, 1977): ρ^(√(2(c+1))−1) / (c(1−ρ)).
func sakasegawa(rho, c float64) float64 {
	if rho <= 0 {
		return 0
	}
	rho = math.Min(rho, 0.999)
	return math.Pow(rho, math.Sqrt(2*(c+1))-1) / (c * (1 - rho))
}

// settleDatabases caps the connections every pool may hold by the
// database's server-side limit, for the next tick.
func (m *model) settleDatabases() {
	for _, s := range m.services {
		if s.maxConnections() == 0 {
			s.dbConns = 0
			continue
		}
		// a pool may serve several edges towards the db; count it once
		want := 0.0
		for _, p := range s.dbPools {
			want += math.Min(p.demand, p.size())
		}
		s.dbDemand = want
		max := float64(s.maxConnections())
		g := 1.0
		if want > max {
			g = max / want
		}
		// smoothed, so the pools and the server settle instead of ringing
		s.dbGrant = 0.5*s.dbGrant + 0.5*g
		s.dbConns = math.Min(want, max)
	}
}

func (m *model) updateBreakers() {
	for _, e := range m.edges {
		b := e.spec.Breaker
		if b == nil {
			continue
		}
		failed := e.q
		e.failEWMA = 0.8*e.failEWMA + 0.2*failed
		switch e.breaker {
		case breakerClosed:
			if e.failEWMA > b.FailureRatio && e.attempts >= b.MinRPS {
				e.breaker, e.breakerUntil = breakerOpen, m.now.Add(time.Duration(b.Cooldown))
			}
		case breakerOpen:
			if !m.now.Before(e.breakerUntil) {
				e.breaker = breakerHalfOpen
			}
		case breakerHalfOpen:
			if failed > b.FailureRatio {
				e.breaker, e.breakerUntil = breakerOpen, m.now.Add(time.Duration(b.Cooldown))
			} else {
				e.breaker, e.failEWMA = breakerClosed, failed
			}
		}
	}
}

// updateControls moves slow controls on by one tick: replicas becoming
// ready, rollouts, cache warming and crash loops.
func (m *model) updateControls() {
	for _, s := range m.services {
		if len(s.pending) > 0 {
			keep := s.pending[:0]
			for _, t := range s.pending {
				if !m.now.Before(t) {
					s.ready++
				} else {
					keep = append(keep, t)
				}
			}
			s.pending = keep
		}
		if up := float64(max(0, s.replicas-s.inj.killed)); up < s.ready {
			s.ready = up
		}
		if !s.rolloutUntil.IsZero() {
			if m.now.Before(s.rolloutUntil) {
				step := s.rolloutTarget / 60
				if s.rolloutTarget > s.errorBoost {
					s.errorBoost = math.Min(s.rolloutTarget, s.errorBoost+step)
				} else {
					s.errorBoost = math.Max(s.rolloutTarget, s.errorBoost-math.Max(step, 0.01))
				}
			} else {
				s.errorBoost = s.rolloutTarget
				s.rolloutUntil = time.Time{}
			}
		}
		if s.spec.Kind == KindCache && s.hitRatio != s.hitTarget {
			rate := s.warmPerSec
			if rate == 0 {
				// organic warming: misses refill keys, but only those the
				// store behind answered
				rate = 1.0 / 600 * (1 - m.storeBehind(s).pErr)
			}
			s.hitRatio += (s.hitTarget - s.hitRatio) * math.Min(1, rate)
			if math.Abs(s.hitRatio-s.hitTarget) < 0.002 {
				s.hitRatio = s.hitTarget
			}
		}
		s.crashFrac = 0
		if c := s.crash; c != nil {
			m.stepCrash(s, c)
		}
	}
}

func (m *model) stepCrash(s *service, c *crashLoop) {
	if !m.now.Before(c.until) {
		switch c.state {
		case 0: // running → killed (OOM), still in endpoints until the probe notices
			c.state, c.until = 1, m.now.Add(10*time.Second)
			s.restarts++
			if len(s.kills) == 16 {
				s.kills = s.kills[1:]
			}
			s.kills = append(s.kills, m.now)
			s.crashPod = c.pod
		case 1:
			c.state, c.until = 2, m.now.Add(c.backoff)
			c.backoff = min(2*c.backoff, 5*time.Minute)
		case 2:
			c.state, c.until = 3, m.now.Add(10*time.Second)
		case 3:
			c.state, c.until = 0, m.now.Add(c.uptime)
		}
	}
	n := float64(s.replicas)
	switch c.state {
	case 1:
		s.crashFrac = 1 / n
	case 2, 3:
		s.ready = math.Min(s.ready, n-1)
	}
}

// storeBehind is the service a cache's misses go to: the callee of the
// first call made on its misses.
func (m *model) storeBehind(cache *service) *service {
	for _, e := range m.edges {
		if e.onMiss == cache {
			return e.to
		}
	}
	return cache
}
