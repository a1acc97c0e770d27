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
	wrap(p.Summary, st.Heading.Render)
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
		add(fmt.Sprintf("%d. %s  %s", c.Rank, st.Heading.Render(c.Service), st.Level(lvl).Render(fmt.Sprintf("%s %.2f", c.Likelihood, c.Confidence))))
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
			l := r.Prefix + r.Service
			if r.Anomaly != "" {
				lvl := int(r.Health)
				l = r.Prefix + st.Level(lvl).Render(r.Service) + "  " + st.Level(lvl).Render([...]string{"", "! ", "✗ "}[lvl]+r.Anomaly)
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
		for _, e := range p.Timeline {
			add(fmt.Sprintf("  %s  %-13s %-20s %s", e.Time, e.Kind, fit(e.Service, 20), e.Detail))
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

// blastLine is the blast radius in one sentence.
func blastLine(b *present.Blast) string {
	return fmt.Sprintf("Blast radius: %s, %s, %s per minute", humanize.Count(b.Services, "service"), b.Requests(), b.Money)
}
