package correlate

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// failedTrace is a request through checkout whose failure starts at
// origin: a failed call to the database payments-db, or a failed
// inventory server span.
func failedTrace(id, origin string) sources.Trace {
	at := t0.Add(-time.Minute)
	sp := func(sid, parent, svc, name, kind string, status sources.SpanStatus, attrs map[string]string) sources.Span {
		return sources.Span{TraceID: id, SpanID: sid, ParentSpanID: parent, Service: svc, Name: name, Kind: kind,
			Start: at, End: at.Add(time.Second), Status: status, Attributes: attrs}
	}
	spans := []sources.Span{sp("a1", "", "checkout", "POST /checkout", "server", sources.StatusError, nil)}
	switch origin {
	case "payments-db":
		spans = append(spans, sp("a2", "a1", "checkout", "POST", "client", sources.StatusError, map[string]string{"peer.service": "payments"}),
			sp("a3", "a2", "payments", "charge", "server", sources.StatusError, nil),
			sp("a4", "a3", "payments", "SELECT payments-db", "client", sources.StatusError, map[string]string{"peer.service": "payments-db"}))
	default:
		spans = append(spans, sp("a2", "a1", "checkout", "POST", "client", sources.StatusError, map[string]string{"peer.service": "inventory"}),
			sp("a3", "a2", "inventory", "reserve", "server", sources.StatusError, nil))
	}
	spans = append(spans, sp("a9", "a1", "checkout", "GET", "client", sources.StatusUnset, map[string]string{"peer.service": "pricing"}))
	return sources.Trace{ID: id, Spans: spans}
}

// searchedTempo answers a search with span sets of its failed traces, and
// counts the traces fetched whole.
type searchedTempo struct {
	traces map[string]sources.Trace
	order  []string // newest first
	// beforeFetch, when set, is called before a trace is fetched
	beforeFetch func()
	mu          sync.Mutex
	fetched     []string
}

func newSearchedTempo(n int) *searchedTempo {
	s := &searchedTempo{traces: map[string]sources.Trace{}}
	for i := range n {
		origin := "payments-db"
		if i%4 == 3 {
			origin = "inventory"
		}
		id := fmt.Sprintf("%032x", i+1)
		s.traces[id] = failedTrace(id, origin)
		s.order = append(s.order, id)
	}
	for _, id := range []string{"trigger", "slowest", "logged"} {
		s.traces[id] = failedTrace(id, "inventory")
	}
	return s
}

func (s *searchedTempo) SearchTraces(_ context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	var out []sources.TraceSummary
	for _, id := range s.order {
		if len(out) == q.Limit {
			break
		}
		h := sources.TraceSummary{TraceID: id}
		if q.SpansPerTrace > 0 {
			for _, sp := range s.traces[id].Spans {
				if sp.Status == sources.StatusError || (q.WithCalls && sp.Kind == "client") {
					h.Spans = append(h.Spans, sp)
				}
			}
		}
		out = append(out, h)
	}
	return out, nil
}

func (s *searchedTempo) Trace(_ context.Context, id string) (sources.Trace, error) {
	if s.beforeFetch != nil {
		s.beforeFetch()
	}
	s.mu.Lock()
	s.fetched = append(s.fetched, id)
	s.mu.Unlock()
	if t, ok := s.traces[id]; ok {
		return t, nil
	}
	return sources.Trace{}, sources.ErrNotFound
}

// exemplarMetrics answers RED, an empty graph and three exemplars, the
// slowest of trace "slowest"; RED waits for redWait, when set.
type exemplarMetrics struct {
	sources.Metrics
	redWait func(context.Context)
}

func (m exemplarMetrics) RED(ctx context.Context, _ []string, _ sources.TimeRange, _ time.Duration) ([]sources.RED, error) {
	if m.redWait != nil {
		m.redWait(ctx)
	}
	return []sources.RED{red("checkout", 180, 1, flat(0.01), flat(0.2))}, nil
}

func (exemplarMetrics) ServiceGraph(context.Context, time.Time, time.Duration) ([]sources.Edge, error) {
	return nil, nil
}

func (exemplarMetrics) Exemplars(context.Context, []string, sources.TimeRange) ([]sources.Exemplar, error) {
	return []sources.Exemplar{{TraceID: "quick", Value: 0.2}, {TraceID: "slowest", Value: 4.5}, {TraceID: "middling", Value: 0.9}}, nil
}

// poolLogs logs the exhaustion of a pool under trace "logged".
type poolLogs struct{ logReader }

// logReader is sources.Logs under a name that a method Logs can embed.
type logReader = sources.Logs

func (poolLogs) Logs(context.Context, sources.LogQuery) ([]sources.LogLine, error) {
	return []sources.LogLine{{T: t0.Add(-time.Minute), Service: "payments", Level: "error", TraceID: "logged",
		Line: "timeout acquiring connection from pool payments-db (100/100 in use)"}}, nil
}

