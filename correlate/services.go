package correlate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// ServicesWindow is the span of RED series the services are judged on
// by default, as the cockpit's overview reads them: its first half
// gives each service's base p99, and the peers' base is taken over it.
const ServicesWindow = 30 * time.Minute

// ServiceSteps is how many steps a window of RED series is judged in:
// thirty seconds over ServicesWindow, fine enough that the last step
// says what a service does now. A sparkline alone asks SparkStep.
const ServiceSteps = 60

// PeerWindow is the span uninstrumented peers are judged over: the
// calls into them in the last five minutes, short enough to show a
// peer failing now, against the window before.
const PeerWindow = 5 * time.Minute

// ErrPeersUnread is wrapped by ServiceStatuses' error when the
// instrumented services were read but the peers without metrics of
// their own were not, or not whole: the rows are there, incomplete.
var ErrPeersUnread = errors.New("the peers without metrics of their own were not read")

// sparkStepUnit rounds a sparkline's step: whole quarter minutes, the
// scrape interval most fleets use, so that a step never falls between
// two samples and the same width asks the same query every refresh.
const sparkStepUnit = 15 * time.Second

// SparkStep is the step of a sparkline of cells cells over window: one
// point per cell is all a sparkline draws, so it is asked no finer
// (rounded up to whole sparkStepUnit), and never finer than ServiceSteps
// gives. Twenty cells over the half hour read 90 s steps, a third of the
// points of the 30 s the table is judged at.
func SparkStep(window time.Duration, cells int) time.Duration {
	step := window / ServiceSteps
	if cells > 0 {
		step = max(step, window/time.Duration(cells))
	}
	return (step + sparkStepUnit - 1) / sparkStepUnit * sparkStepUnit
}

// ServiceStatuses reads every service's RED series over window ending
// at now and judges each one (StatusOf), then judges the peers the
// series do not cover from the service graph (PeerStatuses). When RED
// cannot be read there are no rows. When only the service graph cannot,
// the rows are the instrumented services, or the peers without their
// base p99, and the error wraps ErrPeersUnread: a caller shows the rows
// and says they are incomplete, never drops the peers quietly. A
// backend without service graphs has no peers, and that is no error.
func ServiceStatuses(ctx context.Context, m sources.Metrics, window time.Duration, now time.Time) ([]ServiceStatus, error) {
	reds, err := m.RED(ctx, nil, sources.TimeRange{Start: now.Add(-window), End: now}, window/ServiceSteps)
	if err != nil {
		return nil, err
	}
	rows := make([]ServiceStatus, 0, len(reds))
	for _, r := range reds {
		rows = append(rows, StatusOf(r))
	}
	markStoppedRows(rows, reds, window/ServiceSteps)
	return withPeers(ctx, m, rows, now, func(ctx context.Context) ([]sources.Edge, error) {
		return m.ServiceGraph(ctx, now.Add(-PeerWindow), window)
	})
}

// Bases are what SummaryStatuses judges a table of services against:
// each service's base p99, summarized on the server over the first half
// of the window at ServiceSteps' resolution (the median p99 of those
// steps, as StatusOf takes it), and the service graph before PeerWindow,
// the peers' base. They are the dearest of the table's questions (a
// quantile over every step of every service's p99, and half an hour of
// every edge) and move slowly: a caller may keep them a while, as the
// overview keeps them a minute.
type Bases struct {
	P99s  []sources.REDSummary
	Edges []sources.Edge
	// EdgesErr is why Edges could not be read: SummaryStatuses judges
	// the peers without their base, and says so.
	EdgesErr error
}

// ReadBases reads the Bases of a table over window ending at now, one
// question after the other.
func ReadBases(ctx context.Context, m sources.Metrics, s sources.REDSummarizer, window time.Duration, now time.Time) (Bases, error) {
	p99s, err := s.SummarizeRED(ctx, nil, sources.TimeRange{Start: now.Add(-window), End: now.Add(-window / 2)}, window/ServiceSteps, sources.FigureTypicalP99)
	if err != nil {
		return Bases{}, fmt.Errorf("RED summary of the base p99: %w", err)
	}
	b := Bases{P99s: p99s}
	b.Edges, b.EdgesErr = m.ServiceGraph(ctx, now.Add(-PeerWindow), window)
	return b, nil
}

