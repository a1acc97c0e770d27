package sim

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

var _ sources.REDSummarizer = (*Backend)(nil)

// SummarizeRED reduces each service's recorded RED over r as Prometheus
// does for the adapter over it: means over the range, and the worst and
// the median of its points resolution apart (a point's p99 is its
// worst, as in RED). Figures not asked for are NaN, as there.
func (b *Backend) SummarizeRED(_ context.Context, services []string, r sources.TimeRange, resolution time.Duration, figures sources.REDFigure) ([]sources.REDSummary, error) {
	names, err := b.services(services)
	if err != nil {
		return nil, err
	}
	out := make([]sources.REDSummary, 0, len(names))
	for _, n := range names {
		m, _ := b.f.ServiceMetrics(n, r.Start, r.End)
		if len(m.Requests) == 0 {
			continue // nothing recorded in the range: no series, as at Prometheus
		}
		reqs := buckets(m.Requests, r.End, resolution, mean)
		errs := buckets(m.Errors, r.End, resolution, mean)
		p99s := values(buckets(m.P99, r.End, resolution, peak))
		var ratios []float64
		for i := range reqs {
			if reqs[i].V > 0 && i < len(errs) {
				ratios = append(ratios, errs[i].V/reqs[i].V)
			}
		}
		sum := sources.REDSummary{Service: n}
		for _, f := range []struct {
			figure sources.REDFigure
			dst    *float64
			v      func() float64
		}{
			{sources.FigureRequests, &sum.Requests, func() float64 { return mean(values(m.Requests)) }},
			{sources.FigurePeakRequests, &sum.PeakRequests, func() float64 { return extreme(values(reqs), peak) }},
			{sources.FigurePeakErrorRatio, &sum.PeakErrorRatio, func() float64 { return extreme(ratios, peak) }},
			{sources.FigureTypicalErrorRatio, &sum.TypicalErrorRatio, func() float64 { return extreme(ratios, median) }},
			{sources.FigurePeakP99, &sum.PeakP99, func() float64 { return extreme(p99s, peak) }},
			{sources.FigureTypicalP99, &sum.TypicalP99, func() float64 { return extreme(p99s, median) }},
		} {
			*f.dst = math.NaN()
			if figures.Has(f.figure) {
				*f.dst = f.v()
			}
		}
		out = append(out, sum)
	}
	return out, nil
}

// extreme is agg of v, or NaN when there is nothing to aggregate: no
// point had traffic, so no ratio was read.
func extreme(v []float64, agg func([]float64) float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return agg(v)
}

// median is the 0.5 quantile as Prometheus's quantile_over_time takes
// it, between the two middle values of an even count, so that the
// simulator's screen agrees with Prometheus's near a threshold.
func median(v []float64) float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	rank := 0.5 * float64(len(c)-1)
	lo := int(rank)
	if lo+1 >= len(c) {
		return c[lo]
	}
	return c[lo] + (c[lo+1]-c[lo])*(rank-float64(lo))
}
