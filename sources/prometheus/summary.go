package prometheus

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/oncall-cockpit/oncall/sources"
)

var _ sources.REDSummarizer = (*Client)(nil)

// SummarizeRED reduces each service's RED over r on the server, one
// instant query at r.End per figure asked, sent at once: the means over
// the whole range, and the worst and the median through subqueries at
// resolution. Each answer is one number per service, where a range query
// over the same span answers hundreds.
func (c *Client) SummarizeRED(ctx context.Context, services []string, r sources.TimeRange, resolution time.Duration, figures sources.REDFigure) ([]sources.REDSummary, error) {
	span := r.End.Sub(r.Start).Round(time.Second)
	if span <= 0 {
		return nil, nil
	}
	resolution = min(max(resolution, time.Second), span).Round(time.Second)
	data := sources.REDTemplateData{Service: serviceRegex(services), ServiceLabel: c.red.ServiceLabel, Window: promDuration(span)}
	rate, _, _ := c.red.Render(data)
	data.Window = rateWindow(resolution)
	pointRate, pointErrs, pointLat := c.red.Render(data)
	over := fmt.Sprintf("[%s:%s]", promDuration(span), promDuration(resolution))
	// a service with no failed series has a ratio of 0, not none
	ratio := fmt.Sprintf("((%s) or (%s) * 0) / (%s)", pointErrs, pointRate, pointRate)
	all := []struct {
		figure sources.REDFigure
		promql string
		set    func(*sources.REDSummary, float64)
	}{
		{sources.FigureRequests, rate, func(s *sources.REDSummary, v float64) { s.Requests = v }},
		{sources.FigurePeakRequests, "max_over_time((" + pointRate + ")" + over + ")", func(s *sources.REDSummary, v float64) { s.PeakRequests = v }},
		{sources.FigurePeakErrorRatio, "max_over_time((" + ratio + ")" + over + ")", func(s *sources.REDSummary, v float64) { s.PeakErrorRatio = v }},
		{sources.FigureTypicalErrorRatio, "quantile_over_time(0.5, (" + ratio + ")" + over + ")", func(s *sources.REDSummary, v float64) { s.TypicalErrorRatio = v }},
		{sources.FigurePeakP99, "max_over_time((" + pointLat + ")" + over + ")", func(s *sources.REDSummary, v float64) { s.PeakP99 = v }},
		{sources.FigureTypicalP99, "quantile_over_time(0.5, (" + pointLat + ")" + over + ")", func(s *sources.REDSummary, v float64) { s.TypicalP99 = v }},
	}
	qs := all[:0:0]
	for _, q := range all {
		if figures.Has(q.figure) {
			qs = append(qs, q)
		}
	}
	results := make([][]sources.Series, len(qs))
	g, gctx := errgroup.WithContext(ctx)
	for i, q := range qs {
		g.Go(func() (err error) {
			results[i], err = c.Query(gctx, q.promql, r.End)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	byService := map[string]*sources.REDSummary{}
	var order []string
	for i, q := range qs {
		for _, s := range results[i] {
			name := s.Labels[c.red.ServiceLabel]
			if name == "" {
				continue
			}
			sum := byService[name]
			if sum == nil {
				nan := math.NaN()
				sum = &sources.REDSummary{Service: name, Requests: nan,
					PeakRequests: nan, PeakErrorRatio: nan, PeakP99: nan, TypicalErrorRatio: nan, TypicalP99: nan}
				byService[name] = sum
				order = append(order, name)
			}
			if len(s.Samples) > 0 { // no readable value (NaN, ±Inf): NaN stays, as unread
				q.set(sum, s.Samples[0].V)
			}
		}
	}
	out := make([]sources.REDSummary, 0, len(order))
	for _, name := range order {
		s := byService[name]
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b sources.REDSummary) int { return strings.Compare(a.Service, b.Service) })
	return out, nil
}
