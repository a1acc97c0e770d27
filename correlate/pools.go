package correlate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// poolVerdict says why one connection pool is full: its owner calls its
// target through it, and a pool fills either because each call holds a
// connection longer (the target slowed: the pool is the mechanism) or
// because the owner holds more of them (a shrunk pool, a leak, new
// demand: the owner is the cause).
type poolVerdict struct {
	owner, target string
	sat           *sources.Saturation
	// full is where the latest fill began (lastFill): the first reading
	// of it at slo.SaturatedShare of the size in force then, and
	// fullLimit that size. A pool shrunk from 10 to 1 is full at 1 of 1
	// after the resize, not at 7 of 10 before it; one that filled in an
	// earlier incident and emptied is full from when it filled again
	full      sources.Sample
	fullLimit float64
	// targetSlow is set when the target's own latency rose at or before
	// the pool filled, and the owner's demand did not surge
	targetSlow bool
	// why says what the target's latency and the owner's demand did,
	// against the pool: "after db's latency rose (p99 25 ms → 330 ms
	// since 23:24)", "while db's latency held (…)"
	why string
}

// findPools judges every exhausted pool (sources.PoolResource(X) of S) by X's
// own latency: from X's metrics when it has them, else from the calls
// into it (the service graph's client-side latency, how an
// uninstrumented database is seen). It runs after findLoad: a target
// loaded by new calls slowed because of them.
func (a *analysis) findPools() {
	a.pools = nil
	for i, sat := range a.ev.Saturation {
		if !poolExhausted(sat) {
			continue
		}
		target, _ := sources.PoolTarget(sat.Resource) // poolExhausted holds only pools
		v := &poolVerdict{owner: sat.Service, target: target, sat: &a.ev.Saturation[i]}
		v.full, v.fullLimit = lastFill(sat)
		rose, since := a.latencyRose(v.owner, v.target)
		latency := a.latencyDetail(v.owner, v.target)
		if !since.IsZero() {
			latency += " since " + since.UTC().Format("15:04")
		}
		switch over := a.overBefore(v.target, v.full.T); {
		case over != nil:
			// a target whose slowness was over before the pool filled
			// (an earlier incident) was not slow when it filled: the
			// window's peak calls into it are that incident's
			v.why = fmt.Sprintf("while %s's latency held (its earlier anomaly recovered at %s)", v.target, over.Recovered.UTC().Format("15:04"))
		case !rose:
			v.why = fmt.Sprintf("while %s's latency held (%s)", v.target, latency)
		case a.demandSurged([]string{v.owner}):
			// new demand fills a pool and loads its target: the
			// target's slowness is the load's
			v.why = fmt.Sprintf("as %s's own traffic surged (%s %s under the load)", v.owner, v.target, latency)
		case len(a.loadBy[v.target]) > 0:
			// so do new calls that are not its callers' retries (a
			// cache that stopped hitting sends its misses on): findLoad
			// has told them apart
			v.why = fmt.Sprintf("as calls into %s surged from %s (%s %s under the load)", v.target, strings.Join(a.loadBy[v.target], ", "), v.target, latency)
		case !since.IsZero() && since.After(v.full.T.Add(a.tolerance)):
			// a pool already full before the target slowed (beyond the
			// onset tolerance) filled for its own reasons first
			v.why = fmt.Sprintf("before %s's latency rose (%s)", v.target, latency)
		default:
			v.targetSlow = true
			v.why = fmt.Sprintf("after %s's latency rose (%s)", v.target, latency)
		}
		a.pools = append(a.pools, v)
	}
	slices.SortFunc(a.pools, func(x, y *poolVerdict) int {
		return cmp.Or(cmp.Compare(x.owner, y.owner), cmp.Compare(x.target, y.target))
	})
}

// latencyRose is whether the target's own latency departs from its
// baseline, and since when when that is known: its anomaly's latency
// onset, or (for a peer seen only through calls) the edge's p99 against
// its baseline, whose onset the service graph does not tell.
func (a *analysis) latencyRose(owner, target string) (bool, time.Time) {
	if an := a.anoms[target]; an != nil && strings.Contains(an.Kind, "latency") {
		if !an.latencyOnset.IsZero() {
			return true, an.latencyOnset
		}
		return true, an.Onset
	}
	for _, e := range a.g.Dependencies(owner) {
		if e.Server != target || e.P99Seconds <= 0 {
			continue
		}
		return slowerThan(e.P99Seconds, a.edgeBaseP99(owner, target)), time.Time{}
	}
	return false, time.Time{}
}

// edgeBaseP99 is the p99 of client's calls to server before the window,
// from the service graph: 0 when they were not timed.
func (a *analysis) edgeBaseP99(client, server string) float64 {
	for _, b := range a.ev.BaselineEdges {
		if b.Client == client && b.Server == server && b.P99Seconds > 0 {
			return b.P99Seconds
		}
	}
	return 0
}

