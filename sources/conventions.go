package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

// Conventions say how this fleet names things. The defaults match the
// OpenTelemetry and Grafana stack (Tempo metrics-generator, Loki 3 with
// structured metadata). Backends read them to build their queries.
type Conventions struct {
	ServiceLabel ServiceLabels      `yaml:"service_label" json:"service_label"`
	TraceID      TraceIDConventions `yaml:"trace_id" json:"trace_id"`
	RED          REDTemplates       `yaml:"red" json:"red"`
	ServiceGraph ServiceGraphNames  `yaml:"service_graph" json:"service_graph"`
	// LokiSelector is extra stream matchers added to every LogQL selector,
	// e.g. `env="prod"`.
	LokiSelector string `yaml:"loki_selector,omitempty" json:"loki_selector,omitempty"`
	// LevelLabel is the Loki label or structured-metadata field holding the level.
	LevelLabel string           `yaml:"level_label" json:"level_label"`
	Alerts     AlertConventions `yaml:"alerts" json:"alerts"`
	// Resources say where pool, CPU and memory saturation is read from.
	Resources ResourceConventions `yaml:"resources" json:"resources"`
	// Changes say where deploys, restarts and scaling are read from.
	Changes ChangeConventions `yaml:"changes" json:"changes"`
}

// AlertConventions say which alert label holds the service and which
// alerts page on an SLO's error-budget burn.
type AlertConventions struct {
	// ServiceLabels are tried in order; the first one an alert has names
	// its service.
	ServiceLabels []string `yaml:"service_labels" json:"service_labels"`
	// BurnRate lists the names of SLO burn-rate alerts: Pyrra names its
	// alert ErrorBudgetBurn, and Sloth's are named per SLO in its spec.
	BurnRate []string `yaml:"burn_rate" json:"burn_rate"`
}

// Service returns the label that names an alert's service and its value,
// or two empty strings when the alert has none of ServiceLabels.
func (c AlertConventions) Service(l Labels) (label, service string) {
	for _, name := range c.ServiceLabels {
		if v := l[name]; v != "" {
			return name, v
		}
	}
	return "", ""
}

// IsBurnRate reports whether an alert of this name pages on an SLO's
// error-budget burn.
func (c AlertConventions) IsBurnRate(name string) bool {
	for _, n := range c.BurnRate {
		if n == name {
			return true
		}
	}
	return false
}

// ServiceLabels name the label that holds the service name, per backend.
type ServiceLabels struct {
	Loki        string `yaml:"loki" json:"loki"`
	SpanMetrics string `yaml:"spanmetrics" json:"spanmetrics"`
	Prometheus  string `yaml:"prometheus" json:"prometheus"`
}

// TraceIDConventions say where trace IDs live in log lines, tried in order:
// a stream label or structured-metadata field, JSON fields, then regexes
// whose first capture group is the ID (as Grafana's derived fields).
type TraceIDConventions struct {
	Label      string   `yaml:"label" json:"label"`
	JSONFields []string `yaml:"json_fields" json:"json_fields"`
	Regexes    []string `yaml:"regexes" json:"regexes"`
}

// REDTemplates are PromQL templates for rate, errors and p99 latency. Each
// is a Go text/template over REDTemplateData. Preset fills them.
type REDTemplates struct {
	Preset  string `yaml:"preset" json:"preset"` // spanmetrics, otel-http or custom
	Rate    string `yaml:"rate,omitempty" json:"rate,omitempty"`
	Errors  string `yaml:"errors,omitempty" json:"errors,omitempty"`
	Latency string `yaml:"latency,omitempty" json:"latency,omitempty"`
	// Buckets is the rate of the latency histogram's buckets by le, for
	// latency SLOs. Optional with the custom preset.
	Buckets string `yaml:"buckets,omitempty" json:"buckets,omitempty"`
}

// REDTemplateData is what a RED template sees. Service is a regular
// expression (already escaped, `.+` for all services), so templates select
// with `{{.ServiceLabel}}=~"{{.Service}}"` and aggregate `by ({{.ServiceLabel}})`.
type REDTemplateData struct {
	Service      string
	ServiceLabel string
	Window       string
}

// ServiceGraphNames are Tempo's service-graph metric names.
type ServiceGraphNames struct {
	RequestTotal        string `yaml:"request_total" json:"request_total"`
	FailedTotal         string `yaml:"failed_total" json:"failed_total"`
	ServerSecondsBucket string `yaml:"server_seconds_bucket" json:"server_seconds_bucket"`
}

