package trialfleet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// SpanKind is a span's role: a service serving a request or calling out.
type SpanKind int

// Span kinds, as OTLP has them.
const (
	KindServer SpanKind = iota
	KindClient
)

// Attr is one span attribute: a string, or an integer when IsInt is set.
type Attr struct {
	Key   string
	Str   string
	Int   int64
	IsInt bool
}

// Span is one finished span of the model, ready to export.
type Span struct {
	TraceID   [16]byte
	SpanID    [8]byte
	Parent    [8]byte
	HasParent bool
	Service   string
	Name      string
	Kind      SpanKind
	Start     time.Time
	End       time.Time
	Err       bool
	Message   string
	Attrs     []Attr
}

// LogLine is one log line of a service.
type LogLine struct {
	Time    time.Time
	App     string
	Service string
	Level   string
	TraceID string
	Line    string
}

// Stats count what a service or a database served, cumulatively; the
// ledger's truth is the difference between two snapshots.
type Stats struct {
	Requests int
	Failed   int
	Latency  time.Duration // summed
}

// node is one service's live state.
type node struct {
	app     *App
	svc     Service
	workers *Slots
	cores   *Slots
	pool    *Slots
	version string
	started time.Time
	cpuSec  float64
	stats   Stats

	// faults
	cpuFactor  float64
	errorRate  float64       // extra share of requests failing with 500
	extraSelf  time.Duration // added to every request (a slow release)
	stallShare float64       // share of requests that stall for stallFor
	stallFor   time.Duration
	downUntil  time.Time
}

// dbState is one database's live state.
type dbState struct {
	db     Database
	factor float64
	stats  Stats
}

// Fleet is the model of every app. The runner and the /metrics handler
// share it, hence the mutex; every method takes it.
type Fleet struct {
	mu    sync.Mutex
	topo  Topology
	clock *Clock
	rng   *rand.Rand
	// ids draws trace and span IDs apart from rng: seeded by the start
	// too, so two runs of one seed do not send Tempo the same trace IDs
	// (a reused ID joins spans of two runs into one trace), while the
	// model's draws stay those of the seed
	ids    *rand.Rand
	nodes  map[string]*node
	dbs    map[string]*dbState
	spans  []Span
	logs   []LogLine
	served int // healthy responses, for accessLogEvery
}

// accessLogEvery is how many healthy responses share one access-log
// line, so logs stay a modest stream while every failure is logged.
const accessLogEvery = 10

// NewFleet builds the model at start with a seeded random source, so a
// run is reproducible from its seed.
func NewFleet(topo Topology, start time.Time, seed uint64) *Fleet {
	f := &Fleet{
		topo:  topo,
		clock: NewClock(start),
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		ids:   rand.New(rand.NewPCG(seed, uint64(start.UnixNano()))),
		nodes: map[string]*node{},
		dbs:   map[string]*dbState{},
	}
	for i := range topo.Apps {
		a := &topo.Apps[i]
		for _, s := range a.Services {
			// the same start times in every run: a rerun of the fleet
			// shows no restart, which would look like a change before
			// every early fault
			started := processesStarted.Add(time.Duration(i) * time.Hour)
			n := &node{app: a, svc: s, version: s.Version, started: started, cpuFactor: 1,
				cores: NewSlots(f.clock, s.Cores)}
			if s.Workers > 0 {
				n.workers = NewSlots(f.clock, s.Workers)
			}
			if s.Pool != nil {
				n.pool = NewSlots(f.clock, s.Pool.Max)
			}
			f.nodes[s.Name] = n
		}
		for _, d := range a.Databases {
			f.dbs[d.Name] = &dbState{db: d, factor: 1}
		}
	}
	return f
}

// Start schedules each app's first arrival; arrivals then follow a
// Poisson process at the app's rate.
func (f *Fleet) Start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.topo.Apps {
		f.arrive(&f.topo.Apps[i])
	}
}

