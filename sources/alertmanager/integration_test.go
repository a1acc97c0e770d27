package alertmanager

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

// A real Prometheus fires an alert from a rule file into a real
// Alertmanager; the client lists it, silences it, sees it suppressed,
// expires the silence and sees it active again.
func TestAgainstRealAlertmanager(t *testing.T) {
	amURL := testenv.Alertmanager(t)
	testenv.Prometheus(t, testenv.PrometheusOptions{Alertmanager: amURL, Rules: `groups:
  - name: t
    interval: 1s
    rules:
      - alert: CheckoutDown
        expr: vector(1)
        labels: {severity: page, service: checkout-api}
        annotations: {summary: checkout is down}
`})
	c, err := New(amURL, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var alerts []sources.Alert
	waitFor(t, "the alert to reach Alertmanager", func() bool {
		alerts, err = c.Alerts(ctx)
		return err == nil && len(alerts) == 1
	})
	a := alerts[0]
	if a.Name != "CheckoutDown" || a.State != sources.AlertFiring || a.Severity != "page" || a.Fingerprint == "" ||
		a.Annotations["summary"] != "checkout is down" || a.StartsAt.IsZero() || a.GeneratorURL == "" {
		t.Fatalf("alert %+v", a)
	}

	now := time.Now()
	id, err := c.CreateSilence(ctx, sources.Silence{
		Matchers: []sources.Matcher{{Name: "alertname", Value: "CheckoutDown", IsEqual: true}, {Name: "service", Value: "checkout-.*", IsRegex: true, IsEqual: true}},
		StartsAt: now, EndsAt: now.Add(15 * time.Minute), CreatedBy: "alice", Comment: "I'm on it",
	})
	if err != nil || id == "" {
		t.Fatalf("create silence: %q, %v", id, err)
	}
	waitFor(t, "the alert to be suppressed", func() bool {
		alerts, err = c.Alerts(ctx)
		return err == nil && len(alerts) == 1 && alerts[0].State == sources.AlertSuppressed && slices.Equal(alerts[0].SilencedBy, []string{id})
	})
	silences, err := c.Silences(ctx)
	if err != nil || len(silences) != 1 {
		t.Fatalf("silences %+v, %v", silences, err)
	}
	s := silences[0]
	if s.ID != id || s.State != sources.SilenceActive || s.CreatedBy != "alice" || s.Comment != "I'm on it" ||
		len(s.Matchers) != 2 || !s.Matchers[1].IsRegex || s.Matchers[1].Value != "checkout-.*" {
		t.Fatalf("silence %+v", s)
	}

	if err := c.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the silence to expire and the alert to fire again", func() bool {
		silences, err = c.Silences(ctx)
		alerts, err2 := c.Alerts(ctx)
		return err == nil && err2 == nil && len(silences) == 1 && silences[0].State == sources.SilenceExpired &&
			len(alerts) == 1 && alerts[0].State == sources.AlertFiring
	})

	err = c.ExpireSilence(ctx, "00000000-0000-0000-0000-000000000000")
	var be *sources.BackendError
	if !errors.As(err, &be) || be.Backend != "alertmanager" || be.Status == 0 {
		t.Fatalf("expiring an unknown silence: %v", err)
	}
	if _, err := c.CreateSilence(ctx, sources.Silence{CreatedBy: "a", Comment: "c"}); err == nil {
		t.Fatal("a silence without matchers was accepted")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