// RED presets. Custom templates are validated against the same data.
const (
	PresetSpanMetrics = "spanmetrics"
	PresetOTelHTTP    = "otel-http"
	PresetCustom      = "custom"
)

var redPresets = map[string]REDTemplates{
	PresetSpanMetrics: {
		Rate:    `sum by ({{.ServiceLabel}}) (rate(traces_spanmetrics_calls_total{ {{- .ServiceLabel}}=~"{{.Service}}", span_kind="SPAN_KIND_SERVER"}[{{.Window}}]))`,
		Errors:  `sum by ({{.ServiceLabel}}) (rate(traces_spanmetrics_calls_total{ {{- .ServiceLabel}}=~"{{.Service}}", span_kind="SPAN_KIND_SERVER", status_code="STATUS_CODE_ERROR"}[{{.Window}}]))`,
		Latency: `histogram_quantile(0.99, sum by ({{.ServiceLabel}}, le) (rate(traces_spanmetrics_latency_bucket{ {{- .ServiceLabel}}=~"{{.Service}}", span_kind="SPAN_KIND_SERVER"}[{{.Window}}])))`,
		Buckets: `sum by ({{.ServiceLabel}}, le) (rate(traces_spanmetrics_latency_bucket{ {{- .ServiceLabel}}=~"{{.Service}}", span_kind="SPAN_KIND_SERVER"}[{{.Window}}]))`,
	},
	PresetOTelHTTP: {
		Rate:    `sum by ({{.ServiceLabel}}) (rate(http_server_request_duration_seconds_count{ {{- .ServiceLabel}}=~"{{.Service}}"}[{{.Window}}]))`,
		Errors:  `sum by ({{.ServiceLabel}}) (rate(http_server_request_duration_seconds_count{ {{- .ServiceLabel}}=~"{{.Service}}", http_response_status_code=~"5.."}[{{.Window}}]))`,
		Latency: `histogram_quantile(0.99, sum by ({{.ServiceLabel}}, le) (rate(http_server_request_duration_seconds_bucket{ {{- .ServiceLabel}}=~"{{.Service}}"}[{{.Window}}])))`,
		Buckets: `sum by ({{.ServiceLabel}}, le) (rate(http_server_request_duration_seconds_bucket{ {{- .ServiceLabel}}=~"{{.Service}}"}[{{.Window}}]))`,
	},
}

// DefaultConventions match Tempo's metrics-generator and Loki 3.
func DefaultConventions() Conventions {
	return Conventions{
		ServiceLabel: ServiceLabels{Loki: "service_name", SpanMetrics: "service", Prometheus: "job"},
		TraceID: TraceIDConventions{
			Label:      "trace_id",
			JSONFields: []string{"trace_id", "traceId", "traceID"},
			Regexes:    []string{`(?:traceID|trace_id|traceId)=(\w+)`},
		},
		RED:          REDTemplates{Preset: PresetSpanMetrics},
		ServiceGraph: ServiceGraphNames{RequestTotal: "traces_service_graph_request_total", FailedTotal: "traces_service_graph_request_failed_total", ServerSecondsBucket: "traces_service_graph_request_server_seconds_bucket"},
		LevelLabel:   "detected_level",
		Alerts: AlertConventions{
			ServiceLabels: []string{"service", "service_name", "job"},
			BurnRate:      []string{"ErrorBudgetBurn"},
		},
		Resources: DefaultResourceConventions(),
		Changes:   ChangeConventions{Presets: slices.Clone(ChangePresets)},
	}
}

// REDQueries is the compiled form of the RED templates.
type REDQueries struct {
	rate, errors, latency, buckets *template.Template
	ServiceLabel                   string
}

