package present

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// The sentences an SLO's detail shares with its styled renderer, which
// puts them beside styled parts.
const (
	// CoveredPart says what a partial budget is.
	CoveredPart = "the budget is that of the covered part"
	// NothingSpent says that no stretch of the window burned the budget
	// fast enough to be named.
	NothingSpent = "nothing burned over twice the sustainable rate"
)

// gaugeCells is the width of the detail's budget gauge: the same in text
// and in the cockpit, whatever the terminal's width.
const gaugeCells = 20

// SLODetailOptions say what an SLO's detail is presented with.
type SLODetailOptions struct {
	// Source says where the budget was read: the world's label.
	Source   string
	Currency string
	// Zone is the zone times are written in; nil is UTC.
	Zone *time.Location
}

// SLODetail is the presentation of one SLO in full, section by section:
// what `oncall slo show` prints and the cockpit's SLO view shows. Every
// string is terminal-safe.
type SLODetail struct {
	Name, Service string
	Objective     string // "99.9%"
	Window        string // "28d"
	Origin        string // where the SLO is defined; "" when not said
	Symbol, Word  string // the status: "✗", "page"
	Level         correlate.Health
	// Err is why the budget could not be read; every section below is
	// then empty.
	Err string

	// SLI is "99.9386%", or why there is none (SLIDefined false).
	SLI        string
	SLIDefined bool
	// Events is "233,349,546 events, 143,388 bad"; "" when only a
	// recorded ratio answered.
	Events string
	// Threshold is a latency SLO's threshold as counted: "250ms (the
	// histogram boundary nearest 300ms)"; "" for other SLOs.
	Threshold string
	Gauge     string // the budget left, as a gauge of 20 cells
	Left      string // "38.6% left"
	// Outage is the budget left as full outage, and its worth when the
	// SLO has a value per minute: "16 min of full outage · worth 1,600 EUR".
	Outage string
	// Partial is "partial: 9 of 28 days" when the data does not cover the
	// window (see CoveredPart); "" otherwise.
	Partial string
	// RunsOut is "in 16 min at the current (5m) burn"; "" when the burn
	// does not spend the budget within the window.
	RunsOut  string
	Forecast *SLOForecast // nil when none was made
	Burns    []SLOBurn
	Alerts   []SLOAlert
	// Account is nil until it is read, or when it could not be
	// (AccountErr says why).
	Account    *SLOAccount
	AccountErr string

	Source  string // the world's label
	Path    string // how the numbers were computed
	Queries []string
}

// SLOForecast is the budget's forecast.
type SLOForecast struct {
	Line   string // "predicted to exhaust budget in 14 min (±1 min)"
	Within bool   // the budget runs out within the horizon
	Method string
	Points int
	Made   string // the time of day of its newest data point
}

// SLOBurn is the burn rate over one window.
type SLOBurn struct {
	Window, Rate string
	// Source is "counted", or "recording rule" where Sloth's or Pyrra's
	// rules were read.
	Source string
}

// SLOAlert is one burn-rate alert of the SLO's policy, evaluated.
type SLOAlert struct {
	Severity            string
	Long, Short, Factor string // "1h", "5m", "14.4×"
	LongRate, ShortRate string
	Firing              bool
	// Level is failing for a firing page, degraded for a firing ticket.
	Level correlate.Health
}

// SLOAccount is the budget's account over its window.
type SLOAccount struct {
	Span string // "28d", or "the last 2 min" of a partial one
	Step string // "1h": a point of the burn-down per step
	// Remaining is the share of the budget left after each step.
	Remaining []float64
	Spends    []SLOSpend // most costly first
}

// SLOSpend is a stretch of time that spent a notable share of the budget.
type SLOSpend struct {
	Start, End time.Time // in the detail's zone
	Share      string    // " 26.0% of the budget", padded to line up
	Peak       string    // the peak burn rate: "144×"
}

