package correlate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Sources are the backends an incident is assembled from. Any may be nil;
// its evidence is then reported missing.
type Sources struct {
	Metrics   sources.Metrics
	Logs      sources.Logs
	Traces    sources.Traces
	Alerts    sources.Alerting
	Changes   sources.Changes
	Resources sources.Resources
	SLIs      sources.SLIs
}

// Trigger is what an incident starts from: a service, an alert, or a
// trace, at a time.
type Trigger struct {
	Service string `json:"service,omitempty"`
	Alert   string `json:"alert,omitempty"`
	TraceID string `json:"trace_id,omitempty"`
	// At is the end of the incident window (usually now).
	At time.Time `json:"at"`
	// Window is how far back from At the incident is looked for.
	Window time.Duration `json:"window"`
}

// GatherOptions bound the evidence collected.
type GatherOptions struct {
	Baseline  time.Duration // healthy history before the window; default 30m
	Step      time.Duration // metric resolution; default 15s
	Deadline  time.Duration // for all of gathering; default 10s
	LogLimit  int           // default 5000
	MaxTraces int           // traces fetched by ID; default 50
}

func (o GatherOptions) withDefaults() GatherOptions {
	if o.Baseline <= 0 {
		o.Baseline = 30 * time.Minute
	}
	if o.Step <= 0 {
		o.Step = 15 * time.Second
	}
	if o.Deadline <= 0 {
		o.Deadline = 10 * time.Second
	}
	if o.LogLimit <= 0 {
		o.LogLimit = 5000
	}
	if o.MaxTraces <= 0 {
		o.MaxTraces = 50
	}
	return o
}

// Evidence is everything gathered for one incident. Missing names each
// part that did not arrive and why.
type Evidence struct {
	Trigger       Trigger              `json:"trigger"`
	Baseline      sources.TimeRange    `json:"baseline"`
	Window        sources.TimeRange    `json:"window"`
	Step          time.Duration        `json:"step"`
	RED           []sources.RED        `json:"red"`
	Edges         []sources.Edge       `json:"edges"`          // over the window
	BaselineEdges []sources.Edge       `json:"baseline_edges"` // over the baseline
	Logs          []sources.LogLine    `json:"logs"`
	Traces        []sources.Trace      `json:"traces"`
	Exemplars     []sources.Exemplar   `json:"exemplars"`
	Changes       []sources.Change     `json:"changes"`
	Saturation    []sources.Saturation `json:"saturation"`
	Alerts        []sources.Alert      `json:"alerts"`
	Missing       []Missing            `json:"missing,omitempty"`
}

// Missing is one part of the evidence that is absent, and why. Down is
// set when a configured backend failed or did not answer in time: the
// verdict lacks evidence it should have had. (A backend that is not
// configured, or trace IDs that were not sampled, are not down.)
type Missing struct {
	What string `json:"what"`
	Why  string `json:"why"`
	Down bool   `json:"down,omitempty"`
}

// Gather collects evidence for t from src in parallel. It returns when all
// parts arrived or the deadline passed; whatever arrived is used.
func Gather(ctx context.Context, src Sources, t Trigger, o GatherOptions) *Evidence {
	o = o.withDefaults()
	if t.Window <= 0 {
		t.Window = 15 * time.Minute
	}
	ev := &Evidence{Trigger: t, Step: o.Step,
		Window:   sources.TimeRange{Start: t.At.Add(-t.Window), End: t.At},
		Baseline: sources.TimeRange{Start: t.At.Add(-t.Window - o.Baseline), End: t.At.Add(-t.Window)}}
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()

	var mu sync.Mutex
	done := map[string]bool{}
	var parts []string // in the order they were started
	var wg sync.WaitGroup
	// part runs one query; its result is kept only if it arrives in time
	part := func(what string, available bool, fetch func(context.Context) (func(), error)) {
		parts = append(parts, what)
		if !available {
			mu.Lock()
			ev.Missing = append(ev.Missing, Missing{What: what, Why: "no datasource configured"})
			done[what] = true
			mu.Unlock()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			apply, err := fetch(ctx)
			mu.Lock()
			defer mu.Unlock()
			if done[what] {
				return // the deadline passed and it was reported missing
			}
			done[what] = true
			if err != nil && ctx.Err() != nil {
				// the deadline cut it off: say so, not the context's error
				ev.Missing = append(ev.Missing, Missing{what, fmt.Sprintf("did not arrive within %s", o.Deadline), true})
				return
			}
			if err != nil {
				ev.Missing = append(ev.Missing, Missing{what, err.Error(), true})
				return
			}
			apply()
		}()
	}
	all := sources.TimeRange{Start: ev.Baseline.Start, End: t.At}
	part("metrics: RED", src.Metrics != nil, func(ctx context.Context) (func(), error) {
		r, err := src.Metrics.RED(ctx, nil, all, o.Step)
		return func() { ev.RED = r }, err
	})
	part("metrics: service graph", src.Metrics != nil, func(ctx context.Context) (func(), error) {
		// the window in slices of five minutes, each edge at its peak slice,
		// so a surge is not averaged away by the quiet part of the window
		var now []sources.Edge
		for end := t.At; end.After(ev.Window.Start); end = end.Add(-graphSlice) {
			part, err := src.Metrics.ServiceGraph(ctx, end, min(graphSlice, end.Sub(ev.Window.Start)))
			if err != nil {
				return nil, err
			}
			now = peakEdges(now, part)
		}
		base, err := src.Metrics.ServiceGraph(ctx, ev.Baseline.End, o.Baseline)
		return func() { ev.Edges, ev.BaselineEdges = now, base }, err
	})
	part("changes", src.Changes != nil, func(ctx context.Context) (func(), error) {
		c, err := src.Changes.Changes(ctx, all)
		return func() { ev.Changes = c }, err
	})
	part("saturation", src.Resources != nil, func(ctx context.Context) (func(), error) {
		s, err := src.Resources.Saturation(ctx, nil, ev.Window, o.Step)
		return func() { ev.Saturation = s }, err
	})
	part("alerts", src.Alerts != nil, func(ctx context.Context) (func(), error) {
		a, err := src.Alerts.Alerts(ctx)
		return func() { ev.Alerts = a }, err
	})
	// logs, and traces: a search for failed traces at once, then the
	// traces the error logs name, if the logs come in time
	logsReady := make(chan []sources.LogLine, 1)
	part("logs", src.Logs != nil, func(ctx context.Context) (func(), error) {
		q := sources.LogQuery{Levels: []string{"error", "warn"}, Range: ev.Window, Limit: o.LogLimit, TraceID: t.TraceID}
		if t.TraceID != "" {
			q.Levels = nil
		}
		l, err := src.Logs.Logs(ctx, q)
		logsReady <- l
		return func() { ev.Logs = l }, err
	})
	if src.Logs == nil {
		logsReady <- nil
	}
	part("traces", src.Traces != nil, func(ctx context.Context) (func(), error) {
		// exemplars point at the slow and failed requests behind the metrics
		var exemplars []sources.Exemplar
		var notes []Missing
		if src.Metrics != nil {
			x, err := src.Metrics.Exemplars(ctx, nil, ev.Window)
			if err != nil {
				notes = append(notes, Missing{"metrics: exemplars", err.Error(), true})
			}
			exemplars = x
		}
		wait := time.NewTimer(o.Deadline / 2)
		defer wait.Stop()
		var logs []sources.LogLine
		select {
		case logs = <-logsReady:
		case <-wait.C: // go on without the logs' trace IDs
		case <-ctx.Done():
		}
		traces, more := fetchTraces(ctx, src.Traces, t, ev.Window, logs, exemplars, o.MaxTraces)
		return func() {
			ev.Traces, ev.Exemplars = traces, exemplars
			ev.Missing = append(ev.Missing, append(notes, more...)...)
		}, nil
	})
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		mu.Lock()
		for _, what := range parts {
			if !done[what] {
				done[what] = true
				ev.Missing = append(ev.Missing, Missing{what, fmt.Sprintf("did not arrive within %s", o.Deadline), true})
			}
		}
		mu.Unlock()
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(ev.Missing, func(i, j int) bool { return ev.Missing[i].What < ev.Missing[j].What })
	return ev
}

