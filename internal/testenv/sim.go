package testenv

import (
	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// SimMeta is what the tests know of the simulated fleet beyond its
// signals: only that its burn-rate alerts have the default name. (The
// demo adds the topology's currency and values per request.)
var SimMeta = correlate.Meta{BurnRateAlerts: sources.DefaultConventions().Alerts.BurnRate}
