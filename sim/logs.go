package sim

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// maxLogs bounds the log ring: about 12 MB of compact records.
const maxLogs = 1 << 18

// maxErrorLinesPerSecond is how many unsampled error lines a service
// logs per second at most, as a rate-limited logger would.
const maxErrorLinesPerSecond = 5

const (
	lvlDebug uint8 = iota
	lvlInfo
	lvlWarn
	lvlError
)

var levelNames = [...]string{"debug", "info", "warn", "error"}

// templates of log lines
const (
	tplAccess uint8 = iota
	tplError        // from a cause
	tplRetry
	tplPoolHigh
	tplBreakerOpen
	tplBreakerClosed
	tplOOM
	tplDeploy
	tplScale
	tplRestart
	tplConfig
	tplCacheWarm
	tplFault // attempt holds the fault's kind (faultKinds), a and b its figures
)

// logRec is one log line, kept as its parameters and formatted on read.
type logRec struct {
	t        int64 // ns since fleet start
	svc      int16
	peer     int16
	level    uint8
	tpl      uint8
	cause    cause
	attempt  uint8
	retries  uint8
	op       uint8
	hasTrace bool
	a, b     float32
	trace    [16]byte
}

type logStore struct {
	recs []logRec
	seq  uint64
}

func newLogStore() *logStore { return &logStore{recs: make([]logRec, maxLogs)} }

func (ls *logStore) add(r logRec) {
	ls.recs[ls.seq%maxLogs] = r
	ls.seq++
}

// each calls fn for every kept record, oldest first, until fn returns false.
func (ls *logStore) each(fn func(r *logRec) bool) {
	from := uint64(0)
	if ls.seq > maxLogs {
		from = ls.seq - maxLogs
	}
	for i := from; i < ls.seq; i++ {
		if !fn(&ls.recs[i%maxLogs]) {
			return
		}
	}
}

// log records a line from service name at the current tick.
func (f *Fleet) log(name string, level, tpl uint8, peer int, a, b float64, trace *[16]byte) {
	s := f.m.byName[name]
	r := logRec{t: f.m.now.Sub(f.start).Nanoseconds(), svc: int16(s.idx), peer: int16(peer), level: level, tpl: tpl, a: float32(a), b: float32(b)}
	if trace != nil {
		r.trace, r.hasTrace = *trace, true
	}
	f.addLog(r)
}

func (f *Fleet) addLog(r logRec) {
	f.logs.add(r)
	for _, t := range f.followers {
		t.offer(f, &r)
	}
}

// logSpan logs the error of a failed server span of a sampled trace.
func (f *Fleet) logSpan(sp *spanRec, trace [16]byte) {
	r := logRec{t: sp.start + sp.dur, svc: sp.svc, peer: sp.peer, level: lvlError, tpl: tplError, cause: sp.cause, op: sp.op,
		a: float32(sp.used), b: float32(sp.size), trace: trace, hasTrace: true}
	if sp.cause == causeUpstreamTimeout || sp.cause == causeUpstreamError {
		if e := f.m.edgeOf(int(sp.svc), int(sp.peer)); e != nil {
			r.retries = uint8(e.retries)
		}
	}
	f.addLog(r)
}

func (m *model) edgeOf(from, to int) *edge {
	if from < 0 || to < 0 {
		return nil
	}
	for _, e := range m.services[from].out {
		if e.to.idx == to {
			return e
		}
	}
	return nil
}

