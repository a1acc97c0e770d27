package testenv

import (
	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sim"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// SimSources is a simulated fleet, through its adapter, as every backend
// at once: what `oncall demo` and `oncall incident --demo` read.
func SimSources(f *sim.Fleet) correlate.Sources {
	b := simsrc.New(f)
	return correlate.Sources{Metrics: b, Logs: b, Traces: b, Alerts: b, Changes: b, Resources: b}
}
