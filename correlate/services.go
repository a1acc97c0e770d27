package correlate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// ServicesWindow is the span of RED series the services are judged on
// by default, as the cockpit's overview reads them: its first half
// gives each service's base p99, and the peers' base is taken over it.
const ServicesWindow = 30 * time.Minute

// ServiceSteps is how many steps a window of RED series is read in:
// thirty seconds over ServicesWindow, fine enough for a sparkline and
// light enough for every refresh.
const ServiceSteps = 60

// PeerWindow is the span uninstrumented peers are judged over: the
// calls into them in the last five minutes, short enough to show a
// peer failing now, against the window before.
const PeerWindow = 5 * time.Minute

// ErrPeersUnread is wrapped by ServiceStatuses' error when the
// instrumented services were read but the peers without metrics of
// their own were not, or not whole: the rows are there, incomplete.
var ErrPeersUnread = errors.New("the peers without metrics of their own were not read")

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
	names := make([]string, 0, len(reds))
	for _, r := range reds {
		rows = append(rows, StatusOf(r))
		names = append(names, r.Service)
	}
	cur, err := m.ServiceGraph(ctx, now, PeerWindow)
	if err != nil {
		return rows, fmt.Errorf("%w: service graph: %w", ErrPeersUnread, err)
	}
	if len(cur) == 0 {
		return rows, nil
	}
	base, err := m.ServiceGraph(ctx, now.Add(-PeerWindow), window)
	rows = append(rows, PeerStatuses(cur, base, names)...)
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