// emitLogs writes this tick's unsampled lines: errors (rate-limited),
// retries, saturation warnings, breaker changes, crashes and access lines.
// They carry no trace ID, as a logger that adds one only to sampled
// requests: every trace ID the demo logs opens (see format).
func (f *Fleet) emitLogs() {
	m := f.m
	rng := m.rng
	now := m.now.Sub(f.start).Nanoseconds()
	at := func() int64 { return now - int64(rng.Float64()*float64(tick)) }
	if f.lastBreaker == nil {
		f.lastBreaker = make([]breakerState, len(m.edges))
		f.lastRestarts = make([]int, len(m.services))
	}
	for _, s := range m.services {
		if !instrumented(s) {
			continue
		}
		n := min(maxErrorLinesPerSecond, int(poisson(rng, s.offered*s.pErr)))
		for i := 0; i < n; i++ {
			r := logRec{t: at(), svc: int16(s.idx), peer: int16(s.topPeer), level: lvlError, tpl: tplError, cause: s.topCause}
			if n := len(s.spec.Operations); n > 0 {
				r.op = uint8(rng.IntN(n))
			}
			switch s.topCause {
			case causePoolTimeout, causeTooManyConnections:
				for _, p := range s.pools {
					if p.target.idx == s.topPeer {
						r.a, r.b = float32(p.used), float32(p.size())
					}
				}
			case causeQueueFull:
				r.a, r.b = float32(s.workersUsed), float32(s.workersMax)
			case causeLeak:
				r.a = float32(s.errorBoost) // the leak's progress sets the pause and the heap
			case causeUpstreamTimeout, causeUpstreamError:
				if e := m.edgeOf(s.idx, s.topPeer); e != nil {
					r.retries = uint8(e.retries)
				}
			case causeNone:
				r.cause = causeInternal
			}
			f.addLog(r)
		}
		// an idle service serves nothing, so it logs no access line (the
		// draw comes first so that the stream of draws is the same)
		if rng.Float64() < 0.1 && !s.idle {
			r := logRec{t: at(), svc: int16(s.idx), peer: -1, level: lvlInfo, tpl: tplAccess, a: float32(s.median * 1000)}
			if n := len(s.spec.Operations); n > 0 {
				r.op = uint8(rng.IntN(n))
			}
			// a request traced this tick, and over by now, is the one
			// logged, so that its line names a trace that opens
			if sv, ok := f.traces.servedSince(s.idx, now-tick.Nanoseconds()); ok && sv.end <= now {
				r.t, r.op, r.a, r.trace, r.hasTrace = sv.end, sv.op, float32(sv.dur)/1e6, sv.id, true
			}
			f.addLog(r)
		}
		if m.now.Unix()%15 == 0 {
			for _, p := range s.pools {
				if sz := p.size(); sz > 0 && p.used/sz >= 0.9 {
					f.addLog(logRec{t: now, svc: int16(s.idx), peer: int16(p.target.idx), level: lvlWarn, tpl: tplPoolHigh, a: float32(p.used), b: float32(sz)})
				}
			}
		}
		if d := s.restarts - f.lastRestarts[s.idx]; d > 0 && s.crash != nil {
			f.lastRestarts[s.idx] = s.restarts
			f.addLog(logRec{t: now, svc: int16(s.idx), peer: -1, level: lvlError, tpl: tplOOM, a: float32(s.restarts)})
		}
	}
	for i, e := range m.edges {
		if e.retries > 0 && e.q > 0.02 {
			n := min(3, int(poisson(rng, e.calls*e.q)))
			for k := 0; k < n; k++ {
				f.addLog(logRec{t: at(), svc: int16(e.from.idx), peer: int16(e.to.idx), level: lvlWarn, tpl: tplRetry, attempt: uint8(2 + rng.IntN(e.retries)), retries: uint8(e.retries), a: float32(e.timeout)})
			}
		}
		if e.breaker != f.lastBreaker[i] {
			switch e.breaker {
			case breakerOpen:
				f.addLog(logRec{t: now, svc: int16(e.from.idx), peer: int16(e.to.idx), level: lvlWarn, tpl: tplBreakerOpen, a: float32(100 * e.failEWMA)})
			case breakerClosed:
				f.addLog(logRec{t: now, svc: int16(e.from.idx), peer: int16(e.to.idx), level: lvlInfo, tpl: tplBreakerClosed})
			}
			f.lastBreaker[i] = e.breaker
		}
	}
	for _, t := range f.followers {
		t.flush()
	}
}

