package config

import (
	"strconv"

	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

// Config is the whole configuration file.
type Config struct {
	// CurrentContext names the context used when neither --context nor
	// $ONCALL_CONTEXT names one.
	CurrentContext string             `yaml:"current-context,omitempty" json:"current-context,omitempty"`
	Contexts       map[string]Context `yaml:"contexts,omitempty" json:"contexts,omitempty"`
	// Context is the context in use, after UseContext; "" for the
	// top-level datasources.
	Context     string              `yaml:"-" json:"context,omitempty"`
	Datasources Datasources         `yaml:"datasources" json:"datasources"`
	Conventions sources.Conventions `yaml:"conventions" json:"conventions"`
	Services    map[string]Service  `yaml:"services,omitempty" json:"services,omitempty"`
	SLOs        []SLO               `yaml:"slos,omitempty" json:"slos,omitempty"`
	// SLOFiles are Sloth, Pyrra, OpenSLO or oncall SLO files, read as
	// they are; their SLOs join SLOs.
	SLOFiles []string `yaml:"slo_files,omitempty" json:"slo_files,omitempty"`
	Runbooks string   `yaml:"runbooks,omitempty" json:"runbooks,omitempty"` // a directory of runbook files
	// Remediation is the policy runbooks run under: what may run without a
	// human, the guardrails, the audit log and whom to escalate to.
	Remediation Remediation `yaml:"remediation,omitempty" json:"remediation,omitempty"`
	// Incident is how an incident gathers its evidence.
	Incident Incident `yaml:"incident,omitempty" json:"incident,omitempty"`
	// History is where incidents are remembered, and the hours pages
	// count as in hours.
	History History `yaml:"history,omitempty" json:"history,omitempty"`
	// Chaos is where chaos experiments are, and when the daemon may
	// start one.
	Chaos    Chaos   `yaml:"chaos,omitempty" json:"chaos,omitempty"`
	Theme    string  `yaml:"theme,omitempty" json:"theme,omitempty"` // dark, light, high-contrast, colorblind, or a palette YAML file
	Grafana  Grafana `yaml:"grafana,omitempty" json:"grafana,omitempty"`
	Currency string  `yaml:"currency,omitempty" json:"currency,omitempty"` // for value_per_request; default USD
	// Warnings are what the file says that is valid but probably not
	// meant (an objective of 0.999, which is 0.999%); config validate
	// prints them.
	Warnings problem.Problems `yaml:"-" json:"-"`
}

// Context is one named stack, like kubectl's: its datasources, and how
// carefully oncall acts in it. Conventions, services, SLOs and runbooks
// are shared by every context.
type Context struct {
	Datasources Datasources `yaml:"datasources" json:"datasources"`
	// ReadOnly refuses every action in this context, as --read-only does.
	ReadOnly bool `yaml:"read_only,omitempty" json:"read_only,omitempty"`
	// Confirm "typed" makes every acknowledgement and action ask for the
	// context's name to be typed, instead of y.
	Confirm string `yaml:"confirm,omitempty" json:"confirm,omitempty"`
	// Color is the colour of the context's name in the cockpit's header,
	// like #d55e00; by default one of the theme's series.
	Color string `yaml:"color,omitempty" json:"color,omitempty"`
	// Grafana replaces the top-level grafana for this context.
	Grafana *Grafana `yaml:"grafana,omitempty" json:"grafana,omitempty"`
}

// Remediation is the runbooks' policy.
type Remediation struct {
	// Automatable are the action categories the autopilot may run alone.
	// data-corruption, security, financial-transactions and unknown never are.
	Automatable []string `yaml:"automatable,omitempty" json:"automatable,omitempty"`
	// Cooldown between two runs of one action on one target (default 10m).
	Cooldown timeparse.Duration `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
	// RatePerAction and RatePerService cap runs, as runs/duration (default 3/1h).
	RatePerAction  string `yaml:"rate_per_action,omitempty" json:"rate_per_action,omitempty"`
	RatePerService string `yaml:"rate_per_service,omitempty" json:"rate_per_service,omitempty"`
	// MaxConcurrent caps actions running at once across cockpits (default 2).
	MaxConcurrent int `yaml:"max_concurrent,omitempty" json:"max_concurrent,omitempty"`
	// ProposalTTL is how long an autopilot proposal waits (default 30m).
	ProposalTTL timeparse.Duration `yaml:"proposal_ttl,omitempty" json:"proposal_ttl,omitempty"`
	// AuditLog is the audit file (default $XDG_DATA_HOME/oncall/audit.jsonl).
	AuditLog   string       `yaml:"audit_log,omitempty" json:"audit_log,omitempty"`
	Escalation []Escalation `yaml:"escalation,omitempty" json:"escalation,omitempty"`
}

// Incident is how an incident, in the CLI, the cockpit and a runbook's
// look, gathers its evidence.
type Incident struct {
	// Deadline is how long to wait for the evidence; by default the
	// longest datasource timeout plus DeadlineMargin (IncidentDeadline).
	Deadline timeparse.Duration `yaml:"deadline,omitempty" json:"deadline,omitempty"`
}

// History is where incidents are remembered (docs/history.md).
type History struct {
	// DSN is postgres://… for one history a team shares (and the
	// remediation ledger's strong lock), or a SQLite file; default
	// $XDG_DATA_HOME/oncall/history.db. A password in it is a secret.
	DSN DSN `yaml:"dsn,omitempty" json:"dsn,omitempty"`
	// WorkingHours are the hours a page is in hours, e.g. "09:00-18:00
	// Mon-Fri" (the default), in --timezone.
	WorkingHours string `yaml:"working_hours,omitempty" json:"working_hours,omitempty"`
}

// NeverAutomatable are the action categories that always go to a human
// (the same list as remediate.NeverAutomatable; a test keeps them equal).
var NeverAutomatable = []string{"data-corruption", "security", "financial-transactions", "unknown"}

// Escalation is one place escalations go.
type Escalation struct {
	Name string `yaml:"name" json:"name"`
	Kind string `yaml:"kind" json:"kind"` // pagerduty, slack or webhook
	// URL: for slack and webhook, required (a Slack webhook URL is a
	// secret); for pagerduty, the Events API v2 endpoint by default.
	URL        Secret            `yaml:"url,omitempty" json:"url,omitempty"`
	RoutingKey Secret            `yaml:"routing_key,omitempty" json:"routing_key,omitempty"` // pagerduty's integration key
	Headers    map[string]Secret `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// Grafana is where the cockpit's Explore links point: the URL, and the
// UIDs of Grafana's datasources for prometheus, loki and tempo; and,
// when Annotations is set, where the incident reads deploy annotations.
type Grafana struct {
	URL         string            `yaml:"url,omitempty" json:"url,omitempty"`
	Datasources map[string]string `yaml:"datasources,omitempty" json:"datasources,omitempty"`
	// BearerToken is a service account token that may read annotations;
	// the links need none.
	BearerToken Secret `yaml:"bearer_token,omitempty" json:"bearer_token,omitempty"`
	// Annotations, when set, makes Grafana's annotations a source of changes.
	Annotations *GrafanaAnnotations `yaml:"annotations,omitempty" json:"annotations,omitempty"`
	// TLS and Timeout are the annotations requests', as a datasource's.
	TLS     TLS                `yaml:"tls,omitempty" json:"tls,omitempty"`
	Timeout timeparse.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// GrafanaAnnotations says which of Grafana's annotations are changes and
// how a change's service is read from their tags.
type GrafanaAnnotations struct {
	// Tags, when set, keeps only the annotations that carry all of them
	// (Grafana's own tags filter), e.g. [deploy].
	Tags []string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// ServiceTag is the tag key naming the service, as in service:checkout
	// or service=checkout; default "service".
	ServiceTag string `yaml:"service_tag,omitempty" json:"service_tag,omitempty"`
	// Limit bounds how many annotations one incident reads; default 500.
	Limit int `yaml:"limit,omitempty" json:"limit,omitempty"`
}

// AnnotationsOn reports whether Grafana's annotations are to be read as
// changes.
func (g Grafana) AnnotationsOn() bool { return g.Annotations != nil && g.URL != "" }

// ConfirmTyped is the Confirm value that asks for the context's name.
const ConfirmTyped = "typed"

// Datasources are the four backends; an absent one is not used.
type Datasources struct {
	Prometheus   *Datasource `yaml:"prometheus,omitempty" json:"prometheus,omitempty"`
	Loki         *Datasource `yaml:"loki,omitempty" json:"loki,omitempty"`
	Tempo        *Datasource `yaml:"tempo,omitempty" json:"tempo,omitempty"`
	Alertmanager *Datasource `yaml:"alertmanager,omitempty" json:"alertmanager,omitempty"`
}

// Each calls f for every configured datasource, in a fixed order.
func (d Datasources) Each(f func(name string, ds *Datasource)) {
	for _, x := range []struct {
		name string
		ds   *Datasource
	}{{"prometheus", d.Prometheus}, {"loki", d.Loki}, {"tempo", d.Tempo}, {"alertmanager", d.Alertmanager}} {
		if x.ds != nil {
			f(x.name, x.ds)
		}
	}
}

// Datasource is how to reach one backend.
type Datasource struct {
	URL             string             `yaml:"url" json:"url"`
	BasicAuth       *BasicAuth         `yaml:"basic_auth,omitempty" json:"basic_auth,omitempty"`
	BearerToken     Secret             `yaml:"bearer_token,omitempty" json:"bearer_token,omitempty"`
	BearerTokenFile string             `yaml:"bearer_token_file,omitempty" json:"bearer_token_file,omitempty"`
	Tenant          string             `yaml:"tenant,omitempty" json:"tenant,omitempty"` // sent as X-Scope-OrgID
	Headers         map[string]Secret  `yaml:"headers,omitempty" json:"headers,omitempty"`
	TLS             TLS                `yaml:"tls,omitempty" json:"tls,omitempty"`
	Timeout         timeparse.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	Retries         *int               `yaml:"retries,omitempty" json:"retries,omitempty"`
	MaxConcurrency  int                `yaml:"max_concurrency,omitempty" json:"max_concurrency,omitempty"`
}

// BasicAuth is a username and a password, or a file holding the password.
type BasicAuth struct {
	Username     string `yaml:"username" json:"username"`
	Password     Secret `yaml:"password,omitempty" json:"password,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty" json:"password_file,omitempty"`
}

// TLS configures the client side of TLS.
type TLS struct {
	CAFile             string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty" json:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty" json:"key_file,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty" json:"insecure_skip_verify,omitempty"`
}

// Service is optional metadata about one service.
type Service struct {
	Owner           string   `yaml:"owner,omitempty" json:"owner,omitempty"`
	Tier            int      `yaml:"tier,omitempty" json:"tier,omitempty"`
	ValuePerRequest float64  `yaml:"value_per_request,omitempty" json:"value_per_request,omitempty"` // money per successful request, in Currency
	Runbooks        []string `yaml:"runbooks,omitempty" json:"runbooks,omitempty"`                   // links
	DependsOn       []string `yaml:"depends_on,omitempty" json:"depends_on,omitempty"`               // static dependencies
}

// SLO is a service level objective over a rolling window.
type SLO struct {
	Name    string `yaml:"name" json:"name"`
	Service string `yaml:"service" json:"service"`
	// Indicator is availability (the default), latency or raw.
	Indicator string             `yaml:"indicator,omitempty" json:"indicator,omitempty"`
	Objective float64            `yaml:"objective" json:"objective"` // percent, e.g. 99.9
	Window    timeparse.Duration `yaml:"window" json:"window"`       // e.g. 28d
	// Availability: counter selectors of the errors (or good events) and
	// of all events; all empty means the conventions' RED metrics.
	Errors string `yaml:"errors,omitempty" json:"errors,omitempty"`
	Good   string `yaml:"good,omitempty" json:"good,omitempty"`
	Total  string `yaml:"total,omitempty" json:"total,omitempty"`
	// Latency: requests faster than the threshold are good, counted on
	// the histogram (a _bucket selector; default: the conventions').
	LatencyThreshold timeparse.Duration `yaml:"latency_threshold,omitempty" json:"latency_threshold,omitempty"`
	Histogram        string             `yaml:"histogram,omitempty" json:"histogram,omitempty"`
	// Raw: PromQL of the bad (or good) and total event rates with
	// {{.Window}}, or of the error ratio.
	ErrorQuery      string `yaml:"error_query,omitempty" json:"error_query,omitempty"`
	GoodQuery       string `yaml:"good_query,omitempty" json:"good_query,omitempty"`
	TotalQuery      string `yaml:"total_query,omitempty" json:"total_query,omitempty"`
	ErrorRatioQuery string `yaml:"error_ratio_query,omitempty" json:"error_ratio_query,omitempty"`
	// Recorded names Sloth's or Pyrra's recording rules for this SLO.
	Recorded *SLORecording `yaml:"recorded,omitempty" json:"recorded,omitempty"`
	// Alerting is the burn-rate policy; empty: the SRE Workbook's.
	Alerting []BurnAlert `yaml:"alerting,omitempty" json:"alerting,omitempty"`
	// ValuePerMinuteDown is what a minute of full outage costs, in the
	// config's currency.
	ValuePerMinuteDown float64 `yaml:"value_per_minute_down,omitempty" json:"value_per_minute_down,omitempty"`
	// Origin is where the SLO was read: file:line, and the format when
	// imported. Not read from YAML.
	Origin string `yaml:"-" json:"origin,omitempty"`
}

// SLORecording names an SLO tool's recording rules.
type SLORecording struct {
	By     string `yaml:"by" json:"by"` // sloth or pyrra
	ID     string `yaml:"id" json:"id"`
	Metric string `yaml:"metric,omitempty" json:"metric,omitempty"`
}

// BurnAlert is one multiwindow burn-rate alert of an SLO's policy.
type BurnAlert struct {
	Severity string             `yaml:"severity" json:"severity"` // page or ticket
	Long     timeparse.Duration `yaml:"long" json:"long"`
	Short    timeparse.Duration `yaml:"short" json:"short"`
	Factor   float64            `yaml:"factor" json:"factor"`
}

// Secret is a credential. It prints, marshals and logs as "<redacted>";
// only Reveal returns the value.
type Secret string

const redacted = "<redacted>"

// Reveal returns the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// MarshalYAML redacts.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }
