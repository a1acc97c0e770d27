package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/themes"
)

// safe strips control sequences from backend text before it is drawn.
func safe(s string) string { return termsafe.Line(s) }

// serviceRows judges each service's RED series (correlate.StatusOf).
func serviceRows(reds []sources.RED) []correlate.ServiceStatus {
	out := make([]correlate.ServiceStatus, 0, len(reds))
	for _, r := range reds {
		out = append(out, correlate.StatusOf(r))
	}
	return out
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values between their minimum and
// maximum; a flat series is a flat low line.
func sparkline(vals []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	var b strings.Builder
	for i := len(vals); i < width; i++ {
		b.WriteRune(' ')
	}
	for _, v := range vals {
		k := 0
		// ignore jitter under 2% of the level: noise is not a trend
		if span := hi - lo; span > 0.02*math.Abs(hi) && span > 0 {
			k = int(math.Round((v - lo) / span * float64(len(sparks)-1)))
		}
		b.WriteRune(sparks[k])
	}
	return b.String()
}

func fmtRate(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.1fk/s", v/1000)
	}
	return fmt.Sprintf("%.0f/s", v)
}

func fmtAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// fit cuts or pads a line to exactly width cells.
func fit(s string, width int) string {
	if w := lipgloss.Width(s); w > width {
		return ansi.Truncate(s, width, "…")
	} else if w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// renderGauges lays out one gauge per SLO, wrapping to width; the gauge
// at sel (or none, -1) is drawn selected.
func renderGauges(bs []correlate.Budget, p part, sel, width int, st *themes.Styles) []string {
	if p.Err != nil && len(bs) == 0 {
		return []string{st.Bad.Render("✗ SLOs: " + safe(p.Err.Error()))}
	}
	if len(bs) == 0 {
		return []string{st.Muted.Render("no SLOs configured")}
	}
	var lines []string
	cur := ""
	for i, b := range bs {
		cells := int(math.Round(6 * math.Max(0, math.Min(1, b.Remaining))))
		bar := strings.Repeat("█", cells) + strings.Repeat("░", 6-cells)
		lvl := int(correlate.BudgetHealth(b))
		sym := [...]string{"✓", "!", "✗"}[lvl]
		g := fmt.Sprintf("%s %s %s %.0f%% %s", sym, safe(b.SLO.Name), bar, 100*b.Remaining, fmtMinutes(b.MinutesLeft))
		if b.Remaining < 0 {
			g = fmt.Sprintf("%s %s %s spent", sym, safe(b.SLO.Name), bar)
		}
		g = st.Level(lvl).Render(g)
		if i == sel {
			g = st.Selected.Render("▸ " + g)
		}
		if cur != "" && lipgloss.Width(cur)+3+lipgloss.Width(g) > width {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += st.Border.Render(" │ ")
		}
		cur += g
	}
	return append(lines, cur)
}

func fmtMinutes(m float64) string {
	if math.Abs(m) >= 60 {
		return fmt.Sprintf("%.0fh", m/60)
	}
	return fmt.Sprintf("%.0fm", m)
}

// renderAlertRow is one firing alert: severity, name, service, age, summary.
func renderAlertRow(a sources.Alert, now time.Time, ackedBy map[string]string, width int, st *themes.Styles) string {
	lvl := 1
	if a.Severity == "page" || a.Severity == "critical" {
		lvl = 2
	}
	state := ""
	if a.State == sources.AlertSuppressed {
		lvl, state = 0, " (silenced)"
		for _, id := range a.SilencedBy {
			if who := ackedBy[id]; who != "" {
				state = " (acked by " + who + ")"
			}
		}
	}
	sev := st.Level(lvl).Render(fmt.Sprintf("%s %-7s", [...]string{"✓", "!", "✗"}[lvl], safe(a.Severity)))
	age := "-"
	if !a.StartsAt.IsZero() {
		age = fmtAge(now.Sub(a.StartsAt))
	}
	line := fmt.Sprintf("%s %-24s %-20s %5s %s %s", sev, fit(safe(a.Name), 24), fit(safe(a.Service), 20), age, st.OK.Render(safe(state)), safe(a.Annotations["summary"]))
	return fit(line, width)
}

// renderServiceRow is one line of the service table.
func renderServiceRow(r correlate.ServiceStatus, width int, st *themes.Styles) string {
	spark := 8
	if width >= 120 {
		spark = 20
	}
	name := 22
	if width < 90 {
		name = 18
	}
	lvl := int(r.Health)
	sym := st.Level(lvl).Render([...]string{"✓", "!", "✗"}[lvl])
	line := fmt.Sprintf("%s %s %7s %s %7s %s %7s %s", sym, fit(safe(r.Service), name),
		fmtRate(r.Rate), st.Accent.Render(sparkline(r.Rates, spark)),
		humanize.Percent(r.ErrorRatio), st.Level(lvl).Render(sparkline(r.ErrorRatios, spark)),
		humanize.SecondsShort(r.P99), st.Muted.Render(sparkline(r.P99s, spark)))
	return fit(line, width)
}

// statusLine reports each backend part: up, slow or down, and data age.
func statusLine(o *overviewData, wall time.Time, refresh time.Duration, paused bool, width int, st *themes.Styles) string {
	var parts []string
	for _, p := range []struct {
		name string
		p    part
	}{{"metrics", o.REDOf}, {"slo", o.BudgetOf}, {"alerts", o.AlertsOf}} {
		switch {
		case p.p.Err != nil:
			parts = append(parts, st.State(2, p.name+" down"))
		case p.p.Took > 2*time.Second:
			parts = append(parts, st.State(1, fmt.Sprintf("%s slow %s", p.name, p.p.Took.Round(time.Millisecond))))
		default:
			parts = append(parts, st.State(0, fmt.Sprintf("%s up %s", p.name, p.p.Took.Round(time.Millisecond))))
		}
	}
	age := "no data yet"
	if !o.REDOf.LoadedAt.IsZero() {
		age = "data " + fmtAge(wall.Sub(o.REDOf.LoadedAt)) + " old"
		if wall.Sub(o.REDOf.LoadedAt) > 3*refresh {
			age = st.Warn.Render("! " + age + " (stale)")
		}
	}
	mode := "refresh " + refresh.String()
	if paused {
		mode = st.Warn.Render("! refresh paused (p)")
	}
	return fit(strings.Join(parts, "  ")+"  · "+age+" · "+mode, width)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
