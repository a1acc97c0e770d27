package trialfleet

import (
	"fmt"
	"slices"
	"time"
)

// Class is a kind of fault.
type Class string

// The fault classes. Each spreads as it does in real systems: through
// pools that fill, clients that time out and retry, and queues.
const (
	// SlowDB makes a database slow: its caller's pool fills, the caller's
	// callers time out and retry. The root is the database.
	SlowDB Class = "slow-db"
	// BadDeploy ships a version that fails a share of requests and is
	// slower; deploy info and the start time change at the onset.
	BadDeploy Class = "bad-deploy"
	// PoolShrink drops a pool's size to one while the database stays
	// fast: requests wait for a connection and time out.
	PoolShrink Class = "pool-shrink"
	// WorkerSaturation drops an entry's worker pool to one: requests
	// queue before their first child span, whose own work stays fast.
	WorkerSaturation Class = "worker-saturation"
	// RetryStorm makes a mid-tier service stall on most requests beyond
	// its callers' timeout: they retry, tripling its load.
	RetryStorm Class = "retry-storm"
	// CPUSaturation makes a service's requests cost many times the CPU,
	// past its core limit: requests queue for the CPU.
	CPUSaturation Class = "cpu-saturation"
	// CrashLoop restarts a service again and again: it refuses
	// connections while down and its start time moves.
	CrashLoop Class = "crash-loop"
)

// Classes are every fault class, in the order an app cycles through
// them; CrashLoop is last so a plan of six leaves it out.
var Classes = []Class{SlowDB, BadDeploy, PoolShrink, WorkerSaturation, RetryStorm, CPUSaturation, CrashLoop}

// Why each fault has its size: big enough that the spread is plain at
// the trial's request rates, no bigger than incidents we have seen.
const (
	slowDBFactor     = 50  // a 10 ms query takes half a second: a lock, a bad plan
	shrunkPoolMax    = 1   // a config push that set maximumPoolSize to 1
	saturatedWorkers = 1   // a frontend serialising requests through one worker
	cpuFactor        = 15  // a hot loop: each request burns 15× the CPU
	badDeployErrors  = 0.3 // three requests in ten hit the new bug
	badDeploySlower  = 150 * time.Millisecond
	stallShare       = 0.6 // most requests stall on a lock or an external call
	stallFor         = 2 * time.Second
	crashEvery       = 40 * time.Second // the container restarts this often
	crashDown        = 8 * time.Second  // and refuses connections this long each time
	badDeployVersion = "-rc.bad"
)

func checkTarget(a App, class Class, target string, names, dbs map[string]bool) error {
	if !slices.Contains(Classes, class) {
		return fmt.Errorf("unknown class (want one of %v)", Classes)
	}
	switch class {
	case SlowDB:
		if !dbs[target] {
			return fmt.Errorf("%q is not a database of the app", target)
		}
		return nil
	case WorkerSaturation:
		for _, s := range a.Services {
			if s.Name == target && s.Workers > 0 {
				return nil
			}
		}
		return fmt.Errorf("%q is not a service with workers", target)
	case PoolShrink:
		for _, s := range a.Services {
			if s.Name == target && s.Pool != nil {
				return nil
			}
		}
		return fmt.Errorf("%q is not a service with a pool", target)
	}
	if !names[target] {
		return fmt.Errorf("%q is not a service of the app", target)
	}
	return nil
}

// inject starts a fault on target and returns what ends it. It runs on
// the model's clock, under the fleet's lock.
func (f *Fleet) inject(class Class, target string) (end func()) {
	now := f.clock.Now()
	switch class {
	case SlowDB:
		d := f.dbs[target]
		d.factor = slowDBFactor
		return func() { d.factor = 1 }
	case PoolShrink:
		n := f.nodes[target]
		was := n.pool.Max()
		n.pool.Resize(shrunkPoolMax)
		return func() { n.pool.Resize(was) }
	case WorkerSaturation:
		n := f.nodes[target]
		was := n.workers.Max()
		n.workers.Resize(saturatedWorkers)
		return func() { n.workers.Resize(was) }
	case CPUSaturation:
		n := f.nodes[target]
		n.cpuFactor = cpuFactor
		return func() { n.cpuFactor = 1 }
	case RetryStorm:
		n := f.nodes[target]
		n.stallShare, n.stallFor = stallShare, stallFor
		return func() { n.stallShare = 0 }
	case BadDeploy:
		n := f.nodes[target]
		was := n.version
		f.deploy(n, was+badDeployVersion)
		n.errorRate, n.extraSelf = badDeployErrors, badDeploySlower
		return func() {
			f.deploy(n, was) // the rollback
			n.errorRate, n.extraSelf = 0, 0
		}
	case CrashLoop:
		n := f.nodes[target]
		stopped := false
		var crash func()
		crash = func() {
			if stopped {
				return
			}
			n.downUntil = f.clock.Now().Add(crashDown)
			f.log(n, f.clock.Now(), "error", [16]byte{}, "fatal error: runtime: out of memory; process exiting")
			f.clock.After(crashDown, func() {
				n.started = f.clock.Now()
				f.log(n, f.clock.Now(), "info", [16]byte{}, fmt.Sprintf("starting %s %s", n.svc.Name, n.version))
			})
			f.clock.After(crashEvery, crash)
		}
		crash()
		return func() { stopped = true }
	}
	panic(fmt.Sprintf("trialfleet: unknown fault class %q at %s", class, now)) // checkTarget rejects unknown classes at load
}

// deploy restarts n on version, as a rolling deploy of one replica does.
func (f *Fleet) deploy(n *node, version string) {
	n.version = version
	n.started = f.clock.Now()
	f.log(n, f.clock.Now(), "info", [16]byte{}, fmt.Sprintf("starting %s %s", n.svc.Name, version))
}
