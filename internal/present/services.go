package present

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/slo"
)

// ServiceSorts are the orders the services can be listed in, as the
// overview's s cycles through them; the first is the default.
var ServiceSorts = []string{"health", "name", "rate", "errors", "p99"}

// serviceLess are ServiceSorts' comparisons: the worst, busiest or
// slowest first, the names A to Z.
var serviceLess = map[string]func(a, b correlate.ServiceStatus) bool{
	"health": func(a, b correlate.ServiceStatus) bool {
		if a.Health != b.Health {
			return a.Health > b.Health
		}
		return a.ErrorRatio > b.ErrorRatio
	},
	"name":   func(a, b correlate.ServiceStatus) bool { return a.Service < b.Service },
	"rate":   func(a, b correlate.ServiceStatus) bool { return a.Rate > b.Rate },
	"errors": func(a, b correlate.ServiceStatus) bool { return a.ErrorRatio > b.ErrorRatio },
	"p99":    func(a, b correlate.ServiceStatus) bool { return a.P99 > b.P99 },
}

// SortServices orders rows by one of ServiceSorts, ties by name.
func SortServices(rows []correlate.ServiceStatus, by string) {
	less := serviceLess[by]
	sort.SliceStable(rows, func(i, j int) bool {
		if less(rows[i], rows[j]) != less(rows[j], rows[i]) {
			return less(rows[i], rows[j])
		}
		return rows[i].Service < rows[j].Service
	})
}

// HealthState is the symbol and word of a service's health.
func HealthState(h correlate.Health) (symbol, word string) {
	switch h {
	case correlate.Failing:
		return "✗", "failing"
	case correlate.Degraded:
		return "!", "degraded"
	}
	return "✓", "ok"
}

// Services is what `oncall services` prints: every service's latest
// request rate, error ratio and p99, and its health, as the cockpit's
// overview judges them (correlate.StatusOf, PeerStatuses). Its JSON is
// the command's -o json; a number that was not read is null.
type Services struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	Window string    `json:"window"`
	Sort   string    `json:"sort"`
	Rows   []Service `json:"services"`
}

// Service is one service's row. Rate is in requests per second and the
// error ratio from 0 to 1, at the series' last step.
type Service struct {
	Name       string   `json:"service"`
	Health     string   `json:"health"` // ok, degraded, failing
	Symbol     string   `json:"-"`      // ✓ ! ✗
	Rate       *float64 `json:"rate_per_second"`
	ErrorRatio *float64 `json:"error_ratio"`
	P99        *float64 `json:"p99_seconds"`
	// BaseP99 is the p99 the latest one is judged against: the median of
	// the first half of the window, or a peer's over the window before.
	BaseP99 *float64 `json:"base_p99_seconds"`
	// Reason is what a service that is not ok was judged on: "errors"
	// or "p99" (against BaseP99); empty when it is ok.
	Reason string `json:"reason,omitempty"`
	// FromEdges marks an uninstrumented peer (a database, a cache)
	// judged from the calls into it.
	FromEdges bool `json:"from_edges,omitempty"`
	// StoppedSince is when the service stopped reporting while the rest
	// of the fleet reports: its numbers are its last.
	StoppedSince time.Time `json:"stopped_since,omitzero"`
	// Query is the query behind the error numbers.
	Query string `json:"query,omitempty"`
}

// NewServices presents statuses, already sorted by sortBy, read at at
// from source over window.
func NewServices(statuses []correlate.ServiceStatus, at time.Time, source string, window time.Duration, sortBy string) Services {
	s := Services{At: at.UTC(), Source: Safe(source), Window: slo.WindowName(window), Sort: sortBy, Rows: []Service{}}
	for _, st := range statuses {
		sym, word := HealthState(st.Health)
		if st.Unread() {
			sym, word = "?", "unread"
		}
		r := Service{Name: Safe(st.Service), Health: word, Symbol: sym, FromEdges: st.FromEdges, Query: Safe(st.Query), StoppedSince: st.StoppedSince}
		// a series with no steps read no number; edges always carry rate
		// and errors, and a p99 when the calls were timed
		if st.FromEdges || len(st.Rates) > 0 {
			r.Rate, r.ErrorRatio = ptr(st.Rate), ptr(st.ErrorRatio)
		}
		if len(st.P99s) > 0 || (st.FromEdges && st.P99 > 0) {
			r.P99 = ptr(st.P99)
		}
		// a peer whose calls before were not timed has no base
		if len(st.P99s) > 0 || (st.FromEdges && st.BaseP99 > 0) {
			r.BaseP99 = ptr(st.BaseP99)
		}
		switch st.JudgedOn() {
		case correlate.OnErrors:
			r.Reason = "errors"
		case correlate.OnLatency:
			r.Reason = "p99"
		}
		s.Rows = append(s.Rows, r)
	}
	return s
}

func ptr(v float64) *float64 { return &v }

// PeerLabel names a peer's row, in the cockpit as on the shell: a
// database or a cache judged from the calls into it, not from series of
// its own. Short, so that the numbers beside it stay whole at 80 columns.
func PeerLabel(service string) string { return service + PeerTag }

// PeerTag is what PeerLabel adds to a peer's name.
const PeerTag = " (peer)"

// why is the number behind a verdict: the error ratio, or the p99
// against its base, or since when (in zone) it stopped reporting. Empty
// for a service that is ok.
func why(r Service, zone *time.Location) string {
	if !r.StoppedSince.IsZero() {
		return "stopped reporting since " + r.StoppedSince.In(zoneOr(zone)).Format("15:04")
	}
	switch r.Reason {
	case "errors":
		return "errors " + unread(r.ErrorRatio, humanize.Percent)
	case "p99":
		return "p99 vs base " + unread(r.BaseP99, humanize.SecondsShort)
	}
	return ""
}

// ServicesText writes the services as a table, then where and when they
// were read, the time in zone.
func ServicesText(w io.Writer, s Services, zone *time.Location) error {
	t := NewTable("", "SERVICE", "RATE", "ERRORS", "P99", "HEALTH", "WHY")
	for _, r := range s.Rows {
		name := r.Name
		if r.FromEdges {
			name = PeerLabel(name)
		}
		t.Row(r.Symbol, name, unread(r.Rate, humanize.Rate),
			unread(r.ErrorRatio, humanize.Percent), unread(r.P99, humanize.SecondsShort), r.Health, why(r, zone))
	}
	if err := t.Render(w); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s, at %s\nfigures at the last step of %s, sorted by %s; — not read;%s judged from the calls into it\n",
		s.Source, s.At.In(zone).Format(time.RFC3339), s.Window, s.Sort, PeerTag)
	return err
}

// unread writes a number that was read, and "—" for one that was not.
func unread(v *float64, write func(float64) string) string {
	if v == nil {
		return "—"
	}
	return write(*v)
}
