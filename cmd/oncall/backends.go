package main

import (
	"context"
	"fmt"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/httpx"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/alertmanager"
	"github.com/oncall-cockpit/oncall/sources/loki"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
	"github.com/oncall-cockpit/oncall/sources/tempo"
)

// backends are the clients for the configured datasources; nil when absent.
type backends struct {
	Prometheus   *prometheus.Client
	Loki         *loki.Client
	Tempo        *tempo.Client
	Alertmanager *alertmanager.Client
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
	return b, err
}

// alertList lists the alerts Alertmanager holds, else the ones
// Prometheus's rules fire; nil when neither is configured.
func (b *backends) alertList() func(context.Context) ([]sources.Alert, error) {
	switch {
	case b.Alertmanager != nil:
		return b.Alertmanager.Alerts
	case b.Prometheus != nil:
		return b.Prometheus.Alerts
	}
	return nil
}

// sources are the configured clients as a set.
func (b *backends) sources() sources.Set {
	var s sources.Set
	// only non-nil clients: a nil pointer in an interface is not a nil interface
	if b.Prometheus != nil {
		s.Metrics, s.SLIs = b.Prometheus, b.Prometheus
	}
	if b.Loki != nil {
		s.Logs = b.Loki
	}
	if b.Tempo != nil {
		s.Traces = b.Tempo
	}
	if b.Alertmanager != nil {
		s.Alerts = b.Alertmanager
	}
	return s
}
