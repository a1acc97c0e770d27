package sources

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Labels is a set of label names and values, as Prometheus and Loki return them.
type Labels map[string]string

// TimeRange is a closed interval [Start, End].
type TimeRange struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Sample is one point of a series.
type Sample struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Series is one labelled time series. Query is the backend query that
// produced it, so every number can say where it came from.
type Series struct {
	Labels  Labels   `json:"labels"`
	Samples []Sample `json:"samples"`
	Query   string   `json:"query,omitempty"`
}

// Exemplar links a metric sample to the trace that produced it.
type Exemplar struct {
	SeriesLabels Labels    `json:"series_labels"`
	Labels       Labels    `json:"labels"`
	TraceID      string    `json:"trace_id,omitempty"`
	Value        float64   `json:"value"`
	T            time.Time `json:"t"`
}

// RED is one service's request rate, error rate and latency over a range,
// each a series so that sparklines and onsets can be computed from it.
type RED struct {
	Service  string `json:"service"`
	Requests Series `json:"requests"` // requests per second
	Errors   Series `json:"errors"`   // failed requests per second
	P99      Series `json:"p99"`      // seconds
}

// REDSummary is one service's rate, errors and latency over a range,
// reduced on the server to a few numbers: its mean traffic over the whole
// range, and the worst and the median of its points at a finer
// resolution. The worst keeps a fault of the range's last minutes from
// being averaged away; the median is what most of the range looked
// like, so that an earlier spike does not pass for the norm. A figure
// that was not read is NaN; JSON cannot carry NaN, so a summary is
// screened, never written out.
type REDSummary struct {
	Service  string
	Requests float64 // per second, mean over the range
	// PeakRequests, PeakErrorRatio and PeakP99 are the worst (highest)
	// of the range's points.
	PeakRequests, PeakErrorRatio, PeakP99 float64
	// TypicalErrorRatio and TypicalP99 are the median of its points.
	TypicalErrorRatio, TypicalP99 float64
}

// REDFigure names figures of a REDSummary, to ask for them; they add
// as bits.
type REDFigure uint16

// The figures of a REDSummary, one each.
const (
	FigureRequests REDFigure = 1 << iota
	FigurePeakRequests
	FigurePeakErrorRatio
	FigurePeakP99
	FigureTypicalErrorRatio
	FigureTypicalP99
)

// Has is whether f holds every figure of g.
func (f REDFigure) Has(g REDFigure) bool { return f&g == g }

// EdgeKind says what the server side of a service-graph edge is.
type EdgeKind string

const (
	EdgeService     EdgeKind = "service"          // an instrumented service
	EdgeVirtualNode EdgeKind = "virtual_node"     // an uninstrumented peer, or "user" for root spans
	EdgeDatabase    EdgeKind = "database"         // a database seen only from client spans
	EdgeMessaging   EdgeKind = "messaging_system" // a queue or topic between a producer and its consumers
)

// UserNode is the client Tempo's service graph names for the callers of
// root spans, which have no client span: the users. A service it calls is
// an entry point.
const UserNode = "user"

// Edge is a call relation from Client to Server, as Tempo's service-graph
// metrics report it.
type Edge struct {
	Client      string   `json:"client"`
	Server      string   `json:"server"`
	Kind        EdgeKind `json:"kind"`
	RequestRate float64  `json:"request_rate"` // per second
	FailedRate  float64  `json:"failed_rate"`  // per second
	P99Seconds  float64  `json:"p99_seconds"`
	Query       string   `json:"query,omitempty"`
}

// LogLine is one log entry. Line is exactly what the backend sent: it may
// hold terminal control sequences and must be sanitised before rendering.
type LogLine struct {
	T       time.Time `json:"t"`
	Service string    `json:"service,omitempty"`
	Level   string    `json:"level,omitempty"`
	TraceID string    `json:"trace_id,omitempty"` // normalised, see NormalizeTraceID
	Line    string    `json:"line"`
	Labels  Labels    `json:"labels"`
}

// SpanStatus is the OpenTelemetry status code of a span.
type SpanStatus string

const (
	StatusUnset SpanStatus = "unset"
	StatusOK    SpanStatus = "ok"
	StatusError SpanStatus = "error"
)

