package sim

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Mechanisms a scenario's truth names.
const (
	MechRetryStorm     = "retry-storm"
	MechPoolExhaustion = "connection-pool-exhaustion"
	MechBadDeploy      = "bad-deploy"
	MechCrashLoop      = "crash-loop"
	MechCacheMissStorm = "cache-miss-storm"
	MechMemoryLeak     = "memory-leak"
	MechConnectionLeak = "connection-leak"
	MechSlowDependency = "slow-dependency"
)

// Truth is what really happened in a scenario. Tests read it to grade the
// correlation code; nothing in the product may.
type Truth struct {
	Scenario  string    `json:"scenario"`
	RootCause string    `json:"root_cause,omitempty"` // service
	Resource  string    `json:"resource,omitempty"`   // e.g. "pool:payment-db"
	Mechanism string    `json:"mechanism,omitempty"`
	Onset     time.Time `json:"onset"`
	// Affected lists every service whose errors or latency departed from
	// its pre-onset baseline, with when it first did, earliest first. It
	// is measured by the model, not written by hand.
	Affected []Impact `json:"affected"`
}

// Impact is when one service was first hurt.
type Impact struct {
	Service string    `json:"service"`
	At      time.Time `json:"at"`
}

// Scenario is a named incident: what the operator sees and what is true.
type Scenario struct {
	Name        string
	Description string
	// Onset is measured from the fleet's start; the default warm-up gives
	// thirty minutes of healthy history first.
	Onset time.Duration
	// root, resource and mechanism are the truth.
	root, resource, mechanism string
	// events are scheduled changes, relative to the onset.
	events []event
}

// event is a change to the model at an offset from the onset.
type event struct {
	at time.Duration
	do func(f *Fleet)
}

// Epoch is the default simulated start: thirty minutes before the seed's
// Black Friday incident (2026-11-27 23:23 UTC).
var Epoch = time.Date(2026, 11, 27, 22, 53, 0, 0, time.UTC)

// warmup is how much healthy history precedes every onset.
const warmup = 30 * time.Minute