func instrumented(s *service) bool {
	k := s.spec.Kind
	return k == KindGateway || k == KindAPI || k == KindService
}

// format renders a record as the logfmt line its service would write.
func (f *Fleet) format(r *logRec) sources.LogLine {
	m := f.m
	s := m.services[r.svc]
	peer := ""
	if r.peer >= 0 && int(r.peer) < len(m.services) {
		peer = m.services[r.peer].spec.Name
	}
	op := "request"
	if n := len(s.spec.Operations); n > 0 {
		op = s.spec.Operations[int(r.op)%n]
	}
	var msg string
	switch r.tpl {
	case tplAccess:
		msg = fmt.Sprintf(`msg="%s 200" duration_ms=%.1f`, op, r.a)
	case tplError:
		msg = causeMessage(r, s, peer, op)
	case tplRetry:
		msg = fmt.Sprintf(`msg="retrying call to %s (attempt %d/%d): context deadline exceeded after %s" peer=%s`, peer, r.attempt, r.retries+1, secs(float64(r.a)), peer)
	case tplPoolHigh:
		msg = fmt.Sprintf(`msg="connection pool %s nearly exhausted (%.0f/%.0f in use)" pool=%s`, peer, r.a, r.b, peer)
	case tplBreakerOpen:
		msg = fmt.Sprintf(`msg="circuit breaker to %s opened (%.0f%% of calls failing)" peer=%s`, peer, r.a, peer)
	case tplBreakerClosed:
		msg = fmt.Sprintf(`msg="circuit breaker to %s closed" peer=%s`, peer, peer)
	case tplOOM:
		pod := s.spec.Name
		if s.crash != nil {
			pod = s.crash.pod
		}
		msg = fmt.Sprintf(`msg="container %s killed: OOMKilled (limit 512Mi); restart count %.0f, back-off restarting" pod=%s`, s.spec.Name, r.a, pod)
	case tplDeploy:
		msg = fmt.Sprintf(`msg="starting %s" version=%s`, s.spec.Name, s.version)
	case tplScale:
		msg = fmt.Sprintf(`msg="scaled %s from %.0f to %.0f replicas" actor=oncall`, s.spec.Name, r.a, r.b)
	case tplRestart:
		msg = fmt.Sprintf(`msg="rolling restart of %s (%.0f replicas)" actor=oncall`, s.spec.Name, r.a)
	case tplConfig:
		msg = `msg="configuration changed" actor=oncall`
	case tplCacheWarm:
		msg = fmt.Sprintf(`msg="cache warm-up started for %s" actor=oncall`, s.spec.Name)
	case tplFault:
		msg = faultMessage(r, s, peer)
	}
	line := "level=" + levelNames[r.level] + " " + msg
	ll := sources.LogLine{T: f.start.Add(time.Duration(r.t)), Service: s.spec.Name, Level: levelNames[r.level],
		Labels: sources.Labels{"service_name": s.spec.Name, "namespace": f.m.topo.Name, "detected_level": levelNames[r.level]}}
	// a trace that aged out of the span ring is no longer named: a
	// line never points at a trace the fleet cannot return
	if r.hasTrace && f.traces.kept(r.trace) {
		ll.TraceID = hex.EncodeToString(r.trace[:])
		line += " trace_id=" + ll.TraceID
	}
	ll.Line = line
	return ll
}