// latencyDetail says what the target's latency did, as its anomaly or
// the owner's calls into it show.
func (a *analysis) latencyDetail(owner, target string) string {
	if an := a.anoms[target]; an != nil && an.BaseP99 > 0 {
		return fmt.Sprintf("p99 %s → %s", humanize.Seconds(an.BaseP99), humanize.Seconds(an.PeakP99))
	}
	base := a.edgeBaseP99(owner, target)
	for _, e := range a.g.Dependencies(owner) {
		if e.Server == target && e.P99Seconds > 0 && base > 0 {
			return fmt.Sprintf("p99 of %s's calls %s → %s", owner, humanize.Seconds(base), humanize.Seconds(e.P99Seconds))
		}
	}
	if base > 0 {
		return "p99 held at " + humanize.Seconds(base)
	}
	return "latency unknown"
}

// slowBehindPools counts the full pools whose target s slowed first.
func (a *analysis) slowBehindPools(s string) int {
	n := 0
	for _, v := range a.pools {
		if v.target == s && v.targetSlow {
			n++
		}
	}
	return n
}

// scorePool weighs a full pool where it belongs: at its target when the
// target slowed first (the owner's full pool is how its slowness
// spread), at its owner when the target's latency held.
func (a *analysis) scorePool(sc *scoring) {
	for _, v := range a.pools {
		full := fmt.Sprintf("%s's %s full (%s at %s)", v.owner, v.sat.Resource, ofLimit(v.full.V, v.fullLimit), v.full.T.UTC().Format("15:04:05"))
		var d string
		switch {
		case v.targetSlow && v.target == sc.Service:
			d = fmt.Sprintf("%s %s: the pool is full because %s is slow", full, v.why, v.target)
			if n := a.slowBehindPools(sc.Service) - 1; n > 0 {
				d += fmt.Sprintf(" (and %d more callers' pools)", n)
			}
		case !v.targetSlow && v.owner == sc.Service && sc.victim == 1:
			// (an owner slowed by another of its dependencies holds its
			// connections longer for that one's sake: a victim's pool,
			// which its own logs and the mechanisms already show)
			d = fmt.Sprintf("%s %s: the pool filled from %s's side", full, v.why, v.owner)
		default:
			continue
		}
		r := sc.add(ReasonPool, weights.pool, d)
		r.Source = v.sat.Used.Query
		sc.kinds++
		return
	}
}

// peakOf is s at its fullest: the reading with the highest share of the
// limit in force at its time, and that limit (0 when no limit is known).
// A peak is printed against the limit at its own time, never against a
// limit the resource had at another.
func peakOf(s sources.Saturation) (sources.Sample, float64) {
	used, limit, _ := s.Fullest()
	return used, limit
}

// saturated is whether s reached slo.SaturatedShare of the limit in force
// at some reading.
func saturated(s sources.Saturation) bool {
	_, _, ok := firstFull(s)
	return ok
}

// overBefore is s's anomaly when it recovered at or before t: set aside
// as an earlier incident, or over while the ongoing one went on; nil
// when s's anomaly was live at t or it had none.
func (a *analysis) overBefore(s string, t time.Time) *Anomaly {
	an := a.earlierAnomaly(s)
	if an == nil {
		an = a.anoms[s]
	}
	if an == nil || an.Recovered.IsZero() || an.Recovered.After(t) {
		return nil
	}
	return an
}

// lastFill is where s's latest stretch of full readings began, and the
// limit then. Two full readings RecoveredFor or more apart (with readings
// under slo.SaturatedShare of their limit, or none, between them) are two
// stretches; closer ones are one, so a dip of a scrape or two does not
// start a new fill, while a pool that filled in an earlier incident and
// emptied again is judged by when it filled this time. It is s's first
// full reading when no gap was that long.
func lastFill(s sources.Saturation) (sources.Sample, float64) {
	var began, last sources.Sample
	var limit float64
	for _, x := range s.Used.Samples {
		m := s.LimitAt(x.T)
		if m <= 0 || x.V < slo.SaturatedShare*m {
			continue
		}
		if began.T.IsZero() || x.T.Sub(last.T) >= RecoveredFor {
			began, limit = x, m
		}
		last = x
	}
	return began, limit
}

// firstFull is s's first reading at slo.SaturatedShare of the limit in
// force at its time, and that limit; ok is false when there is none.
func firstFull(s sources.Saturation) (used sources.Sample, limit float64, ok bool) {
	for _, x := range s.Used.Samples {
		if m := s.LimitAt(x.T); m > 0 && x.V >= slo.SaturatedShare*m {
			return x, m, true
		}
	}
	return sources.Sample{}, 0, false
}

// ofLimit is a reading against its limit: "7/10", "0.9/0.5" (a
// fraction of a core keeps its digits, where rounding would print "/0").
func ofLimit(used, limit float64) string {
	return figure(used) + "/" + figure(limit)
}

// figure writes a reading: whole numbers with thousands separators,
// others to three significant digits.
func figure(x float64) string {
	if x == math.Trunc(x) || math.Abs(x) >= 1000 {
		return humanize.Commas(x)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}
