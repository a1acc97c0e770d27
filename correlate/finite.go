package correlate

import (
	"math"

	"github.com/oncall-cockpit/oncall/sources"
)

// Real backends answer NaN and ±Inf: a quantile or a ratio over empty
// steps, a rate over a counter that vanished. Nothing the analysis
// computes may carry one into a ranking, the screen or the JSON, so
// Analyze reads the evidence through finite first: samples that are not
// finite are left out (the step has no value), and an edge's or a pool's
// number that is not finite is unknown (0) with the edge kept.

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func finiteOr0(v float64) float64 {
	if finite(v) {
		return v
	}
	return 0
}

// finiteSeries drops a series' samples that are not finite.
func finiteSeries(s sources.Series) sources.Series {
	keep := make([]sources.Sample, 0, len(s.Samples))
	for _, p := range s.Samples {
		if finite(p.V) {
			keep = append(keep, p)
		}
	}
	s.Samples = keep
	return s
}

func finiteEdges(es []sources.Edge) []sources.Edge {
	out := make([]sources.Edge, len(es))
	for i, e := range es {
		e.RequestRate, e.FailedRate, e.P99Seconds = finiteOr0(e.RequestRate), finiteOr0(e.FailedRate), finiteOr0(e.P99Seconds)
		out[i] = e
	}
	return out
}

// finiteEvidence is ev with every number finite; ev is not changed.
func finiteEvidence(ev *Evidence) *Evidence {
	c := *ev
	c.RED = make([]sources.RED, len(ev.RED))
	for i, r := range ev.RED {
		r.Requests, r.Errors, r.P99 = finiteSeries(r.Requests), finiteSeries(r.Errors), finiteSeries(r.P99)
		c.RED[i] = r
	}
	c.Edges, c.BaselineEdges = finiteEdges(ev.Edges), finiteEdges(ev.BaselineEdges)
	c.Saturation = make([]sources.Saturation, 0, len(ev.Saturation))
	for _, s := range ev.Saturation {
		// a limit sample that is not a number is a step with no limit:
		// LimitAt reads the one before it, else Max
		s.Used, s.Limit = finiteSeries(s.Used), finiteSeries(s.Limit)
		if !finite(s.Max) {
			if len(s.Limit.Samples) == 0 {
				continue // a limit that is not a number says nothing of fullness
			}
			s.Max = 0 // unknown as one number; the series still tells
		}
		c.Saturation = append(c.Saturation, s)
	}
	c.Exemplars = make([]sources.Exemplar, len(ev.Exemplars))
	for i, x := range ev.Exemplars {
		x.Value = finiteOr0(x.Value)
		c.Exemplars[i] = x
	}
	return &c
}
