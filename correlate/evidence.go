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