func causeMessage(r *logRec, s *service, peer, op string) string {
	switch r.cause {
	case causePoolTimeout:
		return fmt.Sprintf(`msg="%s failed: timeout acquiring connection from pool %s (%.0f/%.0f in use)" pool=%s`, op, peer, r.a, r.b, peer)
	case causeTooManyConnections:
		return fmt.Sprintf(`msg="%s failed: pq: sorry, too many clients already" db=%s pool_in_use=%.0f/%.0f`, op, peer, r.a, r.b)
	case causeUpstreamTimeout:
		return fmt.Sprintf(`msg="%s failed: call to %s: context deadline exceeded after %d attempts" peer=%s status=504`, op, peer, r.retries+1, peer)
	case causeUpstreamError:
		return fmt.Sprintf(`msg="%s failed: call to %s: 503 Service Unavailable" peer=%s status=502`, op, peer, peer)
	case causeBreakerOpen:
		return fmt.Sprintf(`msg="%s failed: circuit breaker open for %s" peer=%s status=503`, op, peer, peer)
	case causeQueueFull:
		return fmt.Sprintf(`msg="%s rejected: %.0f/%.0f workers busy and queue full" status=503`, op, r.a, r.b)
	case causeCrash:
		return fmt.Sprintf(`msg="%s failed: connection reset by peer (pod terminated)" status=502`, op)
	case causeLeak:
		return fmt.Sprintf(`msg="%s failed: request timed out after a %.0f ms GC pause (heap %.2f GiB of 2 GiB)" status=503`, op, 900+3000*r.a, 1.2+0.8*math.Min(1, 3*float64(r.a)))
	case causeBadDeploy:
		return fmt.Sprintf(`msg="%s failed: panic recovered: runtime error: invalid memory address or nil pointer dereference" version=%s caller=reservation.go:212 status=500`, op, s.version)
	default:
		return fmt.Sprintf(`msg="%s failed: %s" status=500`, op, internalErrors[int(r.op)%len(internalErrors)])
	}
}

var internalErrors = []string{"unexpected EOF reading request body", "invalid cursor in page token", "serialization failure, please retry", "context canceled by client"}

// matches reports whether a record passes a selector's filters (not its range).
func (f *Fleet) matches(r *logRec, sel *LogSelector) bool {
	if len(sel.Services) > 0 && !contains(sel.Services, f.m.services[r.svc].spec.Name) {
		return false
	}
	if len(sel.Levels) > 0 && !contains(sel.Levels, levelNames[r.level]) {
		return false
	}
	if sel.TraceID != "" && (!r.hasTrace || hex.EncodeToString(r.trace[:]) != sel.TraceID) {
		return false
	}
	return true
}

// follower is one live reader of the logs.
type follower struct {
	sel     LogSelector
	ch      chan sources.TailEvent
	pending []sources.LogLine
	dropped int
}

func (t *follower) offer(f *Fleet, r *logRec) {
	if f.matches(r, &t.sel) {
		if l := f.format(r); t.sel.Grep == nil || t.sel.Grep.MatchString(l.Line) {
			t.pending = append(t.pending, l)
		}
	}
}

// flush delivers pending lines without ever blocking the simulation: a
// reader that falls behind is told how many lines it missed.
func (t *follower) flush() {
	if len(t.pending) == 0 {
		return
	}
	select {
	case t.ch <- sources.TailEvent{Lines: t.pending, Dropped: t.dropped}:
		t.pending, t.dropped = nil, 0
	default:
		t.dropped += len(t.pending)
		t.pending = t.pending[:0]
	}
}

// FollowLogs delivers the new lines that match sel (its range and limit
// are ignored) until ctx ends, then closes the channel. The first event
// says the follow is live; each later one carries the lines of a tick
// and how many lines were dropped because the reader fell behind. The
// simulation never waits for a reader.
func (f *Fleet) FollowLogs(ctx context.Context, sel LogSelector) <-chan sources.TailEvent {
	f.mu.Lock()
	id := f.nextID
	f.nextID++
	t := &follower{sel: sel, ch: make(chan sources.TailEvent, 64)}
	f.followers[id] = t
	f.mu.Unlock()
	t.ch <- sources.TailEvent{Connected: true}
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		delete(f.followers, id)
		close(t.ch)
		f.mu.Unlock()
	}()
	return t.ch
}
