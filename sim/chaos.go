package sim

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// injected are the faults a chaos experiment put into one service; the
// scenario's own faults are not among them, so clear-faults removes only
// what an experiment did.
type injected struct {
	// delay, jitter and share are network latency on calls into the
	// service, as Toxiproxy's latency toxic adds it: share of attempts
	// take delay longer, give or take up to jitter (uniformly). The
	// service's own work is not slower; its callers wait longer.
	delay, jitter, share float64 // seconds, seconds, 0..1
	errRatio             float64 // share of its requests failed on purpose
	killed               int     // replicas down until cleared
	maxConns             int     // a database's connection limit capped, 0 when not
}

func (i injected) any() bool { return i != injected{} }

// delays are the delays an attempt into s may take, each weighted
// equally: the two Gauss–Legendre points of the uniform jitter around the
// delay, exact for the smooth curves they feed.
func (i injected) delays() []float64 {
	if i.jitter <= 0 {
		return []float64{i.delay}
	}
	h := i.jitter / math.Sqrt(3)
	return []float64{math.Max(0, i.delay-h), i.delay + h}
}

// attempt is the mean time of one attempt into t (timed out at c), the
// probability that it times out and its 99th percentile, network latency
// included. A delayed attempt is T+d with T the callee's time:
// P(T+d > c) = P(T > c−d) and E[min(T+d, c)] = d + E[min(T, c−d)].
func (e *edge) attempt(t *service) (tm, pOver, p99 float64) {
	const net = 0.0005
	c := e.timeout
	tm, pOver = e.truncatedMean(t.median+net, t.sigma, c)
	if t.reject > 0.5 && t.mean < c {
		tm = t.mean
	}
	p99 = math.Min(t.p99+net, c)
	s := t.inj.share
	if s <= 0 {
		return tm, pOver, p99
	}
	ds := t.inj.delays()
	w := s / float64(len(ds))
	tm, pOver = (1-s)*tm, (1-s)*pOver
	for _, d := range ds {
		if d >= c {
			tm += w * c
			pOver += w
			continue
		}
		m, p := truncatedMean(t.median+net, t.sigma, c-d)
		tm += w * (d + m)
		pOver += w * p
	}
	return tm, pOver, math.Min(delayedP99(t.median+net, t.p99+net, t.sigma, s, ds), c)
}

