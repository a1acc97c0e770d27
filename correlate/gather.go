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

// Gather collects evidence for t from src in parallel. It returns when all
// parts arrived or the deadline passed; whatever arrived is used.
func Gather(ctx context.Context, src sources.Set, t Trigger, o GatherOptions) *Evidence {
	o = o.withDefaults()
	if t.Window <= 0 {
		t.Window = 15 * time.Minute
	}
	o.Step = max(o.Step, stepFor(t.Window+o.Baseline))
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	g := newGatherer(ctx, src, t, o)
	g.start(redPart, src.Metrics != nil, g.red)
	g.start("metrics: service graph", src.Metrics != nil, g.serviceGraph)
	g.start("changes", src.Changes != nil, g.changes)
	g.start("saturation", src.Resources != nil, g.saturation)
	g.start("alerts", src.AlertSource() != nil, g.alerts)
	g.start("logs", src.Logs != nil, g.logs)
	if src.Logs == nil {
		g.logsReady <- nil // the whole traces wait for no logs
	}
	g.start("traces", src.Traces != nil, g.traces)
	if src.Traces != nil {
		g.start(wholeTracesPart, true, g.wholeTraces)
	}
	g.wait()
	return g.result()
}

// gatherer is one Gather under way: the evidence it fills and which of
// its parts are done. Each kind of evidence is gathered by its own method,
// which returns how to keep what it got.
type gatherer struct {
	ctx   context.Context // ends at the deadline
	src   sources.Set
	t     Trigger
	o     GatherOptions
	began time.Time
	// all is the baseline and the window together
	all sources.TimeRange

	wg sync.WaitGroup // the parts started
	mu sync.Mutex     // guards ev and done
	ev *Evidence
	// done says which parts were kept or reported missing, so that a part
	// arriving after the deadline named it is dropped
	done  map[string]bool
	parts []string // in the order they were started

	// logsReady hands the logs to the whole traces, which fetch one
	// trace per log signature
	logsReady chan []sources.LogLine
	// leadsReady hands what the traces part found to the whole traces
	leadsReady chan *traceLeads
	// answered is closed once the first answer, RED, was kept or given
	// up on, and told to Progress
	answered chan struct{}
}

func newGatherer(ctx context.Context, src sources.Set, t Trigger, o GatherOptions) *gatherer {
	ev := &Evidence{Trigger: t, Step: o.Step,
		Window:   sources.TimeRange{Start: t.At.Add(-t.Window), End: t.At},
		Baseline: sources.TimeRange{Start: t.At.Add(-t.Window - o.Baseline), End: t.At.Add(-t.Window)}}
	return &gatherer{ctx: ctx, src: src, t: t, o: o, began: time.Now(),
		all: sources.TimeRange{Start: ev.Baseline.Start, End: t.At},
		ev:  ev, done: map[string]bool{}, logsReady: make(chan []sources.LogLine, 1),
		leadsReady: make(chan *traceLeads, 1), answered: make(chan struct{})}
}

// start runs fetch, one part of the evidence, whose result is kept only
// if it arrives in time. A part whose backend is not configured is
// reported missing at once.
func (g *gatherer) start(what string, available bool, fetch func() (func(), error)) {
	g.parts = append(g.parts, what)
	if !available {
		g.mu.Lock()
		g.ev.Missing = append(g.ev.Missing, Missing{What: what, Why: "no datasource configured"})
		g.done[what] = true
		g.mu.Unlock()
		g.told(what)
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		apply, err := fetch()
		// the part is kept under the lock; the progress is told after it
		if snap := g.keep(what, apply, err); snap != nil {
			g.o.Progress(snap)
		}
		g.told(what)
	}()
}

// redPart names the RED metrics' part of the evidence. It is the first
// answer on a screen: the ranking needs the rates, errors and latencies.
const redPart = "metrics: RED"

// told notes that a part's outcome was told to Progress.
func (g *gatherer) told(what string) {
	if what == redPart {
		close(g.answered)
	}
}