// TestWholeTracesAreTheFewTheIncidentShows: where failures start comes
// from the search's span sets, so only the trigger's trace, the slowest
// exemplar's, one per failure origin and one per log signature are
// fetched whole, not every trace the search, exemplars and logs name.
func TestWholeTracesAreTheFewTheIncidentShows(t *testing.T) {
	tempo := newSearchedTempo(40)
	src := sources.Set{Metrics: exemplarMetrics{}, Traces: tempo, Logs: poolLogs{}}
	ev := Gather(context.Background(), src, Trigger{At: t0, TraceID: "trigger"}, GatherOptions{Deadline: time.Minute})

	want := []string{"trigger", "slowest", tempo.order[0], tempo.order[3], "logged"}
	got := append([]string(nil), tempo.fetched...)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fetched whole %v, want %v", tempo.fetched, want)
	}
	if len(ev.SpanSets) != 40 {
		t.Fatalf("%d span sets, want the search's 40", len(ev.SpanSets))
	}
	// every failed trace the search found says where its failure started
	n := map[string]int{}
	for _, o := range ErrorOrigins(tracedSpans(ev)) {
		n[o.Service]++
	}
	if n["payments-db"] != 30 || n["inventory"] != 10+3 {
		t.Errorf("origins %v, want 30 at payments-db and 13 at inventory (with the trigger's, the slowest and the logged trace)", n)
	}
	if inc := Analyze(ev, Meta{}); slices.ContainsFunc(inc.Notes, func(s string) bool { return s[:min(len(s), 9)] == "no traces" }) {
		t.Errorf("span sets alone noted as no traces: %v", inc.Notes)
	}
}

// TestWholeTracesWaitForTheFirstAnswer: on a screen, the traces fetched
// whole are asked for only once the rates, errors and latencies were
// told to Progress, so that they do not compete with the first answer.
// The order is read from one sequence, not from a clock: RED answers as
// soon as the search has (so the whole traces could go at once), and
// Progress's telling of it must come before the first fetch.
func TestWholeTracesWaitForTheFirstAnswer(t *testing.T) {
	var seq, told, firstFetch atomic.Int64
	searched := make(chan struct{})
	tempo := &answeredTempo{searchedTempo: newSearchedTempo(8), answered: searched}
	tempo.beforeFetch = func() { firstFetch.CompareAndSwap(0, seq.Add(1)) }
	m := exemplarMetrics{redWait: func(ctx context.Context) {
		select {
		case <-searched:
		case <-ctx.Done():
		}
	}}
	src := sources.Set{Metrics: m, Traces: tempo}
	ev := Gather(context.Background(), src, Trigger{At: t0}, GatherOptions{Deadline: time.Minute, Progress: func(e *Evidence) {
		if slices.ContainsFunc(e.Arrived, func(a Arrival) bool { return a.What == redPart }) {
			told.CompareAndSwap(0, seq.Add(1))
		}
	}})
	if len(ev.Traces) == 0 {
		t.Fatalf("no trace fetched whole; missing %v", ev.Missing)
	}
	if told.Load() == 0 || firstFetch.Load() < told.Load() {
		t.Fatalf("first whole trace fetched at step %d, the first answer told at step %d", firstFetch.Load(), told.Load())
	}
}

// answeredTempo is a searchedTempo that closes answered once it has
// answered the search.
type answeredTempo struct {
	*searchedTempo
	answered chan struct{}
	once     sync.Once
}

func (a *answeredTempo) SearchTraces(ctx context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	defer a.once.Do(func() { close(a.answered) })
	return a.searchedTempo.SearchTraces(ctx, q)
}

// hangingTraceTempo answers the search at once and fetches no trace
// whole before the deadline.
type hangingTraceTempo struct{ *searchedTempo }

func (hangingTraceTempo) Trace(ctx context.Context, _ string) (sources.Trace, error) {
	<-ctx.Done()
	return sources.Trace{}, ctx.Err()
}

// TestLateWholeTracesAreANote: once the search's span sets arrived, the
// traces fetched whole only add a request to read end to end. A Tempo
// whose trace-by-ID outlasts the deadline leaves a note, not a part
// down (which would make the CLI exit 3), and the incident still says
// where failures start.
func TestLateWholeTracesAreANote(t *testing.T) {
	src := sources.Set{Metrics: exemplarMetrics{}, Traces: hangingTraceTempo{newSearchedTempo(8)}}
	ev := Gather(context.Background(), src, Trigger{At: t0, TraceID: "trigger"}, GatherOptions{Deadline: 300 * time.Millisecond})
	i := slices.IndexFunc(ev.Missing, func(m Missing) bool { return m.What == wholeTracesPart })
	if i < 0 || ev.Missing[i].Down {
		t.Fatalf("missing %+v: want the whole traces noted, not down", ev.Missing)
	}
	inc := Analyze(ev, Meta{})
	if slices.ContainsFunc(inc.Down(), func(m Missing) bool { return m.What == wholeTracesPart }) {
		t.Errorf("the whole traces are down: %+v", inc.Down())
	}
	want := "traces: whole: did not arrive within 300ms; where failures start comes from the search's span sets"
	if !slices.Contains(inc.Notes, want) {
		t.Errorf("notes %q\nwant %q", inc.Notes, want)
	}
}

// failingTraceTempo answers the search and fails every fetch by ID.
type failingTraceTempo struct{ *searchedTempo }