func (f *Fleet) arrive(a *App) {
	gap := time.Duration(f.rng.ExpFloat64() / a.Rate * float64(time.Second))
	f.clock.After(gap, func() {
		var tid [16]byte
		f.fillID(tid[:])
		f.serve(f.nodes[a.Entry], tid, [8]byte{}, false, func(int, string) {})
		f.arrive(a)
	})
}

// Advance runs the model up to now.
func (f *Fleet) Advance(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock.Advance(now)
}

// Drain hands over the spans and log lines finished since the last call.
func (f *Fleet) Drain() ([]Span, []LogLine) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, l := f.spans, f.logs
	f.spans, f.logs = nil, nil
	return s, l
}

func (f *Fleet) fillID(b []byte) {
	for {
		for i := range b {
			b[i] = byte(f.ids.Uint32())
		}
		if b[0] != 0 { // Tempo drops leading zeros; keep IDs full-length to compare them plainly
			return
		}
	}
}

// jitter draws a log-normal duration around median: service times have
// a long right tail, never a negative one.
func (f *Fleet) jitter(median time.Duration) time.Duration {
	if median <= 0 {
		return 0
	}
	return time.Duration(float64(median) * math.Exp(0.3*f.rng.NormFloat64()))
}

// processesStarted is when the fleet's processes started, before any
// run, so that only faults move process_start_time_seconds.
var processesStarted = time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)

// Status codes the model answers with; 0 is a refused connection.
const (
	statusRefused     = 0
	statusOK          = 200
	statusServerError = 500
	statusBadGateway  = 502
	statusUnavailable = 503
	statusTimeout     = 504
)

// Why the model's waits end where they do.
const (
	// workerQueueLimit is how long a request waits for a worker before
	// the server answers 503, as a bounded accept queue does.
	workerQueueLimit = 3 * time.Second
	// retryBackoff is the pause before a retry, short as most HTTP
	// clients' first backoff is.
	retryBackoff = 25 * time.Millisecond
)

// serve plays one request at n: worker, CPU, own work, the pool and its
// queries, then each call in order. reply gets the status and, for a
// failure, why.
func (f *Fleet) serve(n *node, tid [16]byte, parent [8]byte, hasParent bool, reply func(status int, msg string)) {
	now := f.clock.Now()
	if now.Before(n.downUntil) {
		reply(statusRefused, "connection refused")
		return
	}
	sp := &Span{TraceID: tid, Parent: parent, HasParent: hasParent, Service: n.svc.Name, Kind: KindServer,
		Name: "GET " + n.route(), Start: now}
	f.fillID(sp.SpanID[:])
	released := func() {}
	finish := func(status int, msg string) {
		released()
		sp.End = f.clock.Now()
		sp.Attrs = []Attr{{Key: "http.request.method", Str: "GET"}, {Key: "http.route", Str: n.route()},
			{Key: "http.response.status_code", Int: int64(status), IsInt: true}}
		sp.Err = status >= statusServerError
		sp.Message = msg
		n.stats.Requests++
		n.stats.Latency += sp.End.Sub(sp.Start)
		if sp.Err {
			n.stats.Failed++
			f.log(n, sp.End, "error", tid, fmt.Sprintf("GET %s %d in %dms: %s", n.route(), status, sp.End.Sub(sp.Start).Milliseconds(), msg))
		} else if f.served++; f.served%accessLogEvery == 0 {
			f.log(n, sp.End, "info", tid, fmt.Sprintf("GET %s %d in %dms", n.route(), status, sp.End.Sub(sp.Start).Milliseconds()))
		}
		f.spans = append(f.spans, *sp)
		reply(status, msg)
	}
	work := func() {
		f.work(n, func() {
			f.withPool(n, tid, sp.SpanID, finish, func() {
				f.callAll(n, tid, sp.SpanID, 0, finish, func() {
					if f.rng.Float64() < n.svc.ErrorRate+n.errorRate {
						finish(statusServerError, n.ownError())
						return
					}
					finish(statusOK, "")
				})
			})
		})
	}
	if n.workers == nil {
		work()
		return
	}
	n.workers.Acquire(workerQueueLimit, func(waited time.Duration) {
		released = n.workers.Release
		if waited > time.Second {
			f.log(n, f.clock.Now(), "warn", tid, fmt.Sprintf("request queued %dms for a worker (pool of %d, %d waiting)", waited.Milliseconds(), n.workers.Max(), n.workers.Waiting()))
		}
		work()
	}, func() {
		finish(statusUnavailable, fmt.Sprintf("503 Service Unavailable: worker pool exhausted (%d/%d busy, queued %s)", n.workers.InUse(), n.workers.Max(), workerQueueLimit))
	})
}

