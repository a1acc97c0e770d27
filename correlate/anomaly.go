package correlate

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/sources"
)

// Anomaly is how one service departs from its baseline.
type Anomaly struct {
	Service string    `json:"service"`
	Onset   time.Time `json:"onset"`
	// Kind is "errors", "latency" or "errors+latency"; from edges only
	// (databases and other uninstrumented peers) it is prefixed "edge ".
	Kind        string  `json:"kind"`
	BaseErrors  float64 `json:"base_error_ratio"`
	PeakErrors  float64 `json:"peak_error_ratio"`
	BaseP99     float64 `json:"base_p99_seconds"`
	PeakP99     float64 `json:"peak_p99_seconds"`
	BaseRate    float64 `json:"base_rate"`
	Rate        float64 `json:"rate"` // mean over the window after the onset
	ErrorRate   float64 `json:"error_rate"`
	Source      string  `json:"source"` // the query behind the numbers
	FromEdges   bool    `json:"from_edges,omitempty"`
	Magnitude   float64 `json:"magnitude"` // 0..1
	ErrorsFirst bool    `json:"-"`
	// Baseline is the span of healthy history the anomaly was judged
	// against; ShortBaseline says it is the earliest data, not the
	// baseline before the window (which had too little).
	Baseline      sources.TimeRange `json:"baseline,omitzero"`
	ShortBaseline bool              `json:"short_baseline,omitempty"`
	// Recovered is when the anomaly ended, if it did RecoveredFor before
	// the data's end: an earlier incident, not the one going on.
	Recovered time.Time `json:"recovered,omitzero"`
	// EarlierEpisode is when an earlier bad spell of the service ended,
	// RecoveredFor or more before this one began: another incident.
	EarlierEpisode time.Time `json:"earlier_episode,omitzero"`
	// StoppedSince is when the service's series ended, when they ended
	// while the rest of the fleet's go on (StoppedServices): its anomaly
	// is its last data, not what fails now.
	StoppedSince time.Time `json:"stopped_since,omitzero"`
	latencyOnset time.Time
	errorOnset   time.Time
}

type point struct {
	t          time.Time
	req, err   float64
	p99        float64
	hasLatency bool
}

// detect finds the first run of Sustain anomalous points after the
// baseline and reports the anomaly, or nil.
//
// The baseline is the points before the window. When they are fewer
// than MinBaselinePoints (a Prometheus restarted minutes ago, a new
// service, short retention), it is the healthy history that exists: the
// earliest third of the series, at least MinBaselinePoints, and the
// anomaly is looked for after it. Either way it is built from healthy
// steps only (robustBaseline), so an earlier incident inside it does not
// raise it and hide the next one.
func detect(service string, pts []point, window sources.TimeRange, source string) *Anomaly {
	var valid []point
	for _, p := range pts {
		if p.req > 0 {
			valid = append(valid, p)
		}
	}
	var base []point
	from := window.Start // detection starts after this
	for _, p := range valid {
		if !p.t.After(window.Start) {
			base = append(base, p)
		}
	}
	short := len(base) < MinBaselinePoints
	if short {
		k := max(MinBaselinePoints, len(valid)/3)
		if len(valid) < k+Sustain {
			return nil // too little data to tell a change from the norm
		}
		base, from = valid[:k], valid[k-1].t
	}
	a := &Anomaly{Service: service, Source: source, ShortBaseline: short,
		Baseline: sources.TimeRange{Start: base[0].t, End: base[len(base)-1].t}}
	a.BaseRate, a.BaseErrors, a.BaseP99 = robustBaseline(base)
	var errs, lat run
	var sumReq, sumErr float64
	var n int
	var lastBad time.Time
	var flap time.Duration // the longest healthy gap between bad steps since the onset
	// an episode that ended before a new one began is an earlier
	// incident: the new one is judged, and the earlier kept in case the
	// new one never lasts
	type episode struct {
		a            Anomaly
		errs, lat    run
		sumReq, sumE float64
		n            int
		lastBad      time.Time
		flap         time.Duration
	}
	var earlier *episode
	for _, p := range valid {
		if !p.t.After(from) {
			continue
		}
		ratio := p.err / p.req
		errBad, latBad := a.departs(p)
		started := !a.errorOnset.IsZero() || !a.latencyOnset.IsZero()
		if (errBad || latBad) && started && !lastBad.IsZero() && p.t.Sub(lastBad) >= max(EpisodeGap, 2*flap) {
			earlier = &episode{*a, errs, lat, sumReq, sumErr, n, lastBad, flap}
			errs, lat, sumReq, sumErr, n, lastBad, flap = run{}, run{}, 0, 0, 0, time.Time{}, 0
			a.errorOnset, a.latencyOnset, a.PeakErrors, a.PeakP99 = time.Time{}, time.Time{}, 0, 0
		}
		errs.see(errBad, ratio > a.BaseErrors+ErrorJump, p.t)
		lat.see(latBad, false, p.t)
		a.errorOnset, a.latencyOnset = errs.onset, lat.onset
		a.PeakErrors = math.Max(a.PeakErrors, ratio)
		a.PeakP99 = math.Max(a.PeakP99, p.p99)
		if !a.errorOnset.IsZero() || !a.latencyOnset.IsZero() {
			sumReq += p.req
			sumErr += p.err
			n++
		}
		if errBad || latBad {
			if started := !a.errorOnset.IsZero() || !a.latencyOnset.IsZero(); started && !lastBad.IsZero() {
				flap = max(flap, p.t.Sub(lastBad))
			}
			lastBad = p.t
		}
	}
	if a.errorOnset.IsZero() && a.latencyOnset.IsZero() && earlier != nil {
		// what came after the earlier episode never lasted
		*a, errs, lat, sumReq, sumErr, n, lastBad = earlier.a, earlier.errs, earlier.lat, earlier.sumReq, earlier.sumE, earlier.n, earlier.lastBad
		earlier = nil
	}
	if a.errorOnset.IsZero() && a.latencyOnset.IsZero() {
		return nil
	}
	if earlier != nil {
		a.EarlierEpisode = earlier.lastBad
	}
	// the onset is the first point of the sustained run
	switch {
	case a.latencyOnset.IsZero():
		a.Onset, a.Kind = a.errorOnset, "errors"
	case a.errorOnset.IsZero():
		a.Onset, a.Kind = a.latencyOnset, "latency"
	default:
		a.Onset, a.Kind = minTime(a.errorOnset, a.latencyOnset), "errors+latency"
		a.ErrorsFirst = a.errorOnset.Before(a.latencyOnset)
	}
	// over when the last bad step is RecoveredFor before the data's end,
	// and longer ago than twice the longest lull between bad steps: a
	// crash loop is healthy between restarts, and not recovered
	if end := valid[len(valid)-1].t; end.Sub(lastBad) >= max(RecoveredFor, 2*flap) {
		a.Recovered = lastBad
	}
	if n > 0 {
		a.Rate, a.ErrorRate = sumReq/float64(n), sumErr/float64(n)
	}
	a.Magnitude = magnitude(a.PeakErrors-a.BaseErrors, a.PeakP99, a.BaseP99)
	return a
}

