package slo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Objective is a service level objective over a rolling window.
type Objective struct {
	Name      string            `json:"name"`
	Service   string            `json:"service"`
	Objective float64           `json:"objective"` // a ratio: 0.999
	Window    time.Duration     `json:"window_ns"` // the rolling window: 28 days
	Indicator sources.Indicator `json:"indicator"`
	// Policy is the multiwindow, multi-burn-rate alerting policy; empty
	// means DefaultBurnPolicy.
	Policy BurnPolicy `json:"policy,omitempty"`
	// ValuePerMinuteDown is what a minute of full outage costs, in the
	// config's currency; 0 when not said.
	ValuePerMinuteDown float64 `json:"value_per_minute_down,omitempty"`
	// Origin is where the SLO is defined: "oncall.yaml:42", or an imported
	// file and its format.
	Origin string `json:"origin,omitempty"`
}

// Check reports what makes the SLO impossible to compute.
func (s Objective) Check() error {
	if s.Objective <= 0 || s.Objective >= 1 {
		return fmt.Errorf("slo %s: objective %v is not between 0 and 1", s.Name, s.Objective)
	}
	if s.Window <= 0 {
		return fmt.Errorf("slo %s: window must be positive", s.Name)
	}
	if err := s.Indicator.Check(); err != nil {
		return fmt.Errorf("slo %s: %w", s.Name, err)
	}
	for _, w := range s.policy() {
		if w.Short <= 0 || w.Long <= w.Short || w.Factor <= 0 {
			return fmt.Errorf("slo %s: burn-rate window %s/%s ×%g: the long window must be longer than the short, and the factor positive", s.Name, w.Long, w.Short, w.Factor)
		}
	}
	return nil
}

// Allowed is the error budget as a ratio: 1 - objective.
func (s Objective) Allowed() float64 { return 1 - s.Objective }

func (s Objective) policy() BurnPolicy {
	if len(s.Policy) == 0 {
		return DefaultBurnPolicy
	}
	return s.Policy
}

// Severity of a burn-rate alert.
type Severity string

const (
	SeverityPage   Severity = "page"
	SeverityTicket Severity = "ticket"
)

// BurnAlert is one line of a multiwindow, multi-burn-rate policy: it
// fires when the burn rate exceeds Factor over both the Long and the
// Short window (the short one makes it reset soon after a fix).
type BurnAlert struct {
	Severity Severity      `json:"severity"`
	Long     time.Duration `json:"long_ns"`
	Short    time.Duration `json:"short_ns"`
	Factor   float64       `json:"factor"`
}

// BurnPolicy is an SLO's burn-rate alerts.
type BurnPolicy []BurnAlert

// DefaultBurnPolicy is the SRE Workbook's recommendation (table 5-8) for a
// 30-day window: page on 2% of the budget in an hour or 5% in six hours,
// ticket on 10% in three days.
var DefaultBurnPolicy = BurnPolicy{
	{Severity: SeverityPage, Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4},
	{Severity: SeverityPage, Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6},
	{Severity: SeverityTicket, Long: 3 * 24 * time.Hour, Short: 6 * time.Hour, Factor: 1},
}