// SummaryStatuses reads and judges every service as ServiceStatuses
// does, without reading its series whole: its figures are the last step
// of its series alone (two points, not ServiceSteps), and its base p99
// and the peers' come from b (ReadBases). A table sorted and counted on them
// agrees with ServiceStatuses. The rows have no series and are marked
// Summarized: a caller reads the series of the rows it shows with
// ServiceSeries. The peers are added, with the same errors, as
// ServiceStatuses adds them.
func SummaryStatuses(ctx context.Context, m sources.Metrics, b Bases, window time.Duration, now time.Time) ([]ServiceStatus, error) {
	step := window / ServiceSteps
	reds, err := m.RED(ctx, nil, sources.TimeRange{Start: now.Add(-step), End: now}, step)
	if err != nil {
		return nil, err
	}
	baseOf := make(map[string]float64, len(b.P99s))
	for _, s := range b.P99s {
		if !math.IsNaN(s.TypicalP99) {
			baseOf[s.Service] = s.TypicalP99
		}
	}
	rows := make([]ServiceStatus, 0, len(reds))
	for _, r := range reds {
		st := StatusOf(r)
		st.BaseP99, st.Health = baseOf[r.Service], Healthy
		st.judge()
		// a row with no number stays Unread; the others wait for their series
		st.Summarized = !st.Unread()
		st.Rates, st.ErrorRatios, st.P99s = nil, nil, nil
		rows = append(rows, st)
	}
	return withPeers(ctx, m, rows, now, func(context.Context) ([]sources.Edge, error) { return b.Edges, b.EdgesErr })
}

// ServiceSeries reads the RED series of the services named, over window
// ending at now in steps of step, judged as StatusOf judges them: their
// sparklines, for the rows of a table read with SummaryStatuses that are
// on screen. A service with no series is absent from the map.
func ServiceSeries(ctx context.Context, m sources.Metrics, services []string, window time.Duration, now time.Time, step time.Duration) (map[string]ServiceStatus, error) {
	reds, err := m.RED(ctx, services, sources.TimeRange{Start: now.Add(-window), End: now}, step)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ServiceStatus, len(reds))
	for _, r := range reds {
		out[r.Service] = StatusOf(r)
	}
	return out, nil
}

// withPeers adds to the rows of the instrumented services the peers
// judged from the service graph, as ServiceStatuses says, against the
// edges base gives (the service graph before PeerWindow).
func withPeers(ctx context.Context, m sources.Metrics, rows []ServiceStatus, now time.Time, base func(context.Context) ([]sources.Edge, error)) ([]ServiceStatus, error) {
	names := make([]string, 0, len(rows))
	for _, r := range rows {
		names = append(names, r.Service)
	}
	cur, err := m.ServiceGraph(ctx, now, PeerWindow)
	if err != nil {
		return rows, fmt.Errorf("%w: service graph: %w", ErrPeersUnread, err)
	}
	if len(cur) == 0 {
		return rows, nil
	}
	before, err := base(ctx)
	rows = append(rows, PeerStatuses(cur, before, names)...)
	if err != nil {
		// without a base the peers' p99 cannot be judged slower: their
		// health would read ok on errors alone
		return rows, fmt.Errorf("%w: their base p99 (service graph before %s): %w", ErrPeersUnread, now.Add(-PeerWindow).UTC().Format(time.RFC3339), err)
	}
	return rows, nil
}

// Signal is what a service's health was judged on.
type Signal int

const (
	// OnNothing: the service is healthy.
	OnNothing Signal = iota
	// OnErrors: its error ratio passed ErrorDelta (or FailingErrorRatio).
	OnErrors
	// OnLatency: its p99 passed LatencyFactor (or FailingLatencyFactor)
	// times its base p99.
	OnLatency
)

// JudgedOn says why st is not healthy, so that a list can show the
// number behind the verdict. The error ratio comes first, as judge
// checks it first: past ErrorDelta it alone is enough.
func (st ServiceStatus) JudgedOn() Signal {
	switch {
	case st.Health == Healthy:
		return OnNothing
	case st.ErrorRatio > ErrorDelta:
		return OnErrors
	}
	return OnLatency
}
