package correlate

import (
	"fmt"
	"strconv"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// cpuVerdict is a service whose CPU reached its limit at or before its
// latency rose: a request that waits for a core is slow inside the
// service, and its callers, which only wait on it, are slow after it.
type cpuVerdict struct {
	sat *sources.Saturation
	// climb is the first reading of the rise that ended at the limit, from
	// the one before it, full the first at slo.SaturatedShare of the limit
	from, climb, full sources.Sample
}

// cpuSaturated judges s's CPU: at SaturatedShare of its limit in the
// window, after a reading under it (a CPU at its limit from the first
// reading was so in the baseline too, and is how the service runs), and
// climbing to it from at or before s's latency onset (within the onset
// tolerance). The rise is dated from where it began, not from where it
// reached the limit: CPU is read as a rate over minutes, which reaches
// the limit that long after the cores did.
func (a *analysis) cpuSaturated(s string) *cpuVerdict {
	an := a.anoms[s]
	if an == nil {
		return nil
	}
	onset := an.latencyOnset
	if onset.IsZero() {
		onset = an.Onset
	}
	for i, sat := range a.ev.Saturation {
		if sat.Service != s || sat.Resource != sources.ResourceKindCPU {
			continue
		}
		x := sat.Used.Samples
		full := -1
		for j, p := range x {
			if m := sat.LimitAt(p.T); m > 0 && p.V >= slo.SaturatedShare*m {
				full = j
				break
			}
		}
		if full < 1 {
			continue // never full, or full from the first reading
		}
		// the rise is the readings before full that each grew by at least
		// CPUClimbStep of the limit; from is the level it rose from
		from := full - 1
		for from > 0 && x[from].V-x[from-1].V >= CPUClimbStep*sat.LimitAt(x[from].T) {
			from--
		}
		if x[from+1].T.After(onset.Add(a.tolerance)) {
			continue
		}
		return &cpuVerdict{sat: &a.ev.Saturation[i], from: x[from], climb: x[from+1], full: x[full]}
	}
	return nil
}

// scoreCPU weighs a CPU at its limit from at or before the latency rose:
// the service's own mechanism, as telling as its own logs saying so.
func (a *analysis) scoreCPU(sc *scoring) {
	v := a.cpuSaturated(sc.Service)
	if v == nil {
		return
	}
	// each reading against the cores it had then: a limit lowered in the
	// window is judged after the change by the new one
	share := func(x sources.Sample) string { return humanize.Percent(x.V / v.sat.LimitAt(x.T)) }
	peak, limit := peakOf(*v.sat)
	d := fmt.Sprintf("CPU at %s of its %s at %s, rising from %s since %s, at or before its latency rose: its requests wait for a core",
		share(peak), cores(limit), v.full.T.UTC().Format("15:04:05"), share(v.from), v.climb.T.UTC().Format("15:04:05"))
	r := sc.add(ReasonCPU, sc.victim*weights.cpu, d)
	r.Source = v.sat.Used.Query
	sc.kinds++
}

// cores writes a CPU limit: "1 core", "2 cores", "0.5 cores".
func cores(n float64) string {
	if n == 1 {
		return "1 core"
	}
	return strconv.FormatFloat(n, 'f', -1, 64) + " cores"
}
