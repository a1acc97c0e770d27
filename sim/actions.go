package sim

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Action kinds an operator (or a runbook) can take on the simulated fleet.
const (
	ActScale      = "scale"       // Service to Replicas
	ActRestart    = "restart"     // rolling restart of Service
	ActResizePool = "resize-pool" // Service's pool towards Target to Size per replica
	ActRollback   = "rollback"    // Service to its previous version
	ActWarmCache  = "warm-cache"  // Service (a cache) back to its hit ratio within minutes
	ActSetCall    = "set-call"    // Service's calls to Target: Retries and/or Timeout

	// chaos experiments' faults, kept until clear-faults
	ActInjectLatency = "inject-latency" // calls into Service: Latency (± Jitter) on Share of attempts
	ActInjectErrors  = "inject-errors"  // Ratio of Service's requests fail
	ActKillReplicas  = "kill-replicas"  // Replicas of Service down
	ActLimitPool     = "limit-pool"     // Service's pool towards Target capped at Size per replica (no Target: its only pool, or a database's max_connections)
	ActClearFaults   = "clear-faults"   // every fault injected into Service removed
)

// Action is one operator action. Only the fields its kind names are read.
type Action struct {
	Kind     string        `json:"kind"`
	Service  string        `json:"service"`
	Target   string        `json:"target,omitempty"`
	Replicas int           `json:"replicas,omitempty"`
	Size     int           `json:"size,omitempty"`
	Retries  *int          `json:"retries,omitempty"`
	Timeout  time.Duration `json:"timeout,omitempty"`
	Latency  time.Duration `json:"latency,omitempty"`
	Jitter   time.Duration `json:"jitter,omitempty"`
	Share    float64       `json:"share,omitempty"` // 0..1; 0 means every attempt
	Ratio    float64       `json:"ratio,omitempty"` // 0..1
}

// ActionKinds lists the kinds Apply accepts.
func ActionKinds() []string {
	return []string{ActScale, ActRestart, ActResizePool, ActRollback, ActWarmCache, ActSetCall,
		ActInjectLatency, ActInjectErrors, ActKillReplicas, ActLimitPool, ActClearFaults}
}

// Replicas is a service's desired replica count.
func (f *Fleet) Replicas(service string) (int, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.m.byName[service]
	if !ok {
		return 0, fmt.Errorf("sim: no service %q", service)
	}
	return s.replicas, nil
}

// PoolSize is the connections per replica of a service's pool towards
// target. With no target it is limit-pool's: a client's only pool, or a
// database's connection limit (max_connections).
func (f *Fleet) PoolSize(service, target string) (int, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.m.byName[service]
	if !ok {
		return 0, fmt.Errorf("sim: no service %q", service)
	}
	if target == "" {
		p, err := s.limitedPool("")
		if err != nil {
			return 0, err
		}
		if p == nil {
			return s.spec.MaxConnections, nil
		}
		return p.perRep, nil
	}
	for _, p := range s.pools {
		if p.target.spec.Name == target {
			return p.perRep, nil
		}
	}
	return 0, fmt.Errorf("sim: %s has no pool towards %q", service, target)
}

