package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/themes"
)

// renderStats draws the figures as lines of exactly width cells: the
// fleet's table over statsSpan, what it stands on, charts per week, and
// a row per service. Until the first load it says it is reading; a
// store's error greys what an earlier load showed and names the store.
func renderStats(f *statsFigures, err error, zone *time.Location, width int, st *themes.Styles) []string {
	if zone == nil {
		zone = time.UTC
	}
	var out []string
	add := func(l string) { out = append(out, fit(l, width)) }
	head := st.Heading.Render("ON-CALL FIGURES") + st.Muted.Render(" · the fleet")
	if f != nil {
		s := f.Stats
		head += st.Muted.Render(fmt.Sprintf(" · %s → %s %s (%d days)", s.Since.In(zone).Format("01-02 15:04"), s.Now.In(zone).Format("01-02 15:04"),
			zone, int(statsSpan/(24*time.Hour))))
	}
	add(head)
	if f != nil {
		// whose records: the demo's are on the simulator's clock
		add(st.Muted.Render(history.StackLine(f.Stats.Stack)))
	}
	if err != nil {
		add(st.Bad.Render("✗ ") + st.Muted.Render(safe(err.Error())))
	}
	if f == nil {
		if err == nil {
			add(st.Muted.Render("reading the history…"))
		}
		return out
	}
	body := statsBody(*f, zone, width, st)
	if err != nil {
		// the figures of the last load that answered, greyed: not news
		for i, l := range body {
			body[i] = st.Muted.Render(ansi.Strip(l))
		}
	}
	for _, l := range body {
		add(l)
	}
	return out
}

// statsBody is the lines below the heading, styled, not yet fitted.
func statsBody(f statsFigures, zone *time.Location, width int, st *themes.Styles) []string {
	t := f.Stats.Fleet
	m := st.Muted.Render
	var out []string
	if t.Incidents == 0 {
		out = append(out, m(fmt.Sprintf("No incident in these %d days.", int(statsSpan/(24*time.Hour)))))
	} else {
		out = append(out, m(fmt.Sprintf("%-26s %11s %11s  %s", "", "mean", "median", "stands on")))
		row := func(name, what string, v history.Interval) {
			label := st.Heading.Render(fmt.Sprintf("%-4s", name)) + m(fmt.Sprintf(" %-21s", what))
			// an unknown figure says why under the figures' columns,
			// wrapped: after its label when nothing was measured (not
			// "0 of N"), else below its row
			why := func(text, lead string) {
				for i, l := range strings.Split(ansi.Wrap(text, max(1, width-statsFigureColumn), ""), "\n") {
					if i > 0 || lead == "" {
						lead = strings.Repeat(" ", statsFigureColumn)
					}
					out = append(out, lead+m(l))
				}
			}
			if v.Unknown != "" && v.N == 0 {
				why("unknown: "+safe(v.Unknown), label+" ")
				return
			}
			on := fmt.Sprintf("%d of %s", v.N, humanize.Count(t.Incidents, "incident"))
			if v.FromDetection > 0 {
				// the onset unknown, MTTR counts from the first alert
				on = fmt.Sprintf("%d of %d (%d from detection)", v.N, t.Incidents, v.FromDetection)
			}
			mean, median := "–", "–"
			if v.N > 0 {
				mean, median = history.Span(v.Mean), history.Span(v.Median)
			}
			if v.Unknown != "" {
				// short, to fit 80 columns: the reason follows
				on = fmt.Sprintf("%d of %d, others unknown:", v.N, t.Incidents)
			}
			out = append(out, label+fmt.Sprintf(" %11s %11s  ", mean, median)+m(on))
			if v.Unknown != "" {
				why(safe(v.Unknown), "")
			}
		}
		row("MTTD", "onset → first alert", t.MTTD)
		row("MTTA", "first alert → ack", t.MTTA)
		row("MTTR", "onset → resolution", t.MTTR)
		out = append(out,
			fmt.Sprintf("%s, %d open", humanize.Count(t.Incidents, "incident"), t.Open)+m(" · by severity: ")+severities(t.BySeverity, st),
			m("resolved by the autopilot: ")+share(t.Autopilot, st),
			m("pages: ")+pages(t.Pages, st),
			m("out of hours: ")+fmt.Sprintf("%d of %d pages", t.Pages.OutOfHours, t.Pages.N)+m(" · outside "+safe(f.Stats.Hours)))
		if src := history.SourceLines(t, width-2); len(src) > 0 {
			out = append(out, m("timestamps from:"))
			for _, l := range src {
				out = append(out, m("  "+safe(l)))
			}
		}
	}
	out = append(out, "")
	out = append(out, weekCharts(f.Weeks, zone, width, st)...)
	if len(f.Stats.Services) > 0 {
		out = append(out, "")
		out = append(out, serviceTable(f.Stats.Services, width, st)...)
	}
	return out
}

