package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

var _ sources.SLIs = (*Backend)(nil)

// sliPath is how the simulator counts: as the Prometheus backend does on
// the server, from the recorded requests and errors.
const sliPath = "the simulator's recorded requests and errors over each window"

// indicator checks that the simulator can answer ind: an availability
// indicator of the conventions' RED metrics. It records no histograms
// per step and cannot run PromQL selectors or raw queries.
func (b *Backend) indicator(ind sources.Indicator) error {
	if err := ind.Check(); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if ind.Kind != sources.SLIAvailability || ind.Total != "" {
		return fmt.Errorf("sim: the simulator answers availability indicators of the RED conventions only, not %s indicators or selectors", ind.Kind)
	}
	_, err := b.services([]string{ind.Service})
	return err
}

// sliQueries are the queries the Prometheus backend would run for w.
func (b *Backend) sliQueries(service string, w time.Duration) []string {
	qr, qe, _ := b.red.Render(sources.REDTemplateData{Service: service, ServiceLabel: serviceLabel, Window: promDuration(w)})
	return []string{b.origin(fmt.Sprintf("(%s) * %g", qe, w.Seconds())), b.origin(fmt.Sprintf("(%s) * %g", qr, w.Seconds()))}
}

// SLI counts the service's failed and all requests over each window.
func (b *Backend) SLI(_ context.Context, ind sources.Indicator, windows []time.Duration, at time.Time) (sources.SLIReading, error) {
	if err := b.indicator(ind); err != nil {
		return sources.SLIReading{}, err
	}
	out := sources.SLIReading{Path: sliPath}
	var longest time.Duration
	for _, w := range windows {
		bad, total, since, _ := b.f.SLIEvents(ind.Service, at.Add(-w), at)
		sw := sources.SLIWindow{Window: w, Total: sources.Float(total), Bad: sources.Float(bad), ErrorRatio: sources.NaN(), Queries: b.sliQueries(ind.Service, w)}
		if total > 0 {
			sw.ErrorRatio = sources.Float(bad / total)
		}
		out.Windows = append(out.Windows, sw)
		if w > longest {
			longest = w
			out.Since = since
			if from := at.Add(-w); since.Before(from) {
				out.Since = from
			}
		}
	}
	return out, nil
}

// SLIHistory counts the service's failed and all requests per step.
func (b *Backend) SLIHistory(_ context.Context, ind sources.Indicator, r sources.TimeRange, step time.Duration) (sources.SLIHistory, error) {
	if err := b.indicator(ind); err != nil {
		return sources.SLIHistory{}, err
	}
	ends, bad, total, _ := b.f.SLIHistory(ind.Service, r.Start.Add(-step), r.End, step)
	q := b.sliQueries(ind.Service, step)
	h := sources.SLIHistory{Step: step,
		Bad:   sources.Series{Labels: sources.Labels{serviceLabel: ind.Service}, Query: q[0]},
		Total: sources.Series{Labels: sources.Labels{serviceLabel: ind.Service}, Query: q[1]}}
	for i, t := range ends {
		h.Bad.Samples = append(h.Bad.Samples, sources.Sample{T: t, V: bad[i]})
		h.Total.Samples = append(h.Total.Samples, sources.Sample{T: t, V: total[i]})
	}
	return h, nil
}