// delayedP99 is the 99th percentile of a log-normal time (median, p99)
// of which share is delayed by one of ds.
func delayedP99(median, p99, sigma, share float64, ds []float64) float64 {
	sig := sigma
	if p99 > median && median > 0 {
		sig = math.Log(p99/median) / z99
	}
	over := func(x float64) float64 {
		p := (1 - share) * overLogNormal(x, median, sig)
		for _, d := range ds {
			p += share / float64(len(ds)) * overLogNormal(x-d, median, sig)
		}
		return p
	}
	lo, hi := 0.0, p99+ds[len(ds)-1]
	for over(hi) > 0.01 {
		hi *= 2
	}
	for i := 0; i < 40; i++ {
		mid := (lo + hi) / 2
		if over(mid) > 0.01 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// overLogNormal is P(T > x) for a log-normal T.
func overLogNormal(x, median, sigma float64) float64 {
	if x <= 0 {
		return 1
	}
	if median <= 0 {
		return 0
	}
	if sigma < 1e-6 {
		if median > x {
			return 1
		}
		return 0
	}
	return 1 - phi((math.Log(x)-math.Log(median))/sigma)
}

// delayFor draws the network delay of one attempt into s, for a trace.
func (w *walker) delayFor(s *service) float64 {
	i := s.inj
	rng := w.f.m.rng
	if i.share <= 0 || rng.Float64() >= i.share {
		return 0
	}
	return math.Max(0, i.delay+i.jitter*(2*rng.Float64()-1))
}

// limited is a pool's size per replica with its injected cap.
func (p *pool) limited() int {
	if p.limit > 0 && p.limit < p.perRep {
		return p.limit
	}
	return p.perRep
}

// maxInjectedLatency bounds inject-latency: beyond a minute every caller
// has long timed out, and the number is a typo, not an experiment.
const maxInjectedLatency = time.Minute

// applyFault carries out one of the chaos kinds on s, under f.mu. It
// returns the change's detail.
func (f *Fleet) applyFault(s *service, a Action) (string, error) {
	name := s.spec.Name
	switch a.Kind {
	case ActInjectLatency:
		if a.Latency <= 0 || a.Latency > maxInjectedLatency {
			return "", fmt.Errorf("sim: inject-latency %s: latency must be above 0 and at most %s, got %s", name, maxInjectedLatency, a.Latency)
		}
		if a.Jitter < 0 || a.Jitter > a.Latency {
			return "", fmt.Errorf("sim: inject-latency %s: jitter must be 0..latency (%s), got %s", name, a.Latency, a.Jitter)
		}
		share := a.Share
		if share == 0 {
			share = 1
		}
		if share < 0 || share > 1 {
			return "", fmt.Errorf("sim: inject-latency %s: share must be in (0, 1] (or 1%%..100%%), got %g", name, a.Share)
		}
		s.inj.delay, s.inj.jitter, s.inj.share = a.Latency.Seconds(), a.Jitter.Seconds(), share
		d := fmt.Sprintf("fault injected: +%s network latency", a.Latency)
		if a.Jitter > 0 {
			d += fmt.Sprintf(" (±%s)", a.Jitter)
		}
		return d + fmt.Sprintf(" on %s of calls into %s", percent(share), name), nil
	case ActInjectErrors:
		if a.Ratio <= 0 || a.Ratio > 1 {
			return "", fmt.Errorf("sim: inject-errors %s: ratio must be in (0, 1] (or 1%%..100%%), got %g", name, a.Ratio)
		}
		s.inj.errRatio = a.Ratio
		return fmt.Sprintf("fault injected: %s of %s's requests fail", percent(a.Ratio), name), nil
	case ActKillReplicas:
		if a.Replicas < 1 || a.Replicas > s.replicas {
			return "", fmt.Errorf("sim: kill-replicas %s: replicas must be 1..%d (it runs %d), got %d", name, s.replicas, s.replicas, a.Replicas)
		}
		s.inj.killed = a.Replicas
		s.ready = math.Min(s.ready, float64(s.replicas-a.Replicas))
		return fmt.Sprintf("fault injected: %d of %d replicas killed, kept down", a.Replicas, s.replicas), nil
	case ActLimitPool:
		p, err := s.limitedPool(a.Target)
		if err != nil {
			return "", err
		}
		if p == nil {
			max := s.spec.MaxConnections
			if a.Size < 1 || a.Size > max {
				return "", fmt.Errorf("sim: limit-pool %s: size must be 1..%d (its max_connections), got %d", name, max, a.Size)
			}
			s.inj.maxConns = a.Size
			return fmt.Sprintf("fault injected: connection limit capped at %d of %d", a.Size, max), nil
		}
		a.Target = p.target.spec.Name
		if a.Size < 1 || a.Size > p.perRep {
			return "", fmt.Errorf("sim: limit-pool %s → %s: size must be 1..%d (its pool per replica), got %d", name, a.Target, p.perRep, a.Size)
		}
		p.limit = a.Size
		return fmt.Sprintf("fault injected: pool %s capped at %d of %d connections per replica", a.Target, a.Size, p.perRep), nil
	case ActClearFaults:
		var undone []string
		if s.inj.share > 0 {
			undone = append(undone, "latency")
		}
		if s.inj.errRatio > 0 {
			undone = append(undone, "errors")
		}
		if k := s.inj.killed; k > 0 {
			// the killed replicas start again, each taking its start-up time
			for i := 0; i < k; i++ {
				s.pending = append(s.pending, f.m.now.Add(time.Duration(s.spec.StartupTime)))
			}
			undone = append(undone, fmt.Sprintf("%d killed replicas", k))
		}
		if s.inj.maxConns > 0 {
			undone = append(undone, "connection limit")
		}
		s.inj = injected{}
		for _, p := range s.pools {
			if p.limit > 0 {
				undone = append(undone, "pool "+p.target.spec.Name+" limit")
				p.limit = 0
			}
		}
		if len(undone) == 0 {
			return "faults cleared: none were injected", nil
		}
		return "faults cleared: " + strings.Join(undone, ", "), nil
	}
	return "", fmt.Errorf("sim: %s is not a fault kind", a.Kind)
}

// Faults describes the faults injected into a service ("" when none), so
// a test or an operator can see that a rollback left nothing behind.
func (f *Fleet) Faults(service string) (string, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.m.byName[service]
	if !ok {
		return "", fmt.Errorf("sim: no service %q", service)
	}
	var parts []string
	if i := s.inj; i.share > 0 {
		parts = append(parts, fmt.Sprintf("latency +%s on %s", secs(i.delay), percent(i.share)))
	}
	if s.inj.errRatio > 0 {
		parts = append(parts, "errors "+percent(s.inj.errRatio))
	}
	if s.inj.killed > 0 {
		parts = append(parts, fmt.Sprintf("%d replicas killed", s.inj.killed))
	}
	if s.inj.maxConns > 0 {
		parts = append(parts, fmt.Sprintf("connection limit %d", s.inj.maxConns))
	}
	for _, p := range s.pools {
		if p.limit > 0 {
			parts = append(parts, fmt.Sprintf("pool %s limited to %d", p.target.spec.Name, p.limit))
		}
	}
	return strings.Join(parts, ", "), nil
}

// FaultedServices lists the services with injected faults, in topology order.
func (f *Fleet) FaultedServices() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	for _, s := range f.m.services {
		limited := false
		for _, p := range s.pools {
			limited = limited || p.limit > 0
		}
		if s.inj.any() || limited {
			out = append(out, s.spec.Name)
		}
	}
	return out
}

func percent(x float64) string {
	return fmt.Sprintf("%.4g%%", 100*x)
}

// faultChange is the change kind of a fault action.
func faultChange(kind string) sources.ChangeKind {
	if kind == ActKillReplicas {
		return sources.ChangeScale
	}
	return sources.ChangeConfig
}

// faultKinds index a tplFault line's kind (logRec.attempt).
var faultKinds = []string{ActInjectLatency, ActInjectErrors, ActKillReplicas, ActLimitPool, ActClearFaults}

// logFault logs a fault action as the fault tool would report it.
func (f *Fleet) logFault(s *service, a Action) {
	r := logRec{t: f.m.now.Sub(f.start).Nanoseconds(), svc: int16(s.idx), peer: -1, level: lvlWarn, tpl: tplFault}
	for i, k := range faultKinds {
		if k == a.Kind {
			r.attempt = uint8(i)
		}
	}
	switch a.Kind {
	case ActInjectLatency:
		r.a, r.b = float32(a.Latency.Seconds()), float32(s.inj.share)
	case ActInjectErrors:
		r.a = float32(a.Ratio)
	case ActKillReplicas:
		r.a, r.b = float32(a.Replicas), float32(s.replicas)
	case ActLimitPool:
		r.a = float32(a.Size)
		if p, _ := s.limitedPool(a.Target); p != nil {
			r.peer = int16(p.target.idx)
		}
	case ActClearFaults:
		r.level = lvlInfo
	}
	f.addLog(r)
}

func faultMessage(r *logRec, s *service, peer string) string {
	name := s.spec.Name
	switch faultKinds[int(r.attempt)%len(faultKinds)] {
	case ActInjectLatency:
		return fmt.Sprintf(`msg="chaos: +%s network latency on %s of calls into %s" fault=inject-latency actor=oncall`, secs(float64(r.a)).Round(time.Microsecond), percent(float64(r.b)), name)
	case ActInjectErrors:
		return fmt.Sprintf(`msg="chaos: %s of %s's requests fail" fault=inject-errors actor=oncall`, percent(float64(r.a)), name)
	case ActKillReplicas:
		return fmt.Sprintf(`msg="chaos: %.0f of %.0f replicas of %s killed" fault=kill-replicas actor=oncall`, r.a, r.b, name)
	case ActLimitPool:
		if peer == "" {
			return fmt.Sprintf(`msg="chaos: %s's connection limit capped at %.0f" fault=limit-pool actor=oncall`, name, r.a)
		}
		return fmt.Sprintf(`msg="chaos: pool %s capped at %.0f connections per replica" pool=%s fault=limit-pool actor=oncall`, peer, r.a, peer)
	}
	return fmt.Sprintf(`msg="chaos: faults of %s cleared" fault=clear-faults actor=oncall`, name)
}

// limitedPool is the pool limit-pool caps: the one towards target; with
// no target, a client's only pool, or nil for a database, whose own
// connection limit is capped instead.
func (s *service) limitedPool(target string) (*pool, error) {
	name := s.spec.Name
	if target != "" {
		if p := lastWhere(s.pools, func(q *pool) bool { return q.target.spec.Name == target }); p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("sim: limit-pool %s: it has no pool towards %q", name, target)
	}
	switch {
	case len(s.pools) == 1:
		return s.pools[0], nil
	case len(s.pools) == 0 && s.spec.MaxConnections > 0:
		return nil, nil
	case len(s.pools) == 0:
		return nil, fmt.Errorf("sim: limit-pool %s: it has no connection pool and no connection limit", name)
	}
	var towards []string
	for _, p := range s.pools {
		towards = append(towards, p.target.spec.Name)
	}
	return nil, fmt.Errorf("sim: limit-pool %s: give target, one of its pools towards %s", name, strings.Join(towards, ", "))
}

// maxConnections is a database's connection limit, an injected cap included.
func (s *service) maxConnections() int {
	if c := s.inj.maxConns; c > 0 && c < s.spec.MaxConnections {
		return c
	}
	return s.spec.MaxConnections
}