// severities writes incidents by severity, the worst coloured.
func severities(by map[string]int, st *themes.Styles) string {
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = severityStyle(k, st).Render(fmt.Sprintf("%s %d", safe(k), by[k]))
	}
	return strings.Join(parts, st.Muted.Render(" · "))
}

// statsFigureColumn is where the figures start after a row's label,
// "MTTA first alert → ack ": where an unknown figure's reason wraps to.
const statsFigureColumn = 27

// share writes the autopilot's n of the N resolved, with its percentage.
func share(s history.Share, st *themes.Styles) string {
	if s.Of == 0 {
		return st.Muted.Render("none resolved yet")
	}
	return fmt.Sprintf("%d of %d (%s)", s.N, s.Of, humanize.Percent(float64(s.N)/float64(s.Of))) + st.Muted.Render(" of the resolved")
}

// pages writes the pages' count and rate: a weekly rate over a week or
// more, else the count over the span.
func pages(p history.Pages, st *themes.Styles) string {
	if p.Weekly() {
		return fmt.Sprintf("%d, %.1f a week", p.N, p.PerWeek) + st.Muted.Render(fmt.Sprintf(" over %.1f weeks · %s", p.Weeks, safe(p.Rule)))
	}
	return fmt.Sprintf("%d in %s", p.N, history.Span(p.Span)) + st.Muted.Render("; too short a span for a weekly rate · "+safe(p.Rule))
}

// chartLabel is the width of a chart's label: "MTTR median ".
const chartLabel = 13

// weekCharts draws incidents per week and the median MTTR per week as
// bars on one scale from 0 each, oldest week first, each week as wide as
// the width allows (up to four cells), with what they stand on.
func weekCharts(weeks []history.Stats, zone *time.Location, width int, st *themes.Styles) []string {
	if len(weeks) == 0 {
		return nil
	}
	cells := max(1, min(4, (width-chartLabel-40)/len(weeks))) // the legend keeps 40 cells
	var counts, mttrs []float64
	total, measured := 0, 0
	topCount, topMTTR := 0.0, time.Duration(0)
	for _, w := range weeks {
		t := w.Fleet
		counts = append(counts, float64(t.Incidents))
		total += t.Incidents
		topCount = max(topCount, float64(t.Incidents))
		if t.MTTR.N == 0 {
			mttrs = append(mttrs, math.NaN()) // no incident resolved that week: a gap, not a zero
			continue
		}
		mttrs = append(mttrs, float64(t.MTTR.Median))
		measured += t.MTTR.N
		topMTTR = max(topMTTR, t.MTTR.Median)
	}
	first := weeks[0].Since
	out := []string{st.Heading.Render("PER WEEK") + st.Muted.Render(fmt.Sprintf(" · %d weeks from %s, oldest first", len(weeks), first.In(zone).Format("2006-01-02")))}
	bar := func(label string, vals []float64, top float64, legend string) string {
		line := present.SparklineBetween(vals, len(vals), 0, max(top, 1))
		var b strings.Builder
		for _, r := range line {
			b.WriteString(strings.Repeat(string(r), cells))
		}
		return fmt.Sprintf("%-*s", chartLabel, label) + st.Accent.Render(b.String()) + st.Muted.Render("  "+legend)
	}
	out = append(out, bar("incidents", counts, topCount, fmt.Sprintf("busiest week %s · %s", humanize.Commas(topCount), humanize.Count(total, "incident"))))
	mttrLegend := "no incident resolved"
	if measured > 0 {
		mttrLegend = fmt.Sprintf("worst week %s · stands on %s", history.Span(topMTTR), humanize.Count(measured, "incident"))
	}
	out = append(out, bar("MTTR median", mttrs, float64(topMTTR), mttrLegend))
	return out
}

// serviceTable is a row per service: its incidents, the median of each
// figure with the incidents it stands on, its pages and the autopilot's
// share, the name taking what the figures leave.
func serviceTable(ts []history.Tally, width int, st *themes.Styles) []string {
	const figs = "%9s %10s %10s %10s %6s %9s"
	name := max(10, width-(9+10+10+10+6+9+6))
	out := []string{st.Heading.Render(fmt.Sprintf("%-*s ", name, "BY SERVICE")) + st.Muted.Render(fmt.Sprintf(figs, "incidents", "MTTD med", "MTTA med", "MTTR med", "pages", "autopilot"))}
	med := func(v history.Interval) string {
		if v.N == 0 {
			return "– (0)"
		}
		return fmt.Sprintf("%s (%d)", fmtAge(v.Median), v.N)
	}
	for _, t := range ts {
		auto := "–" // none resolved
		if t.Autopilot.Of > 0 {
			auto = fmt.Sprintf("%d of %d", t.Autopilot.N, t.Autopilot.Of)
		}
		out = append(out, st.SeriesOf(t.Service).Render(fit(safe(t.Service), name))+" "+
			fmt.Sprintf(figs, fmt.Sprint(t.Incidents), med(t.MTTD), med(t.MTTA), med(t.MTTR), fmt.Sprint(t.Pages.N), auto))
	}
	return out
}