// CompileRED resolves the preset and parses the templates. The error names
// the template that failed.
func (c Conventions) CompileRED() (REDQueries, error) {
	t := c.RED
	label := c.ServiceLabel.Prometheus
	switch t.Preset {
	case PresetSpanMetrics:
		label = c.ServiceLabel.SpanMetrics
		fallthrough
	case PresetOTelHTTP:
		p := redPresets[t.Preset]
		t.Rate, t.Errors, t.Latency, t.Buckets = or(t.Rate, p.Rate), or(t.Errors, p.Errors), or(t.Latency, p.Latency), or(t.Buckets, p.Buckets)
	case PresetCustom:
		if t.Rate == "" || t.Errors == "" || t.Latency == "" {
			return REDQueries{}, fmt.Errorf("red preset custom needs rate, errors and latency templates")
		}
	default:
		return REDQueries{}, fmt.Errorf("red preset %q is not one of spanmetrics, otel-http, custom", t.Preset)
	}
	q := REDQueries{ServiceLabel: label}
	for _, f := range []struct {
		name string
		src  string
		dst  **template.Template
	}{{"rate", t.Rate, &q.rate}, {"errors", t.Errors, &q.errors}, {"latency", t.Latency, &q.latency}, {"buckets", t.Buckets, &q.buckets}} {
		if f.src == "" {
			continue // only buckets may be absent: checked above
		}
		tpl, err := template.New(f.name).Option("missingkey=error").Parse(f.src)
		if err != nil {
			return REDQueries{}, fmt.Errorf("red %s template: %w", f.name, err)
		}
		// Execute once so a reference to an unknown field fails at load time, not at 3 AM.
		if _, err := renderBounded(tpl, REDTemplateData{Service: ".+", ServiceLabel: label, Window: "5m"}); err != nil {
			return REDQueries{}, fmt.Errorf("red %s template: %w", f.name, err)
		}
		*f.dst = tpl
	}
	return q, nil
}

// Render returns the rate, errors and latency queries for the data.
func (q REDQueries) Render(d REDTemplateData) (rate, errs, latency string) {
	return exec(q.rate, d), exec(q.errors, d), exec(q.latency, d)
}

// RenderBuckets returns the query of the latency histogram's bucket rates
// by le, and false when the conventions have no buckets template.
func (q REDQueries) RenderBuckets(d REDTemplateData) (string, bool) {
	if q.buckets == nil {
		return "", false
	}
	return exec(q.buckets, d), true
}

func exec(t *template.Template, d REDTemplateData) string {
	var b bytes.Buffer
	_ = t.Execute(&b, d) // validated by CompileRED with the same data type
	return b.String()
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// jsonStringField finds the string value of a field in a JSON object line
// without decoding the whole line (a log line is decoded thousands of
// times a second): the first `"name"` followed by a colon and a string.
// A value with escapes is decoded properly; anything unexpected is "not
// found".
func jsonStringField(line, name string) (string, bool) {
	key := `"` + name + `"`
	for from := 0; ; {
		i := strings.Index(line[from:], key)
		if i < 0 {
			return "", false
		}
		rest := strings.TrimLeft(line[from+i+len(key):], " \t\r\n")
		from += i + len(key)
		if !strings.HasPrefix(rest, ":") {
			continue // the name was a value, not a key
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		if !strings.HasPrefix(rest, `"`) {
			return "", false
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return "", false
		}
		v := rest[1 : end+1]
		if !strings.Contains(v, `\`) {
			return v, true
		}
		var out string
		if err := json.NewDecoder(strings.NewReader(rest)).Decode(&out); err != nil {
			return "", false
		}
		return out, true
	}
}

// TraceIDExtractor finds trace IDs in log lines per the conventions.
type TraceIDExtractor struct {
	label      string
	jsonFields []string
	regexes    []*regexp.Regexp
}

// CompileTraceID compiles the regexes; the error names the one that failed.
func (c Conventions) CompileTraceID() (TraceIDExtractor, error) {
	x := TraceIDExtractor{label: c.TraceID.Label, jsonFields: c.TraceID.JSONFields}
	for i, expr := range c.TraceID.Regexes {
		re, err := regexp.Compile(expr)
		if err != nil {
			return TraceIDExtractor{}, fmt.Errorf("trace_id regex %d %q: %w", i+1, expr, err)
		}
		if re.NumSubexp() < 1 {
			return TraceIDExtractor{}, fmt.Errorf("trace_id regex %d %q has no capture group for the ID", i+1, expr)
		}
		x.regexes = append(x.regexes, re)
	}
	return x, nil
}

// Label is the stream label or structured-metadata field holding the ID.
func (x TraceIDExtractor) Label() string { return x.label }

// Extract returns the normalised trace ID of a line, or "" when none is found.
func (x TraceIDExtractor) Extract(labels Labels, line string) string {
	if x.label != "" {
		if id, err := NormalizeTraceID(labels[x.label]); err == nil {
			return id
		}
	}
	if len(x.jsonFields) > 0 && len(line) > 0 && line[0] == '{' {
		for _, f := range x.jsonFields {
			s, ok := jsonStringField(line, f)
			if !ok {
				continue
			}
			if id, err := NormalizeTraceID(s); err == nil {
				return id
			}
		}
	}
	for _, re := range x.regexes {
		if m := re.FindStringSubmatch(line); m != nil {
			if id, err := NormalizeTraceID(m[1]); err == nil {
				return id
			}
		}
	}
	return ""
}