// Apply carries out an action. Its effect unfolds in simulated time (new
// replicas take their start-up time) and shows in every signal: a change
// event, a log line, and the metrics that follow.
func (f *Fleet) Apply(a Action) (sources.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.m.byName[a.Service]
	if !ok {
		return sources.Change{}, fmt.Errorf("sim: %s: no service %q", a.Kind, a.Service)
	}
	now := f.m.now
	switch a.Kind {
	case ActScale:
		if a.Replicas < 1 || a.Replicas > 500 {
			return sources.Change{}, fmt.Errorf("sim: scale %s: replicas must be 1..500, got %d", a.Service, a.Replicas)
		}
		old := s.replicas
		if a.Replicas > old {
			for i := old; i < a.Replicas; i++ {
				s.pending = append(s.pending, now.Add(time.Duration(s.spec.StartupTime)))
			}
		} else {
			s.pending = nil
			s.ready = math.Min(s.ready, float64(a.Replicas))
		}
		s.replicas = a.Replicas
		f.change(a.Service, sources.ChangeScale, s.version, fmt.Sprintf("replicas %d → %d", old, a.Replicas))
		f.log(a.Service, lvlInfo, tplScale, -1, float64(old), float64(a.Replicas), nil)
	case ActRestart:
		// one replica at a time is out for its start-up time; a crash loop
		// caused by a bad pod ends with it, and new processes start without
		// what the old ones leaked (memory, pooled connections), though a
		// leak in the code starts leaking again
		s.crash = nil
		if s.bugCause == causeLeak {
			s.errorBoost = 0
		}
		for _, p := range s.pools {
			p.leaked = 0
		}
		if s.replicas > 1 {
			s.ready = math.Max(1, s.ready-1)
			s.pending = append(s.pending, now.Add(time.Duration(s.spec.StartupTime)))
		}
		f.change(a.Service, sources.ChangeRestart, s.version, fmt.Sprintf("rolling restart of %d replicas", s.replicas))
		f.log(a.Service, lvlInfo, tplRestart, -1, float64(s.replicas), 0, nil)
	case ActResizePool:
		p := lastWhere(s.pools, func(q *pool) bool { return q.target.spec.Name == a.Target })
		if p == nil {
			return sources.Change{}, fmt.Errorf("sim: resize-pool %s: it has no pool towards %q", a.Service, a.Target)
		}
		if a.Size < 1 || a.Size > 10000 {
			return sources.Change{}, fmt.Errorf("sim: resize-pool %s: size must be 1..10000 per replica, got %d", a.Service, a.Size)
		}
		old := p.perRep
		p.perRep = a.Size
		f.change(a.Service, sources.ChangeConfig, s.version, fmt.Sprintf("pool %s: %d → %d connections per replica", a.Target, old, a.Size))
		f.log(a.Service, lvlInfo, tplConfig, p.target.idx, 0, 0, nil)
	case ActRollback:
		if s.prevVersion == "" {
			return sources.Change{}, fmt.Errorf("sim: rollback %s: no previous version to roll back to (running %s)", a.Service, s.version)
		}
		bad := s.version
		s.version, s.prevVersion = s.prevVersion, ""
		s.rolloutTarget, s.rolloutUntil = 0, now.Add(time.Duration(s.spec.StartupTime))
		f.change(a.Service, sources.ChangeRollback, s.version, fmt.Sprintf("rollback %s → %s", bad, s.version))
		f.log(a.Service, lvlInfo, tplDeploy, -1, 0, 0, nil)
	case ActWarmCache:
		if s.spec.Kind != KindCache {
			return sources.Change{}, fmt.Errorf("sim: warm-cache %s: it is a %s, not a cache", a.Service, s.spec.Kind)
		}
		s.warmPerSec = 1.0 / 60
		f.change(a.Service, sources.ChangeConfig, "", "cache warm-up job started")
		f.log(a.Service, lvlInfo, tplCacheWarm, -1, 0, 0, nil)
	case ActSetCall:
		e := lastWhere(s.out, func(x *edge) bool { return x.to.spec.Name == a.Target })
		if e == nil {
			return sources.Change{}, fmt.Errorf("sim: set-call %s: it does not call %q", a.Service, a.Target)
		}
		var parts []string
		if a.Retries != nil {
			if *a.Retries < 0 || *a.Retries > 10 {
				return sources.Change{}, fmt.Errorf("sim: set-call %s → %s: retries must be 0..10, got %d", a.Service, a.Target, *a.Retries)
			}
			parts = append(parts, fmt.Sprintf("retries %d → %d", e.retries, *a.Retries))
			e.retries = *a.Retries
		}
		if a.Timeout != 0 {
			if a.Timeout < time.Millisecond || a.Timeout > 5*time.Minute {
				return sources.Change{}, fmt.Errorf("sim: set-call %s → %s: timeout must be 1ms..5m, got %s", a.Service, a.Target, a.Timeout)
			}
			parts = append(parts, fmt.Sprintf("timeout %s → %s", secs(e.timeout), a.Timeout))
			e.timeout = a.Timeout.Seconds()
		}
		if len(parts) == 0 {
			return sources.Change{}, fmt.Errorf("sim: set-call %s → %s: give retries or a timeout", a.Service, a.Target)
		}
		f.change(a.Service, sources.ChangeConfig, s.version, "calls to "+a.Target+": "+strings.Join(parts, ", "))
		f.log(a.Service, lvlInfo, tplConfig, e.to.idx, 0, 0, nil)
	case ActInjectLatency, ActInjectErrors, ActKillReplicas, ActLimitPool, ActClearFaults:
		detail, err := f.applyFault(s, a)
		if err != nil {
			return sources.Change{}, err
		}
		f.change(a.Service, faultChange(a.Kind), s.version, detail)
		f.logFault(s, a)
	default:
		return sources.Change{}, fmt.Errorf("sim: unknown action %q: one of %s", a.Kind, strings.Join(ActionKinds(), ", "))
	}
	return f.changes[len(f.changes)-1], nil
}

// lastWhere is the last of xs that match accepts, or nil. The last, as
// newModel picks a call's pool: where a topology gives a service two
// pools towards one server, an action changes the one its calls use.
func lastWhere[T any](xs []*T, match func(*T) bool) *T {
	var found *T
	for _, x := range xs {
		if match(x) {
			found = x
		}
	}
	return found
}
