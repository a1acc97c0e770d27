package correlate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

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
	// Progress, when set, is called with a copy of the evidence each time
	// a part arrives or fails, so that a screen can draw what it has while
	// the rest comes in. Gather returns the whole after the last call.
	Progress func(*Evidence)
}

// Arrival is when one part of the evidence arrived, from the start of
// gathering.
type Arrival struct {
	What  string        `json:"what"`
	After time.Duration `json:"after"`
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
	Trigger       Trigger           `json:"trigger"`
	Baseline      sources.TimeRange `json:"baseline"`
	Window        sources.TimeRange `json:"window"`
	Step          time.Duration     `json:"step"`
	RED           []sources.RED     `json:"red"`
	Edges         []sources.Edge    `json:"edges"`          // over the window
	BaselineEdges []sources.Edge    `json:"baseline_edges"` // over the baseline
	RecentEdges   []sources.Edge    `json:"recent_edges"`   // over the window's last slice: what goes on now
	// EdgeBaseline is set when BaselineEdges are not the baseline's,
	// which had none, but the window's earliest slice with edges.
	EdgeBaseline sources.TimeRange    `json:"edge_baseline,omitzero"`
	Logs         []sources.LogLine    `json:"logs"`
	Traces       []sources.Trace      `json:"traces"`
	Exemplars    []sources.Exemplar   `json:"exemplars"`
	Changes      []sources.Change     `json:"changes"`
	Saturation   []sources.Saturation `json:"saturation"`
	Alerts       []sources.Alert      `json:"alerts"`
	Missing      []Missing            `json:"missing,omitempty"`
	// Arrived lists the parts that arrived, in order, with when.
	Arrived []Arrival `json:"arrived,omitempty"`
}