// keep records what one part fetched, or why it failed, and returns the
// evidence for Progress, or nil when there is nothing to tell.
func (g *gatherer) keep(what string, apply func(), err error) *Evidence {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done[what] {
		return nil // the deadline passed and it was reported missing
	}
	g.done[what] = true
	if errors.Is(err, sources.ErrPartial) {
		// what arrived is evidence; what did not is a note, not a part
		// missing: the backend named it and answered in time
		apply()
		g.ev.Arrived = append(g.ev.Arrived, Arrival{what, time.Since(g.began)})
		g.ev.Missing = append(g.ev.Missing, Missing{what, err.Error(), false})
		return g.progress()
	}
	if err != nil && g.ctx.Err() != nil {
		// the deadline cut it off: say so, not the context's error
		g.ev.Missing = append(g.ev.Missing, g.late(what))
		return nil
	}
	switch {
	case errors.Is(err, sources.ErrNotReported):
		// the backend answered: this stack does not report it, which is a
		// note, not evidence the verdict should have had
		g.ev.Missing = append(g.ev.Missing, Missing{what, err.Error() + notReportedAside, false})
	case err != nil:
		g.ev.Missing = append(g.ev.Missing, Missing{what, err.Error(), true})
	default:
		apply()
		g.ev.Arrived = append(g.ev.Arrived, Arrival{what, time.Since(g.began)})
	}
	return g.progress()
}

// progress is the evidence for Progress, or nil when no one listens.
func (g *gatherer) progress() *Evidence {
	if g.o.Progress == nil {
		return nil
	}
	return g.ev.snapshot()
}

// notReportedAside ends the note on a part the stack does not report:
// where to see what was looked for.
const notReportedAside = " (oncall doctor lists what each preset looks for)"

// late is what is said of a part the deadline cut off. The whole traces
// are not evidence missing: the search's span sets already said where
// failures start, so their being late is a note.
func (g *gatherer) late(what string) Missing {
	why := fmt.Sprintf("did not arrive within %s", g.o.Deadline)
	if what == wholeTracesPart {
		return Missing{what, why + wholeTracesAside, false}
	}
	return Missing{what, why, true}
}

// wait returns when every part is done or the deadline passed; then each
// part still under way is reported missing, in the order started.
func (g *gatherer) wait() {
	finished := make(chan struct{})
	go func() { g.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-g.ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, what := range g.parts {
			if !g.done[what] {
				g.done[what] = true
				g.ev.Missing = append(g.ev.Missing, g.late(what))
			}
		}
	}
}

// result is the evidence with what is missing in order of name. Parts
// still running after the deadline no longer touch it.
func (g *gatherer) result() *Evidence {
	g.mu.Lock()
	defer g.mu.Unlock()
	sort.Slice(g.ev.Missing, func(i, j int) bool { return g.ev.Missing[i].What < g.ev.Missing[j].What })
	return g.ev
}

// red gathers the rate, errors and duration over the baseline and the
// window of every service the screen cannot rule out, or of every
// service when the backend cannot screen.
func (g *gatherer) red() (func(), error) {
	s := g.screen()
	r, err := g.screenedRED(s)
	var before []Missing
	if err == nil {
		r, before = g.readBeforeOnset(r)
	}
	return func() {
		g.ev.RED, g.ev.Screen = r, s
		g.ev.Missing = append(g.ev.Missing, before...)
	}, err
}

// changes gathers the deploys and other changes over the baseline and the
// window.
func (g *gatherer) changes() (func(), error) {
	c, err := g.src.Changes.Changes(g.ctx, g.all)
	return func() { g.ev.Changes = c }, err
}

// saturation gathers how full each service's resources were in the window.
func (g *gatherer) saturation() (func(), error) {
	s, err := g.src.Resources.Saturation(g.ctx, nil, g.ev.Window, g.o.Step)
	return func() { g.ev.Saturation = s }, err
}

// alerts gathers the alerts firing now, from the alert manager or,
// without one, from Prometheus's rules.
func (g *gatherer) alerts() (func(), error) {
	a, err := g.src.AlertSource().Alerts(g.ctx)
	return func() { g.ev.Alerts = a }, err
}

