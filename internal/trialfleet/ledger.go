package trialfleet

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// Planned is one fault the run will inject.
type Planned struct {
	Class  Class
	App    string
	Target string
	Onset  time.Time
	End    time.Time
}

// Plan spreads faults over the apps: after warmup, each app cycles
// through classes (app i starting at class i, so every class meets every
// app), a fault lasting dur with gap of health after it. Apps are
// staggered by a fourteenth of a cycle so that onsets do not coincide.
func Plan(topo Topology, start time.Time, warmup, dur, gap time.Duration, classes []Class, perClass int) []Planned {
	var out []Planned
	apps := topo.Apps
	cycle := dur + gap
	// onsets half a minute apart (for a 7-minute cycle) tell the apps'
	// faults apart without stretching the run by a whole cycle
	stagger := cycle / 14
	count := map[Class]int{}
	done := func() bool {
		for _, c := range classes {
			if count[c] < perClass {
				return false
			}
		}
		return true
	}
	// an app meets every class once in len(classes) rounds, so this many
	// rounds always suffice
	for k := 0; !done() && k < len(classes)*perClass; k++ {
		for i, a := range apps {
			c := classes[(i+k)%len(classes)]
			if count[c] >= perClass {
				continue
			}
			count[c]++
			onset := start.Add(warmup + time.Duration(k)*cycle + time.Duration(i)*stagger)
			out = append(out, Planned{Class: c, App: a.Name, Target: a.Faults[c], Onset: onset, End: onset.Add(dur)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Onset.Before(out[j].Onset) })
	return out
}

// Case is one line of the ledger: a fault that ran and what it did.
type Case struct {
	Class Class  `json:"class"`
	App   string `json:"app"`
	Entry string `json:"entry"`
	// Root is the root cause as oncall names it: the service, or the
	// database by the name Tempo's service graph gives it (server.address).
	Root  string    `json:"root"`
	Onset time.Time `json:"onset"`
	End   time.Time `json:"end"`
	// BlastRadius are the services and databases whose requests failed
	// or slowed during the fault against the baseline before it, root
	// included, sorted.
	BlastRadius []string `json:"blast_radius"`
	// Measured holds, per member, the baseline and fault figures that put
	// it in the blast radius.
	Measured map[string]Shift `json:"measured"`
}

// Shift is a member's error ratio and mean latency before and during a fault.
type Shift struct {
	BaseErrorRatio  float64 `json:"base_error_ratio"`
	ErrorRatio      float64 `json:"error_ratio"`
	BaseMeanSeconds float64 `json:"base_mean_seconds"`
	MeanSeconds     float64 `json:"mean_seconds"`
}

// The truth's thresholds: a member is hurt when its error ratio rises
// by a point (with a few failures, so one unlucky request is not harm)
// or its mean latency grows by half and at least 10 ms, the sizes a user
// or an SLO notices.
const (
	hurtErrorPoints = 0.01
	hurtMinFailures = 3
	hurtSlowFactor  = 1.5
	hurtSlowMin     = 10 * time.Millisecond
)

// BlastRadius compares three snapshots (baseline start, onset, end) of
// the members of app and returns who was hurt, root always included.
func BlastRadius(app App, root string, base, onset, end map[string]Stats) ([]string, map[string]Shift) {
	members := []string{}
	for _, s := range app.Services {
		members = append(members, s.Name)
	}
	for _, d := range app.Databases {
		members = append(members, d.Name)
	}
	hurt := map[string]Shift{}
	for _, m := range members {
		b, d := diff(onset[m], base[m]), diff(end[m], onset[m])
		sh := Shift{BaseErrorRatio: ratio(b.Failed, b.Requests), ErrorRatio: ratio(d.Failed, d.Requests),
			BaseMeanSeconds: mean(b), MeanSeconds: mean(d)}
		failed := sh.ErrorRatio-sh.BaseErrorRatio >= hurtErrorPoints && d.Failed >= hurtMinFailures
		slow := sh.MeanSeconds >= hurtSlowFactor*sh.BaseMeanSeconds && sh.MeanSeconds-sh.BaseMeanSeconds >= hurtSlowMin.Seconds()
		if failed || slow || m == root {
			hurt[m] = sh
		}
	}
	names := make([]string, 0, len(hurt))
	for m := range hurt {
		names = append(names, m)
	}
	sort.Strings(names)
	return names, hurt
}

func diff(a, b Stats) Stats {
	return Stats{Requests: a.Requests - b.Requests, Failed: a.Failed - b.Failed, Latency: a.Latency - b.Latency}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mean(s Stats) float64 {
	if s.Requests == 0 {
		return 0
	}
	return s.Latency.Seconds() / float64(s.Requests)
}

// baselineSpan is how much healthy history before an onset the truth
// compares against.
const baselineSpan = 3 * time.Minute

// Schedule puts the plan on the model's clock: each fault starts and
// ends exactly at its instants, and its case goes to record at the end.
// A fault whose baseline starts before the model's clock uses the
// earliest history there is.
func (f *Fleet) Schedule(plan []Planned, record func(Case)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	for _, p := range plan {
		app, _ := f.topo.App(p.Target)
		var base, onset map[string]Stats
		var end func()
		f.clock.After(p.Onset.Add(-baselineSpan).Sub(now), func() { base = f.snapshotLocked() })
		f.clock.After(p.Onset.Sub(now), func() {
			onset = f.snapshotLocked()
			end = f.inject(p.Class, p.Target)
		})
		f.clock.After(p.End.Sub(now), func() {
			end()
			radius, measured := BlastRadius(app, p.Target, base, onset, f.snapshotLocked())
			record(Case{Class: p.Class, App: p.App, Entry: app.Entry, Root: p.Target, Onset: p.Onset, End: p.End,
				BlastRadius: radius, Measured: measured})
		})
	}
}

func (f *Fleet) snapshotLocked() map[string]Stats {
	out := map[string]Stats{}
	for name, n := range f.nodes {
		out[name] = n.stats
	}
	for name, d := range f.dbs {
		out[name] = d.stats
	}
	return out
}

// LedgerWriter appends cases to a ledger as JSON lines.
func LedgerWriter(w io.Writer) func(Case) error {
	enc := json.NewEncoder(w)
	return func(c Case) error {
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		return nil
	}
}

// ReadLedger reads a ledger's cases; the error names the line at fault.
func ReadLedger(r io.Reader) ([]Case, error) {
	dec := json.NewDecoder(r)
	var out []Case
	for line := 1; dec.More(); line++ {
		var c Case
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("ledger line %d: %w", line, err)
		}
		out = append(out, c)
	}
	return out, nil
}
