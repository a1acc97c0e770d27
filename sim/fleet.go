package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Options configure a Fleet.
type Options struct {
	Topology *Topology // nil: the embedded default
	Scenario string    // "" or "quiet": no incident
	Seed     uint64
	// Start is the simulated time the fleet starts at; the onset comes
	// thirty simulated minutes later. Zero means Epoch.
	Start time.Time
	// CycleStart is where the daily traffic cycle stands at Start: the
	// fleet starts with the traffic of CycleStart's time of day, and the
	// cycle runs on from there with the simulated clock. Zero means Start
	// itself. A fleet that starts at the wall clock's time sets it to Epoch
	// so that its scenario is as strong at any hour as in the replay.
	CycleStart time.Time
	// Faults, when given, are the incident instead of Scenario: any
	// topology can carry them (see Fault).
	Faults []Fault
	// Services, when above the topology's size, grows the topology to
	// that many services with generated apps (see GrowTopology), seeded
	// by Seed: a fleet of the size users run, with the same scenarios.
	Services int
}

// Fleet is the simulated fleet. It implements the sources interfaces in
// process and is safe for concurrent use: readers see the state as of the
// last tick.
type Fleet struct {
	mu     sync.RWMutex
	m      *model
	sc     Scenario
	seed   uint64
	start  time.Time
	onset  time.Time
	events []event // pending, sorted by time from the onset
	faults []Fault
	hooks  []func() bool

	store     *store
	traces    *traceStore
	logs      *logStore
	alerts    *alertState
	changes   []sources.Change
	followers map[int]*follower
	nextID    int
	noise     []noiseSource
	// what emitLogs saw last tick, to log transitions once
	lastBreaker  []breakerState
	lastRestarts []int
	ticks        uint64
	// hist is the coarse history of each SLO service, by name.
	hist          map[string]*history
	pastIncidents []PastIncident
}

// maxChanges bounds the change log.
const maxChanges = 1000

// New builds a fleet at its start time. Nothing has been simulated yet;
// call Advance or Run.
func New(o Options) (*Fleet, error) {
	t := o.Topology
	if t == nil {
		t = DefaultTopology()
	}
	if o.Services < 0 || o.Services > 0 && o.Services < len(t.Services) {
		return nil, fmt.Errorf("%d services: topology %q already has %d; the fleet can only grow", o.Services, t.Name, len(t.Services))
	}
	if o.Services > len(t.Services) {
		var err error
		if t, err = GrowTopology(t, o.Services, o.Seed); err != nil {
			return nil, err
		}
	}
	name := o.Scenario
	if name == "" {
		name = "quiet"
	}
	sc, err := FindScenario(name)
	if len(o.Faults) > 0 {
		if o.Scenario != "" {
			return nil, fmt.Errorf("give a scenario or faults, not both")
		}
		sc, err = faultScenario(t, o.Faults)
	}
	if err != nil {
		return nil, err
	}
	for _, need := range scenarioNeeds[sc.Name] {
		if _, ok := t.Service(need); !ok {
			return nil, fmt.Errorf("scenario %s needs service %s, which topology %q lacks", sc.Name, need, t.Name)
		}
	}
	start := o.Start
	if start.IsZero() {
		start = Epoch
	}
	var cycleShift time.Duration
	if !o.CycleStart.IsZero() {
		cycleShift = o.CycleStart.Sub(start)
	}
	f := &Fleet{
		m: newModel(t, o.Seed, start, cycleShift), sc: sc, seed: o.Seed, start: start, onset: start.Add(sc.Onset),
		events: append([]event(nil), sc.events...), followers: map[int]*follower{},
		faults: o.Faults,
	}
	f.store = newStore(f.m)
	f.traces = newTraceStore(o.Seed)
	f.logs = newLogStore()
	f.alerts = newAlertState()
	f.noise = backgroundNoise(f.m)
	return f, nil
}

// scenarioNeeds are the services a scenario's events touch.
var scenarioNeeds = map[string][]string{
	"retry-storm":        {"user-preferences-api", "payment-api", "payment-db"},
	"db-pool-exhaustion": {"checkout-api", "payment-api", "payment-db"},
	"bad-deploy":         {"inventory"},
	"crash-loop":         {"cart"},
	"cache-miss-storm":   {"product-cache"},
	"slow-burn":          {"payment-api"},
	"connection-leak":    {"payment-api", "payment-db"},
}

// Scenario is the scenario the fleet runs.
func (f *Fleet) Scenario() Scenario { return f.sc }

// Now is the simulated time of the last tick.
func (f *Fleet) Now() time.Time {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.m.now
}

// Onset is when the scenario's incident starts.
func (f *Fleet) Onset() time.Time { return f.onset }

// Start is the simulated time the fleet started at.
func (f *Fleet) Start() time.Time { return f.start }

// Topology is the fleet's topology.
func (f *Fleet) Topology() *Topology { return f.m.topo }

// Advance simulates d more time, tick by tick.
func (f *Fleet) Advance(d time.Duration) {
	n := int(d / tick)
	for i := 0; i < n; i++ {
		f.mu.Lock()
		f.stepLocked()
		f.mu.Unlock()
	}
}

// AdvanceTo simulates until t.
func (f *Fleet) AdvanceTo(t time.Time) { _ = f.AdvanceUntil(context.Background(), t) }

// advanceChunk is how much is simulated between two looks at the
// context: an hour of fleet time is a fraction of a second of work.
const advanceChunk = time.Hour

// AdvanceUntil simulates until t, or until ctx ends (its error, then).
func (f *Fleet) AdvanceUntil(ctx context.Context, t time.Time) error {
	for {
		d := min(t.Sub(f.Now()), advanceChunk)
		if d <= 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		f.Advance(d)
		if d < tick {
			return nil
		}
	}
}

// Run advances the fleet at speed times real time until ctx ends. A speed
// of 0 or less runs as fast as the machine allows.
func (f *Fleet) Run(ctx context.Context, speed float64) {
	if speed <= 0 {
		for ctx.Err() == nil {
			f.Advance(15 * time.Second)
		}
		return
	}
	interval := time.Duration(float64(tick) / speed)
	batch := 1
	if interval < 20*time.Millisecond {
		// many ticks per wake-up, so high speeds do not spin
		batch = int(20*time.Millisecond/interval) + 1
		interval *= time.Duration(batch)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Advance(time.Duration(batch) * tick)
		}
	}
}

func (f *Fleet) stepLocked() {
	m := f.m
	for len(f.events) > 0 && !f.onset.Add(f.events[0].at).After(m.now) {
		ev := f.events[0]
		f.events = f.events[1:]
		ev.do(f)
	}
	keep := f.hooks[:0]
	for _, h := range f.hooks {
		if h() {
			keep = append(keep, h)
		}
	}
	f.hooks = keep
	f.stepNoise()
	m.step()
	f.ticks++
	f.trackImpact()
	f.store.record(f)
	f.traces.sample(f)
	f.emitLogs()
	if f.m.now.Unix()%15 == 0 {
		f.alerts.evaluate(f)
	}
}

// every runs h before each tick until it returns false.
func (f *Fleet) every(h func() bool) {
	if h() {
		f.hooks = append(f.hooks, h)
	}
}

func (f *Fleet) change(service string, kind sources.ChangeKind, version, detail string) {
	if len(f.changes) == maxChanges {
		copy(f.changes, f.changes[1:])
		f.changes = f.changes[:maxChanges-1]
	}
	f.changes = append(f.changes, sources.Change{T: f.m.now, Service: service, Kind: kind, Version: version, Detail: detail})
}
