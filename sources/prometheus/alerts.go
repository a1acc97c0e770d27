package prometheus

import (
	"context"
	"net/url"
	"sort"
	"strings"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/oncall-cockpit/oncall/sources"
)

var _ sources.AlertReader = (*Client)(nil)

// Alerts returns the alerts Prometheus's rules fire now (GET
// /api/v1/alerts), for a stack with no Alertmanager. Pending alerts are
// left out: their rule's `for:` says the condition has not yet lasted
// long enough to be an alert, Prometheus sends none of them to an
// Alertmanager, and the incident weighs every alert it is given as one
// that fires; so a stack reads the same with an Alertmanager or without.
// Rules still shows them, under their rule.
func (c *Client) Alerts(ctx context.Context) ([]sources.Alert, error) {
	res, err := c.api.Alerts(ctx)
	if err != nil {
		return nil, c.fail("alerts", err)
	}
	out := make([]sources.Alert, 0, len(res.Alerts))
	for _, a := range res.Alerts {
		if a.State == v1.AlertStateFiring {
			out = append(out, c.toAlert(a))
		}
	}
	// oldest first, as Alertmanager lists them; the fingerprint orders
	// the alerts of one evaluation the same way every time
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartsAt.Equal(out[j].StartsAt) {
			return out[i].StartsAt.Before(out[j].StartsAt)
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out, nil
}

// toAlert is an alert of Prometheus's as Alertmanager would hold it: the
// same fingerprint of its labels, and, for where it came from, this
// server's alerts page (Prometheus's API gives no alert its expression's
// link, which it sends an Alertmanager as generatorURL).
func (c *Client) toAlert(a v1.Alert) sources.Alert {
	l := toLabels(a.Labels)
	label, service := c.conv.Alerts.Service(l)
	state := sources.AlertFiring
	if a.State == v1.AlertStatePending {
		state = sources.AlertPending
	}
	return sources.Alert{Name: l["alertname"], Service: service, ServiceLabel: label, Fingerprint: a.Labels.Fingerprint().String(),
		State: state, Severity: l["severity"], Labels: l, Annotations: toLabels(a.Annotations), StartsAt: a.ActiveAt,
		GeneratorURL: c.alertsPage()}
}

// alertsPage is the server's page of alerts, without any credentials
// the address carries.
func (c *Client) alertsPage() string {
	u, err := url.Parse(c.addr)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	u.Path = strings.TrimSuffix(u.Path, "/") + "/alerts"
	return u.String()
}
