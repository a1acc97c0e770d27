package correlate

import (
	"math"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// Health is how a service or an SLO is doing. Renderers always show it
// with a symbol and a word, never by colour alone.
type Health int

const (
	Healthy  Health = iota // ✓ ok
	Degraded               // ! warn
	Failing                // ✗ failing
)

// ServiceStatus is a service's latest numbers from its RED series and its
// health, judged against its own recent p99 (the overview has no baseline
// window: the series is all it has).
type ServiceStatus struct {
	Service    string  `json:"service"`
	Rate       float64 `json:"rate"`        // requests per second, the last step
	ErrorRatio float64 `json:"error_ratio"` // the last step
	P99        float64 `json:"p99_seconds"` // the last step with a p99
	// BaseP99 is the median p99 of the first half of the series.
	BaseP99 float64 `json:"base_p99_seconds"`
	Health  Health  `json:"health"`
	// Query is the query behind the error numbers.
	Query string `json:"query,omitempty"`
	// Rates, ErrorRatios and P99s are the series the numbers come from,
	// oldest first; steps without a p99 are left out of P99s.
	Rates       []float64 `json:"rates"`
	ErrorRatios []float64 `json:"error_ratios"`
	P99s        []float64 `json:"p99s"`
	// FromEdges marks an uninstrumented peer (a database, a cache, an
	// external API) judged from its callers' service-graph edges: its
	// numbers are those of the calls into it, and it has no series.
	FromEdges bool `json:"from_edges,omitempty"`
	// StoppedSince is when the service's series ended, when they ended
	// while the rest of the fleet's go on (StoppedServices): its numbers
	// are its last, not what it does now.
	StoppedSince time.Time `json:"stopped_since,omitzero"`
	// Summarized marks a row read from server-side summaries
	// (SummaryStatuses): its numbers and health are read, its series
	// only once ServiceSeries reads them.
	Summarized bool `json:"-"`
}

// PeerStatuses judges the uninstrumented peers, the servers of edges
// with no RED series of their own, from the calls into them: now are the
// edges over the last minutes, base over a longer span before. Health
// follows StatusOf's thresholds, the base p99 being base's.
func PeerStatuses(now, base []sources.Edge, instrumented []string) []ServiceStatus {
	skip := map[string]bool{sources.UserNode: true}
	for _, s := range instrumented {
		skip[s] = true
	}
	n, b := edgeTotals(now), edgeTotals(base)
	var out []ServiceStatus
	for svc, t := range n {
		if skip[svc] || t.rate <= 0 {
			continue
		}
		st := ServiceStatus{Service: svc, Rate: t.rate, ErrorRatio: t.failed / t.rate, P99: t.p99, BaseP99: b[svc].p99, Query: t.query, FromEdges: true}
		st.judge()
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}

// StatusOf aligns a service's RED series by time and judges its health:
// failing at FailingErrorRatio or FailingLatencyFactor × its base p99,
// degraded past ErrorDelta or LatencyFactor × (and LatencyFloor over) it.
func StatusOf(r sources.RED) ServiceStatus {
	st := ServiceStatus{Service: r.Service, Query: r.Errors.Query}
	errAt := make(map[int64]float64, len(r.Errors.Samples))
	for _, s := range r.Errors.Samples {
		errAt[s.T.UnixNano()] = s.V
	}
	for _, s := range r.Requests.Samples {
		st.Rates = append(st.Rates, s.V)
		ratio := 0.0
		if s.V > 0 {
			ratio = errAt[s.T.UnixNano()] / s.V
		}
		st.ErrorRatios = append(st.ErrorRatios, ratio)
	}
	for _, s := range r.P99.Samples {
		if !math.IsNaN(s.V) {
			st.P99s = append(st.P99s, s.V)
		}
	}
	if n := len(st.Rates); n > 0 {
		st.Rate, st.ErrorRatio = st.Rates[n-1], st.ErrorRatios[n-1]
	}
	if n := len(st.P99s); n > 0 {
		st.P99 = st.P99s[n-1]
		head := append([]float64(nil), st.P99s[:max(1, n/2)]...)
		sort.Float64s(head)
		st.BaseP99 = head[len(head)/2]
	}
	st.judge()
	return st
}

// markStoppedRows sets StoppedSince on the rows of the services of reds
// that stopped reporting, read in steps of step.
func markStoppedRows(rows []ServiceStatus, reds []sources.RED, step time.Duration) {
	since := map[string]time.Time{}
	for _, st := range StoppedServices(reds, step) {
		since[st.Service] = st.Since
	}
	for i := range rows {
		rows[i].StoppedSince = since[rows[i].Service]
	}
}

// judge sets the health from the latest numbers: failing at
// FailingErrorRatio or FailingLatencyFactor × the base p99, degraded past
// ErrorDelta or LatencyFactor × (and LatencyFloor over) it.
func (st *ServiceStatus) judge() {
	slower := func(factor float64) bool { return st.BaseP99 > 0 && st.P99 > factor*st.BaseP99 }
	switch {
	case st.ErrorRatio > FailingErrorRatio || slower(FailingLatencyFactor):
		st.Health = Failing
	case st.ErrorRatio > ErrorDelta || (slower(LatencyFactor) && st.P99-st.BaseP99 > LatencyFloor.Seconds()):
		st.Health = Degraded
	}
}

// Unread says that no step of the service's series was read (Prometheus
// answered the series, but with no finite value): its health is unknown,
// and a renderer says "unread" rather than the ok judge leaves it at.
func (st ServiceStatus) Unread() bool {
	return !st.FromEdges && !st.Summarized && len(st.Rates) == 0 && len(st.P99s) == 0
}

// UnreadCount counts the services of ss whose series read no number.
func UnreadCount(ss []ServiceStatus) int {
	n := 0
	for _, s := range ss {
		if s.Unread() {
			n++
		}
	}
	return n
}

// BudgetHealth is failing when the budget is spent and degraded when
// less than LowBudget of it is left.
func BudgetHealth(b slo.Budget) Health {
	switch {
	case b.Remaining < 0:
		return Failing
	case b.Remaining < slo.LowBudget:
		return Degraded
	}
	return Healthy
}