// departs says whether p's errors and p99 depart from the anomaly's
// baseline.
func (a *Anomaly) departs(p point) (errBad, latBad bool) {
	errBad = p.err/p.req > a.BaseErrors+ErrorDelta && p.err > MinErrorsPerSecond
	latBad = p.hasLatency && slowerThan(p.p99, a.BaseP99)
	return errBad, latBad
}

// slowerThan is whether a p99 (in seconds) departs from a baseline p99:
// LatencyFactor times it, and LatencyFloor over it. With no baseline
// there is nothing to depart from.
func slowerThan(p99, base float64) bool {
	return base > 0 && p99 > LatencyFactor*base && p99-base > LatencyFloor.Seconds()
}

// robustBaseline is the rate, error ratio and p99 of the healthy steps of
// base: those whose error ratio is within ErrorDelta of the median step's
// and whose p99 is under LatencyFactor times the median p99. The median
// is what most of the history looks like; the steps far from it are an
// earlier incident, left out.
func robustBaseline(base []point) (rate, errRatio, p99 float64) {
	median := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		c := append([]float64(nil), v...)
		sort.Float64s(c)
		return c[len(c)/2]
	}
	var ratios, p99s []float64
	for _, p := range base {
		ratios = append(ratios, p.err/p.req)
		if p.hasLatency && p.p99 > 0 {
			p99s = append(p99s, p.p99)
		}
	}
	medRatio, medP99 := median(ratios), median(p99s)
	var req, errs float64
	var n int
	var healthyP99 []float64
	for _, p := range base {
		if p.err/p.req > medRatio+ErrorDelta {
			continue
		}
		if p.hasLatency && medP99 > 0 && p.p99 > LatencyFactor*medP99 {
			continue
		}
		req += p.req
		errs += p.err
		n++
		if p.hasLatency && p.p99 > 0 {
			healthyP99 = append(healthyP99, p.p99)
		}
	}
	if n == 0 || req == 0 {
		return 0, 0, medP99
	}
	// the median p99 of the healthy steps: robust to a single slow scrape
	return req / float64(n), errs / req, median(healthyP99)
}

// magnitude is how large an anomaly is, from 0 to 1: the larger of its
// error-ratio rise over FullErrorMagnitude and its p99 growth on a
// logarithmic scale up to FullLatencyMagnitude.
func magnitude(errorRise, p99, baseP99 float64) float64 {
	m := math.Max(0, errorRise/FullErrorMagnitude)
	if baseP99 > 0 && p99 > baseP99 {
		m = math.Max(m, math.Log(p99/baseP99)/math.Log(FullLatencyMagnitude))
	}
	return math.Min(1, m)
}

// run tracks consecutive anomalous points; onset is the first point of
// the first run that lasted Sustain points (or that began with a jump).
type run struct {
	n            int
	start, onset time.Time
}

