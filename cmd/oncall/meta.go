package main

import (
	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/config"
)

func configMeta(cfg *config.Config) correlate.Meta {
	m := correlate.Meta{Services: map[string]correlate.ServiceMeta{}, Static: map[string][]string{}, Currency: cfg.Currency, BurnRateAlerts: cfg.Conventions.Alerts.BurnRate}
	for name, s := range cfg.Services {
		m.Services[name] = correlate.ServiceMeta{ValuePerRequest: s.ValuePerRequest, Owner: s.Owner}
		if len(s.DependsOn) > 0 {
			m.Static[name] = s.DependsOn
		}
	}
	return m
}
