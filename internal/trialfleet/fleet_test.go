package trialfleet

import (
	"slices"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/config"
)

var t0 = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

func loadFleet(t *testing.T) Topology {
	t.Helper()
	topo, err := LoadTopology("../../testdata/trialfleet/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// runCase plays one fault of class in the first app with the model's
// clock alone: 5 minutes healthy, 3 minutes of fault.
func runCase(t *testing.T, topo Topology, class Class) Case {
	t.Helper()
	f := NewFleet(topo, t0, 7)
	a := topo.Apps[0]
	plan := []Planned{{Class: class, App: a.Name, Target: a.Faults[class], Onset: t0.Add(5 * time.Minute), End: t0.Add(8 * time.Minute)}}
	var got []Case
	f.Schedule(plan, func(c Case) { got = append(got, c) })
	f.Start()
	for at := t0; !at.After(t0.Add(8*time.Minute + time.Second)); at = at.Add(time.Second) {
		f.Advance(at)
		f.Drain()
	}
	if len(got) != 1 {
		t.Fatalf("%s: %d cases recorded, want 1", class, len(got))
	}
	return got[0]
}

func TestEveryFaultHurtsItsEntry(t *testing.T) {
	topo := loadFleet(t)
	for _, class := range Classes {
		c := runCase(t, topo, class)
		t.Logf("%s root=%s radius=%v", class, c.Root, c.BlastRadius)
		for _, m := range c.BlastRadius {
			t.Logf("   %s %+v", m, c.Measured[m])
		}
		if !slices.Contains(c.BlastRadius, c.Entry) {
			t.Errorf("%s: entry %s not hurt: %v", class, c.Entry, c.BlastRadius)
		}
		switch class {
		case SlowDB: // the pool owner waits on the slow database
			if !slices.Contains(c.BlastRadius, "harbor-berth") {
				t.Errorf("slow-db: the pool's owner is not hurt: %v", c.BlastRadius)
			}
		case WorkerSaturation: // the queue is before the first child span: children stay fast
			if !slices.Equal(c.BlastRadius, []string{"harbor-gate"}) {
				t.Errorf("worker-saturation hurt %v, want the entry alone", c.BlastRadius)
			}
		case PoolShrink: // the database stays fast
			if slices.Contains(c.BlastRadius, "berth-pg") {
				t.Errorf("pool-shrink slowed the database: %+v", c.Measured["berth-pg"])
			}
		}
	}
}

// The fleet's oncall config maps the fleet's own names through the
// conventions; a key oncall does not know, or a pool mapped to a
// database the fleet lacks, would silently grade a different oncall.
func TestOncallConfigLoadsAndMapsEveryPool(t *testing.T) {
	cfg, err := config.Load("../../testdata/trialfleet/oncall.yaml", true, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	targets := cfg.Conventions.Resources.Targets
	for _, a := range loadFleet(t).Apps {
		for _, s := range a.Services {
			if s.Pool != nil && targets[s.Pool.Name] != s.Pool.DB {
				t.Errorf("pool %s of %s maps to %q, want its database %s", s.Pool.Name, s.Name, targets[s.Pool.Name], s.Pool.DB)
			}
		}
	}
}

// TestTwoRunsOfOneSeedSendOtherTraceIDs: a trial run twice with its
// default seed against one Tempo must not reuse trace IDs (a reused ID
// joined a refused request of one run to calls of another, and oncall
// saw a call between two apps), while one start and seed replay exactly.
func TestTwoRunsOfOneSeedSendOtherTraceIDs(t *testing.T) {
	topo := loadFleet(t)
	first := func(start time.Time) [16]byte {
		f := NewFleet(topo, start, 21)
		f.Start()
		for at := start; len(f.spans) == 0 && at.Before(start.Add(time.Minute)); at = at.Add(100 * time.Millisecond) {
			f.Advance(at)
		}
		spans, _ := f.Drain()
		if len(spans) == 0 {
			t.Fatal("no span in a minute of traffic")
		}
		return spans[0].TraceID
	}
	if a, b := first(t0), first(t0); a != b {
		t.Errorf("one start and seed gave trace IDs %x and %x", a, b)
	}
	if a, b := first(t0), first(t0.Add(time.Hour)); a == b {
		t.Errorf("two runs of seed 21 both sent trace ID %x", a)
	}
}
