package sim

import (
	"context"

	"github.com/oncall-cockpit/oncall/sources"
)

// Alerts returns firing alerts as Alertmanager would: silenced ones are
// suppressed.
func (b *Backend) Alerts(context.Context) ([]sources.Alert, error) {
	return b.withService(b.f.FiringAlerts()), nil
}

// Rules returns the simulator's rule group with each rule's pending and
// firing alerts, as Prometheus' rules API does.
func (b *Backend) Rules(context.Context) ([]sources.RuleGroup, error) {
	groups := b.f.RuleGroups()
	for i := range groups {
		for j := range groups[i].Rules {
			b.withService(groups[i].Rules[j].Alerts)
		}
	}
	return groups, nil
}

// withService names each alert's service from its labels, as the other
// backends do.
func (b *Backend) withService(alerts []sources.Alert) []sources.Alert {
	for i := range alerts {
		alerts[i].ServiceLabel, alerts[i].Service = b.conv.Alerts.Service(alerts[i].Labels)
	}
	return alerts
}

// Silences lists silences with their state now.
func (b *Backend) Silences(context.Context) ([]sources.Silence, error) { return b.f.Silences(), nil }

// CreateSilence adds a silence, checked as Alertmanager checks it.
func (b *Backend) CreateSilence(_ context.Context, s sources.Silence) (string, error) {
	return b.f.AddSilence(s)
}

// ExpireSilence ends a silence now.
func (b *Backend) ExpireSilence(_ context.Context, id string) error { return b.f.EndSilence(id) }