// logs gathers the window's errors and warnings, or every line of the
// trigger's trace, and hands them on to the traces part.
func (g *gatherer) logs() (func(), error) {
	q := sources.LogQuery{Levels: []string{"error", "warn"}, Range: g.ev.Window, Limit: g.o.LogLimit, TraceID: g.t.TraceID}
	if g.t.TraceID != "" {
		q.Levels = nil
	}
	l, err := g.src.Logs.Logs(g.ctx, q)
	g.logsReady <- l
	return func() { g.ev.Logs = l }, err
}

// serviceGraph gathers the window's edges in slices of five minutes, each
// edge at its peak slice, so a surge is not averaged away by the quiet
// part of the window; the slices and the baseline are asked for at once.
// A window of more than MaxGraphSlices slices is cut into wider ones
// after its last five minutes, which stay what goes on now.
func (g *gatherer) serviceGraph() (func(), error) {
	var ends []time.Time
	for end := g.t.At; end.After(g.ev.Window.Start); end = end.Add(-g.sliceWidth(end)) {
		ends = append(ends, end)
	}
	slices, base, err := g.graphSlices(ends)
	var now []sources.Edge
	for _, sl := range slices {
		now = peakEdges(now, sl)
	}
	var from sources.TimeRange
	if len(base) == 0 {
		base, from = g.earliestEdges(base, ends, slices)
	}
	var recent []sources.Edge
	if len(slices) > 0 {
		recent = slices[0]
	}
	return func() { g.ev.Edges, g.ev.BaselineEdges, g.ev.EdgeBaseline, g.ev.RecentEdges = now, base, from, recent }, err
}

// graphSlices asks for the service graph of each slice ending at ends, and
// of the baseline, at once.
func (g *gatherer) graphSlices(ends []time.Time) (slices [][]sources.Edge, base []sources.Edge, err error) {
	slices = make([][]sources.Edge, len(ends))
	eg, ctx := errgroup.WithContext(g.ctx)
	for i, end := range ends {
		eg.Go(func() (err error) {
			slices[i], err = g.src.Metrics.ServiceGraph(ctx, end, g.sliceSpan(end))
			return err
		})
	}
	eg.Go(func() (err error) {
		base, err = g.src.Metrics.ServiceGraph(ctx, g.ev.Baseline.End, g.o.Baseline)
		return err
	})
	err = eg.Wait()
	return slices, base, err
}

// earliestEdges is the baseline when there is no service graph before the
// window (a Prometheus restarted minutes ago): the window's earliest slice
// with edges, other than its last, is what the uninstrumented peers are
// judged by. With no such slice, base is kept.
func (g *gatherer) earliestEdges(base []sources.Edge, ends []time.Time, slices [][]sources.Edge) ([]sources.Edge, sources.TimeRange) {
	for i := len(slices) - 1; i > 0; i-- {
		if len(slices[i]) > 0 {
			return slices[i], sources.TimeRange{Start: ends[i].Add(-g.sliceSpan(ends[i])), End: ends[i]}
		}
	}
	return base, sources.TimeRange{}
}

// sliceSpan is how far back from end its slice reaches: its width, or
// less for the slice cut by the start of the window.
func (g *gatherer) sliceSpan(end time.Time) time.Duration {
	return min(g.sliceWidth(end), end.Sub(g.ev.Window.Start))
}

// sliceWidth is the width of the slice ending at end: graphSlice for the
// window's last, and for the others the whole minutes that cut the rest
// of the window into at most MaxGraphSlices-1, but never less than
// graphSlice.
func (g *gatherer) sliceWidth(end time.Time) time.Duration {
	if end.Equal(g.t.At) {
		return graphSlice
	}
	rest := g.t.At.Add(-graphSlice).Sub(g.ev.Window.Start)
	// in whole minutes, so that the queries' ranges read as people write them
	return max(graphSlice, (rest/(MaxGraphSlices-1) + time.Minute - 1).Truncate(time.Minute))
}

