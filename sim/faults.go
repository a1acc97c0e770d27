package sim

import (
	"fmt"
	"sort"
	"time"
)

// Fault kinds Options.Faults injects into any topology.
const (
	FaultSlow      = "slow"       // the service's own latency grows tenfold over 2 minutes
	FaultBadDeploy = "bad-deploy" // a deploy, then 15% of its requests fail 90 s later
	FaultCrashLoop = "crash-loop" // one replica is OOMKilled again and again
	FaultFlush     = "flush"      // a cache loses every entry (it refills by itself)
)

// Fault is one fault injected at At after the onset, for For (0: until
// the end). Faults let held-out topologies, which the built-in scenarios
// do not know, carry incidents with a ground truth.
type Fault struct {
	At      time.Duration
	For     time.Duration
	Kind    string
	Service string
}

// FaultTruth is the ground truth of one injected fault.
type FaultTruth struct {
	Fault
	Onset     time.Time
	Mechanism string
}

// faultScenario is the scenario of a list of faults: the first is its
// root, each has its own truth (Fleet.FaultTruths).
func faultScenario(t *Topology, faults []Fault) (Scenario, error) {
	sc := Scenario{Name: "faults", Onset: warmup, Description: "injected faults"}
	for i, ft := range faults {
		spec, ok := t.Service(ft.Service)
		if !ok {
			return sc, fmt.Errorf("fault %d: topology %q has no service %q", i+1, t.Name, ft.Service)
		}
		if ft.At < 0 || ft.For < 0 {
			return sc, fmt.Errorf("fault %d: at and for must not be negative", i+1)
		}
		name, d := ft.Service, ft.For
		var on, off func(f *Fleet)
		switch ft.Kind {
		case FaultSlow:
			on = func(f *Fleet) { f.ramp(name, 10, 2*time.Minute) }
			off = func(f *Fleet) { f.ramp(name, 1, tick) }
		case FaultBadDeploy:
			sc.events = append(sc.events, event{ft.At - 90*time.Second, func(f *Fleet) {
				f.deploy(name, "v9.9.9", "rolling update (image "+name+":v9.9.9)")
			}})
			on = func(f *Fleet) { f.rollout(name, 0.15, causeBadDeploy, 2*time.Minute) }
			off = func(f *Fleet) { f.rollout(name, 0, causeBadDeploy, time.Minute) }
		case FaultCrashLoop:
			on = func(f *Fleet) { f.crashLoop(name, name+"-6b7c9d-x1") }
			off = func(f *Fleet) { f.m.byName[name].crash = nil }
		case FaultFlush:
			if spec.Kind != KindCache {
				return sc, fmt.Errorf("fault %d: flush %s: it is a %s, not a cache", i+1, name, spec.Kind)
			}
			on = func(f *Fleet) { f.flush(name) }
		default:
			return sc, fmt.Errorf("fault %d: unknown kind %q: one of %s, %s, %s, %s", i+1, ft.Kind, FaultSlow, FaultBadDeploy, FaultCrashLoop, FaultFlush)
		}
		sc.events = append(sc.events, event{ft.At, on})
		if d > 0 && off != nil {
			sc.events = append(sc.events, event{ft.At + d, off})
		}
		if i == 0 {
			sc.root, sc.mechanism = name, faultMechanism(ft.Kind)
		}
	}
	sortEvents(sc.events)
	return sc, nil
}

func faultMechanism(kind string) string {
	switch kind {
	case FaultSlow:
		return MechSlowDependency
	case FaultBadDeploy:
		return MechBadDeploy
	case FaultCrashLoop:
		return MechCrashLoop
	}
	return MechCacheMissStorm
}

// FaultTruths is the truth of each injected fault, in the order given.
func (f *Fleet) FaultTruths() []FaultTruth {
	out := make([]FaultTruth, len(f.faults))
	for i, ft := range f.faults {
		out[i] = FaultTruth{Fault: ft, Onset: f.onset.Add(ft.At), Mechanism: faultMechanism(ft.Kind)}
	}
	return out
}

func sortEvents(ev []event) {
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].at < ev[j].at })
}