// Span is one span of a trace. IDs are lowercase hex (32 and 16 characters).
type Span struct {
	TraceID       string            `json:"trace_id"`
	SpanID        string            `json:"span_id"`
	ParentSpanID  string            `json:"parent_span_id,omitempty"`
	Service       string            `json:"service"`
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	Start         time.Time         `json:"start"`
	End           time.Time         `json:"end"`
	Status        SpanStatus        `json:"status"`
	StatusMessage string            `json:"status_message,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
}

// Duration is End - Start.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Trace is all spans that share one trace ID.
type Trace struct {
	ID    string `json:"id"`
	Spans []Span `json:"spans"`
}

// TraceSummary is one hit of a trace search.
type TraceSummary struct {
	TraceID     string         `json:"trace_id"`
	RootService string         `json:"root_service"`
	RootName    string         `json:"root_name"`
	Start       time.Time      `json:"start"`
	Duration    time.Duration  `json:"duration"`
	SpanIDs     []string       `json:"span_ids,omitempty"` // the spans that matched
	Errors      map[string]int `json:"errors,omitempty"`   // error spans per service
	// Spans are the matched spans, as far as the search described them,
	// when TraceSearch.SpansPerTrace asked for them; Matched counts every
	// span that matched, which may be more.
	Spans   []Span `json:"spans,omitempty"`
	Matched int    `json:"matched,omitempty"`
}

// AlertState is an alert's state as Alertmanager or Prometheus reports it.
type AlertState string

const (
	AlertFiring     AlertState = "firing"     // Prometheus firing, Alertmanager active
	AlertPending    AlertState = "pending"    // Prometheus only
	AlertSuppressed AlertState = "suppressed" // silenced or inhibited
	AlertResolved   AlertState = "resolved"
)

// Alert is one alert instance. Service is the value of the first of the
// conventions' alert service labels that the alert carries, and
// ServiceLabel is that label's name; backends fill both.
type Alert struct {
	Name         string     `json:"name"`
	Service      string     `json:"service,omitempty"`
	ServiceLabel string     `json:"service_label,omitempty"`
	Fingerprint  string     `json:"fingerprint,omitempty"`
	State        AlertState `json:"state"`
	Severity     string     `json:"severity,omitempty"`
	Labels       Labels     `json:"labels"`
	Annotations  Labels     `json:"annotations,omitempty"`
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       time.Time  `json:"ends_at,omitempty"`
	SilencedBy   []string   `json:"silenced_by,omitempty"`
	InhibitedBy  []string   `json:"inhibited_by,omitempty"`
	GeneratorURL string     `json:"generator_url,omitempty"`
}

// Firing is one contiguous run of an alert firing, as the backend's
// alert history tells it: Start and End are its first and last firing
// samples, so each is known to within Step; End is zero when it still
// fired at the end of the range read. Alert carries the labels, name,
// service and severity; its StartsAt and EndsAt repeat Start and End.
// Source says what it was read from, in the words a record's stamps use:
// `ALERTS{alertname="X",service="y"} at 1m steps (prometheus)`.
type Firing struct {
	Alert  Alert         `json:"alert"`
	Start  time.Time     `json:"start"`
	End    time.Time     `json:"end,omitzero"`
	Step   time.Duration `json:"step"`
	Source string        `json:"source"`
}

// Matcher selects alerts by label, as Alertmanager silences do.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"is_regex"`
	IsEqual bool   `json:"is_equal"`
}

// SilenceState is Alertmanager's silence state.
type SilenceState string

const (
	SilenceActive  SilenceState = "active"
	SilencePending SilenceState = "pending"
	SilenceExpired SilenceState = "expired"
)

// Silence mutes the alerts its matchers select between StartsAt and EndsAt.
type Silence struct {
	ID        string       `json:"id,omitempty"`
	Matchers  []Matcher    `json:"matchers"`
	StartsAt  time.Time    `json:"starts_at"`
	EndsAt    time.Time    `json:"ends_at"`
	CreatedBy string       `json:"created_by"`
	Comment   string       `json:"comment"`
	State     SilenceState `json:"state,omitempty"`
}

// RuleGroup is a Prometheus rule group.
type RuleGroup struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Rules []Rule `json:"rules"`
}

