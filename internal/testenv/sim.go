package testenv

import (
	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// SimMeta is what the tests know of the simulated fleet beyond its
// signals: only that its burn-rate alerts have the default name. (The
// demo adds the topology's currency and values per request.)
var SimMeta = correlate.Meta{BurnRateAlerts: sources.DefaultConventions().Alerts.BurnRate}

// SimSources is a simulated fleet, through its adapter, as every backend
// at once: what `oncall demo` and `oncall incident --demo` read.
func SimSources(f *sim.Fleet) correlate.Sources {
	b := simsrc.New(f)
	return correlate.Sources{Metrics: b, Logs: b, Traces: b, Alerts: b, Changes: b, Resources: b, SLIs: b}
}