func (n *node) route() string {
	if n.svc.Route != "" {
		return n.svc.Route
	}
	return "/" + n.svc.Name
}

func (n *node) ownError() string {
	if n.errorRate > 0 {
		return fmt.Sprintf("500 Internal Server Error: NullPointerException in RequestMapper.map (build %s)", n.version)
	}
	return "500 Internal Server Error: unexpected EOF reading request body"
}

// work burns the request's CPU on the service's cores (queueing when
// they are all busy), then its own non-CPU time.
func (f *Fleet) work(n *node, next func()) {
	n.cores.Acquire(0, func(time.Duration) {
		cpu := time.Duration(float64(f.jitter(n.svc.CPU)) * n.cpuFactor)
		f.clock.After(cpu, func() {
			n.cpuSec += cpu.Seconds()
			n.cores.Release()
			self := f.jitter(n.svc.Self) + n.extraSelf
			if n.stallShare > 0 && f.rng.Float64() < n.stallShare {
				self += n.stallFor
			}
			f.clock.After(self, next)
		})
	}, nil)
}

// withPool takes a connection, runs the queries and the transaction's
// work holding it, then gives it back; a request that waits longer than
// the pool's limit fails as HikariCP's connectionTimeout does.
func (f *Fleet) withPool(n *node, tid [16]byte, parent [8]byte, fail func(int, string), next func()) {
	if n.pool == nil {
		next()
		return
	}
	p := n.svc.Pool
	db := f.dbs[p.DB]
	n.pool.Acquire(p.Wait, func(time.Duration) {
		var query func(i int)
		query = func(i int) {
			if i == p.Queries {
				f.clock.After(f.jitter(p.Hold), func() {
					n.pool.Release()
					next()
				})
				return
			}
			cs := Span{TraceID: tid, Parent: parent, HasParent: true, Service: n.svc.Name, Kind: KindClient,
				Name: "SELECT " + db.db.DBName, Start: f.clock.Now(), Attrs: []Attr{
					{Key: "db.system", Str: db.db.System}, {Key: "db.name", Str: db.db.DBName},
					{Key: "server.address", Str: db.db.Name}, {Key: "db.operation.name", Str: "SELECT"}}}
			f.fillID(cs.SpanID[:])
			d := time.Duration(float64(f.jitter(db.db.Latency)) * db.factor)
			f.clock.After(d, func() {
				cs.End = f.clock.Now()
				db.stats.Requests++
				db.stats.Latency += d
				f.spans = append(f.spans, cs)
				query(i + 1)
			})
		}
		query(0)
	}, func() {
		msg := fmt.Sprintf("%s - Connection is not available, request timed out after %dms (total=%d, active=%d, waiting=%d)",
			p.Name, p.Wait.Milliseconds(), n.pool.Max(), n.pool.InUse(), n.pool.Waiting())
		if n.app.PoolMetrics == "go_sql" {
			msg = fmt.Sprintf("sql: acquiring connection to %s: context deadline exceeded after %dms (%d/%d open, %d waiting)",
				p.Name, p.Wait.Milliseconds(), n.pool.InUse(), n.pool.Max(), n.pool.Waiting())
		}
		fail(statusServerError, msg)
	})
}

