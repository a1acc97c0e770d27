package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/alertmanager"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

// checkoutRules fire CheckoutDown at once, with a summary that would
// retitle a terminal, and keep CheckoutSlow pending for an hour.
const checkoutRules = `groups:
  - name: oncall-alerts
    interval: 1s
    rules:
      - alert: CheckoutDown
        expr: vector(1)
        for: 0s
        labels: {severity: page, service: checkout}
        annotations: {summary: "checkout is down \x1b]0;pwned\x07"}
      - alert: CheckoutSlow
        expr: vector(1)
        for: 1h
        labels: {severity: ticket, service: checkout}
`

// prometheusFiring starts a real Prometheus evaluating rules and returns
// its URL once CheckoutDown fires there.
func prometheusFiring(t *testing.T, rules string) string {
	t.Helper()
	url := testenv.Prometheus(t, testenv.PrometheusOptions{Rules: rules})
	c, err := prometheus.New(url, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, func() bool {
		alerts, err := c.Alerts(context.Background())
		return err == nil && slices.ContainsFunc(alerts, func(a sources.Alert) bool { return a.Name == "CheckoutDown" })
	})
	return url
}

// incidentJSON is the part of incident -o json these tests read.
type incidentJSON struct {
	Notes    []string `json:"notes"`
	Timeline []struct {
		Kind, Service, Detail string
	} `json:"timeline"`
}

func runIncidentJSON(t *testing.T, cfg string, args ...string) incidentJSON {
	t.Helper()
	r := oncallAt(t, time.Now, map[string]string{"NO_COLOR": "1"}, "", append([]string{"incident", "--config", cfg, "-o", "json"}, args...)...)
	var inc incidentJSON
	if err := json.Unmarshal([]byte(r.out), &inc); err != nil || r.code != 0 {
		t.Fatalf("incident: %v, exit %d\n%s%s", err, r.code, r.out, r.err)
	}
	return inc
}

// alertsFiring names the alerts on the incident's timeline.
func (inc incidentJSON) alertsFiring() []string {
	var out []string
	for _, e := range inc.Timeline {
		if e.Kind == "alert-firing" {
			out = append(out, e.Service+" "+e.Detail)
		}
	}
	return out
}

// TestPrometheusOnlyStackReadsRuleAlerts: with Prometheus and no
// Alertmanager, the incident, alerts and --alert read the alerts
// Prometheus's rules fire (the pending one left out), no note says alerts
// have no datasource, the rule's text reaches no terminal raw, and
// silences still say they need an Alertmanager.
func TestPrometheusOnlyStackReadsRuleAlerts(t *testing.T) {
	url := prometheusFiring(t, checkoutRules)
	cfg := writeFile(t, "oncall.yaml", fmt.Sprintf("datasources:\n  prometheus: {url: %q}\n", url))

	inc := runIncidentJSON(t, cfg)
	if got := inc.alertsFiring(); len(got) != 1 || !strings.HasPrefix(got[0], "checkout CheckoutDown page: checkout is down") {
		t.Errorf("alerts on the timeline %q, want CheckoutDown alone", got)
	}
	if notes := strings.Join(inc.Notes, "\n"); strings.Contains(notes, "alerts") {
		t.Errorf("a note on alerts with prometheus configured:\n%s", notes)
	}

	r := oncallAt(t, time.Now, map[string]string{"NO_COLOR": "1"}, "", "incident", "--config", cfg, "--alert", "CheckoutDown")
	if r.code != 0 || !strings.Contains(r.out, "CheckoutDown page: checkout is down") || testenv.HasEscape([]byte(r.out+r.err)) {
		t.Errorf("incident --alert CheckoutDown: exit %d, escape %v\n%s%s", r.code, testenv.HasEscape([]byte(r.out+r.err)), r.out, r.err)
	}
	if strings.Contains(r.out, "alerts: no datasource configured") {
		t.Errorf("the text incident still says alerts have no datasource:\n%s", r.out)
	}

	r = oncallAt(t, time.Now, nil, "", "alerts", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.out, "CheckoutDown") || strings.Contains(r.out, "CheckoutSlow") || testenv.HasEscape([]byte(r.out)) {
		t.Errorf("alerts: exit %d\n%s%s", r.code, r.out, r.err)
	}

	r = oncallAt(t, time.Now, nil, "", "silences", "--config", cfg)
	if r.code == 0 || !strings.Contains(r.err, "no alertmanager datasource configured") {
		t.Errorf("silences without alertmanager: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

// TestPrometheusWithoutRulesHasNoAlertNote: a Prometheus with no rules
// fires nothing, which is an answer: no alert, and no note.
func TestPrometheusWithoutRulesHasNoAlertNote(t *testing.T) {
	url := testenv.Prometheus(t, testenv.PrometheusOptions{})
	cfg := writeFile(t, "oncall.yaml", fmt.Sprintf("datasources:\n  prometheus: {url: %q}\n", url))
	inc := runIncidentJSON(t, cfg)
	if got := inc.alertsFiring(); len(got) != 0 {
		t.Errorf("alerts %q from a Prometheus without rules", got)
	}
	if notes := strings.Join(inc.Notes, "\n"); strings.Contains(notes, "alerts") {
		t.Errorf("a note on alerts:\n%s", notes)
	}
}

// TestAlertmanagerStaysTheAlertSource: with both configured, the alerts
// are Alertmanager's, though Prometheus's rules fire one it was never
// sent: Alertmanager dedupes and knows silences.
func TestAlertmanagerStaysTheAlertSource(t *testing.T) {
	am := testenv.Alertmanager(t)
	url := prometheusFiring(t, checkoutRules) // sends Alertmanager nothing
	src := fmt.Sprintf("datasources:\n  prometheus: {url: %q}\n  alertmanager: {url: %q}\n", url, am)
	cfg := writeFile(t, "oncall.yaml", src)

	c, err := config.Parse("oncall.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	b, err := newBackends(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := b.sources(); s.RuleAlerts != nil {
		t.Errorf("rule alerts wired beside an Alertmanager: %T", s.RuleAlerts)
	} else if _, ok := s.AlertSource().(*alertmanager.Client); !ok {
		t.Errorf("alert source %T, want the Alertmanager", s.AlertSource())
	}

	if got := runIncidentJSON(t, cfg).alertsFiring(); len(got) != 0 {
		t.Errorf("alerts %q on the timeline: read from Prometheus, not Alertmanager", got)
	}
	r := oncallAt(t, time.Now, nil, "", "alerts", "--config", cfg, "-o", "json")
	if r.code != 0 || strings.TrimSpace(r.out) != "[]" {
		t.Errorf("alerts: exit %d\n%s%s", r.code, r.out, r.err)
	}
}
