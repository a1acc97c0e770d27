package present

import (
	"fmt"
	"io"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// healthSymbols are the symbols of correlate's health levels; a word
// always stands beside them.
var healthSymbols = [...]string{"✓", "!", "✗"}

// Text writes the incident as plain text. On a terminal (cut) long log
// lines and messages are cut to keep the layout; into a file or a pipe
// they are written whole, trace IDs and all.
func Text(w io.Writer, p Incident, cut bool) error {
	truncate := func(s string, n int) string {
		if !cut {
			return s
		}
		return shorten(s, n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INCIDENT  window %s (%s), baseline %s before it · %s\n\n", p.Title(), windowSpan(p.Window.End.Sub(p.Window.Start)), windowSpan(p.Baseline), p.Label)
	if len(p.Incomplete) > 0 {
		b.WriteString("✗ EVIDENCE INCOMPLETE: read the verdict below with this in mind\n")
		for _, m := range p.Incomplete {
			fmt.Fprintf(&b, "  %s\n", m)
		}
		b.WriteString("\n")
	}
	b.WriteString("WHAT BROKE FIRST\n")
	if p.Thin {
		b.WriteString("  (thin evidence: no cause is likely; see NOTES)\n")
	}
	if p.StoppedFirst != "" && len(p.Chain) > 0 {
		fmt.Fprintf(&b, "  %s\n", p.StoppedFirst)
	}
	for i, l := range p.Chain {
		arrow := "  "
		if i > 0 {
			arrow = "  ← "
		}
		fmt.Fprintf(&b, "%s%s: %s\n", arrow, l.Service, l.What)
	}
	if len(p.Chain) == 0 {
		fmt.Fprintf(&b, "  %s\n", p.Summary)
	}
	b.WriteString("\nROOT-CAUSE CANDIDATES\n")
	for _, c := range p.Candidates {
		onset := ""
		if c.Onset != "" {
			onset = ", onset " + c.Onset
		}
		fmt.Fprintf(&b, "  %d. %s  %s (confidence %.2f, score %.2f%s)\n", c.Rank, c.Service, c.Likelihood, c.Confidence, c.Score, onset)
		for _, r := range c.Reasons {
			fmt.Fprintf(&b, "       %-11s %s\n", r.Kind, r.Detail)
			if r.Source != "" {
				fmt.Fprintf(&b, "                   from %s\n", r.Source)
			}
			for _, l := range r.Lines {
				fmt.Fprintf(&b, "                   log: %s\n", truncate(l, 110))
			}
			if len(r.TraceIDs) > 0 {
				fmt.Fprintf(&b, "                   traces: %s\n", strings.Join(r.TraceIDs, " "))
			}
		}
	}
	writeList(&b, "\nMECHANISMS\n", p.Mechanisms, func(m Mechanism) string { return fmt.Sprintf("  %-20s %s", m.Kind, m.Detail) })
	writeList(&b, "\nDEPENDENCY TREE (callers of the root cause that are hurt)\n", TreeText(p.Tree), func(l string) string { return "  " + l })
	if br := p.Blast; br != nil {
		b.WriteString("\nBLAST RADIUS\n")
		fmt.Fprintf(&b, "  %s; entry points: %s\n", humanize.Count(br.Services, "service"), br.Entries())
		fmt.Fprintf(&b, "  %s; %s per minute\n", br.Requests(), br.Money)
		for _, h := range br.How {
			fmt.Fprintf(&b, "  how %s: %s\n", h.What, h.Method)
		}
	}
	if len(p.Traces) > 0 {
		b.WriteString("\nTRACES (failing spans and the log lines joined to them by trace ID)\n")
		for _, t := range p.Traces {
			origin := ""
			if t.Origin != "" {
				origin = ", error starts at " + t.Origin
			}
			fmt.Fprintf(&b, "  %s  %s %s  %s%s\n", t.ID, t.RootService, t.RootName, t.Duration, origin)
			for _, sp := range t.Spans {
				fmt.Fprintf(&b, "    %s %s %s [%s] %s\n", sp.Kind, sp.Service, sp.Name, sp.Status, truncate(sp.Message, 80))
				for _, l := range sp.Logs {
					fmt.Fprintf(&b, "      log %s %s\n", l.Time, truncate(l.Line, 100))
				}
			}
		}
		if p.MoreTraces > 0 {
			fmt.Fprintf(&b, "  … %d more in -o json\n", p.MoreTraces)
		}
	}
	writeList(&b, "\nTIMELINE\n", p.Timeline, func(ev Event) string {
		return fmt.Sprintf("  %s  %-14s %-22s %s", ev.Time, ev.Kind, ev.Service, truncate(ev.Detail, 100))
	})
	writeList(&b, "\nNOTES\n", p.Notes, func(n string) string { return "  " + n })
	_, err := io.WriteString(w, b.String())
	return err
}

// TreeText lays the dependency tree out as plain lines: each row with its
// health symbol and anomaly, peers hurt by load marked, and the root's
// own dependencies under it.
func TreeText(rows []TreeRow) []string {
	var lines []string
	for i, r := range rows {
		l := r.Prefix + r.Service
		if r.Anomaly != "" {
			l += "  " + healthSymbols[r.Health] + " " + r.Anomaly
		}
		if r.ByLoad {
			l += "  (driven by load from the tree above)"
		}
		lines = append(lines, l)
		if i == 0 && len(r.Calls) > 0 {
			lines = append(lines, "│ calls: "+strings.Join(r.Calls, ", "))
		}
	}
	return lines
}

// writeList writes heading and then each item as line renders it, one a
// line, and nothing when there are no items: a list section of the
// incident's text and Markdown forms.
func writeList[T any](b *strings.Builder, heading string, items []T, line func(T) string) {
	if len(items) == 0 {
		return
	}
	b.WriteString(heading)
	for _, it := range items {
		b.WriteString(line(it) + "\n")
	}
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
