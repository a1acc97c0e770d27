package main

import (
	"fmt"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/httpx"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/alertmanager"
	"github.com/oncall-cockpit/oncall/sources/grafana"
	"github.com/oncall-cockpit/oncall/sources/loki"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
	"github.com/oncall-cockpit/oncall/sources/tempo"
)

// backends are the clients for the configured datasources; nil when absent.
type backends struct {
	Prometheus *prometheus.Client
	// PrometheusPresets sends the changes and saturation presets'
	// queries to the same server on an HTTP client of its own: its own
	// breaker and retries, so a preset the server fails on (a heavy kube
	// query answering 503) cannot open the breaker that RED, the service
	// graph and SLOs go through.
	PrometheusPresets *prometheus.Client
	Loki              *loki.Client
	Tempo             *tempo.Client
	Alertmanager      *alertmanager.Client
	// Annotations reads Grafana's annotations as changes, when the
	// config's grafana.annotations is set.
	Annotations *grafana.Client
	// Doctors lists every configured backend in config order, for `doctor`.
	Doctors []namedDoctor
}

type namedDoctor struct {
	Name   string
	URL    string
	Doctor sources.Doctor
}

func httpOptions(name string, ds *config.Datasource) httpx.Options {
	o := httpx.Options{
		Backend: name, Timeout: ds.RequestTimeout(), MaxConcurrent: ds.MaxConcurrency,
		BearerToken: ds.BearerToken.Reveal(), Tenant: ds.Tenant,
		CAFile: ds.TLS.CAFile, CertFile: ds.TLS.CertFile, KeyFile: ds.TLS.KeyFile, InsecureSkipVerify: ds.TLS.InsecureSkipVerify,
		// Prometheus sends read-only queries as POST forms.
		IdempotentPOST: name == "prometheus",
	}
	if ds.Retries != nil {
		o.Retries = *ds.Retries
		if o.Retries == 0 {
			o.Retries = -1 // httpx: zero means default, -1 means none
		}
	}
	if ba := ds.BasicAuth; ba != nil {
		o.Username, o.Password = ba.Username, ba.Password.Reveal()
	}
	if len(ds.Headers) > 0 {
		o.Headers = map[string]string{}
		for k, v := range ds.Headers {
			o.Headers[k] = v.Reveal()
		}
	}
	return o
}

// newBackends makes a client for each configured datasource. Only
// configWorld calls it: every command reaches the backends through its
// World, so the config is turned into clients in one place. requests,
// when not nil, logs every request they send (--verbose).
func newBackends(cfg *config.Config, requests *httpx.RequestLog) (*backends, error) {
	b := &backends{}
	var err error
	cfg.Datasources.Each(func(name string, ds *config.Datasource) {
		if err != nil {
			return
		}
		o := httpOptions(name, ds)
		o.Log = requests
		var presets httpx.Options
		if name == "prometheus" {
			presets = o
			presets.Backend = presetsBackend
			o.MaxConcurrent, presets.MaxConcurrent = splitConcurrency(o.MaxConcurrent)
		}
		hc, e := httpx.NewClient(o)
		if e != nil {
			err = fmt.Errorf("datasource %s: %w", name, e)
			return
		}
		var d sources.Doctor
		switch name {
		case "prometheus":
			b.Prometheus, e = prometheus.New(ds.URL, hc, cfg.Conventions)
			d = b.Prometheus
			if e == nil {
				b.PrometheusPresets, e = newPresetsClient(ds.URL, presets, cfg.Conventions)
			}
		case "loki":
			b.Loki, e = loki.New(ds.URL, hc, cfg.Conventions)
			d = b.Loki
		case "tempo":
			b.Tempo, e = tempo.New(ds.URL, hc)
			d = b.Tempo
		case "alertmanager":
			b.Alertmanager, e = alertmanager.New(ds.URL, hc, cfg.Conventions)
			d = b.Alertmanager
		}
		if e != nil {
			err = fmt.Errorf("datasource %s: %w", name, e)
			return
		}
		b.Doctors = append(b.Doctors, namedDoctor{Name: name, URL: ds.URL, Doctor: d})
	})
	if err != nil || !cfg.Grafana.AnnotationsOn() {
		return b, err
	}
	b.Annotations, err = newAnnotations(cfg.Grafana, requests)
	if err != nil {
		return b, fmt.Errorf("grafana annotations: %w", err)
	}
	b.Doctors = append(b.Doctors, namedDoctor{Name: "grafana annotations", URL: cfg.Grafana.URL, Doctor: b.Annotations})
	return b, nil
}

// presetsBackend names the presets' client in the -v request log and its
// breaker, so a line shows which of the two clients sent it.
const presetsBackend = "prometheus-presets"

// presetsConcurrencyShare is the part of a Prometheus datasource's
// in-flight limit its presets' client gets: the presets send about a dozen
// queries per incident, RED and the service graph several per service.
const presetsConcurrencyShare = 4 // one quarter

// splitConcurrency divides a Prometheus datasource's max_concurrency
// between its RED client and its presets' client, so that the two together
// send the server no more than the user allowed (but when the limit is 1:
// each client needs a slot, so 2).
func splitConcurrency(limit int) (red, presets int) {
	if limit <= 0 {
		limit = httpx.DefaultMaxConcurrent
	}
	presets = max(1, limit/presetsConcurrencyShare)
	return max(1, limit-presets), presets
}

// newPresetsClient is the Prometheus client of the changes and saturation
// presets, on an HTTP client of its own made from o.
func newPresetsClient(addr string, o httpx.Options, conv sources.Conventions) (*prometheus.Client, error) {
	hc, err := httpx.NewClient(o)
	if err != nil {
		return nil, err
	}
	return prometheus.New(addr, hc, conv)
}

// newAnnotations is the client of Grafana's annotations, sent as a
// datasource's requests are: the same timeouts, retries and scrubbing of
// the token from errors and the request log.
func newAnnotations(g config.Grafana, requests *httpx.RequestLog) (*grafana.Client, error) {
	o := httpOptions("grafana", &config.Datasource{URL: g.URL, BearerToken: g.BearerToken, TLS: g.TLS, Timeout: g.Timeout})
	o.Log = requests
	hc, err := httpx.NewClient(o)
	if err != nil {
		return nil, err
	}
	a := g.Annotations
	return grafana.New(g.URL, hc, grafana.Options{Tags: a.Tags, ServiceTag: a.ServiceTag, Limit: a.Limit})
}

// sources are the configured clients as a set.
func (b *backends) sources() sources.Set {
	var s sources.Set
	// only non-nil clients: a nil pointer in an interface is not a nil interface
	var changes []sources.Changes
	if b.Prometheus != nil {
		s.Metrics, s.SLIs = b.Prometheus, b.Prometheus
	}
	if b.PrometheusPresets != nil {
		s.Resources = b.PrometheusPresets
		changes = append(changes, b.PrometheusPresets)
	}
	if b.Annotations != nil {
		changes = append(changes, b.Annotations)
	}
	if len(changes) > 0 {
		s.Changes = sources.MergeChanges(changes...)
	}
	if b.Loki != nil {
		s.Logs = b.Loki
	}
	if b.Tempo != nil {
		s.Traces = b.Tempo
	}
	if b.Alertmanager != nil {
		s.Alerts = b.Alertmanager
	} else if b.Prometheus != nil {
		// Alertmanager stays the source where there is one: it dedupes
		// and knows silences; without it the rules' alerts are read
		s.RuleAlerts = b.Prometheus
	}
	return s
}
