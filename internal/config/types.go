package config

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/sources"
)

// Config is the whole configuration file.
type Config struct {
	Datasources Datasources         `yaml:"datasources"`
	Conventions sources.Conventions `yaml:"conventions"`
	Services    map[string]Service  `yaml:"services,omitempty"`
	SLOs        []SLO               `yaml:"slos,omitempty"`
	Runbooks    string              `yaml:"runbooks,omitempty"` // a directory of runbook files
	Theme       string              `yaml:"theme,omitempty"`    // dark, light, high-contrast, colorblind, or a palette YAML file
	Currency    string              `yaml:"currency,omitempty"` // for value_per_request; default USD
}

// Datasources are the four backends; an absent one is not used.
type Datasources struct {
	Prometheus   *Datasource `yaml:"prometheus,omitempty"`
	Loki         *Datasource `yaml:"loki,omitempty"`
	Tempo        *Datasource `yaml:"tempo,omitempty"`
	Alertmanager *Datasource `yaml:"alertmanager,omitempty"`
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
	URL             string            `yaml:"url"`
	BasicAuth       *BasicAuth        `yaml:"basic_auth,omitempty"`
	BearerToken     Secret            `yaml:"bearer_token,omitempty"`
	BearerTokenFile string            `yaml:"bearer_token_file,omitempty"`
	Tenant          string            `yaml:"tenant,omitempty"` // sent as X-Scope-OrgID
	Headers         map[string]Secret `yaml:"headers,omitempty"`
	TLS             TLS               `yaml:"tls,omitempty"`
	Timeout         Duration          `yaml:"timeout,omitempty"`
	Retries         *int              `yaml:"retries,omitempty"`
	MaxConcurrency  int               `yaml:"max_concurrency,omitempty"`
}

// BasicAuth is a username and a password, or a file holding the password.
type BasicAuth struct {
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
}

// TLS configures the client side of TLS.
type TLS struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// Service is optional metadata about one service.
type Service struct {
	Owner           string   `yaml:"owner,omitempty"`
	Tier            int      `yaml:"tier,omitempty"`
	ValuePerRequest float64  `yaml:"value_per_request,omitempty"` // money per successful request, in Currency
	Runbooks        []string `yaml:"runbooks,omitempty"`          // links
	DependsOn       []string `yaml:"depends_on,omitempty"`        // static dependencies
}

// SLO is a service level objective over a rolling window.
type SLO struct {
	Name             string   `yaml:"name"`
	Service          string   `yaml:"service"`
	Indicator        string   `yaml:"indicator"` // availability or latency
	Objective        float64  `yaml:"objective"` // percent, e.g. 99.9
	Window           Duration `yaml:"window"`    // e.g. 28d
	LatencyThreshold Duration `yaml:"latency_threshold,omitempty"`
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
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", s.String())), nil }

// Duration accepts Prometheus-style durations: 90s, 5m, 1h30m, 28d, 1w.
type Duration time.Duration

// UnmarshalYAML parses the duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML prints the duration the way it is written.
func (d Duration) MarshalYAML() (any, error) { return model.Duration(d).String(), nil }

func parseDuration(s string) (time.Duration, error) {
	v, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (want e.g. 30s, 5m, 1h, 28d)", s)
	}
	return time.Duration(v), nil
}
