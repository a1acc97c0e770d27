package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/themes"
)

// likelihoodLevel colours a likelihood as a health level: a likely cause
// is the failing one.
var likelihoodLevel = map[correlate.Likelihood]int{correlate.Likely: 2, correlate.Possible: 1, correlate.Unlikely: 0}

// renderIncident renders an incident's presentation as styled lines of
// exactly width cells for the scrolling view. collapsed keeps only the
// root's direct callers in the dependency tree.
func renderIncident(p present.Incident, collapsed bool, width int, st *themes.Styles) []string {
	var out []string
	add := func(s string) { out = append(out, fit(s, width)) }
	wrap := func(s string, style func(...string) string) {
		for _, l := range strings.Split(lipgloss.NewStyle().Width(width).Render(s), "\n") {
			add(style(l))
		}
	}
	if len(p.Incomplete) > 0 {
		wrap("✗ Evidence incomplete: "+strings.Join(p.Incomplete, "; "), st.Bad.Render)
	}
	stop, chain := summaryParts(p)
	if stop != "" {
		wrap(stop, st.Warn.Render)
	}
	wrap(chain, st.Heading.Render)
	if b := p.Blast; b != nil {
		wrap(blastLine(b), st.Bad.Render)
	}
	if p.Thin {
		wrap("Thin evidence: no cause is likely. "+strings.Join(p.Notes, "; "), st.Warn.Render)
	}
	add("")
	add(st.Heading.Render("ROOT-CAUSE CANDIDATES"))
	for _, c := range p.Candidates {
		lvl := likelihoodLevel[c.Likelihood]
		head := fmt.Sprintf("%d. %s  %s", c.Rank, st.Heading.Render(c.Service), st.Level(lvl).Render(fmt.Sprintf("%s %.2f", c.Likelihood, c.Confidence)))
		if c.Stopped != "" {
			// its evidence is its last data: said on its own line when the
			// heading has no room for it
			mark := stoppedMark(c.Stopped, st)
			if lipgloss.Width(head+"  "+mark) <= width {
				head += "  " + mark
			} else {
				add(head)
				head = "   " + mark
			}
		}
		add(head)
		for _, r := range c.Reasons {
			add(fmt.Sprintf("   %-11s %s", r.Kind, r.Detail))
			for _, l := range r.Lines {
				add(st.Muted.Render("      log: " + l))
			}
		}
	}
	if rb := p.Runbooks; rb != nil {
		add("")
		add(st.Heading.Render("RUNBOOKS") + st.Muted.Render("  (links from the config; nothing runs from here)"))
		for _, l := range rb.Links {
			add("  " + l.Service + "  " + st.Accent.Render(l.Link))
		}
		if rb.Gap != "" {
			add(st.Muted.Render("  none configured for " + rb.Gap + " (services.<name>.runbooks in the config)"))
		}
	}
	if len(p.Tree) > 0 {
		add("")
		hint := "  (hurt callers of the root cause; c collapses)"
		if collapsed {
			hint = "  (collapsed to the root's direct callers; c expands)"
		}
		add(st.Heading.Render("DEPENDENCY TREE") + st.Muted.Render(hint))
		hidden := 0
		for _, r := range p.Tree {
			if collapsed && (r.Depth > 1 || r.ByLoad) {
				hidden++
				continue
			}
			name := r.Service
			lvl := int(r.Health)
			if r.Anomaly != "" {
				name = st.Level(lvl).Render(r.Service)
			}
			if r.Stopped != "" {
				// before its anomaly, which a narrow screen cuts: that
				// anomaly is its last data
				name += "  " + stoppedMark(r.Stopped, st)
			}
			l := r.Prefix + name
			if r.Anomaly != "" {
				l += "  " + st.Level(lvl).Render([...]string{"", "! ", "✗ "}[lvl]+r.Anomaly)
			}
			add(l)
		}
		if hidden > 0 {
			add(st.Muted.Render(fmt.Sprintf("   … %d more (c expands)", hidden)))
		}
	}
	if len(p.Mechanisms) > 0 {
		add("")
		add(st.Heading.Render("MECHANISMS"))
		for _, m := range p.Mechanisms {
			add(fmt.Sprintf("  %-20s %s", m.Kind, m.Detail))
		}
	}
	if len(p.Timeline) > 0 {
		add("")
		add(st.Heading.Render("TIMELINE"))
		kind := 13 // a longer kind ("stopped-reporting") widens the column
		for _, e := range p.Timeline {
			kind = max(kind, len(e.Kind))
		}
		for _, e := range p.Timeline {
			add(fmt.Sprintf("  %s  %-*s %-20s %s", e.Time, kind, e.Kind, fit(e.Service, 20), e.Detail))
		}
	}
	if len(p.Traces) > 0 {
		add("")
		add(st.Heading.Render("TRACES") + st.Muted.Render("  (failing spans, and the log lines joined to them)"))
		for _, t := range p.Traces {
			add(fmt.Sprintf("  %s  %s %s  %s", t.ID, t.RootService, t.RootName, t.Duration))
			for _, sp := range t.Spans {
				add(fmt.Sprintf("    %s %s %s %s", sp.Kind, sp.Service, sp.Name, st.Bad.Render("✗ "+sp.Message)))
				for _, l := range sp.Logs {
					add(st.Muted.Render("      log: " + l.Line))
				}
			}
		}
	}
	return out
}

// summaryParts is the incident's summary as the cockpit says it: when a
// stop leads it (StoppedFirst), the stop in the cockpit's zone, then the
// chain before it; otherwise no stop and the summary whole.
func summaryParts(p present.Incident) (stop, chain string) {
	if p.StoppedFirst == "" || p.ChainText == "" {
		return "", p.Summary
	}
	return p.StoppedFirst, p.ChainText
}

// summaryText is the summary as one sentence, the stop first when it leads.
func summaryText(p present.Incident) string {
	if stop, chain := summaryParts(p); stop != "" {
		return stop + " " + chain
	}
	return p.Summary
}

// stoppedMark says a service stopped reporting, in the colour of stale
// data: "! stopped reporting since 09:50".
func stoppedMark(since string, st *themes.Styles) string {
	return st.State(1, "stopped reporting since "+since)
}

// blastLine is the blast radius in one sentence.
func blastLine(b *present.Blast) string {
	return fmt.Sprintf("Blast radius: %s, %s, %s per minute", humanize.Count(b.Services, "service"), b.Requests(), b.Money)
}
