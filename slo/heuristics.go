package slo

import "time"

// The thresholds of error budgets, forecasts (slo.go, forecast.go) and a
// full pool, each with why it has its value.
const (
	// LowBudget is the share of an error budget left under which an SLO
	// is a warning: a quarter leaves room for one more bad day.
	LowBudget = 0.25
	// SaturatedShare is the share of a pool (connections, workers) in use
	// that counts as exhausted: at 95% acquisitions start to queue. The
	// saturation forecast aims at it, and correlate's pool mechanism
	// reads it, so that the two agree on what full means.
	SaturatedShare = 0.95
	// CurrentBurnWindow is the window whose burn rate is "the current
	// burn": the time to exhaustion and the gauge's arrow use it. It is
	// the shortest window of the default policy: in an incident it shows
	// the burn that will empty the budget within minutes, while the
	// longer windows still average in the calm before.
	CurrentBurnWindow = 5 * time.Minute
	// SpendBurn is the burn rate above which a stretch of the history is
	// an incident that spent the budget: twice the rate the window can
	// sustain, well clear of a healthy service's noise (under 0.5).
	SpendBurn = 2.0
	// MinSpendShare is the least share of the budget a stretch must
	// spend to be listed: under 1% is not worth an on-call's attention.
	MinSpendShare = 0.01
	// MinForecastPoints is the least history a forecast is fitted on:
	// fifteen points, a quarter of an hour at one minute, is the least
	// from which a trend is more than the last point's noise.
	MinForecastPoints = 15
	// ForecastConfidence is the confidence of a forecast's interval:
	// 80%, the usual choice for operational forecasts (a 95% interval is
	// too wide to act on). The simulator's evaluation checks it holds.
	ForecastConfidence = 0.8
	// ForecastLevelSpread is the least uncertainty a forecast grants the
	// level it extrapolates, as a share of it: a level the data has just
	// moved to is known to a few percent at best, and the one-step errors
	// of a saturated series (96% of requests failing, a full pool) are
	// near zero and would claim a forecast exact to the minute.
	ForecastLevelSpread = 0.05
	// ForecastHorizon is how far ahead forecasts look by default, and
	// the horizon inside which the overview flags a predicted exhaustion
	// or saturation: the rest of a shift.
	ForecastHorizon = 6 * time.Hour
	// SaturationHorizon is how far ahead a resource's saturation is
	// forecast: an hour, because half an hour of a pool's climb says
	// little about the afternoon.
	SaturationHorizon = time.Hour
	// BurnArrowFactor is how much the current burn must differ from the
	// burn over an hour for the gauge's arrow to point up or down rather
	// than flat: under a doubling is noise at five minutes.
	BurnArrowFactor = 2.0
)