// snapshot is a copy of ev whose lists can be read while gathering goes on.
func (ev *Evidence) snapshot() *Evidence {
	c := *ev
	c.Missing = append([]Missing(nil), ev.Missing...)
	c.Arrived = append([]Arrival(nil), ev.Arrived...)
	return &c
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
	began := time.Now()

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
			// the part is kept under the lock; the progress is told after it
			snap := func() *Evidence {
				mu.Lock()
				defer mu.Unlock()
				if done[what] {
					return nil // the deadline passed and it was reported missing
				}
				done[what] = true
				if err != nil && ctx.Err() != nil {
					// the deadline cut it off: say so, not the context's error
					ev.Missing = append(ev.Missing, Missing{what, fmt.Sprintf("did not arrive within %s", o.Deadline), true})
					return nil
				}
				if err != nil {
					ev.Missing = append(ev.Missing, Missing{what, err.Error(), true})
				} else {
					apply()
					ev.Arrived = append(ev.Arrived, Arrival{what, time.Since(began)})
				}
				if o.Progress == nil {
					return nil
				}
				return ev.snapshot()
			}()
			if snap != nil {
				o.Progress(snap)
			}
		}()
	}
	all := sources.TimeRange{Start: ev.Baseline.Start, End: t.At}
	part("metrics: RED", src.Metrics != nil, func(ctx context.Context) (func(), error) {
		r, err := src.Metrics.RED(ctx, nil, all, o.Step)
		return func() { ev.RED = r }, err
	})
	part("metrics: service graph", src.Metrics != nil, func(ctx context.Context) (func(), error) {
		// the window in slices of five minutes, each edge at its peak slice,
		// so a surge is not averaged away by the quiet part of the window;
		// the slices and the baseline are asked for at once
		var ends []time.Time
		for end := t.At; end.After(ev.Window.Start); end = end.Add(-graphSlice) {
			ends = append(ends, end)
		}
		slices := make([][]sources.Edge, len(ends))
		var base []sources.Edge
		g, gctx := errgroup.WithContext(ctx)
		for i, end := range ends {
			g.Go(func() (err error) {
				slices[i], err = src.Metrics.ServiceGraph(gctx, end, min(graphSlice, end.Sub(ev.Window.Start)))
				return err
			})
		}
		g.Go(func() (err error) {
			base, err = src.Metrics.ServiceGraph(gctx, ev.Baseline.End, o.Baseline)
			return err
		})
		err := g.Wait()
		var now []sources.Edge
		for _, sl := range slices {
			now = peakEdges(now, sl)
		}
		// no service graph before the window (a Prometheus restarted
		// minutes ago): the window's earliest slice with edges, other than
		// its last, is the baseline the uninstrumented peers are judged by
		var from sources.TimeRange
		if len(base) == 0 {
			for i := len(slices) - 1; i > 0; i-- {
				if len(slices[i]) > 0 {
					base = slices[i]
					from = sources.TimeRange{Start: ends[i].Add(-min(graphSlice, ends[i].Sub(ev.Window.Start))), End: ends[i]}
					break
				}
			}
		}
		var recent []sources.Edge
		if len(slices) > 0 {
			recent = slices[0]
		}
		return func() { ev.Edges, ev.BaselineEdges, ev.EdgeBaseline, ev.RecentEdges = now, base, from, recent }, err
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
	// logs, and traces: the search for failed traces and the exemplars'
	// traces are fetched as they come, and the traces the error logs name
	// as soon as the logs arrive, if they come in time
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
		f := newTraceFetcher(ctx, src.Traces, o.MaxTraces)
		f.add(fromTrigger, []string{t.TraceID})
		var wg sync.WaitGroup
		var mu sync.Mutex
		var exemplars []sources.Exemplar
		var notes []Missing
		note := func(m Missing) { mu.Lock(); notes = append(notes, m); mu.Unlock() }
		wg.Add(1)
		go func() {
			defer wg.Done()
			hits, err := src.Traces.SearchTraces(ctx, sources.TraceSearch{ErrorsOnly: true, Range: ev.Window, Limit: o.MaxTraces / 2})
			if err != nil {
				note(Missing{"trace search", err.Error(), true})
			}
			ids := make([]string, len(hits))
			for i, h := range hits {
				ids[i] = h.TraceID
			}
			f.add(fromSearch, ids)
		}()
		if src.Metrics != nil {
			// exemplars point at the slow and failed requests behind the
			// metrics; the slowest first, as the p99 is made of them
			wg.Add(1)
			go func() {
				defer wg.Done()
				x, err := src.Metrics.Exemplars(ctx, nil, ev.Window)
				if err != nil {
					note(Missing{"metrics: exemplars", err.Error(), true})
				}
				mu.Lock()
				exemplars = x
				mu.Unlock()
				ex := append([]sources.Exemplar(nil), x...)
				sort.SliceStable(ex, func(i, j int) bool { return ex[i].Value > ex[j].Value })
				ids := make([]string, len(ex))
				for i, e := range ex {
					ids[i] = e.TraceID
				}
				f.add(fromExemplars, ids)
			}()
		} else {
			f.add(fromExemplars, nil)
		}
		wait := time.NewTimer(o.Deadline / 2)
		defer wait.Stop()
		var logs []sources.LogLine
		select {
		case logs = <-logsReady:
		case <-wait.C: // go on without the logs' trace IDs
		case <-ctx.Done():
		}
		var ids []string
		for _, l := range logs {
			if l.Level == "error" {
				ids = append(ids, l.TraceID)
			}
		}
		wg.Wait()
		f.add(fromLogs, ids)
		traces, more := f.wait()
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

// Where the trace IDs an incident fetches come from, in the order their
// traces are listed. Each has a quota of the traces fetched: the search
// half, the exemplars a quarter, the error logs the rest.
const (
	fromTrigger = iota
	fromSearch
	fromExemplars
	fromLogs
)

// traceFetches is how many traces are fetched by ID at once.
const traceFetches = 8

// traceFetcher fetches traces by ID as their IDs arrive, traceFetches at
// a time, each ID once, up to max in all.
type traceFetcher struct {
	ctx  context.Context
	tr   sources.Traces
	max  int
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen map[string]bool
	got  []fetched
	// added says which sources have given their IDs; a source still to
	// come keeps its quota
	added                      [fromLogs + 1]bool
	used                       int
	notFound, failed, attempts int
	firstErr                   error
}

type fetched struct {
	from, pos int
	trace     sources.Trace
}

func newTraceFetcher(ctx context.Context, tr sources.Traces, max int) *traceFetcher {
	return &traceFetcher{ctx: ctx, tr: tr, max: max, sem: make(chan struct{}, traceFetches), seen: map[string]bool{}}
}

// quota is how many IDs from may still start.
func (f *traceFetcher) quota(from int) int {
	switch from {
	case fromTrigger:
		return 1
	case fromSearch:
		return f.max / 2
	case fromExemplars:
		return f.max / 4
	}
	left := f.max - f.used // the logs: what the others leave
	if !f.added[fromSearch] {
		left -= f.max / 2
	}
	if !f.added[fromExemplars] {
		left -= f.max / 4
	}
	return left
}

// add starts fetching from's IDs, as many as its quota allows.
func (f *traceFetcher) add(from int, ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.quota(from)
	f.added[from] = true
	pos := 0
	for _, id := range ids {
		if pos >= q || f.used >= f.max {
			break
		}
		if id == "" || f.seen[id] {
			continue
		}
		f.seen[id] = true
		f.used++
		f.attempts++
		f.wg.Add(1)
		go f.fetch(from, pos, id)
		pos++
	}
}

func (f *traceFetcher) fetch(from, pos int, id string) {
	defer f.wg.Done()
	select {
	case f.sem <- struct{}{}:
	case <-f.ctx.Done():
		f.record(from, pos, sources.Trace{}, f.ctx.Err())
		return
	}
	defer func() { <-f.sem }()
	x, err := f.tr.Trace(f.ctx, id)
	f.record(from, pos, x, err)
}

func (f *traceFetcher) record(from, pos int, x sources.Trace, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err == nil:
		f.got = append(f.got, fetched{from, pos, x})
	case errors.Is(err, sources.ErrNotFound):
		f.notFound++
	default:
		if f.failed++; f.firstErr == nil {
			f.firstErr = err
		}
	}
}

// wait returns the traces fetched, the trigger's first, then the
// search's, the exemplars' and the logs', each in its own order, and
// notes on the IDs that were not found or failed.
func (f *traceFetcher) wait() ([]sources.Trace, []Missing) {
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	sort.Slice(f.got, func(i, j int) bool {
		if f.got[i].from != f.got[j].from {
			return f.got[i].from < f.got[j].from
		}
		return f.got[i].pos < f.got[j].pos
	})
	var out []sources.Trace
	for _, g := range f.got {
		out = append(out, g.trace)
	}
	var notes []Missing
	if f.notFound > 0 {
		// unsampled or aged-out IDs are normal; say how many
		notes = append(notes, Missing{What: "traces", Why: fmt.Sprintf("%d of %d trace IDs named by logs or search were not found (unsampled or aged out)", f.notFound, f.attempts)})
	}
	if f.failed > 0 {
		notes = append(notes, Missing{"traces", fmt.Sprintf("%d of %d traces could not be fetched: %v", f.failed, f.attempts, f.firstErr), true})
	}
	return out, notes
}