// Windows lists the SLO's window, CurrentBurnWindow and every window of
// its policy, without repeats, longest first.
func (s Objective) Windows() []time.Duration {
	seen := map[time.Duration]bool{}
	var out []time.Duration
	add := func(d time.Duration) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	add(s.Window)
	add(CurrentBurnWindow)
	for _, w := range s.policy() {
		add(w.Long)
		add(w.Short)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out
}

// Status is an SLO's state at a glance.
type Status string

const (
	StatusOK       Status = "ok"
	StatusTicket   Status = "ticket"    // a ticket burn-rate alert fires
	StatusPage     Status = "page"      // a page burn-rate alert fires
	StatusSpent    Status = "spent"     // no budget left, and nothing fires
	StatusNoData   Status = "no data"   // the indicator has no traffic in the window
	StatusDegraded Status = "low"       // under LowBudget left
	StatusUnread   Status = "unread"    // the budget could not be read: Budget.Err says why
	StatusUnknown  Status = "no answer" // not loaded yet
)

// Burn is the burn rate over one window.
type Burn struct {
	Window time.Duration `json:"window_ns"`
	// Rate is the error ratio over the window ÷ (1 - objective): 1
	// spends the budget exactly over the SLO's window. Undefined when the
	// window had no traffic.
	Rate     sources.Float `json:"rate"`
	Recorded bool          `json:"recorded,omitempty"` // read from a recording rule
	Queries  []string      `json:"queries"`
}

// AlertState is one burn-rate alert of the policy, evaluated.
type AlertState struct {
	BurnAlert
	LongRate  sources.Float `json:"long_rate"`
	ShortRate sources.Float `json:"short_rate"`
	// Covered is how much of the long window the data covers, when it is
	// less than the window (nil otherwise; 0 is no data at all): the alert
	// then asks for the budget share the long window stands for to have
	// been spent in what there is.
	Covered *time.Duration `json:"covered_ns,omitempty"`
	Firing  bool           `json:"firing"`
}

// Budget is an SLO's error budget at one time, and where each number
// came from.
type Budget struct {
	SLO Objective `json:"slo"`
	At  time.Time `json:"at"`
	// Err is why the budget could not be read; the rest is then empty.
	// Cause is Err in a few words ("connection refused"), for a row that
	// points to Err said in full once.
	Err   string `json:"error,omitempty"`
	Cause string `json:"-"`
	// Path says how the numbers were computed; Queries are those of the
	// SLO's window.
	Path    string   `json:"path,omitempty"`
	Queries []string `json:"queries,omitempty"`
	// Total and Bad are events over the covered part of the window;
	// undefined when only a recorded ratio answered.
	Total sources.Float `json:"total"`
	Bad   sources.Float `json:"bad"`
	// Covered is how much of the window the data covers. When it is less
	// than the window, the budget is partial: that of the covered part.
	// JSON says null when the budget was not read (see MarshalJSON).
	Covered time.Duration `json:"covered_ns"`
	Partial bool          `json:"partial"`
	// SLI is the share of good events: undefined with no traffic.
	SLI sources.Float `json:"sli"`
	// Consumed is the share of the error budget spent: error ratio ÷
	// (1 - objective). Remaining is 1 - Consumed and goes below 0 when
	// the budget is overspent.
	Consumed  sources.Float `json:"consumed"`
	Remaining sources.Float `json:"remaining"`
	// MinutesLeft is the remaining budget as minutes of total outage the
	// rest of the window can absorb: Remaining × (1 - objective) × window.
	MinutesLeft sources.Float `json:"minutes_left"`
	// Burns are the burn rates over every window of SLO.Windows.
	Burns []Burn `json:"burns"`
	// Alerts is the policy evaluated; Status sums it up.
	Alerts []AlertState `json:"alerts"`
	Status Status       `json:"status"`
	// Exhaustion is how long the remaining budget lasts at the burn rate
	// of CurrentBurnWindow; 0 when that rate is 1 or less (the budget
	// outlasts the window) or the budget is already spent.
	Exhaustion time.Duration `json:"exhaustion_ns,omitempty"`
	// Threshold is, for a latency SLO, the histogram boundary counted
	// against (the nearest to the SLO's threshold).
	Threshold time.Duration `json:"threshold_ns,omitempty"`
	// Forecast is the budget's forecast, when its history was read.
	Forecast *Forecast `json:"forecast,omitempty"`
}

// MarshalJSON writes covered_ns as null for a budget that was not read,
// as the other numbers are, and as its value, 0 included, for one that was:
// no data at all covers 0 of the window, which is not "unknown".
func (b Budget) MarshalJSON() ([]byte, error) {
	type plain Budget // without the method, so Marshal does not recurse
	out := struct {
		plain
		Covered *time.Duration `json:"covered_ns"`
	}{plain: plain(b)}
	if b.Status != StatusUnread {
		out.Covered = &b.Covered
	}
	return json.Marshal(out)
}

// BurnOver returns the burn rate over d, undefined when it was not read.
func (b Budget) BurnOver(d time.Duration) sources.Float {
	for _, br := range b.Burns {
		if br.Window == d {
			return br.Rate
		}
	}
	return sources.NaN()
}

// ComputeBudget turns an indicator's reading into the SLO's budget: the
// SLI, the budget consumed and left, burn rates, the policy's alerts and
// the time to exhaustion.
func ComputeBudget(s Objective, r sources.SLIReading, at time.Time) Budget {
	b := Budget{SLO: s, At: at, Path: r.Path, Threshold: r.Threshold, Total: sources.NaN(), Bad: sources.NaN(),
		SLI: sources.NaN(), Consumed: sources.NaN(), Remaining: sources.NaN(), MinutesLeft: sources.NaN(), Status: StatusNoData}
	allowed := s.Allowed()
	for _, w := range r.Windows {
		rate := sources.NaN()
		if w.ErrorRatio.Defined() {
			rate = w.ErrorRatio / sources.Float(allowed)
		}
		b.Burns = append(b.Burns, Burn{Window: w.Window, Rate: rate, Recorded: w.Recorded, Queries: w.Queries})
	}
	main, ok := r.Window(s.Window)
	if ok {
		b.Queries, b.Total, b.Bad = main.Queries, main.Total, main.Bad
	}
	if !r.Since.IsZero() {
		b.Covered = min(s.Window, at.Sub(r.Since))
		b.Partial = b.Covered < s.Window-PartialSlack(s.Window)
	}
	for _, pa := range s.policy() {
		b.Alerts = append(b.Alerts, evaluate(pa, b.BurnOver(pa.Long), b.BurnOver(pa.Short), b.Covered, !r.Since.IsZero()))
	}
	if !ok || !main.ErrorRatio.Defined() {
		return b // no traffic over the window: the SLI is undefined
	}
	ratio := float64(main.ErrorRatio)
	b.SLI = sources.Float(1 - ratio)
	b.Consumed = sources.Float(ratio / allowed)
	b.Remaining = 1 - b.Consumed
	b.MinutesLeft = b.Remaining * sources.Float(allowed*s.Window.Minutes())
	if cur := b.BurnOver(CurrentBurnWindow); cur.Defined() && cur > 1 && b.Remaining > 0 {
		// the remaining share lasts remaining × window ÷ burn
		b.Exhaustion = time.Duration(float64(b.Remaining) * float64(s.Window) / float64(cur))
	}
	b.Status = statusOf(b)
	return b
}

// evaluate is one burn-rate alert at its windows' rates. An alert says
// "factor × long ÷ window of the budget was spent over the long window":
// when the data covers less than the long window, that share must have
// been spent in what there is, so a fresh stack's few minutes at 1.4×
// do not raise a three-day ticket, while a 900× outage still pages.
func evaluate(pa BurnAlert, long, short sources.Float, covered time.Duration, known bool) AlertState {
	st := AlertState{BurnAlert: pa, LongRate: long, ShortRate: short}
	if !long.Defined() || !short.Defined() {
		return st
	}
	need := pa.Factor
	if known && covered < pa.Long {
		st.Covered = &covered
		need = pa.Factor * float64(pa.Long) / math.Max(float64(covered), 1)
	}
	st.Firing = float64(long) > need && float64(short) > pa.Factor
	return st
}

func statusOf(b Budget) Status {
	page, ticket := false, false
	for _, a := range b.Alerts {
		if a.Firing {
			page = page || a.Severity == SeverityPage
			ticket = ticket || a.Severity == SeverityTicket
		}
	}
	switch {
	case page:
		return StatusPage
	case ticket:
		return StatusTicket
	case b.Remaining <= 0:
		return StatusSpent
	case b.Remaining < LowBudget:
		return StatusDegraded
	}
	return StatusOK
}

// PartialSlack is how much of a window may be missing before a budget is
// called partial: one part in a hundred, so a scrape gap or the
// resolution of the coverage query does not flag a full history.
func PartialSlack(window time.Duration) time.Duration { return window / 100 }

// Unread is the budget of an SLO that could not be read, and why: every
// number undefined, so that JSON says null rather than a 0 nobody read.
func Unread(s Objective, at time.Time, why string) Budget {
	return Budget{SLO: s, At: at, Err: why, Cause: why, Status: StatusUnread, Total: sources.NaN(), Bad: sources.NaN(),
		SLI: sources.NaN(), Consumed: sources.NaN(), Remaining: sources.NaN(), MinutesLeft: sources.NaN()}
}

// LoadBudget reads one SLO's indicator over all its windows at at. An
// error is kept in the budget: one SLO's failure greys that SLO alone.
func LoadBudget(ctx context.Context, slis sources.SLIs, s Objective, at time.Time) Budget {
	if err := s.Check(); err != nil {
		return Unread(s, at, err.Error())
	}
	if slis == nil {
		return Unread(s, at, "no metrics datasource configured")
	}
	r, err := slis.SLI(ctx, s.Indicator, s.Windows(), at)
	if err != nil {
		b := Unread(s, at, err.Error())
		b.Cause = sources.Cause(err)
		return b
	}
	return ComputeBudget(s, r, at)
}

// LoadBudgets reads every SLO's budget at at, in the order given, at
// most four at once.
func LoadBudgets(ctx context.Context, slis sources.SLIs, slos []Objective, at time.Time) []Budget {
	out := make([]Budget, len(slos))
	sem := make(chan struct{}, 4)
	done := make(chan struct{})
	for i, s := range slos {
		go func() {
			sem <- struct{}{}
			out[i] = LoadBudget(ctx, slis, s, at)
			<-sem
			done <- struct{}{}
		}()
	}
	for range slos {
		<-done
	}
	return out
}

// WorstFirst orders budgets by what needs attention: paging, then
// ticketing, then least budget left; unreadable and undefined ones last.
func WorstFirst(bs []Budget) {
	rank := func(b Budget) int {
		switch b.Status {
		case StatusPage:
			return 0
		case StatusTicket:
			return 1
		case StatusUnread, StatusNoData, StatusUnknown:
			return 3
		}
		return 2
	}
	sort.SliceStable(bs, func(i, j int) bool {
		ri, rj := rank(bs[i]), rank(bs[j])
		if ri != rj {
			return ri < rj
		}
		return bs[i].Remaining.Defined() && (!bs[j].Remaining.Defined() || bs[i].Remaining < bs[j].Remaining)
	})
}

// WindowName writes a window as SLO tools do: 5m, 1h, 3d.
func WindowName(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// BurnDown is the budget left over the window as its events came in:
// point i is the share left after the events up to Ends[i], out of the
// budget of the whole history's events.
type BurnDown struct {
	Ends      []time.Time     `json:"ends"`
	Remaining []sources.Float `json:"remaining"`
}

// Spend is a stretch of time that spent a notable share of the budget:
// an incident, as the budget saw it.
type Spend struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Share    float64   `json:"share"` // of the window's budget
	PeakBurn float64   `json:"peak_burn"`
	Bad      float64   `json:"bad"`
}

// BudgetHistory is the budget's account over its window: the burn-down
// and the incidents that spent it, most costly first.
type BudgetHistory struct {
	// Span is how far back the account goes: the window, or the part of
	// it the data covers.
	Span     time.Duration `json:"span_ns"`
	Step     time.Duration `json:"step_ns"`
	BurnDown BurnDown      `json:"burn_down"`
	Spends   []Spend       `json:"spends"`
	Queries  []string      `json:"queries"`
}

// AccountBudget reads a history of the SLO's events (oldest first) into
// its burn-down and the stretches that burned the budget faster than
// SpendBurn, merged across gaps of one step, and worth at least
// MinSpendShare of it.
func AccountBudget(s Objective, h sources.SLIHistory) BudgetHistory {
	out := BudgetHistory{Step: h.Step, Queries: []string{h.Bad.Query, h.Total.Query}}
	badAt := map[int64]float64{}
	for _, p := range h.Bad.Samples {
		if !math.IsNaN(p.V) {
			badAt[p.T.UnixNano()] = p.V
		}
	}
	total := 0.0
	for _, p := range h.Total.Samples {
		if !math.IsNaN(p.V) {
			total += p.V
		}
	}
	allowed := s.Allowed()
	budget := allowed * total
	if budget <= 0 {
		return out
	}
	cum := 0.0
	var cur *Spend
	gap, pending := 0, 0.0
	for _, p := range h.Total.Samples {
		bad := badAt[p.T.UnixNano()]
		cum += bad
		out.BurnDown.Ends = append(out.BurnDown.Ends, p.T)
		out.BurnDown.Remaining = append(out.BurnDown.Remaining, sources.Float(1-cum/budget))
		burn := 0.0
		if p.V > 0 {
			burn = bad / p.V / allowed
		}
		if burn > SpendBurn {
			if cur == nil {
				cur = &Spend{Start: p.T.Add(-h.Step)}
			}
			cur.End, cur.Bad, cur.PeakBurn = p.T, cur.Bad+pending+bad, math.Max(cur.PeakBurn, burn)
			gap, pending = 0, 0
			continue
		}
		if cur != nil {
			gap++
			pending += bad
			if gap > 1 {
				out.Spends = append(out.Spends, *cur)
				cur, gap, pending = nil, 0, 0
			}
		}
	}
	if cur != nil {
		out.Spends = append(out.Spends, *cur)
	}
	keep := out.Spends[:0]
	for _, sp := range out.Spends {
		sp.Share = sp.Bad / budget
		if sp.Share >= MinSpendShare {
			keep = append(keep, sp)
		}
	}
	out.Spends = keep
	sort.SliceStable(out.Spends, func(i, j int) bool { return out.Spends[i].Share > out.Spends[j].Share })
	return out
}

// The histories forecasts and the budget's account read.
const (
	// recentSpan at recentStep is what the error ratio's trend is fitted
	// on: two hours of minutes, long enough for a slow burn's slope, short
	// enough that yesterday's incident does not bend it.
	recentSpan = 2 * time.Hour
	recentStep = time.Minute
	// seasonalSpan at seasonalStep is the traffic's history: three days,
	// for two full daily seasons and one to fit them on.
	seasonalSpan = 3 * 24 * time.Hour
	seasonalStep = 5 * time.Minute
	// accountPoints is how many steps the budget's account divides the
	// window into: hours over 28 days.
	accountPoints = 672
)

// LoadForecast reads the recent and seasonal histories of b's indicator
// and forecasts when b runs out, up to horizon ahead.
func LoadForecast(ctx context.Context, slis sources.SLIs, b Budget, horizon time.Duration) (Forecast, error) {
	ind := b.SLO.Indicator
	recent, err := slis.SLIHistory(ctx, ind, sources.TimeRange{Start: b.At.Add(-recentSpan), End: b.At}, recentStep)
	if err != nil {
		return Forecast{}, err
	}
	seasonal, err := slis.SLIHistory(ctx, ind, sources.TimeRange{Start: b.At.Add(-seasonalSpan), End: b.At}, seasonalStep)
	if err != nil {
		return Forecast{}, err
	}
	return ForecastExhaustion(b, recent, seasonal, horizon)
}

// LoadAccount reads the events of b's SLO over its window, or over the
// part its data covers when the budget is partial, and accounts for the
// budget.
func LoadAccount(ctx context.Context, slis sources.SLIs, b Budget) (BudgetHistory, error) {
	span := b.SLO.Window
	if b.Partial && b.Covered > 0 {
		span = b.Covered
	}
	step := max(time.Minute, (span / accountPoints).Truncate(time.Minute))
	h, err := slis.SLIHistory(ctx, b.SLO.Indicator, sources.TimeRange{Start: b.At.Add(-span).Add(step), End: b.At}, step)
	if err != nil {
		return BudgetHistory{}, err
	}
	a := AccountBudget(b.SLO, h)
	a.Span = span
	return a, nil
}