// NewSLODetail builds the presentation of a budget and its account (nil
// when not read; accountErr says why when reading it failed).
func NewSLODetail(b slo.Budget, a *slo.BudgetHistory, accountErr error, o SLODetailOptions) SLODetail {
	zone := o.Zone
	if zone == nil {
		zone = time.UTC
	}
	obj, window := objectiveWords(b.SLO)
	sym, word, lvl := BudgetState(b)
	d := SLODetail{Name: Safe(b.SLO.Name), Service: Safe(b.SLO.Service), Objective: obj, Window: window, Origin: Safe(b.SLO.Origin),
		Symbol: sym, Word: word, Level: lvl, Err: Safe(b.Err), Source: Safe(o.Source), Path: Safe(b.Path), Queries: safeAll(b.Queries)}
	if b.Err != "" {
		return d
	}
	d.SLI, d.SLIDefined = "undefined: no traffic in the window", b.SLI.Defined()
	if d.SLIDefined {
		d.SLI = fmt.Sprintf("%.4f%%", 100*float64(b.SLI))
	}
	if b.Total.Defined() {
		d.Events = fmt.Sprintf("%s events, %s bad", humanize.Commas(float64(b.Total)), humanize.Commas(float64(b.Bad)))
	}
	if b.Threshold > 0 {
		d.Threshold = fmt.Sprintf("%s (the histogram boundary nearest %s)", b.Threshold, b.SLO.Indicator.Threshold)
	}
	d.Gauge, d.Left, d.Outage = Gauge(b, gaugeCells), BudgetPercent(b)+" left", MinutesLeft(b)+" of full outage"
	if m := Money(b, o.Currency); m != "" {
		d.Outage += " · worth " + Safe(m)
	}
	d.Partial = Partial(b)
	if b.Exhaustion > 0 {
		d.RunsOut = fmt.Sprintf("in %s at the current (%s) burn", slo.FormatSpan(b.Exhaustion), slo.WindowName(slo.CurrentBurnWindow))
	}
	if fl := ForecastLine(b.Forecast); fl != "" {
		f := b.Forecast
		d.Forecast = &SLOForecast{Line: fl, Within: f.Within(), Method: f.Method, Points: f.Points, Made: f.Made.In(zone).Format("15:04")}
	}
	for _, br := range b.Burns {
		src := "counted"
		if br.Recorded {
			src = "recording rule"
		}
		d.Burns = append(d.Burns, SLOBurn{Window: slo.WindowName(br.Window), Rate: Burn(float64(br.Rate)), Source: src})
	}
	for _, al := range b.Alerts {
		d.Alerts = append(d.Alerts, newSLOAlert(al))
	}
	if accountErr != nil {
		d.AccountErr = Safe(accountErr.Error())
	}
	if a != nil {
		d.Account = newSLOAccount(*a, zone)
	}
	return d
}

func newSLOAlert(al slo.AlertState) SLOAlert {
	a := SLOAlert{Severity: Safe(string(al.Severity)), Long: slo.WindowName(al.Long), Short: slo.WindowName(al.Short),
		Factor: strconv.FormatFloat(al.Factor, 'f', -1, 64) + "×", LongRate: Burn(float64(al.LongRate)), ShortRate: Burn(float64(al.ShortRate)), Firing: al.Firing}
	if al.Firing {
		a.Level = correlate.Failing
		if al.Severity == slo.SeverityTicket {
			a.Level = correlate.Degraded
		}
	}
	return a
}

func newSLOAccount(a slo.BudgetHistory, zone *time.Location) *SLOAccount {
	acc := &SLOAccount{Span: AccountSpan(a.Span), Step: slo.WindowName(a.Step), Remaining: definedFloats(a.BurnDown.Remaining)}
	for _, sp := range a.Spends {
		acc.Spends = append(acc.Spends, SLOSpend{Start: sp.Start.In(zone), End: sp.End.In(zone),
			Share: fmt.Sprintf("%5.1f%% of the budget", 100*sp.Share), Peak: Burn(sp.PeakBurn)})
	}
	return acc
}

