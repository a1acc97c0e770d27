package prometheus

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/oncall-cockpit/oncall/sources"
)

var _ sources.AlertHistory = (*Client)(nil)

// firingQuery is every alert that fired, as the rule manager records
// it: one ALERTS series per alert label set and state, 1 at each
// evaluation while it holds, ended by a staleness marker when it stops.
const firingQuery = `ALERTS{alertstate="firing"}`

// maxPointsPerSeries is how many steps one range query asks for.
// Prometheus refuses a query_range of more than 11,000 points per
// series; a month at one-minute steps is 43,200, so longer ranges are
// read in pieces of at most this many.
const maxPointsPerSeries = 11000

// Firings reads Prometheus's ALERTS series over r at step and returns
// each alert label set's contiguous firing runs, oldest first. The range
// is read in pieces on one step grid, so a run that crosses a piece's
// edge is joined back into one. A run ends where a step has no firing
// sample: a gap of one step is an alert that stopped and fired again.
func (c *Client) Firings(ctx context.Context, r sources.TimeRange, step time.Duration) ([]sources.Firing, error) {
	if step <= 0 || !r.End.After(r.Start) {
		return nil, fmt.Errorf("prometheus alert history: a range with its end after its start and a positive step is needed (got %s to %s at %s)",
			r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339), step)
	}
	// the grid is anchored at multiples of step (time.Truncate), not
	// at the range's start: the same firing reads the same start (and so
	// the same record ID) whatever range asks for it
	r.Start = r.Start.Truncate(step)
	type run struct {
		labels sources.Labels
		times  []time.Time
	}
	runs := map[model.Fingerprint]*run{}
	var order []model.Fingerprint
	piece := time.Duration(maxPointsPerSeries-1) * step
	for start := r.Start; !start.After(r.End); start = start.Add(piece + step) {
		part := sources.TimeRange{Start: start, End: minTime(start.Add(piece), r.End)}
		series, err := c.QueryRange(ctx, firingQuery, part, step)
		if err != nil {
			return nil, fmt.Errorf("alert history %s to %s: %w", part.Start.UTC().Format(time.RFC3339), part.End.UTC().Format(time.RFC3339), err)
		}
		for _, s := range series {
			l := alertLabels(s.Labels)
			fp := model.LabelSet(toModelLabels(l)).Fingerprint()
			if runs[fp] == nil {
				runs[fp] = &run{labels: l}
				order = append(order, fp)
			}
			for _, p := range s.Samples {
				runs[fp].times = append(runs[fp].times, p.T)
			}
		}
	}
	// the last step the grid reaches: a run firing there still fires
	last := r.Start.Add(r.End.Sub(r.Start) / step * step)
	var out []sources.Firing
	for _, fp := range order {
		rn := runs[fp]
		sort.Slice(rn.times, func(i, j int) bool { return rn.times[i].Before(rn.times[j]) })
		a := c.historyAlert(rn.labels, fp)
		source := firingSource(a, step)
		from := 0
		for i := 1; i <= len(rn.times); i++ {
			if i < len(rn.times) && rn.times[i].Sub(rn.times[i-1]) <= step {
				continue
			}
			f := sources.Firing{Alert: a, Start: rn.times[from], End: rn.times[i-1], Step: step, Source: source}
			if !f.End.Before(last) {
				f.End = time.Time{}
			}
			f.Alert.StartsAt, f.Alert.EndsAt, f.Alert.State = f.Start, f.End, sources.AlertResolved
			if f.End.IsZero() {
				f.Alert.State = sources.AlertFiring
			}
			out = append(out, f)
			from = i
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Alert.Fingerprint < out[j].Alert.Fingerprint
	})
	return out, nil
}

// alertLabels are an ALERTS series' labels as the alert carried them:
// without the series name and the state Prometheus adds.
func alertLabels(l sources.Labels) sources.Labels {
	out := make(sources.Labels, len(l))
	for k, v := range l {
		if k != model.MetricNameLabel && k != "alertstate" {
			out[k] = v
		}
	}
	return out
}

func toModelLabels(l sources.Labels) model.LabelSet {
	out := make(model.LabelSet, len(l))
	for k, v := range l {
		out[model.LabelName(k)] = model.LabelValue(v)
	}
	return out
}

// historyAlert is the alert of an ALERTS series, named, served and
// fingerprinted as Alertmanager would have it.
func (c *Client) historyAlert(l sources.Labels, fp model.Fingerprint) sources.Alert {
	label, service := c.conv.Alerts.Service(l)
	return sources.Alert{Name: l["alertname"], Service: service, ServiceLabel: label, Fingerprint: fp.String(),
		Severity: l["severity"], Labels: l, GeneratorURL: c.alertsPage()}
}

// firingSource names the series a firing was read from, by the alert's
// name and service label, and the resolution its times are known to.
func firingSource(a sources.Alert, step time.Duration) string {
	sel := []string{`alertname="` + escapePromString(a.Name) + `"`}
	if a.ServiceLabel != "" {
		sel = append(sel, a.ServiceLabel+`="`+escapePromString(a.Service)+`"`)
	}
	return fmt.Sprintf("ALERTS{%s} at %s steps (%s)", strings.Join(sel, ","), model.Duration(step), backend)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
