package main

import (
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// simSLOWindow is the window of the simulator's SLOs, which its topology
// gives without one.
const simSLOWindow = 28 * 24 * time.Hour

// simFleetAt builds a scenario's fleet and simulates it to onset + after:
// what --demo means for incident and slo.
func simFleetAt(scenario string, seed uint64, after time.Duration) (*sim.Fleet, error) {
	f, err := sim.New(sim.Options{Scenario: scenario, Seed: seed})
	if err != nil {
		return nil, err
	}
	f.AdvanceTo(f.Onset().Add(after))
	return f, nil
}

// simSources is the fleet, through its adapter, as every backend at once.
func simSources(f *sim.Fleet) correlate.Sources {
	b := simsrc.New(f)
	return correlate.Sources{Metrics: b, Logs: b, Traces: b, Alerts: b, Changes: b, Resources: b, SLIs: b}
}

// simSLOs are the topology's SLOs over simSLOWindow.
func simSLOs(t *sim.Topology) []correlate.SLO {
	out := make([]correlate.SLO, 0, len(t.SLOs))
	for _, s := range t.SLOs {
		out = append(out, correlate.SLO{Name: s.Name, Service: s.Service, Objective: s.Objective, Window: simSLOWindow,
			Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: s.Service}, Origin: "the simulator's topology " + t.Name})
	}
	return out
}

func simMeta(t *sim.Topology) correlate.Meta {
	m := correlate.Meta{Services: map[string]correlate.ServiceMeta{}, Currency: t.Currency, BurnRateAlerts: sources.DefaultConventions().Alerts.BurnRate}
	for _, s := range t.Services {
		m.Services[s.Name] = correlate.ServiceMeta{ValuePerRequest: s.ValuePerRequest, Owner: s.Owner}
	}
	return m
}