// callAll makes n's calls in order; the first that fails after its
// retries fails the request.
func (f *Fleet) callAll(n *node, tid [16]byte, parent [8]byte, i int, fail func(int, string), next func()) {
	if i == len(n.svc.Calls) {
		next()
		return
	}
	to := f.nodes[n.svc.Calls[i]]
	f.call(n, to, tid, parent, 0, func(ok bool, status int, msg string) {
		if !ok {
			fail(status, msg)
			return
		}
		f.callAll(n, tid, parent, i+1, fail, next)
	})
}

// call is one attempt from n to `to` with n's client timeout. A timeout,
// a refused connection or a 503 is retried while attempts remain; the
// callee keeps working on an abandoned attempt, which is how retries
// amplify load on a slow service.
func (f *Fleet) call(n, to *node, tid [16]byte, parent [8]byte, attempt int, done func(ok bool, status int, msg string)) {
	cs := &Span{TraceID: tid, Parent: parent, HasParent: true, Service: n.svc.Name, Kind: KindClient,
		Name: "GET", Start: f.clock.Now(), Attrs: []Attr{{Key: "http.request.method", Str: "GET"},
			{Key: "server.address", Str: to.svc.Name}, {Key: "url.full", Str: "http://" + to.svc.Name + to.route()}}}
	if attempt > 0 {
		cs.Attrs = append(cs.Attrs, Attr{Key: "http.request.resend_count", Int: int64(attempt), IsInt: true})
	}
	f.fillID(cs.SpanID[:])
	settled := false
	end := func(status int, msg string) {
		settled = true
		cs.End = f.clock.Now()
		cs.Err = status == statusRefused || status >= statusServerError
		cs.Message = msg
		if status != statusRefused && status != statusTimeout {
			cs.Attrs = append(cs.Attrs, Attr{Key: "http.response.status_code", Int: int64(status), IsInt: true})
		}
		f.spans = append(f.spans, *cs)
		retryable := status == statusRefused || status == statusUnavailable || status == statusTimeout
		if retryable && attempt < n.svc.Retries {
			f.log(n, cs.End, "warn", tid, fmt.Sprintf("call to %s failed (%s), retrying (attempt %d/%d)", to.svc.Name, msg, attempt+2, n.svc.Retries+1))
			f.clock.After(retryBackoff, func() { f.call(n, to, tid, parent, attempt+1, done) })
			return
		}
		if cs.Err {
			f.log(n, cs.End, "error", tid, fmt.Sprintf("call to %s failed after %d attempts: %s", to.svc.Name, attempt+1, msg))
			code := statusBadGateway
			if status == statusTimeout {
				code = statusTimeout
			}
			done(false, code, fmt.Sprintf("upstream %s: %s", to.svc.Name, msg))
			return
		}
		done(true, status, "")
	}
	timer := f.clock.After(n.svc.Timeout, func() {
		if !settled {
			end(statusTimeout, fmt.Sprintf("timeout awaiting response headers after %dms", n.svc.Timeout.Milliseconds()))
		}
	})
	f.serve(to, tid, cs.SpanID, true, func(status int, msg string) {
		if settled {
			return
		}
		timer.Stop()
		if status == statusRefused {
			msg = fmt.Sprintf("dial tcp %s:8080: connect: connection refused", to.svc.Name)
		}
		end(status, msg)
	})
}

// log records a line; tid is zero for lines outside any request.
func (f *Fleet) log(n *node, t time.Time, level string, tid [16]byte, line string) {
	l := LogLine{Time: t, App: n.app.Name, Service: n.svc.Name, Level: level,
		Line: fmt.Sprintf("level=%s service=%s msg=%q", level, n.svc.Name, line)}
	if tid != ([16]byte{}) {
		l.TraceID = fmt.Sprintf("%x", tid)
		l.Line = fmt.Sprintf("level=%s service=%s trace_id=%s msg=%q", level, n.svc.Name, l.TraceID, line)
	}
	f.logs = append(f.logs, l)
}