// Scenarios lists the built-in scenarios, in the order `oncall demo --list` prints them.
func Scenarios() []Scenario {
	return []Scenario{
		{
			Name:        "retry-storm",
			Description: "user-preferences-api slows from 50 ms to 500 ms; callers with 1 s timeouts and 3 retries pile up, pools fill, payment-db connections max out and payments stop",
			root:        "user-preferences-api", mechanism: MechRetryStorm,
			events: []event{{0, func(f *Fleet) { f.ramp("user-preferences-api", 10, 2*time.Minute) }}},
		},
		{
			Name:        "db-pool-exhaustion",
			Description: "a flash sale sends 4.5x checkouts; payment-api's payment-db pool (100 connections) is exhausted and about 47% of payments fail",
			root:        "payment-api", resource: "pool:payment-db", mechanism: MechPoolExhaustion,
			events: []event{{0, func(f *Fleet) { f.spike("checkout-api", dbPoolSpike, time.Minute) }}},
		},
		{
			Name:        "bad-deploy",
			Description: "inventory v2.15.0 rolls out and fails 15% of its requests; the deploy event comes 90 s before the errors",
			root:        "inventory", mechanism: MechBadDeploy,
			events: []event{
				{-90 * time.Second, func(f *Fleet) {
					f.deploy("inventory", "v2.15.0", "rolling update 0/6 → 6/6 (image inventory:v2.15.0)")
				}},
				{0, func(f *Fleet) { f.rollout("inventory", 0.15, causeBadDeploy, 2*time.Minute) }},
			},
		},
		{
			Name:        "crash-loop",
			Description: "one cart replica is OOMKilled again and again (CrashLoopBackOff); its in-flight requests fail each time",
			root:        "cart", mechanism: MechCrashLoop,
			events: []event{{0, func(f *Fleet) { f.crashLoop("cart", "cart-7d9f8b6c4-xk2lp") }}},
		},
		{
			Name:        "cache-miss-storm",
			Description: "product-cache is flushed; every product read goes to catalog-db, which saturates, and catalog pages fail",
			root:        "product-cache", mechanism: MechCacheMissStorm,
			events: []event{{0, func(f *Fleet) { f.flush("product-cache") }}},
		},
		{
			Name:        "slow-burn",
			Description: "payment-api leaks memory: GC pauses time out a little more of its requests every minute, from none to about 30% over three hours; the payments SLO burns down for hours before its budget runs out",
			root:        "payment-api", mechanism: MechMemoryLeak,
			events: []event{{0, func(f *Fleet) { f.leak("payment-api", slowBurnPerMinute) }}},
		},
		{
			Name:        "connection-leak",
			Description: "payment-api leaks a payment-db connection on every failed refund; its pool fills over about half an hour, with no error until it is full, and then payments time out waiting for a connection",
			root:        "payment-api", resource: "pool:payment-db", mechanism: MechConnectionLeak,
			events: []event{{0, func(f *Fleet) { f.leakConnections("payment-api", "payment-db", connectionLeakPerMinute) }}},
		},
		{
			Name:        "slow-db",
			Description: "payment-db slows by about 300 ms (a vacuum, a bad plan); payment-api and fraud-detection-api hold their pooled connections longer, the pools fill, and their requests fail waiting for a connection",
			root:        "payment-db", mechanism: MechSlowDependency,
			events: []event{
				// its clients retry failed queries twice, as database drivers
				// are often set to: from the start, not a change
				{-warmup + tick, func(f *Fleet) {
					f.retry("payment-api", "payment-db", 2)
					f.retry("fraud-detection-api", "payment-db", 2)
					f.retry("ledger-service", "payment-db", 2)
				}},
				{0, func(f *Fleet) { f.ramp("payment-db", slowDBFactor, time.Minute) }},
			},
		},
		{
			Name:        "quiet",
			Description: "healthy traffic with background noise: short error bursts at services without an SLO and harmless deploys; no SLO alert fires",
		},
	}
}

// slowBurnPerMinute is how much slow-burn's leak adds to payment-api's
// error ratio each minute: calibrated so that its budget runs out one to
// three hours after the onset, for a forecast to have something to see.
const slowBurnPerMinute = 0.0017

// connectionLeakPerMinute is how many payment-db connections
// connection-leak's payment-api leaks a minute: its pool fills about half
// an hour after the onset.
const connectionLeakPerMinute = 2.0

// slowDBFactor is slow-db's multiplier of payment-db's own latency: its
// 3 ms median becomes about 300 ms.
const slowDBFactor = 100.0

// dbPoolSpike is the checkout traffic multiplier of db-pool-exhaustion,
// calibrated so payment-api fails about 47% of its requests.
const dbPoolSpike = 4.5

