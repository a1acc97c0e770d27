package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

func configMeta(cfg *config.Config) correlate.Meta {
	m := correlate.Meta{Services: map[string]correlate.ServiceMeta{}, Static: map[string][]string{}, Currency: cfg.Currency, BurnRateAlerts: cfg.Conventions.Alerts.BurnRate}
	for name, s := range cfg.Services {
		m.Services[name] = correlate.ServiceMeta{ValuePerRequest: s.ValuePerRequest, Owner: s.Owner}
		if len(s.DependsOn) > 0 {
			m.Static[name] = s.DependsOn
		}
	}
	return m
}

// safe makes backend text printable: every string an incident holds came
// from a backend at some point.
func safe(s string) string { return termsafe.Line(s) }

func hhmmss(t time.Time) string { return t.UTC().Format("15:04:05") }

func money(x float64, currency string) string {
	if currency == "" {
		currency = "(no currency)"
	}
	return fmt.Sprintf("%s %s", humanize.Commas(x), currency)
}

// tree renders the blast radius tree as text lines.
func tree(inc *correlate.Incident) []string {
	var lines []string
	for i, r := range inc.Tree() {
		l := r.Prefix + safe(r.Service)
		if r.Anomaly != "" {
			l += "  ✗ " + safe(r.Anomaly)
		}
		if r.ByLoad {
			l += "  (driven by load from the tree above)"
		}
		lines = append(lines, l)
		if i == 0 && len(r.Calls) > 0 {
			lines = append(lines, "│ calls: "+safe(strings.Join(r.Calls, ", ")))
		}
	}
	return lines
}

