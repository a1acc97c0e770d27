package present

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/slo"
)

// The words of an SLO's budget, shared by `oncall slo` and the cockpit,
// so that both say the same thing the same way. States always come as a
// symbol and a word, never by colour alone.

// BudgetState is the symbol and word of a budget's status, and its
// health level for colour.
func BudgetState(b slo.Budget) (symbol, word string, level correlate.Health) {
	switch b.Status {
	case slo.StatusPage:
		return "✗", "page", correlate.Failing
	case slo.StatusSpent:
		return "✗", "spent", correlate.Failing
	case slo.StatusTicket:
		return "!", "ticket", correlate.Degraded
	case slo.StatusDegraded:
		return "!", "low", correlate.Degraded
	case slo.StatusNoData:
		return "?", "no traffic", correlate.Degraded
	case slo.StatusUnread:
		return "?", "unread", correlate.Degraded
	case slo.StatusUnknown, "":
		return "…", "loading", correlate.Healthy
	}
	return "✓", "ok", correlate.Healthy
}

// UnreadCause is why a budget was not read in a few words ("connection
// refused"), for rows that point to the whole error said once, first on
// stderr; the whole error when no shorter one is known (a budget read
// back from JSON).
func UnreadCause(b slo.Budget) string {
	if b.Cause != "" {
		return Safe(b.Cause)
	}
	return Safe(b.Err)
}

// BudgetPercent is the budget left as a percentage, or "—" when undefined.
func BudgetPercent(b slo.Budget) string {
	if !b.Remaining.Defined() {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(b.Remaining))
}

// MinutesLeft is the budget left as minutes of full outage: "32 min",
// "5 h 20 min", or "—".
func MinutesLeft(b slo.Budget) string {
	if !b.MinutesLeft.Defined() {
		return "—"
	}
	m := float64(b.MinutesLeft)
	if m < 0 {
		return "-" + span(time.Duration(-m*float64(time.Minute)))
	}
	return span(time.Duration(m * float64(time.Minute)))
}

func span(d time.Duration) string { return slo.FormatSpan(d) }

// BurnArrow says where the burn is heading: ↑ when the current burn is
// BurnArrowFactor times the hour's, ↓ when a factor under, → otherwise,
// "" when either is undefined.
func BurnArrow(b slo.Budget) string {
	cur, hour := b.BurnOver(slo.CurrentBurnWindow), b.BurnOver(time.Hour)
	if !cur.Defined() || !hour.Defined() {
		return ""
	}
	switch {
	case float64(cur) > slo.BurnArrowFactor*math.Max(float64(hour), 0.1):
		return "↑"
	case float64(cur)*slo.BurnArrowFactor < float64(hour):
		return "↓"
	}
	return "→"
}

// Burn writes a burn rate: "14.4×", or "—" when undefined.
func Burn(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.1f×", v)
}

// Partial is "partial: 9 of 28 days" (or hours), or "" for a budget
// whose data covers its window.
func Partial(b slo.Budget) string {
	if !b.Partial {
		return ""
	}
	w := b.SLO.Window
	if w >= 48*time.Hour && b.Covered >= 24*time.Hour {
		return fmt.Sprintf("partial: %s of %d days", trimFloat(b.Covered.Hours()/24), int(w.Hours()/24))
	}
	if w >= 48*time.Hour {
		return fmt.Sprintf("partial: %s of %d days", span(b.Covered), int(w.Hours()/24))
	}
	return fmt.Sprintf("partial: %s of %s", span(b.Covered), span(w))
}

func trimFloat(v float64) string {
	if v < 10 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
	}
	return fmt.Sprintf("%.0f", v)
}

// Gauge draws the budget left as n cells, or dots when it is unknown: an
// empty gauge would read as a spent budget.
func Gauge(b slo.Budget, n int) string {
	if b.Err != "" || !b.Remaining.Defined() {
		return strings.Repeat("·", n)
	}
	cells := int(math.Round(float64(n) * math.Max(0, math.Min(1, float64(b.Remaining)))))
	return strings.Repeat("█", cells) + strings.Repeat("░", n-cells)
}

// ForecastLine says a budget's forecast: "predicted to exhaust budget in
// 37 min (±8 min)", or "" when there is none.
func ForecastLine(f *slo.Forecast) string {
	if f == nil || f.Made.IsZero() {
		return ""
	}
	what := "budget"
	if f.What != "budget" {
		what = f.What + " full"
		if f.Within() {
			return "predicted " + what + " " + f.Describe()
		}
		return "not predicted full " + f.Describe()
	}
	if !f.Within() {
		return "budget not predicted to run out " + f.Describe()
	}
	return "predicted to exhaust " + what + " " + f.Describe()
}

// Money is the budget left as money, with its currency: what the
// minutes left are worth at the SLO's value per minute down; "" when the
// SLO has no value per minute.
func Money(b slo.Budget, currency string) string {
	if b.SLO.ValuePerMinuteDown <= 0 || !b.MinutesLeft.Defined() {
		return ""
	}
	return fmt.Sprintf("%s %s", humanize.Commas(float64(b.MinutesLeft)*b.SLO.ValuePerMinuteDown), currency)
}

// AccountSpan names how far back a budget's account goes: "28d", or
// "the last 2 min" of a partial one.
func AccountSpan(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return slo.WindowName(d)
	}
	return "the last " + span(d)
}