// Rule is an alerting or recording rule; Query is its PromQL as loaded.
type Rule struct {
	Name   string  `json:"name"`
	Type   string  `json:"type"` // "alerting" or "recording"
	Query  string  `json:"query"`
	Health string  `json:"health"`
	Error  string  `json:"error,omitempty"`
	Alerts []Alert `json:"alerts,omitempty"`
}

// BuildInfo is what a backend says about its own version.
type BuildInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
}

// ChangeKind says what kind of operator change a Change is.
type ChangeKind string

const (
	ChangeDeploy   ChangeKind = "deploy"
	ChangeRollback ChangeKind = "rollback"
	ChangeRestart  ChangeKind = "restart"
	ChangeScale    ChangeKind = "scale"
	ChangeConfig   ChangeKind = "config"
)

// Change is a deploy or another change made to a service, the usual first
// suspect of an incident.
type Change struct {
	T       time.Time  `json:"t"`
	Service string     `json:"service"`
	Kind    ChangeKind `json:"kind"`
	Version string     `json:"version,omitempty"`
	Detail  string     `json:"detail"`
	// Source says what the change was read from, so evidence can cite
	// it: "prometheus: build_info", "grafana annotation 4182", "simulator".
	Source string `json:"source,omitempty"`
}

// Saturation is how full one resource of one service is over time: a
// connection pool, the worker pool, or CPU. Used holds absolute values in
// the resource's unit (connections, workers, cores) and Limit the limit
// over time, so evidence can say "500/500" and a pool resized inside the
// window is judged at each instant against the size it had then.
type Saturation struct {
	Service  string `json:"service"`
	Resource string `json:"resource"` // "pool:payment-db", "workers", "cpu", "memory"
	// Max is the limit as one number: the one in force when the resource
	// was fullest (Fullest). Readers judging a moment use LimitAt; Max is
	// the fallback when Limit has no usable sample.
	Max  float64 `json:"max"`
	Used Series  `json:"used"`
	// Limit is the limit's samples, on Used's steps where the backend
	// reads it as a series; empty when the limit is only known as Max.
	Limit Series `json:"limit,omitzero"`
	// Source says what the figures were read from: "prometheus: hikaricp",
	// "simulator".
	Source string `json:"source,omitempty"`
}

// LimitAt is the limit in force at t: the last positive Limit sample at
// or before t (the first one when t precedes them all, as a limit read
// from its first scrape was in force before it), or Max when Limit has no
// positive sample. Samples 0 or below are no limit and are passed over.
func (s Saturation) LimitAt(t time.Time) float64 {
	ps := s.Limit.Samples
	// Limit is in time order: the first sample after t
	i, _ := slices.BinarySearchFunc(ps, t, func(p Sample, t time.Time) int {
		if p.T.After(t) {
			return 1
		}
		return -1
	})
	for j := i - 1; j >= 0; j-- {
		if ps[j].V > 0 {
			return ps[j].V
		}
	}
	for _, p := range ps[i:] {
		if p.V > 0 {
			return p.V
		}
	}
	return s.Max
}

// Fullest is the Used sample with the highest share of the limit in force
// at its time, and that limit: 7 of 10 at 01:38 is less full than 1 of 1
// at 01:50. Of equal shares the smaller limit wins (1/1 says more than
// 10/10 of a pool resized between them), then the earlier. ok is false
// when no sample has a positive limit.
func (s Saturation) Fullest() (used Sample, limit float64, ok bool) {
	best := math.Inf(-1)
	for _, p := range s.Used.Samples {
		m := s.LimitAt(p.T)
		if m <= 0 {
			continue
		}
		if share := p.V / m; share > best || share == best && m < limit {
			best, used, limit, ok = share, p, m, true
		}
	}
	return used, limit, ok
}

// PoolResource is the Resource of a connection pool's Saturation towards
// target (a database, a cache, another service): "pool:<target>". Backends
// build it and correlate reads it back with PoolTarget, so the prefix lives
// in one place.
func PoolResource(target string) string { return poolPrefix + target }

// PoolTarget is the target of a pool's Resource ("pool:payment-db" gives
// "payment-db", true); ok is false for any other resource ("workers",
// "cpu", "memory").
func PoolTarget(resource string) (target string, ok bool) {
	return strings.CutPrefix(resource, poolPrefix)
}

// poolPrefix starts the Resource of every pool's Saturation.
const poolPrefix = ResourceKindPool + ":"
