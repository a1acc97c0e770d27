package slo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Forecasts: when an SLO's budget runs out, or a resource fills, if the
// recent past goes on. The models are exponential smoothing: Holt's
// damped trend on the error ratio and on saturation, and Holt-Winters
// (additive, with a daily season) on traffic. Each gives a point
// forecast and an interval from its one-step errors; the crossing time
// is read off the point forecast and off the interval's edges.

// Forecast is a predicted crossing of a limit.
type Forecast struct {
	// What is forecast, e.g. "budget" or "pool:payment-db".
	What   string `json:"what"`
	Method string `json:"method"`
	// Made is when the forecast was made (the newest data point).
	Made    time.Time     `json:"made"`
	Horizon time.Duration `json:"horizon_ns"`
	// At is when the limit is crossed on the point forecast; zero when
	// not within the horizon.
	At time.Time `json:"at,omitempty"`
	// Early and Late bound the crossing at the interval's confidence
	// (ForecastConfidence): Early on the pessimistic edge, Late on the
	// optimistic one; Late is zero when that edge does not cross within
	// the horizon.
	Early time.Time `json:"early,omitempty"`
	Late  time.Time `json:"late,omitempty"`
	// Points is how many data points the models were fitted on.
	Points int `json:"points"`
	// Query is what the forecast series came from, when one query did.
	Query string `json:"query,omitempty"`
}

// Within reports whether the point forecast crosses within the horizon.
func (f Forecast) Within() bool { return !f.At.IsZero() }

// In is how long from the forecast's making until the crossing.
func (f Forecast) In() time.Duration { return f.At.Sub(f.Made) }

// Spread is half the interval's width; false when its late edge is
// open (beyond the horizon).
func (f Forecast) Spread() (time.Duration, bool) {
	if f.Late.IsZero() || f.Early.IsZero() {
		return 0, false
	}
	return f.Late.Sub(f.Early) / 2, true
}

// Describe says the forecast in words: "in 37 min (±8)".
func (f Forecast) Describe() string {
	if !f.Within() {
		return fmt.Sprintf("not within %s", FormatSpan(f.Horizon))
	}
	if s, ok := f.Spread(); ok {
		return fmt.Sprintf("in %s (±%s)", FormatSpan(f.In()), FormatSpan(s))
	}
	return fmt.Sprintf("in %s (%s at the earliest)", FormatSpan(f.In()), FormatSpan(f.Early.Sub(f.Made)))
}