func (failingTraceTempo) Trace(context.Context, string) (sources.Trace, error) {
	return sources.Trace{}, &sources.BackendError{Backend: "tempo", Op: "trace", Err: fmt.Errorf("connection reset")}
}

// TestFailedWholeTracesAreANote: a fetch by ID that fails is a note as
// well; only the search failing is evidence missing.
func TestFailedWholeTracesAreANote(t *testing.T) {
	src := sources.Set{Metrics: exemplarMetrics{}, Traces: failingTraceTempo{newSearchedTempo(8)}}
	inc := Analyze(Gather(context.Background(), src, Trigger{At: t0, TraceID: "trigger"}, GatherOptions{Deadline: time.Minute}), Meta{})
	if len(inc.Down()) != 0 {
		t.Errorf("down %+v, want nothing: the search answered", inc.Down())
	}
	if !slices.ContainsFunc(inc.Missing, func(m Missing) bool {
		return m.What == wholeTracesPart && strings.Contains(m.Why, "could not be fetched")
	}) {
		t.Errorf("missing %+v: want a note that the whole traces could not be fetched", inc.Missing)
	}
}

// TestIncidentCarriesAtMostTheWholeTraces: an incident shows no more
// traces than Gather fetches whole, from evidence built elsewhere too.
func TestIncidentCarriesAtMostTheWholeTraces(t *testing.T) {
	ev := &Evidence{Trigger: Trigger{At: t0}}
	for i := range maxWholeTraces + 4 {
		ev.Traces = append(ev.Traces, failedTrace(fmt.Sprintf("%032x", i+1), "payments-db"))
	}
	origins := ErrorOrigins(ev.Traces)
	if v := citedTraces(ev, origins, nil); len(v) != maxWholeTraces {
		t.Fatalf("%d traces shown of %d failed, want %d", len(v), len(ev.Traces), maxWholeTraces)
	}
}

func TestRetriesAreRepeatsOfAFailedCallOrSaySo(t *testing.T) {
	at := t0.Add(40 * time.Minute)
	call := func(id, service, name string, from time.Duration, status sources.SpanStatus, attrs map[string]string) sources.Span {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["peer.service"] = "db"
		return sources.Span{SpanID: id, ParentSpanID: "01", Service: service, Kind: "client", Name: name, Start: at.Add(from), End: at.Add(from + 100*time.Millisecond), Status: status, Attributes: attrs}
	}
	tr := sources.Trace{ID: "t", Spans: []sources.Span{
		{SpanID: "01", Service: "api", Kind: "server", Start: at, End: at.Add(time.Second)},
		call("02", "api", "SELECT", 0, sources.StatusError, map[string]string{"http.request.resend_count": "0"}),
		call("03", "api", "SELECT", 200*time.Millisecond, sources.StatusError, nil), // repeats 02, which failed
		call("04", "api", "SELECT", 400*time.Millisecond, sources.StatusOK, map[string]string{"grpc.previous-rpc-attempts": "2"}),
		call("05", "api", "INSERT", 600*time.Millisecond, sources.StatusOK, nil), // another call
		call("06", "api", "INSERT", 800*time.Millisecond, sources.StatusOK, nil), // a loop of successes
	}}
	if got := retryAttempts(tr, false); fmt.Sprint(got) != "map[03:true 04:true]" {
		t.Errorf("retries %v", got)
	}
	// where the instrumentation marks retries, an unmarked repeat is
	// another call
	if got := retryAttempts(tr, true); fmt.Sprint(got) != "map[04:true]" {
		t.Errorf("retries where marked %v", got)
	}
	// 02 says resend_count 0: a first attempt, but a mark
	if e := BuildGraph([]sources.Trace{tr}, nil, nil, nil).Edges[0]; e.TraceCalls != 5 || e.Retries != 1 {
		t.Errorf("edge %+v", e)
	}
	// the marks are set on repeats only: a service none of whose traced
	// calls was a retry shows none, and its repeated query after a
	// failure is not taken for a retry while the fleet marks its own
	other := sources.Trace{ID: "u", Spans: []sources.Span{
		{SpanID: "01", Service: "web", Kind: "server", Start: at, End: at.Add(time.Second)},
		call("12", "web", "GET", 0, sources.StatusError, nil),
		call("13", "web", "GET", 200*time.Millisecond, sources.StatusOK, nil), // repeats 12, which failed
	}}
	for _, e := range BuildGraph([]sources.Trace{tr, other}, nil, nil, nil).Edges {
		if want := map[string]int{"api": 1, "web": 0}[e.Client]; e.Retries != want {
			t.Errorf("%s→%s: %d retries, want %d", e.Client, e.Server, e.Retries, want)
		}
	}
	tr.Spans[1].Attributes, tr.Spans[3].Attributes = map[string]string{"peer.service": "db"}, map[string]string{"peer.service": "db"}
	if e := BuildGraph([]sources.Trace{tr}, nil, nil, nil).Edges[0]; e.TraceCalls != 5 || e.Retries != 2 {
		t.Errorf("unmarked edge %+v", e)
	}
}
