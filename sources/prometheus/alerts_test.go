package prometheus

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

// ruleAlerts is one alert that fires at once and one that waits an hour
// in pending; both carry text a hostile rule author could write.
const ruleAlerts = `groups:
  - name: oncall-alerts
    interval: 1s
    rules:
      - alert: CheckoutDown
        expr: vector(1)
        for: 0s
        labels: {severity: page, service: checkout, note: "a\u009b2Jb"}
        annotations: {summary: "checkout is down \x1b]0;pwned\x07"}
      - alert: CheckoutSlow
        expr: vector(1)
        for: 1h
        labels: {severity: ticket, service: checkout}
`

// TestAlertsFromRuleEvaluation: against a real Prometheus with no
// Alertmanager, Alerts lists the firing alert its rules evaluate, as
// Alertmanager would hold it (name, service, labels, annotations, start,
// fingerprint, where it came from), and leaves the pending one out while
// Rules still shows it.
func TestAlertsFromRuleEvaluation(t *testing.T) {
	url := testenv.Prometheus(t, testenv.PrometheusOptions{Rules: ruleAlerts})
	c, err := New(url, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// both rules evaluated: one alert firing, the other pending
	testenv.WaitFor(t, 20*time.Second, func() bool {
		groups, err := c.Rules(ctx)
		states := map[string]sources.AlertState{}
		for _, g := range groups {
			for _, r := range g.Rules {
				for _, a := range r.Alerts {
					states[a.Name] = a.State
				}
			}
		}
		return err == nil && states["CheckoutDown"] == sources.AlertFiring && states["CheckoutSlow"] == sources.AlertPending
	})
	alerts, err := c.Alerts(ctx)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts %+v, %v; want CheckoutDown alone (CheckoutSlow is pending)", alerts, err)
	}
	a := alerts[0]
	if a.Name != "CheckoutDown" || a.State != sources.AlertFiring || a.Severity != "page" || a.Service != "checkout" || a.ServiceLabel != "service" {
		t.Errorf("alert %+v", a)
	}
	if a.Labels["note"] != "a\u009b2Jb" || a.Annotations["summary"] != "checkout is down \x1b]0;pwned\x07" {
		t.Errorf("labels %q and annotations %q are not passed on as written (they are made safe where shown)", a.Labels, a.Annotations)
	}
	if a.StartsAt.IsZero() || a.StartsAt.After(time.Now()) {
		t.Errorf("starts at %v, want the rule's activeAt", a.StartsAt)
	}
	if len(a.Fingerprint) != 16 || a.GeneratorURL != url+"/alerts" {
		t.Errorf("fingerprint %q, source %q; want 16 hex digits and %s/alerts", a.Fingerprint, a.GeneratorURL, url)
	}
}

// TestAlertsFailureNamesPrometheus: a failed read of the alerts says it
// was Prometheus's alerts, so the incident's note names the backend.
func TestAlertsFailureNamesPrometheus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := New(srv.URL, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Alerts(context.Background())
	if err == nil || !strings.Contains(err.Error(), "prometheus alerts") {
		t.Fatalf("error %v; want it to name prometheus alerts", err)
	}
}

// TestAlertsPageHasNoCredentials: where an alert came from is shown and
// copied, so the server's address loses any user and password on the way.
func TestAlertsPageHasNoCredentials(t *testing.T) {
	c, err := New("https://user:secret@mimir.example/prometheus/", http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.alertsPage(); got != "https://mimir.example/prometheus/alerts" {
		t.Errorf("alerts page %q", got)
	}
}
