package sim

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"time"

	world "github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// defaultLogLimit is Loki's default limit for a query_range.
const defaultLogLimit = 100

// maxLogRateSteps bounds a LogRate answer, as Loki's max points per
// series (11,000) does.
const maxLogRateSteps = 11000

// selector turns a log query into the fleet's record selector, checking
// its services and trace ID as a backend would reject them.
func (b *Backend) selector(q sources.LogQuery) (world.LogSelector, error) {
	sel := world.LogSelector{From: q.Range.Start, To: q.Range.End, Services: q.Services, Levels: q.Levels, Limit: q.Limit, OldestFirst: q.Forward}
	if _, err := b.services(q.Services); err != nil {
		return sel, err
	}
	if q.TraceID != "" {
		id, err := sources.NormalizeTraceID(q.TraceID)
		if err != nil {
			return sel, fmt.Errorf("sim: %w", err)
		}
		sel.TraceID = id
	}
	if q.Grep != "" {
		re, err := regexp.Compile(q.Grep)
		if err != nil {
			return sel, fmt.Errorf("sim: grep %q: %w", q.Grep, err)
		}
		sel.Grep = re
	}
	return sel, nil
}

// Logs returns matching lines in q.Range, newest first unless q.Forward.
func (b *Backend) Logs(_ context.Context, q sources.LogQuery) ([]sources.LogLine, error) {
	if q.Limit <= 0 {
		q.Limit = defaultLogLimit
	}
	sel, err := b.selector(q)
	if err != nil {
		return nil, err
	}
	return b.f.SelectLogs(sel), nil
}

// LogRate counts matching lines per service per step.
func (b *Backend) LogRate(_ context.Context, q sources.LogQuery, step time.Duration) ([]sources.Series, error) {
	if step <= 0 {
		return nil, fmt.Errorf("sim: log rate step must be positive, got %s", step)
	}
	if n := int(q.Range.End.Sub(q.Range.Start)/step) + 1; n > maxLogRateSteps {
		return nil, fmt.Errorf("sim: %d steps of %s over the range; at most %d", n, step, maxLogRateSteps)
	}
	sel, err := b.selector(q)
	if err != nil {
		return nil, err
	}
	var out []sources.Series
	for name, counts := range b.f.CountLogs(sel, step) {
		s := sources.Series{Labels: sources.Labels{"service_name": name},
			Query: b.origin(fmt.Sprintf(`sum by (service_name) (count_over_time({service_name=%q}[%s]))`, name, promDuration(step)))}
		for i, v := range counts {
			s.Samples = append(s.Samples, sources.Sample{T: q.Range.Start.Add(time.Duration(i) * step), V: v})
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Labels["service_name"] < out[j].Labels["service_name"] })
	return out, nil
}

// Tail follows new lines matching q until ctx ends. It never blocks the
// simulation: a reader that falls behind is told how many lines it lost.
func (b *Backend) Tail(ctx context.Context, q sources.LogQuery) (<-chan sources.TailEvent, error) {
	sel, err := b.selector(q)
	if err != nil {
		return nil, err
	}
	return b.f.FollowLogs(ctx, sel), nil
}
