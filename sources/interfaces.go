package sources

import (
	"context"
	"time"
)

// Metrics answers metric questions in domain terms; the backend writes the query.
type Metrics interface {
	// RED returns request, error and p99 latency series per service over r.
	// An empty service list means every service the backend knows.
	RED(ctx context.Context, services []string, r TimeRange, step time.Duration) ([]RED, error)
	// ServiceGraph returns the call edges observed over the window ending at at.
	ServiceGraph(ctx context.Context, at time.Time, window time.Duration) ([]Edge, error)
	// Exemplars returns exemplars of the services' request metrics over r.
	Exemplars(ctx context.Context, services []string, r TimeRange) ([]Exemplar, error)
	// Services names every service the backend knows now: those with RED
	// metrics and the peers their calls reach, sorted.
	Services(ctx context.Context) ([]string, error)
}

// REDSummarizer is a Metrics backend that can reduce RED series on the
// server. Thousands of services answer it in a handful of numbers each,
// where their series would be hundreds of points: the incident asks it
// first to find which services to read whole, and the overview to sort.
// Only the figures asked are read, each a query of its own; the others
// are NaN. Points are resolution apart where the worst or the median is
// taken; an empty service list means every service.
type REDSummarizer interface {
	SummarizeRED(ctx context.Context, services []string, r TimeRange, resolution time.Duration, figures REDFigure) ([]REDSummary, error)
}

// AlertReader lists the alerts that fire now, with the labels and
// annotations their rules gave them; State says which of them a silence
// or an inhibition keeps quiet. It is what the read-only views need, from
// an Alertmanager or, where there is none, from Prometheus's own rules.
type AlertReader interface {
	Alerts(ctx context.Context) ([]Alert, error)
}

// Rules lists Prometheus-side alerting state: the firing alerts, and the
// rule groups with every alert of each rule, pending ones included.
type Rules interface {
	AlertReader
	Rules(ctx context.Context) ([]RuleGroup, error)
}

// AlertHistory tells when alerts fired in the past: each alert label
// set's contiguous firing runs over r, read at step, oldest first. It is
// what an incident history is reconstructed from; the backend writes the
// query (Prometheus: its ALERTS series) and splits a long range into as
// many requests as its limits need.
type AlertHistory interface {
	Firings(ctx context.Context, r TimeRange, step time.Duration) ([]Firing, error)
}

// LogQuery selects log lines. Empty fields select everything.
type LogQuery struct {
	Services []string
	Levels   []string // e.g. "error", "warn"
	TraceID  string
	// Grep keeps the lines whose text matches this RE2 regular expression.
	Grep    string
	Range   TimeRange
	Limit   int
	Forward bool // oldest first; default newest first
}

// Logs reads and follows log lines.
type Logs interface {
	Logs(ctx context.Context, q LogQuery) ([]LogLine, error)
	// LogRate counts matching lines per service per step over q.Range.
	LogRate(ctx context.Context, q LogQuery, step time.Duration) ([]Series, error)
	// Tail follows new lines until ctx ends, reconnecting as needed. The
	// channel is closed when ctx is done.
	Tail(ctx context.Context, q LogQuery) (<-chan TailEvent, error)
}

// LogQueryWriter is a Logs backend that can say which query it would run
// for a LogQuery, so that it can be shown, copied or linked to.
type LogQueryWriter interface {
	LogQL(q LogQuery) string
}

// TailEvent is what a live tail delivers: lines, a report of lines the
// server dropped, or a connection state change.
type TailEvent struct {
	Lines        []LogLine
	Dropped      int   // entries the server reported as dropped in this frame
	Reconnecting error // non-nil: the connection broke with this error and a reconnect is under way
	Connected    bool  // a (re)connection succeeded
}

// TraceSearch selects traces.
type TraceSearch struct {
	Services    []string
	ErrorsOnly  bool
	MinDuration time.Duration
	Range       TimeRange
	Limit       int
	// SpansPerTrace asks for up to this many matched spans of each trace,
	// each with its service, name, kind, status, message, times, parent
	// and peer, so that where a failure started is known without fetching
	// the trace; 0 returns only their IDs.
	SpansPerTrace int
	// WithCalls also matches, in the traces found, every client span
	// (failed or not): the calls they made, so that retries can be
	// counted against all calls. It needs SpansPerTrace.
	WithCalls bool
}

// Traces fetches and searches traces.
type Traces interface {
	Trace(ctx context.Context, traceID string) (Trace, error)
	SearchTraces(ctx context.Context, q TraceSearch) ([]TraceSummary, error)
}

// Alerting is an alert manager: alerts and silences.
type Alerting interface {
	AlertReader
	Silences(ctx context.Context) ([]Silence, error)
	CreateSilence(ctx context.Context, s Silence) (string, error)
	ExpireSilence(ctx context.Context, id string) error
}

// CheckStatus is the outcome of one doctor check.
type CheckStatus string

const (
	CheckOK   CheckStatus = "ok"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
)

// Check is one line of `oncall doctor`: what was checked, how it went, and why.
type Check struct {
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
	// Err is the error Detail says, when the check failed on one: doctor
	// tells a timeout (errors.Is) from a refusal by it, not by its text.
	Err error `json:"-"`
}

// Doctor is implemented by every backend: it checks reachability, version,
// auth and tenant, and that the data the conventions expect exists.
type Doctor interface {
	Doctor(ctx context.Context) []Check
}

// Changes lists deploys, rollbacks, restarts and scaling over a range.
type Changes interface {
	Changes(ctx context.Context, r TimeRange) ([]Change, error)
}

// Resources reports how saturated each service's pools and CPU are.
type Resources interface {
	Saturation(ctx context.Context, services []string, r TimeRange, step time.Duration) ([]Saturation, error)
}

// Prober answers the cheapest question a backend has, its build info:
// the cockpit's status line asks it of the logs and traces backends on
// every refresh, to show each as up, slow or down.
type Prober interface {
	BuildInfo(ctx context.Context) (BuildInfo, error)
}

// Action is an operator action for an Actuator: what, on which service,
// towards which peer, with which parameters (numbers may be relative:
// "+50%" or "x2" of the current value).
type Action struct {
	Kind    string            `json:"kind"`
	Service string            `json:"service"`
	Target  string            `json:"target,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
}

// Actuator carries out operator actions through the backend itself. Only
// the simulator has one, so that a runbook can fix the demo; real fleets
// are acted on by the commands and requests runbooks declare.
type Actuator interface {
	Act(ctx context.Context, a Action) (Change, error)
}