func (r *run) see(bad, jump bool, t time.Time) {
	if !bad {
		r.n = 0
		return
	}
	if r.n == 0 {
		r.start = t
		if jump {
			r.n = Sustain - 1
		}
	}
	r.n++
	if r.n >= Sustain && r.onset.IsZero() {
		r.onset = r.start
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Anomalies measures every service in the evidence against its baseline.
// Services with RED metrics are judged by them; uninstrumented peers
// (databases, caches, external APIs) by the edges into them.
func Anomalies(ev *Evidence) map[string]*Anomaly {
	out := map[string]*Anomaly{}
	for _, r := range ev.RED {
		pts := redPoints(r)
		if a := detect(r.Service, pts, ev.Window, r.Errors.Query); a != nil {
			out[r.Service] = a
		}
	}
	// peers seen only as servers of edges: compare the window with the baseline
	instrumented := map[string]bool{}
	for _, r := range ev.RED {
		instrumented[r.Service] = true
	}
	base := edgeTotals(ev.BaselineEdges)
	baseSpan := ev.Baseline // what BaselineEdges cover
	if !ev.EdgeBaseline.Start.IsZero() {
		baseSpan = ev.EdgeBaseline
	}
	now := edgeTotals(ev.Edges)
	recent := edgeTotals(ev.RecentEdges)
	// and instrumented services whose own metrics show nothing yet: a
	// latency histogram read through a rate over minutes lags a slowdown
	// that the calls into the service already show
	for svc, n := range now {
		if instrumented[svc] && out[svc] != nil {
			continue
		}
		b, ok := base[svc]
		if !ok || b.rate == 0 || n.rate == 0 {
			continue
		}
		bErr, nErr := b.failed/b.rate, n.failed/n.rate
		errBad := nErr > bErr+ErrorDelta
		latBad := slowerThan(n.p99, b.p99)
		if !errBad && !latBad {
			continue
		}
		a := &Anomaly{Service: svc, FromEdges: true, BaseErrors: bErr, PeakErrors: nErr, BaseP99: b.p99, PeakP99: n.p99,
			BaseRate: b.rate, Rate: n.rate, ErrorRate: n.failed, Source: n.query, Onset: ev.Window.End, Baseline: baseSpan}
		switch {
		case errBad && latBad:
			a.Kind = "edge errors+latency"
		case errBad:
			a.Kind = "edge errors"
		default:
			a.Kind = "edge latency"
		}
		a.Magnitude = magnitude(nErr-bErr, n.p99, b.p99)
		// the window's peak slice was bad; if its last slice is healthy
		// again, it was over by then
		if r, ok := recent[svc]; ok && r.rate > 0 {
			rErr := r.failed / r.rate
			rLat := slowerThan(r.p99, b.p99)
			if rErr <= bErr+ErrorDelta && !rLat {
				a.Recovered = ev.Window.End.Add(-graphSlice)
			}
		}
		out[svc] = a
	}
	return out
}

func redPoints(r sources.RED) []point {
	pts := make([]point, 0, len(r.Requests.Samples))
	errAt := map[int64]float64{}
	for _, s := range r.Errors.Samples {
		errAt[s.T.UnixNano()] = s.V
	}
	p99At := map[int64]float64{}
	for _, s := range r.P99.Samples {
		if !math.IsNaN(s.V) {
			p99At[s.T.UnixNano()] = s.V
		}
	}
	for _, s := range r.Requests.Samples {
		p, ok := p99At[s.T.UnixNano()]
		pts = append(pts, point{t: s.T, req: s.V, err: errAt[s.T.UnixNano()], p99: p, hasLatency: ok})
	}
	return pts
}

type edgeTotal struct {
	rate, failed, p99 float64
	query             string
}

// edgeTotals sums edges by server.
func edgeTotals(edges []sources.Edge) map[string]edgeTotal {
	out := map[string]edgeTotal{}
	for _, e := range edges {
		t := out[e.Server]
		t.rate += e.RequestRate
		t.failed += e.FailedRate
		t.p99 = math.Max(t.p99, e.P99Seconds)
		if t.query == "" {
			t.query = e.Query
		}
		out[e.Server] = t
	}
	return out
}

// describe is a one-line account of an anomaly with its numbers.
func (a *Anomaly) describe() string {
	switch {
	case a.Kind == "latency" || a.Kind == "edge latency":
		return fmt.Sprintf("p99 %s → %s", humanize.Seconds(a.BaseP99), humanize.Seconds(a.PeakP99))
	case a.PeakP99 > LatencyFactor*a.BaseP99 && a.BaseP99 > 0:
		return fmt.Sprintf("errors %s → %s, p99 %s → %s", humanize.Percent(a.BaseErrors), humanize.Percent(a.PeakErrors), humanize.Seconds(a.BaseP99), humanize.Seconds(a.PeakP99))
	default:
		return fmt.Sprintf("errors %s → %s", humanize.Percent(a.BaseErrors), humanize.Percent(a.PeakErrors))
	}
}