// BurnDown draws the budget left over the account in width cells, on a
// fixed 0 to 100% scale so that 40% looks like 40%.
func (a SLOAccount) BurnDown(width int) string {
	return SparklineBetween(Resample(a.Remaining, width), width, 0, 1)
}

// definedFloats drops the undefined numbers of v.
func definedFloats(v []sources.Float) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if x.Defined() {
			out = append(out, float64(x))
		}
	}
	return out
}

// cliBurnDownCells is the width of the burn-down in plain text, which
// has no terminal width to fill.
const cliBurnDownCells = 60

// SLODetailText writes an SLO's detail as plain text.
func SLODetailText(w io.Writer, d SLODetail) error {
	var sb strings.Builder
	line := func(label, value string) { fmt.Fprintf(&sb, "  %-10s %s\n", label, value) }
	fmt.Fprintf(&sb, "%s  %s  %s / %s\n", d.Name, d.Service, d.Objective, d.Window)
	if d.Origin != "" {
		line("defined", d.Origin)
	}
	if d.Err != "" {
		line("status", d.Symbol+" "+d.Word+": "+d.Err)
		_, err := io.WriteString(w, sb.String())
		return err
	}
	line("status", d.Symbol+" "+d.Word)
	sli := d.SLI
	if d.SLIDefined && d.Events != "" {
		sli += " (" + d.Events + ")"
	}
	line("SLI", sli)
	if d.Threshold != "" {
		line("threshold", d.Threshold)
	}
	line("budget", d.Left+" "+d.Gauge+" · "+d.Outage)
	if d.Partial != "" {
		line("", d.Partial+": "+CoveredPart)
	}
	if d.RunsOut != "" {
		line("runs out", d.RunsOut)
	}
	if f := d.Forecast; f != nil {
		line("forecast", f.Line)
		line("", fmt.Sprintf("%s, on %d points", f.Method, f.Points))
	}
	sb.WriteString("\n  BURN RATES\n")
	for _, br := range d.Burns {
		fmt.Fprintf(&sb, "    %-5s %8s   %s\n", br.Window, br.Rate, br.Source)
	}
	sb.WriteString("\n  ALERTS (multiwindow, multi-burn-rate)\n")
	for _, a := range d.Alerts {
		state := "✓ quiet"
		if a.Firing {
			state = "✗ FIRING"
		}
		fmt.Fprintf(&sb, "    %-6s over %s and %s > %s: %s and %s   %s\n", a.Severity, a.Long, a.Short, a.Factor, a.LongRate, a.ShortRate, state)
	}
	if a := d.Account; a != nil {
		fmt.Fprintf(&sb, "\n  BURN-DOWN over %s (0 to 100%% of the budget), a point per %s\n    %s\n", a.Span, a.Step, a.BurnDown(cliBurnDownCells))
		if len(a.Spends) == 0 {
			sb.WriteString("\n  SPENT BY  " + NothingSpent + "\n")
		} else {
			sb.WriteString("\n  SPENT BY\n")
			for _, sp := range a.Spends {
				fmt.Fprintf(&sb, "    %s – %s  %s, peak %s\n", sp.Start.Format("2006-01-02 15:04"), sp.End.Format("15:04 MST"), sp.Share, sp.Peak)
			}
		}
	}
	if d.AccountErr != "" {
		fmt.Fprintf(&sb, "\n  ✗ account: %s\n", d.AccountErr)
	}
	fmt.Fprintf(&sb, "\n  FROM %s: %s\n", d.Source, d.Path)
	for _, q := range d.Queries {
		fmt.Fprintf(&sb, "    %s\n", q)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// objectiveWords writes an SLO's objective and window: "99.9%", "28d".
func objectiveWords(s slo.Objective) (objective, window string) {
	return strconv.FormatFloat(100*s.Objective, 'f', -1, 64) + "%", slo.WindowName(s.Window)
}