func renderIncidentText(w io.Writer, inc *correlate.Incident, label string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "INCIDENT  window %s–%s UTC (%s), baseline %s before it · %s\n\n",
		hhmmss(inc.Window.Start), hhmmss(inc.Window.End), inc.Window.End.Sub(inc.Window.Start), inc.Baseline.End.Sub(inc.Baseline.Start), safe(label))
	b.WriteString("WHAT BROKE FIRST\n")
	if inc.Thin {
		b.WriteString("  (thin evidence: no cause is likely; see NOTES)\n")
	}
	for i, l := range inc.Chain {
		arrow := "  "
		if i > 0 {
			arrow = "  ← "
		}
		fmt.Fprintf(&b, "%s%s: %s\n", arrow, safe(l.Service), safe(l.What))
	}
	if len(inc.Chain) == 0 {
		fmt.Fprintf(&b, "  %s\n", safe(inc.Summary))
	}
	b.WriteString("\nROOT-CAUSE CANDIDATES\n")
	for i, c := range inc.Candidates {
		onset := ""
		if !c.Onset.IsZero() {
			onset = ", onset " + hhmmss(c.Onset)
		}
		fmt.Fprintf(&b, "  %d. %s  %s (confidence %.2f, score %.2f%s)\n", i+1, safe(c.Service), c.Likelihood, c.Confidence, c.Score, onset)
		for _, r := range c.Reasons {
			if !r.Shown() {
				continue
			}
			fmt.Fprintf(&b, "       %-11s %s\n", r.Kind, safe(r.Detail))
			if r.Source != "" {
				fmt.Fprintf(&b, "                   from %s\n", safe(r.Source))
			}
			for _, l := range r.Lines {
				fmt.Fprintf(&b, "                   log: %s\n", safe(truncate(l, 110)))
			}
			if len(r.TraceIDs) > 0 {
				fmt.Fprintf(&b, "                   traces: %s\n", safe(strings.Join(r.TraceIDs, " ")))
			}
		}
	}
	if len(inc.Mechanisms) > 0 {
		b.WriteString("\nMECHANISMS\n")
		for _, m := range inc.Mechanisms {
			fmt.Fprintf(&b, "  %-20s %s\n", m.Kind, safe(m.Detail))
		}
	}
	if t := tree(inc); len(t) > 0 {
		b.WriteString("\nDEPENDENCY TREE (callers of the root cause that are hurt)\n")
		for _, l := range t {
			b.WriteString("  " + l + "\n")
		}
	}
	if br := inc.Blast; br != nil {
		b.WriteString("\nBLAST RADIUS\n")
		fmt.Fprintf(&b, "  %d services; entry points: %s\n", len(br.Services), safe(orNone(strings.Join(br.EntryPoints, ", "))))
		fmt.Fprintf(&b, "  failing %s req/min of %s at risk; %s per minute\n", humanize.Commas(br.FailingPerMin), humanize.Commas(br.AtRiskPerMin), money(br.MoneyPerMin, br.Currency))
		keys := make([]string, 0, len(br.How))
		for k := range br.How {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  how %s: %s\n", k, br.How[k])
		}
	}
	if len(inc.Traces) > 0 {
		b.WriteString("\nTRACES (failing spans and the log lines joined to them by trace ID)\n")
		for i, tv := range inc.Traces {
			if i == 3 {
				fmt.Fprintf(&b, "  … %d more in -o json\n", len(inc.Traces)-3)
				break
			}
			origin := ""
			if tv.Origin != nil {
				origin = ", error starts at " + safe(tv.Origin.Service)
			}
			fmt.Fprintf(&b, "  %s  %s %s  %s%s\n", safe(tv.TraceID), safe(tv.RootService), safe(tv.RootName), tv.Duration.Round(time.Millisecond), origin)
			for _, sp := range tv.Spans {
				if sp.Status != "error" && len(sp.Logs) == 0 {
					continue
				}
				fmt.Fprintf(&b, "    %s %s %s [%s] %s\n", sp.Kind, safe(sp.Service), safe(sp.Name), sp.Status, safe(truncate(sp.Message, 80)))
				for _, l := range sp.Logs {
					fmt.Fprintf(&b, "      log %s %s\n", hhmmss(l.T), safe(truncate(l.Line, 100)))
				}
			}
		}
	}
	if len(inc.Timeline) > 0 {
		b.WriteString("\nTIMELINE\n")
		for _, ev := range inc.Timeline {
			fmt.Fprintf(&b, "  %s  %-14s %-22s %s\n", hhmmss(ev.T), ev.Kind, safe(ev.Service), safe(truncate(ev.Detail, 100)))
		}
	}
	if len(inc.Notes) > 0 {
		b.WriteString("\nNOTES\n")
		for _, n := range inc.Notes {
			fmt.Fprintf(&b, "  %s\n", safe(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderIncidentMarkdown(w io.Writer, inc *correlate.Incident, label string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Incident %s–%s UTC\n\n_%s; window %s, baseline %s._\n\n", hhmmss(inc.Window.Start), hhmmss(inc.Window.End), safe(label), inc.Window.End.Sub(inc.Window.Start), inc.Baseline.End.Sub(inc.Baseline.Start))
	fmt.Fprintf(&b, "## What broke first\n\n%s\n\n", safe(inc.Summary))
	b.WriteString("## Root-cause candidates\n\n")
	for i, c := range inc.Candidates {
		fmt.Fprintf(&b, "%d. **%s**: %s (confidence %.2f)\n", i+1, safe(c.Service), c.Likelihood, c.Confidence)
		for _, r := range c.Reasons {
			if !r.Shown() {
				continue
			}
			fmt.Fprintf(&b, "   - %s: %s", r.Kind, safe(r.Detail))
			if r.Source != "" {
				fmt.Fprintf(&b, " (`%s`)", safe(r.Source))
			}
			b.WriteString("\n")
			for _, l := range r.Lines {
				fmt.Fprintf(&b, "     - `%s`\n", safe(strings.ReplaceAll(l, "`", "'")))
			}
		}
	}
	if len(inc.Mechanisms) > 0 {
		b.WriteString("\n## Mechanisms\n\n")
		for _, m := range inc.Mechanisms {
			fmt.Fprintf(&b, "- **%s**: %s\n", m.Kind, safe(m.Detail))
		}
	}
	if t := tree(inc); len(t) > 0 {
		b.WriteString("\n## Dependency tree\n\n```\n" + strings.Join(t, "\n") + "\n```\n")
	}
	if br := inc.Blast; br != nil {
		fmt.Fprintf(&b, "\n## Blast radius\n\n- %d services; entry points: %s\n- failing %s req/min of %s at risk; %s per minute\n",
			len(br.Services), safe(orNone(strings.Join(br.EntryPoints, ", "))), humanize.Commas(br.FailingPerMin), humanize.Commas(br.AtRiskPerMin), money(br.MoneyPerMin, br.Currency))
	}
	if len(inc.Timeline) > 0 {
		b.WriteString("\n## Timeline\n\n| time (UTC) | what | service | detail |\n| --- | --- | --- | --- |\n")
		for _, ev := range inc.Timeline {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", hhmmss(ev.T), ev.Kind, safe(ev.Service), safe(strings.ReplaceAll(ev.Detail, "|", "\\|")))
		}
	}
	if len(inc.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range inc.Notes {
			fmt.Fprintf(&b, "- %s\n", safe(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