// graphSlice is the span of one service-graph query over the window.
const graphSlice = 5 * time.Minute

// peakEdges merges b into a, keeping per edge the slice with the higher
// request rate and the highest p99.
func peakEdges(a, b []sources.Edge) []sources.Edge {
	idx := map[[2]string]int{}
	for i, e := range a {
		idx[[2]string{e.Client, e.Server}] = i
	}
	for _, e := range b {
		i, ok := idx[[2]string{e.Client, e.Server}]
		if !ok {
			idx[[2]string{e.Client, e.Server}] = len(a)
			a = append(a, e)
			continue
		}
		p99 := max(a[i].P99Seconds, e.P99Seconds)
		if e.RequestRate > a[i].RequestRate {
			a[i] = e
		}
		a[i].P99Seconds = p99
	}
	return a
}

// fetchTraces gets the trigger's trace, a search for failed traces, the
// traces exemplars name, and those the error logs name, up to max, four
// at a time.
func fetchTraces(ctx context.Context, tr sources.Traces, t Trigger, w sources.TimeRange, logs []sources.LogLine, exemplars []sources.Exemplar, max int) ([]sources.Trace, []Missing) {
	var notes []Missing
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] && len(ids) < max {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	add(t.TraceID)
	hits, err := tr.SearchTraces(ctx, sources.TraceSearch{ErrorsOnly: true, Range: w, Limit: max / 2})
	if err != nil {
		notes = append(notes, Missing{"trace search", err.Error(), true})
	}
	for _, h := range hits {
		add(h.TraceID)
	}
	// the slowest exemplars first: they are the requests the p99 is made of
	ex := append([]sources.Exemplar(nil), exemplars...)
	sort.SliceStable(ex, func(i, j int) bool { return ex[i].Value > ex[j].Value })
	for i, x := range ex {
		if i == max/4 {
			break
		}
		add(x.TraceID)
	}
	for _, l := range logs {
		if l.Level == "error" {
			add(l.TraceID)
		}
	}
	out := make([]sources.Trace, len(ids))
	ok := make([]bool, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	var mu sync.Mutex
	notFound, failed := 0, 0
	var firstErr error
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			x, err := tr.Trace(ctx, id)
			if err == nil {
				out[i], ok[i] = x, true
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, sources.ErrNotFound) {
				notFound++
				return
			}
			if failed++; firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	var got []sources.Trace
	for i := range out {
		if ok[i] {
			got = append(got, out[i])
		}
	}
	if notFound > 0 {
		// unsampled or aged-out IDs are normal; say how many
		notes = append(notes, Missing{What: "traces", Why: fmt.Sprintf("%d of %d trace IDs named by logs or search were not found (unsampled or aged out)", notFound, len(ids))})
	}
	if failed > 0 {
		notes = append(notes, Missing{"traces", fmt.Sprintf("%d of %d traces could not be fetched: %v", failed, len(ids), firstErr), true})
	}
	return got, notes
}