// FormatSpan writes a duration for a person: 37 min, 5 h 20 min, 3 d.
func FormatSpan(d time.Duration) string {
	m := int(math.Round(d.Minutes()))
	switch {
	case m < 1:
		return "<1 min"
	case m < 120:
		return fmt.Sprintf("%d min", m)
	case m < 48*60:
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	return fmt.Sprintf("%d d", int(math.Round(d.Hours()/24)))
}

// holt is Holt's linear method with a damped trend, fitted.
type holt struct {
	alpha, beta, phi float64
	level, trend     float64
	sigma            float64 // standard deviation of the one-step errors
}

// run smooths y and returns the sum of squared one-step errors; errs,
// when not nil, receives them.
func (h *holt) run(y []float64, errs *[]float64) float64 {
	h.level, h.trend = y[0], 0
	if len(y) > 1 {
		h.trend = y[1] - y[0]
	}
	sse := 0.0
	for _, v := range y[1:] {
		pred := h.level + h.phi*h.trend
		e := v - pred
		sse += e * e
		if errs != nil {
			*errs = append(*errs, e)
		}
		prev := h.level
		h.level = pred + h.alpha*e
		h.trend = h.beta*(h.level-prev) + (1-h.beta)*h.phi*h.trend
	}
	return sse
}

// fitHolt picks the smoothing parameters with the least squared one-step
// error over a small grid: enough for a few hours of one-minute points,
// and deterministic. damping lists the trend dampings to try: {1} is
// Holt's linear trend.
func fitHolt(y []float64, damping []float64) holt {
	best, bestSSE := holt{}, math.Inf(1)
	for _, a := range []float64{0.1, 0.2, 0.3, 0.5, 0.7, 0.9} {
		for _, b := range []float64{0.01, 0.05, 0.1, 0.2, 0.4} {
			for _, p := range damping {
				h := holt{alpha: a, beta: b, phi: p}
				if sse := h.run(y, nil); sse < bestSSE {
					best, bestSSE = h, sse
				}
			}
		}
	}
	var errs []float64
	best.run(y, &errs)
	best.sigma = robustSigma(errs)
	return best
}

// robustSigma is the standard deviation of the one-step errors by their
// median absolute deviation (×1.4826, which matches a normal
// distribution's): the one huge error at an incident's onset is a level
// shift the model has since followed, not noise that will recur.
func robustSigma(errs []float64) float64 {
	if len(errs) == 0 {
		return 0
	}
	med := func(v []float64) float64 {
		c := append([]float64(nil), v...)
		sort.Float64s(c)
		if n := len(c); n%2 == 1 {
			return c[n/2]
		} else {
			return (c[n/2-1] + c[n/2]) / 2
		}
	}
	m := med(errs)
	dev := make([]float64, len(errs))
	for i, e := range errs {
		dev[i] = math.Abs(e - m)
	}
	return 1.4826 * med(dev)
}

// at is the point forecast k steps ahead.
func (h holt) at(k int) float64 {
	damp := 0.0
	p := 1.0
	for range k {
		p *= h.phi
		damp += p
	}
	return h.level + damp*h.trend
}

// spread is the standard deviation of the forecast k steps ahead, by the
// usual approximation for Holt's method: σ² (1 + Σ_{j<k} α²(1 + jβ)²).
func (h holt) spread(k int) float64 {
	v := 1.0
	for j := 1; j < k; j++ {
		c := h.alpha * (1 + float64(j)*h.beta)
		v += c * c
	}
	return h.sigma * math.Sqrt(v)
}

// holtWinters is the additive Holt-Winters method, fitted.
type holtWinters struct {
	alpha, beta, gamma float64
	m                  int
	level, trend       float64
	season             []float64
	n                  int // points smoothed; the next is season slot n % m
}

func (hw *holtWinters) run(y []float64) float64 {
	m := hw.m
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	first, second := mean(y[:m]), mean(y[m:2*m])
	hw.level, hw.trend = first, (second-first)/float64(m)
	hw.season = make([]float64, m)
	for i := range m {
		hw.season[i] = y[i] - first
	}
	sse := 0.0
	for i := m; i < len(y); i++ {
		s := hw.season[i%m]
		pred := hw.level + hw.trend + s
		e := y[i] - pred
		sse += e * e
		prev := hw.level
		hw.level = hw.alpha*(y[i]-s) + (1-hw.alpha)*(hw.level+hw.trend)
		hw.trend = hw.beta*(hw.level-prev) + (1-hw.beta)*hw.trend
		hw.season[i%m] = hw.gamma*(y[i]-hw.level) + (1-hw.gamma)*s
	}
	hw.n = len(y)
	return sse
}

func fitHoltWinters(y []float64, m int) holtWinters {
	best, bestSSE := holtWinters{}, math.Inf(1)
	for _, a := range []float64{0.05, 0.2, 0.5} {
		for _, b := range []float64{0.001, 0.01} {
			for _, g := range []float64{0.05, 0.2, 0.5} {
				hw := holtWinters{alpha: a, beta: b, gamma: g, m: m}
				if sse := hw.run(y); sse < bestSSE {
					best, bestSSE = hw, sse
				}
			}
		}
	}
	best.run(y)
	return best
}

func (hw holtWinters) at(k int) float64 {
	return hw.level + float64(k)*hw.trend + hw.season[(hw.n+k-1)%hw.m]
}

// traffic forecasts events per minute, k minutes ahead.
type traffic func(k int) float64

// trafficModel fits the traffic: Holt-Winters with a daily season on the
// seasonal history when it holds two days or more, else the mean of the
// recent minutes, flat. The second result names the model.
func trafficModel(recent []float64, seasonal sources.SLIHistory) (traffic, string) {
	var y []float64
	for _, p := range seasonal.Total.Samples {
		y = append(y, p.V)
	}
	step := seasonal.Step
	if step > 0 && step <= time.Hour && (24*time.Hour)%step == 0 {
		m := int(24 * time.Hour / step)
		if len(y) >= 2*m {
			hw := fitHoltWinters(y, m)
			perMin := step.Minutes()
			return func(k int) float64 {
				return math.Max(0, hw.at(1+int(float64(k)/perMin))/perMin)
			}, "Holt-Winters (additive, daily season) on traffic"
		}
	}
	mean := 0.0
	for _, v := range recent {
		mean += v
	}
	if len(recent) > 0 {
		mean /= float64(len(recent))
	}
	return func(int) float64 { return mean }, "traffic flat at its recent mean (under two days of history for a daily season)"
}

// perMinute turns a history into per-minute error ratios and events,
// skipping steps with no traffic.
func perMinute(h sources.SLIHistory) (ratios, events []float64, last time.Time) {
	badAt := map[int64]float64{}
	for _, p := range h.Bad.Samples {
		badAt[p.T.UnixNano()] = p.V
	}
	scale := time.Minute.Seconds() / math.Max(1, h.Step.Seconds())
	for _, p := range h.Total.Samples {
		last = p.T
		if math.IsNaN(p.V) || p.V <= 0 {
			continue
		}
		ratios = append(ratios, math.Min(1, badAt[p.T.UnixNano()]/p.V))
		events = append(events, p.V*scale)
	}
	return ratios, events, last
}

// ErrNoForecast is what ForecastExhaustion's errors are (errors.Is) when
// the history was read but gives no forecast: too short, no traffic, or
// the budget already spent. Any other error of LoadForecast is a history
// that could not be read.
var ErrNoForecast = errors.New("no forecast")

// noForecast is an ErrNoForecast that says why.
type noForecast string

func (e noForecast) Error() string      { return string(e) }
func (noForecast) Is(target error) bool { return target == ErrNoForecast }

// ForecastExhaustion predicts when the budget b runs out: the error
// ratio by Holt's damped trend on recent (one-minute steps), the traffic
// by trafficModel, the budget's events as the window's (b.Total scaled
// to the whole window). It looks at most horizon ahead, minute by
// minute. A budget already spent, or a history too short to fit
// (under MinForecastPoints), gives no forecast.
func ForecastExhaustion(b Budget, recent, seasonal sources.SLIHistory, horizon time.Duration) (Forecast, error) {
	f := Forecast{What: "budget", Horizon: horizon}
	if !b.Remaining.Defined() || b.Remaining <= 0 {
		return f, noForecast("the budget is spent or undefined")
	}
	ratios, events, last := perMinute(recent)
	f.Made, f.Points = last, len(ratios)
	if len(ratios) < MinForecastPoints {
		return f, noForecast(fmt.Sprintf("%d minutes with traffic; the forecast needs %d", len(ratios), MinForecastPoints))
	}
	// an error ratio's climb slows as it nears what the failure can
	// reach: a damped trend
	h := fitHolt(ratios, []float64{0.9, 0.98, 1})
	tr, how := trafficModel(events, seasonal)
	f.Method = "Holt (damped trend) on the error ratio; " + how
	// the budget in events over the whole window, at the covered traffic
	windowEvents := 0.0
	if b.Total.Defined() && b.Covered > 0 {
		windowEvents = float64(b.Total) * float64(b.SLO.Window) / float64(b.Covered)
	} else {
		mean := 0.0
		for _, v := range events {
			mean += v
		}
		windowEvents = mean / float64(len(events)) * b.SLO.Window.Minutes()
	}
	budget := b.SLO.Allowed() * windowEvents
	if budget <= 0 {
		return f, noForecast("no traffic to spend a budget")
	}
	left := float64(b.Remaining) * budget
	z := zOf(ForecastConfidence)
	spent := [3]float64{} // pessimistic, point, optimistic
	var when [3]time.Time
	for k := 1; k <= int(horizon/time.Minute); k++ {
		// a ratio ends at 1, however steep the climb to it
		e := math.Min(1, math.Max(0, h.at(k)))
		s := z * math.Max(h.spread(k), ForecastLevelSpread*e)
		n := tr(k)
		for i, r := range [3]float64{e + s, e, e - s} {
			if !when[i].IsZero() {
				continue
			}
			spent[i] += math.Min(1, math.Max(0, r)) * n
			if spent[i] >= left {
				when[i] = f.Made.Add(time.Duration(k) * time.Minute)
			}
		}
		if !when[2].IsZero() {
			break
		}
	}
	f.Early, f.At, f.Late = when[0], when[1], when[2]
	return f, nil
}

// ForecastSaturation predicts when a resource's use (a share of its
// limit, oldest first, at a fixed step) reaches SaturatedShare, by
// Holt's linear trend. A resource already past it gives a forecast of
// now.
func ForecastSaturation(what string, use []sources.Sample, horizon time.Duration) (Forecast, error) {
	f := Forecast{What: what, Horizon: horizon, Method: "Holt (linear trend) on the share in use"}
	var y []float64
	var ts []time.Time
	for _, p := range use {
		if !math.IsNaN(p.V) {
			y, ts = append(y, p.V), append(ts, p.T)
		}
	}
	f.Points = len(y)
	if len(y) < MinForecastPoints {
		return f, fmt.Errorf("%d points; the forecast needs %d", len(y), MinForecastPoints)
	}
	f.Made = ts[len(ts)-1]
	if y[len(y)-1] >= SaturatedShare {
		f.At, f.Early, f.Late = f.Made, f.Made, f.Made
		return f, nil
	}
	step := ts[len(ts)-1].Sub(ts[len(ts)-2])
	if step <= 0 {
		return f, fmt.Errorf("the samples are not in time order")
	}
	// a pool fills at the pace of what holds it, to the wall: a linear
	// trend, undamped
	h := fitHolt(y, []float64{1})
	z := zOf(ForecastConfidence)
	var when [3]time.Time
	for k := 1; k <= int(horizon/step); k++ {
		v := h.at(k)
		s := z * math.Max(h.spread(k), ForecastLevelSpread*math.Abs(v))
		for i, x := range [3]float64{v + s, v, v - s} {
			if when[i].IsZero() && x >= SaturatedShare {
				when[i] = f.Made.Add(time.Duration(k) * step)
			}
		}
		if !when[2].IsZero() {
			break
		}
	}
	f.Early, f.At, f.Late = when[0], when[1], when[2]
	return f, nil
}

// zOf is the two-sided normal quantile for a central interval of
// confidence c: 1.28 for 80%.
func zOf(c float64) float64 { return math.Sqrt2 * math.Erfinv(c) }

// The history saturation forecasts are fitted on: half an hour at 30 s,
// enough for a pool's climb, short enough to follow it.
const (
	saturationSpan = 30 * time.Minute
	saturationStep = 30 * time.Second
)

// LoadSaturationForecasts reads the services' resources (every service
// when services is empty) over the last half hour before at and forecasts
// each one's saturation, keeping those predicted within horizon and not
// yet saturated, soonest first. What is "service resource".
func LoadSaturationForecasts(ctx context.Context, res sources.Resources, services []string, at time.Time, horizon time.Duration) ([]Forecast, error) {
	sats, err := res.Saturation(ctx, services, sources.TimeRange{Start: at.Add(-saturationSpan), End: at}, saturationStep)
	if err != nil {
		return nil, err
	}
	var out []Forecast
	for _, s := range sats {
		// the question is when use reaches the limit in force now: a pool
		// shrunk inside the span fills against its new size, and a share
		// of the old one would hide the step down as a jump
		limit := s.LimitAt(at)
		if limit <= 0 {
			continue
		}
		share := make([]sources.Sample, len(s.Used.Samples))
		for i, p := range s.Used.Samples {
			share[i] = sources.Sample{T: p.T, V: p.V / limit}
		}
		f, err := ForecastSaturation(s.Service+" "+s.Resource, share, horizon)
		if err != nil || !f.Within() || !f.At.After(f.Made) {
			continue // too little data, not rising, or already full: the incident view's business
		}
		f.Query = s.Used.Query
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}
