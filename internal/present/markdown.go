package present

import (
	"fmt"
	"io"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// Markdown writes the incident as Markdown, for a ticket or a chat.
func Markdown(w io.Writer, p Incident) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Incident %s\n\n_%s; window %s, baseline %s._\n\n", p.Title(), p.Label, windowSpan(p.Window.End.Sub(p.Window.Start)), windowSpan(p.Baseline))
	if len(p.Incomplete) > 0 {
		b.WriteString("> **Evidence incomplete.** Read the verdict with this in mind:\n")
		for _, m := range p.Incomplete {
			fmt.Fprintf(&b, "> - %s\n", m)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## What broke first\n\n%s\n\n", p.Summary)
	b.WriteString("## Root-cause candidates\n\n")
	for _, c := range p.Candidates {
		fmt.Fprintf(&b, "%d. **%s**: %s (confidence %.2f)\n", c.Rank, c.Service, c.Likelihood, c.Confidence)
		for _, r := range c.Reasons {
			fmt.Fprintf(&b, "   - %s: %s", r.Kind, r.Detail)
			if r.Source != "" {
				fmt.Fprintf(&b, " (`%s`)", r.Source)
			}
			b.WriteString("\n")
			for _, l := range r.Lines {
				fmt.Fprintf(&b, "     - `%s`\n", strings.ReplaceAll(l, "`", "'"))
			}
		}
	}
	writeList(&b, "\n## Mechanisms\n\n", p.Mechanisms, func(m Mechanism) string { return fmt.Sprintf("- **%s**: %s", m.Kind, m.Detail) })
	if t := TreeText(p.Tree); len(t) > 0 {
		b.WriteString("\n## Dependency tree\n\n```\n" + strings.Join(t, "\n") + "\n```\n")
	}
	if br := p.Blast; br != nil {
		fmt.Fprintf(&b, "\n## Blast radius\n\n- %s; entry points: %s\n- %s; %s per minute\n",
			humanize.Count(br.Services, "service"), br.Entries(), br.Requests(), br.Money)
	}
	writeList(&b, "\n## Timeline\n\n| time (UTC) | what | service | detail |\n| --- | --- | --- | --- |\n", p.Timeline, func(ev Event) string {
		return fmt.Sprintf("| %s | %s | %s | %s |", ev.Time, ev.Kind, ev.Service, strings.ReplaceAll(ev.Detail, "|", "\\|"))
	})
	writeList(&b, "\n## Notes\n\n", p.Notes, func(n string) string { return "- " + n })
	_, err := io.WriteString(w, b.String())
	return err
}
