package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/sources"
)

// ruleAlerts is a Prometheus's rules' alerts: a reader with no silences.
type ruleAlerts struct{ r sources.AlertReader }

func (a ruleAlerts) Alerts(ctx context.Context) ([]sources.Alert, error) { return a.r.Alerts(ctx) }

// With no Alertmanager, the cockpit lists the alerts Prometheus's rules
// fire, and does not call the alerts panel unconfigured.
func TestOverviewListsRuleAlertsWithoutAlertmanager(t *testing.T) {
	d := deps(testFleet(t))
	d.Sources.RuleAlerts, d.Sources.Alerts = ruleAlerts{d.Sources.Alerts}, nil
	a := New(d, styles())
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	a.Update(loadOverview(d, nil)())
	if out := screen(a); !strings.Contains(out, "ErrorBudgetBurn") || strings.Contains(out, "not configured") {
		t.Errorf("the rules' alerts are not listed:\n%s", out)
	}
}
