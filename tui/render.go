package tui

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/themes"
)

// safe strips control sequences from backend text before it is drawn.
func safe(s string) string { return termsafe.Line(s) }

// columnScale is the top of each sparkline column of the service table:
// one scale per column, from 0, so that a bar's height compares across
// services and a steady series stays level.
type columnScale struct{ rate, errors, p99 float64 }

// serviceScale is the scale shared by the rows of the service table.
func serviceScale(rows []correlate.ServiceStatus) columnScale {
	var s columnScale
	top := func(at *float64, vals []float64) {
		for _, v := range vals {
			*at = max(*at, v)
		}
	}
	for _, r := range rows {
		top(&s.rate, r.Rates)
		top(&s.errors, r.ErrorRatios)
		top(&s.p99, r.P99s)
	}
	return s
}

// sparkline draws the whole series, resampled to width cells, on a scale
// from 0 to top: the row says "over 30 minutes", so the cells cover them
// all, not the last few samples. With nothing above 0 it lies flat.
func sparkline(vals []float64, width int, top float64) string {
	if top <= 0 {
		top = 1
	}
	return present.SparklineBetween(present.Resample(vals, width), width, 0, top)
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

// fit cuts or pads a line to exactly width cells. A wide rune that
// does not fit whole before the cut is dropped, and a space takes its
// place, so that the columns after it stay aligned.
func fit(s string, width int) string {
	w := lipgloss.Width(s)
	if w > width {
		s = ansi.Truncate(s, width, "…")
		w = lipgloss.Width(s)
	}
	if w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// keepEnd cuts a line from its start to at most width cells, so that its
// end shows: "…" and the rest.
func keepEnd(s string, width int) string {
	if w := lipgloss.Width(s); w > width {
		return "…" + ansi.TruncateLeft(s, w-max(1, width)+1, "")
	}
	return s
}

// inputIn draws a text input as inputLine does, in at most width cells:
// a long value shows the text before the cursor's end and the bar, so
// that what is typed stays in view, and what follows it cut.
func inputIn(in textinput.Model, width int) string {
	r := []rune(in.Value())
	p := min(in.Position(), len(r))
	before := keepEnd(safe(string(r[:p])), max(1, width-1))
	return before + "▏" + ansi.Truncate(safe(string(r[p:])), max(0, width-1-lipgloss.Width(before)), "…")
}

// gaugeRoom is how many lines the gauges may take in a view of height
// h: a quarter of it, so that alerts and services keep the rest.
func gaugeRoom(h int) int { return max(2, h/4) }

// gaugeLayout decides how the gauges are laid out in maxLines of width:
// side by side when they all fit two or more a line, else one per line,
// aligned, the first shown of them (worst first) and a line that counts
// the rest.
func gaugeLayout(bs []slo.Budget, width, maxLines int) (packed bool, shown int) {
	lines, cur := 0, 0
	for _, b := range bs {
		w := lipgloss.Width(gaugeText(b, 0)) + 2 // room for the selection mark
		if cur > 0 && cur+3+w > width {
			lines++
			cur = 0
		}
		if cur > 0 {
			cur += 3
		}
		cur += w
	}
	if cur > 0 {
		lines++
	}
	if lines <= maxLines {
		// one gauge a line reads better aligned
		return lines < len(bs), len(bs)
	}
	if len(bs) <= maxLines {
		return false, len(bs)
	}
	return false, max(1, maxLines-1)
}

// renderGauges lays out the gauges as gaugeLayout says, each after the
// two cells of the selection mark, as the lists' rows are; the gauge at
// sel (or none, -1) is drawn in the selection style alone, so that its
// colour does not end the selection part way. A gauge that could not be
// read is grey with its reason; the others stay live. first is, for each
// line, the first gauge on it, or -1.
func renderGauges(bs []slo.Budget, p part, sel, width, maxLines int, st *themes.Styles) (lines []string, first []int) {
	if p.Err != nil && len(bs) == 0 {
		return []string{st.Bad.Render("✗ SLOs: " + safe(p.Err.Error()))}, []int{-1}
	}
	if len(bs) == 0 {
		return []string{st.Muted.Render("no SLOs configured")}, []int{-1}
	}
	packed, shown := gaugeLayout(bs, width, maxLines)
	nameWidth := 0
	if !packed {
		for _, b := range bs[:shown] {
			nameWidth = max(nameWidth, lipgloss.Width(safe(b.SLO.Name)))
		}
	}
	cur, curFirst := "", -1
	for i, b := range bs[:shown] {
		text := gaugeText(b, nameWidth)
		var g string
		switch {
		case i == sel && !packed:
			g = st.Selected.Render(fit("▸ "+text, width))
		case i == sel:
			g = st.Selected.Render("▸ " + text)
		case b.Err != "" || !b.Remaining.Defined():
			g = "  " + st.Muted.Render(text)
		default:
			_, _, lvl := present.BudgetState(b)
			g = "  " + st.Level(int(lvl)).Render(text)
		}
		if !packed {
			lines, first = append(lines, fit(g, width)), append(first, i)
			continue
		}
		if cur != "" && lipgloss.Width(cur)+3+lipgloss.Width(g) > width {
			lines, first = append(lines, cur), append(first, curFirst)
			cur = ""
		}
		if cur == "" {
			curFirst = i
		} else {
			cur += st.Border.Render(" │ ")
		}
		cur += g
	}
	if !packed {
		if rest := bs[shown:]; len(rest) > 0 {
			lines = append(lines, st.Muted.Render(fit("  … "+humanize.Count(len(rest), "more SLO")+": "+gaugeCounts(rest)+" · : to find one", width)))
			first = append(first, -1)
		}
		return lines, first
	}
	return append(lines, cur), append(first, curFirst)
}

// gaugeAt is the gauge at cell x of a line that renderGauges packed with
// the gauges [from, to).
func gaugeAt(bs []slo.Budget, from, to, x int) int {
	end := 0
	for i := from; i < to; i++ {
		end += lipgloss.Width(gaugeText(bs[i], 0)) + 2 + 3 // the mark, the gauge, the separator
		if x < end {
			return i
		}
	}
	return to - 1
}

// gaugeCounts sums budgets up by state: "3 ok, 1 no traffic".
func gaugeCounts(bs []slo.Budget) string {
	n := map[string]int{}
	var order []string
	for _, b := range bs {
		_, word, _ := present.BudgetState(b)
		if n[word] == 0 {
			order = append(order, word)
		}
		n[word]++
	}
	var parts []string
	for _, w := range order {
		parts = append(parts, fmt.Sprintf("%d %s", n[w], w))
	}
	return strings.Join(parts, ", ")
}

// gaugeText is one SLO at a glance: symbol, name (padded to nameWidth),
// word, bar, budget left, minutes left, burn arrow, and the flags:
// partial, and a predicted exhaustion within the forecast horizon.
func gaugeText(b slo.Budget, nameWidth int) string {
	sym, word, _ := present.BudgetState(b)
	name := safe(b.SLO.Name)
	if pad := nameWidth - lipgloss.Width(name); pad > 0 {
		name += strings.Repeat(" ", pad)
	}
	if b.Err != "" {
		return fmt.Sprintf("%s %s %s: %s", sym, name, word, ansi.Truncate(safe(b.Err), 48, "…"))
	}
	if !b.Remaining.Defined() {
		return fmt.Sprintf("%s %s %s", sym, name, word)
	}
	g := fmt.Sprintf("%s %s %s %s %s%% %s", sym, name, word, present.Gauge(b, 6), whole(100*float64(b.Remaining)), fmtMinutes(float64(b.MinutesLeft)))
	if a := present.BurnArrow(b); a != "" {
		g += " " + a
	}
	if b.Partial {
		g += " partial"
	}
	if f := b.Forecast; f != nil && f.Within() {
		g += " ⚠ out ~" + fmtMinutes(f.In().Minutes())
	}
	return g
}

// saturationLine flags the resources predicted to fill within the
// saturation horizon, soonest first, or "" when none is.
func saturationLine(fs []slo.Forecast, width int, st *themes.Styles) string {
	if len(fs) == 0 {
		return ""
	}
	var parts []string
	for _, f := range fs {
		parts = append(parts, safe(f.What)+" full "+f.Describe())
	}
	return fit(st.Warn.Render("⚠ predicted: "+strings.Join(parts, " · ")), width)
}

func fmtMinutes(m float64) string {
	if math.Abs(m) >= 60 {
		return whole(m/60) + "h"
	}
	return whole(m) + "m"
}

// whole writes v rounded to a whole number, and a value that rounds to
// zero as 0, never "-0": an overspent budget is a real minus, a tiny
// one is not.
func whole(v float64) string {
	r := math.Round(v)
	if r == 0 {
		r = 0 // -0 compares equal to 0; this makes it positive
	}
	return fmt.Sprintf("%.0f", r)
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
	name, service := 24, 20
	if width < 72 {
		// narrow: the age and the summary's start keep room
		name, service = 18, 12
	}
	line := fmt.Sprintf("%s %s %s %5s %s %s", sev, fit(safe(a.Name), name), fit(safe(a.Service), service), age, st.OK.Render(safe(state)), safe(a.Annotations["summary"]))
	return fit(line, width)
}

// serviceNameCells is the width of a service row's name.
func serviceNameCells(width int) int {
	switch {
	case width < 66:
		return 14
	case width < 90:
		return 18
	}
	return 22
}

// sparkCells is the width of each sparkline of a service row width
// cells wide, and so the points its series is read in. Narrow, the
// sparklines shrink so that the numbers stay whole: the row is the name,
// three numbers of 7 and the spaces (29 in all).
func sparkCells(width int) int {
	if width >= 120 {
		return 20
	}
	return max(0, min(8, (width-serviceNameCells(width)-29)/3))
}

// renderServiceRow is one line of the service table.
func renderServiceRow(r correlate.ServiceStatus, scale columnScale, width int, st *themes.Styles) string {
	name := serviceNameCells(width)
	spark := sparkCells(width)
	lvl := int(r.Health)
	sym := st.Level(lvl).Render([...]string{"✓", "!", "✗"}[lvl])
	if r.Unread() {
		sym = st.Muted.Render("?")
	}
	if r.FromEdges {
		// a peer has the calls into it, not series of its own: its tag
		// says so and stays whole, the name is cut first (d shows it all)
		blank := st.Muted.Render(fit("", spark))
		line := fmt.Sprintf("%s %s %7s %s %7s %s %7s", sym, fit(ansi.Truncate(safe(r.Service), name-len(present.PeerTag), "…")+present.PeerTag, name),
			humanize.Rate(r.Rate), blank, humanize.Percent(r.ErrorRatio), blank, humanize.SecondsShort(r.P99))
		return fit(line, width)
	}
	// a series with no step read has no number: "—", as on the shell; a
	// summarized row has its numbers before its series
	rate, errs, p99 := "—", "—", "—"
	if len(r.Rates) > 0 || (r.Summarized && !math.IsNaN(r.Rate)) {
		rate, errs = humanize.Rate(r.Rate), humanize.Percent(r.ErrorRatio)
	}
	if len(r.P99s) > 0 || (r.Summarized && !math.IsNaN(r.P99)) {
		p99 = humanize.SecondsShort(r.P99)
	}
	rates := st.Accent.Render(sparkline(r.Rates, spark, scale.rate))
	ratios := st.Level(lvl).Render(sparkline(r.ErrorRatios, spark, scale.errors))
	p99s := st.Muted.Render(sparkline(r.P99s, spark, scale.p99))
	if r.Summarized && r.Rates == nil {
		// its series is not read yet (nil; read and empty is []): dots,
		// not the flat line of a service with no traffic
		dots := st.Muted.Render(strings.Repeat("·", spark))
		rates, ratios, p99s = dots, dots, dots
	}
	line := fmt.Sprintf("%s %s %7s %s %7s %s %7s %s", sym, fit(safe(r.Service), name), rate, rates, errs, ratios, p99, p99s)
	return fit(line, width)
}

// statusLine reports each backend part: up, slow or down, and data age.
func statusLine(o *overviewData, wall time.Time, refresh cadence, paused bool, width int, st *themes.Styles) string {
	var parts, short []string
	for _, p := range o.backendParts() {
		switch {
		case p.p == nil:
			// not configured, or nothing to probe: not a state to show
			continue
		case errors.Is(p.p.Err, errNotConfigured):
			parts = append(parts, st.Muted.Render("– "+p.name+" not configured"))
		case p.p.Err != nil:
			parts = append(parts, st.State(2, p.name+" down"))
		case p.p.LoadedAt.IsZero():
			parts = append(parts, st.Muted.Render("… "+p.name))
		case p.p == &o.BudgetOf && unread(o.Budgets) > 0:
			// each budget keeps its own error: the part answered, but not
			// for all of them, and that is no ✓
			n := unread(o.Budgets)
			lvl, what := 1, fmt.Sprintf("%s %d of %d unread", p.name, n, len(o.Budgets))
			if n == len(o.Budgets) {
				lvl, what = 2, p.name+" unread"
			}
			parts = append(parts, st.State(lvl, what))
		case p.p == &o.REDOf && len(o.Services) > 0 && correlate.UnreadCount(o.Services) == len(o.Services):
			// every series answered without a number (NaN): the part is
			// up, but it read nothing, and that is no ✓
			parts = append(parts, st.State(2, p.name+" unread"))
		case p.p.Partial != nil:
			// it answered, but not whole: its rows are shown, and that is no ✓
			parts = append(parts, st.State(1, p.name+" incomplete"))
		case p.p.Took > 2*time.Second:
			parts = append(parts, st.State(1, fmt.Sprintf("%s slow %s", p.name, p.p.Took.Round(time.Millisecond))))
		default:
			parts = append(parts, st.State(0, fmt.Sprintf("%s up %s", p.name, p.p.Took.Round(time.Millisecond))))
			short = append(short, st.State(0, p.name))
			continue
		}
		short = append(short, parts[len(parts)-1])
	}
	age := "no data yet"
	if !o.REDOf.LoadedAt.IsZero() {
		age = "data " + fmtAge(wall.Sub(o.REDOf.LoadedAt)) + " old"
		if wall.Sub(o.REDOf.LoadedAt) > 3*refresh.every {
			age = st.Warn.Render("! " + age + " (stale)")
		}
	}
	mode, why := "refresh "+refresh.every.String(), refresh.why()
	if paused {
		mode, why = st.Warn.Render("! refresh paused (p)"), ""
	}
	if why != "" {
		// said where the interval is, so a slower refresh is never a mystery
		mode = st.Warn.Render(mode + ": " + why)
	}
	// whether the data still refreshes is what a user most needs to see,
	// then how old it is: narrow, a healthy part is its symbol and name
	// alone, then the parts are cut, then the age, never the mode
	tail := age + " · " + mode
	if line := strings.Join(parts, "  ") + "  · " + tail; lipgloss.Width(line) <= width {
		return fit(line, width)
	}
	head := strings.Join(short, " ")
	if room := width - lipgloss.Width(" · "+tail); room >= 2 {
		if lipgloss.Width(head) > room {
			head = fit(head, room)
		}
		return fit(head+" · "+tail, width)
	}
	return fit(fit(age, max(0, width-lipgloss.Width(" · "+mode)))+" · "+mode, width)
}

// unread counts the budgets that could not be read.
func unread(bs []slo.Budget) int {
	n := 0
	for _, b := range bs {
		if b.Err != "" {
			n++
		}
	}
	return n
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
