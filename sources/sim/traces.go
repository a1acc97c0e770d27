package sim

import (
	"context"
	"fmt"
	"math"

	world "github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// defaultTraceLimit is Tempo's default search limit.
const defaultTraceLimit = 20

// Trace returns one sampled trace by ID.
func (b *Backend) Trace(_ context.Context, id string) (sources.Trace, error) {
	tid, err := sources.NormalizeTraceID(id)
	if err != nil {
		return sources.Trace{}, fmt.Errorf("sim: trace ID %q: %w", id, err)
	}
	t, ok := b.f.TraceByID(tid)
	if !ok {
		return sources.Trace{}, fmt.Errorf("sim: trace %s: %w (only 1 in %.0f requests is traced, and traces age out)", tid, sources.ErrNotFound, 1/math.Max(b.f.TraceSampleRate(), 1e-9))
	}
	return t, nil
}

// SearchTraces finds sampled traces in q.Range, newest first.
func (b *Backend) SearchTraces(_ context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	if q.Limit <= 0 {
		q.Limit = defaultTraceLimit
	}
	if _, err := b.services(q.Services); err != nil {
		return nil, err
	}
	return b.f.FindTraces(world.TraceSelector{From: q.Range.Start, To: q.Range.End, Services: q.Services,
		ErrorsOnly: q.ErrorsOnly, MinDuration: q.MinDuration, Limit: q.Limit}), nil
}