// traces gathers what the search for failed traces says of their
// spans (where each failure started, and the calls that were retried)
// and the exemplars; it hands both on to the whole traces.
func (g *gatherer) traces() (func(), error) {
	var l traceLeads
	l.wg.Add(1)
	go g.searchFailedTraces(&l)
	if g.src.Metrics != nil {
		l.wg.Add(1)
		go g.exemplarTraces(&l)
	}
	l.wg.Wait()
	g.leadsReady <- &l
	return func() {
		g.ev.SpanSets, g.ev.Exemplars = l.spanSets, l.exemplars
		g.ev.Missing = append(g.ev.Missing, l.notes...)
	}, nil
}

// traceLeads is what the traces part learns from the search and the
// exemplars, which run beside each other.
type traceLeads struct {
	wg        sync.WaitGroup // the search and the exemplars
	mu        sync.Mutex     // guards the rest while they run
	spanSets  []sources.Trace
	exemplars []sources.Exemplar
	notes     []Missing
}

func (l *traceLeads) note(m Missing) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes = append(l.notes, m)
}

// searchFailedTraces asks for the failed traces with their failed spans
// and their calls, as span sets: the search answers where each failure
// started without a fetch per trace.
func (g *gatherer) searchFailedTraces(l *traceLeads) {
	defer l.wg.Done()
	hits, err := g.src.Traces.SearchTraces(g.ctx, sources.TraceSearch{ErrorsOnly: true, Range: g.ev.Window, Limit: g.o.MaxTraces,
		SpansPerTrace: searchSpansPerTrace, WithCalls: true})
	if err != nil {
		l.note(Missing{"trace search", err.Error(), true})
	}
	sets := spanSets(hits)
	l.mu.Lock()
	l.spanSets = sets
	l.mu.Unlock()
}

// exemplarTraces gathers the exemplars, which point at the slow and failed
// requests behind the metrics.
func (g *gatherer) exemplarTraces(l *traceLeads) {
	defer l.wg.Done()
	x, err := g.src.Metrics.Exemplars(g.ctx, nil, g.ev.Window)
	if err != nil {
		l.note(Missing{"metrics: exemplars", err.Error(), true})
	}
	l.mu.Lock()
	l.exemplars = x
	l.mu.Unlock()
}

// wholeTraces fetches the few traces the incident shows whole: the
// trigger's, the slowest exemplar's, one per failure origin and one per
// log signature. On a screen they are fetched once the first answer is
// drawn, so that they do not compete with it.
func (g *gatherer) wholeTraces() (func(), error) {
	var l *traceLeads
	select {
	case l = <-g.leadsReady:
	case <-g.ctx.Done():
		return nil, g.ctx.Err()
	}
	if g.o.Progress != nil {
		select {
		case <-g.answered:
		case <-g.ctx.Done():
			return nil, g.ctx.Err()
		}
	}
	// the traces the search and the exemplars name are fetched while the
	// logs are awaited; the logs' signatures add theirs after
	early := wholeTraceIDs(g.t.TraceID, l.spanSets, l.exemplars, nil)
	var got []sources.Trace
	var errs []error
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		got, errs = fetchEach(g.ctx, g.src.Traces, early)
	}()
	logs := g.logsInTime()
	ids := wholeTraceIDs(g.t.TraceID, l.spanSets, l.exemplars, logs) // early is its first part
	more, moreErrs := fetchEach(g.ctx, g.src.Traces, ids[len(early):])
	<-fetched
	traces, notes := keptTraces(ids, append(got, more...), append(errs, moreErrs...))
	if err := g.ctx.Err(); err != nil {
		return nil, err // the deadline cut the fetches off: late, not failed
	}
	return func() {
		g.ev.Traces = traces
		g.ev.Missing = append(g.ev.Missing, notes...)
	}, nil
}

// logsInTime is the logs if they arrive within half the deadline; after
// that the whole traces go on without the logs' signatures.
func (g *gatherer) logsInTime() []sources.LogLine {
	wait := time.NewTimer(g.o.Deadline / 2)
	defer wait.Stop()
	select {
	case logs := <-g.logsReady:
		return logs
	case <-wait.C:
	case <-g.ctx.Done():
	}
	return nil
}
