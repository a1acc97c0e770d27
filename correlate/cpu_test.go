package correlate

import (
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// cpuEvidence is gw → app → core. core's CPU (1 core) climbs from idle
// at step climb and reaches its limit over the 2-minute rate window
// after; its p99 rises at step 152. app's errors and p99 rose at step
// 140, before core's (an earlier spell, or its timeouts counted first),
// so nothing but core's CPU tells that app only waits on core.
func cpuEvidence(climb int) *Evidence {
	used := sources.Series{Query: "cpu of core"}
	for i := 120; i < 180; i++ {
		v := 0.08 + 0.002*float64(i%2) // a CPU at rest wobbles
		if i >= climb {
			v = min(1, 0.08+0.12*float64(i-climb+1))
		}
		used.Samples = append(used.Samples, sources.Sample{T: t0.Add(time.Duration(i) * 15 * time.Second), V: v})
	}
	return &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start},
		RED: []sources.RED{
			red("gw", 180, 100, step(140, 0.001, 0.5), step(140, 0.3, 3)),
			red("app", 180, 100, step(140, 0.001, 0.6), step(140, 0.1, 2)),
			red("core", 180, 100, flat(0.001), step(152, 0.06, 5)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "gw", RequestRate: 100},
			{Client: "gw", Server: "app", RequestRate: 100, FailedRate: 50, P99Seconds: 3},
			{Client: "app", Server: "core", RequestRate: 100, FailedRate: 0, P99Seconds: 5},
		},
		BaselineEdges: []sources.Edge{
			{Client: "gw", Server: "app", RequestRate: 100, P99Seconds: 0.1},
			{Client: "app", Server: "core", RequestRate: 100, P99Seconds: 0.06},
		},
		Saturation: []sources.Saturation{{Service: "core", Resource: sources.ResourceKindCPU, Max: 1, Used: used}},
	}
}

func TestACPUAtItsLimitBeforeItsLatencyRoseBlamesItsService(t *testing.T) {
	inc := Analyze(cpuEvidence(151), Meta{})
	if len(inc.Candidates) < 2 || inc.Candidates[0].Service != "core" {
		t.Fatalf("ranked %+v", inc.Candidates)
	}
	want := "CPU at 100.0% of its 1 core at 23:39:30, rising from 8.0% since 23:37:45, at or before its latency rose: its requests wait for a core"
	if r := reasonOf(inc.Candidates[0], ReasonCPU); r == nil || r.Detail != want || r.Source != "cpu of core" {
		t.Errorf("core's cpu reason %+v\nwant %q", r, want)
	}
	for _, c := range inc.Candidates[1:] {
		if reasonOf(c, ReasonCPU) != nil {
			t.Errorf("%s waits on core and is credited its CPU: %+v", c.Service, c)
		}
	}
}

func TestACPUThatIsNotNewsEarnsNothing(t *testing.T) {
	for name, ev := range map[string]*Evidence{
		// the CPU climbed a minute after the latency rose: the slowness
		// came first, and the CPU is its consequence
		"after the latency": cpuEvidence(157),
		// at its limit from the first reading: how the service runs
		"from the start": func() *Evidence {
			ev := cpuEvidence(151)
			ev.Saturation[0].Used.Samples[0].V = 1
			return ev
		}(),
	} {
		for _, c := range Analyze(ev, Meta{}).Candidates {
			if r := reasonOf(c, ReasonCPU); r != nil {
				t.Errorf("%s: %s credited %+v", name, c.Service, r)
			}
		}
	}
}

func TestACPUAtItsLimitIsNotAVictimOfTheCallsIntoIt(t *testing.T) {
	// app's calls into core tripled (its retries, which the traces do not
	// mark): core's CPU ran out, and the surge only revealed it
	ev := cpuEvidence(151)
	ev.Edges[2].RequestRate = 300
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "core" || reasonOf(inc.Candidates[0], ReasonLoad) != nil {
		t.Fatalf("ranked %+v", inc.Candidates)
	}
}