// FindScenario returns the named scenario.
func FindScenario(name string) (Scenario, error) {
	var names []string
	for _, s := range Scenarios() {
		if s.Name == name {
			s.Onset = warmup
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q: one of %v", name, names)
}

// leak raises a service's error ratio by perMinute every minute, as a
// memory leak's GC pauses time out more and more requests.
func (f *Fleet) leak(name string, perMinute float64) {
	s := f.m.byName[name]
	s.bugCause = causeLeak
	f.every(func() bool {
		s.errorBoost = math.Min(1, s.errorBoost+perMinute*tick.Minutes())
		return s.errorBoost < 1
	})
}

// leakConnections makes a service's pool to a store lose perMinute
// connections a minute, never returned.
func (f *Fleet) leakConnections(name, store string, perMinute float64) {
	for _, p := range f.m.byName[name].pools {
		if p.target.spec.Name == store {
			f.every(func() bool {
				p.leaked += perMinute * tick.Minutes()
				return p.leaked < p.size()
			})
		}
	}
}

// retry sets how many times name retries its failed calls to target.
func (f *Fleet) retry(name, target string, n int) {
	for _, e := range f.m.byName[name].out {
		if e.to.spec.Name == target {
			e.retries = n
		}
	}
}

// ramp multiplies a service's own latency by factor, linearly over d.
func (f *Fleet) ramp(name string, factor float64, d time.Duration) {
	s := f.m.byName[name]
	start := f.m.now
	f.every(func() bool {
		x := math.Min(1, float64(f.m.now.Sub(start))/float64(d))
		s.latencyFactor = 1 + (factor-1)*x
		return x < 1
	})
}

// spike multiplies the rate of every route into a service over d.
func (f *Fleet) spike(name string, factor float64, d time.Duration) {
	s := f.m.byName[name]
	start := f.m.now
	f.every(func() bool {
		x := math.Min(1, float64(f.m.now.Sub(start))/float64(d))
		for _, e := range s.in {
			e.boost = 1 + (factor-1)*x
		}
		return x < 1
	})
}

func (f *Fleet) deploy(name, version, detail string) {
	s := f.m.byName[name]
	s.prevVersion, s.version = s.version, version
	f.change(name, sources.ChangeDeploy, version, detail)
	f.log(name, lvlInfo, tplDeploy, -1, 0, 0, nil)
}

func (f *Fleet) rollout(name string, errs float64, c cause, d time.Duration) {
	s := f.m.byName[name]
	s.rolloutTarget, s.rolloutUntil, s.bugCause = errs, f.m.now.Add(d), c
}

func (f *Fleet) crashLoop(name, pod string) {
	s := f.m.byName[name]
	s.crash = &crashLoop{pod: pod, until: f.m.now.Add(20 * time.Second), backoff: 10 * time.Second, uptime: 40 * time.Second}
}

func (f *Fleet) flush(name string) {
	s := f.m.byName[name]
	s.hitRatio = 0
	f.change(name, sources.ChangeConfig, "", "FLUSHALL issued by cache-janitor cron")
}

// Truth reports the scenario's ground truth as of now.
func (f *Fleet) Truth() Truth {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t := Truth{Scenario: f.sc.Name, RootCause: f.sc.root, Resource: f.sc.resource, Mechanism: f.sc.mechanism, Onset: f.onset}
	for _, s := range f.m.services {
		if !s.impactedAt.IsZero() {
			t.Affected = append(t.Affected, Impact{Service: s.spec.Name, At: s.impactedAt})
		}
	}
	sort.SliceStable(t.Affected, func(i, j int) bool { return t.Affected[i].At.Before(t.Affected[j].At) })
	return t
}

// trackImpact records, after the onset, the first tick each service's
// errors or latency leave its baseline for ten seconds running.
func (f *Fleet) trackImpact() {
	if f.sc.mechanism == "" {
		return
	}
	now := f.m.now
	if now.Before(f.onset) {
		for _, s := range f.m.services {
			s.baseErr = 0.9*s.baseErr + 0.1*s.pErr
			s.baseMean = 0.9*s.baseMean + 0.1*s.mean
		}
		return
	}
	for _, s := range f.m.services {
		if !s.impactedAt.IsZero() {
			continue
		}
		// background noise bursts are not the incident
		hurt := s.pErr-s.noiseBoost > s.baseErr+0.01 || (s.mean > 1.3*s.baseMean && s.mean > s.baseMean+0.01)
		if s.crash != nil && s.restarts > 0 {
			hurt = true
		}
		if s.spec.Kind == KindCache {
			hurt = hurt || s.hitRatio < s.hitTarget-0.2
		}
		switch {
		case !hurt:
			s.overSince = time.Time{}
		case s.overSince.IsZero():
			s.overSince = now
		case now.Sub(s.overSince) >= 10*time.Second:
			s.impactedAt = s.overSince
		}
	}
}
