package tui

import (
	"fmt"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/themes"
)

// renderSLO renders an SLO's presentation as styled lines of exactly
// width cells for the scrolling view: the status coloured by its level,
// the alerts as aligned columns, the burn-down as wide as the view.
func renderSLO(d present.SLODetail, width int, st *themes.Styles) []string {
	var out []string
	add := func(s string) { out = append(out, fit(s, width)) }
	row := func(label, value string) { add(st.Muted.Render(fmt.Sprintf("%-10s", label)) + " " + value) }
	level := st.Level(int(d.Level))
	add(st.Heading.Render(d.Name) + st.Muted.Render("  "+d.Service+" · "+d.Objective+" over "+d.Window))
	if d.Origin != "" {
		row("defined", d.Origin)
	}
	if d.Err != "" {
		row("status", st.Muted.Render(d.Symbol+" "+d.Word+": "+d.Err))
		return out
	}
	row("status", level.Render(d.Symbol+" "+d.Word))
	if d.SLIDefined {
		events := ""
		if d.Events != "" {
			events = st.Muted.Render("  " + d.Events)
		}
		row("SLI", d.SLI+events)
	} else {
		row("SLI", st.Muted.Render(d.SLI))
	}
	if d.Threshold != "" {
		row("threshold", d.Threshold)
	}
	row("budget", level.Render(d.Gauge)+" "+d.Left+" · "+d.Outage)
	if d.Partial != "" {
		row("", st.Warn.Render(d.Partial)+st.Muted.Render(": "+present.CoveredPart))
	}
	if d.RunsOut != "" {
		row("runs out", d.RunsOut)
	}
	if f := d.Forecast; f != nil {
		style := st.Muted
		if f.Within {
			style = st.Warn
		}
		row("forecast", style.Render(f.Line))
		row("", st.Muted.Render(fmt.Sprintf("%s; %d points; made %s", f.Method, f.Points, f.Made)))
	}
	add("")
	add(st.Heading.Render("BURN-RATE ALERTS") + st.Muted.Render("  fire when both windows burn faster than the factor"))
	for _, al := range d.Alerts {
		state := "✓ quiet"
		if al.Firing {
			state = "✗ firing"
		}
		add(fmt.Sprintf("  %-6s %4s & %-4s > %-5s  %7s %7s  ", al.Severity, al.Long, al.Short, al.Factor, al.LongRate, al.ShortRate) + st.Level(int(al.Level)).Render(state))
	}
	var burns []string
	for _, br := range d.Burns {
		burns = append(burns, br.Window+" "+br.Rate)
	}
	add(st.Muted.Render("  burn " + strings.Join(burns, " · ")))
	add("")
	out = append(out, renderSLOAccount(d, width, st)...)
	add("")
	add(st.Muted.Render("from: " + d.Path))
	for _, q := range d.Queries {
		add(st.Muted.Render("  " + q))
	}
	return out
}

// renderSLOAccount is the burn-down and what spent the budget, or why
// they are not there.
func renderSLOAccount(d present.SLODetail, width int, st *themes.Styles) []string {
	var out []string
	add := func(s string) { out = append(out, fit(s, width)) }
	a := d.Account
	switch {
	case d.AccountErr != "":
		add(st.Heading.Render("BURN-DOWN") + "  " + st.Bad.Render("✗ "+d.AccountErr))
		return out
	case a == nil:
		add(st.Heading.Render("BURN-DOWN") + st.Muted.Render("  reading the window…"))
		return out
	}
	add(st.Heading.Render("BURN-DOWN") + st.Muted.Render(fmt.Sprintf("  budget left over %s on a 0–100%% scale, a point per %s", a.Span, a.Step)))
	add("  " + st.Level(int(d.Level)).Render(a.BurnDown(max(10, width-4))))
	add("")
	if len(a.Spends) == 0 {
		add(st.Heading.Render("SPENT BY") + st.Muted.Render("  "+present.NothingSpent))
		return out
	}
	add(st.Heading.Render("SPENT BY") + st.Muted.Render("  the stretches that burned the budget, most costly first"))
	for _, sp := range a.Spends {
		add(fmt.Sprintf("  %s – %s  %s  peak %s", sp.Start.Format("Jan 02 15:04"), sp.End.Format("15:04"), sp.Share, sp.Peak))
	}
	return out
}
