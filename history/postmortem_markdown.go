package history

import (
	"fmt"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// Markdown writes the draft as Markdown, for a wiki or an issue.
func (d Draft) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Postmortem draft: %s\n\n", prose(d.Title))
	meta := []string{prose(d.ID)}
	if d.Stack != "" {
		meta = append(meta, "stack "+prose(d.Stack))
	}
	meta = append(meta, prose(string(d.Origin))+" record")
	if d.Severity != "" {
		meta = append(meta, "severity "+prose(d.Severity))
	}
	meta = append(meta, "times in "+prose(d.Zone), "written by oncall from the record: people finish it")
	fmt.Fprintf(&b, "_%s._\n\n", strings.Join(meta, " · "))
	fmt.Fprintf(&b, "## Summary\n\n%s\n\n", prose(d.Summary))
	d.writeImpact(&b)
	d.writeTimeline(&b)
	d.writeRootCause(&b)
	d.writeDone(&b)
	b.WriteString("## What went well\n\n_Prompts for the people who were there; replace each with the answer._\n\n")
	for _, p := range d.WentWell {
		fmt.Fprintf(&b, "- %s\n", prose(p))
	}
	b.WriteString("\n## What went badly\n\n")
	for _, p := range d.WentBadly {
		fmt.Fprintf(&b, "- %s\n", prose(p))
	}
	b.WriteString("\n## Action items\n\n")
	for _, it := range d.Items {
		fmt.Fprintf(&b, "- [ ] %s (owner: %s, due %s). Why: %s.\n", prose(it.Title), prose(it.Owner), it.Due.In(d.loc()).Format(time.DateOnly), prose(it.Why))
	}
	b.WriteString("\n## Similar past incidents\n\n")
	if len(d.Similar) == 0 {
		root := d.RootCause.Service
		if root == "" {
			b.WriteString("None: without a root cause there is nothing to match on.\n")
		} else {
			fmt.Fprintf(&b, "None recorded with root cause %s.\n", prose(root))
		}
	}
	for _, s := range d.Similar {
		fmt.Fprintf(&b, "- %s (%s): %s; same %s", prose(s.ID), s.When.In(d.loc()).Format("2006-01-02 15:04"), prose(s.Title), prose(s.Match))
		if s.Mechanism != "" {
			fmt.Fprintf(&b, " (%s, %s)", prose(s.Root), prose(s.Mechanism))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## The experiment that would have caught this\n\n")
	if d.Experiment == "" {
		b.WriteString("None: an experiment needs a root cause to inject into.\n")
	} else {
		fmt.Fprintf(&b, "Save as %s, and run it with `oncall chaos run` (see docs/chaos.md).\n\n%s", code("experiments/"+d.ID+".yaml"), fenced("yaml", d.Experiment))
	}
	if len(d.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range d.Notes {
			fmt.Fprintf(&b, "- %s\n", prose(n))
		}
	}
	return b.String()
}

func (d Draft) loc() *time.Location {
	if d.zone == nil {
		return time.UTC
	}
	return d.zone
}

// at writes a time of the draft in its zone.
func (d Draft) at(t time.Time) string { return t.In(d.loc()).Format("2006-01-02 15:04:05") }

func (d Draft) writeImpact(b *strings.Builder) {
	im := d.Impact
	b.WriteString("## Impact\n\n| | |\n| --- | --- |\n")
	dur := "not known: neither onset nor detection is recorded"
	if !im.Start.IsZero() {
		dur = fmt.Sprintf("%s, from %s (%s) to %s (%s)", Span(im.Duration), d.at(im.Start.T), im.Start.Source, d.at(im.End.T), im.End.Source)
		if im.Open {
			dur += "; still open"
		}
	}
	fmt.Fprintf(b, "| Duration | %s |\n", cell(dur))
	if im.FailedKnown {
		fmt.Fprintf(b, "| Failed requests | %s (%s) |\n", counted(im.Failed, "", im.Unmeasured), cell(im.How))
		money := im.MoneyHow
		if im.Currency != "" {
			money = fmt.Sprintf("%s (%s)", counted(im.Money, " "+im.Currency, im.Unmeasured), im.MoneyHow)
		}
		fmt.Fprintf(b, "| Money | %s |\n", cell(money))
	} else {
		fmt.Fprintf(b, "| Failed requests | %s |\n| Money | not known: it is counted from the failed requests |\n", cell(im.How))
	}
	if im.BudgetUnknown != "" {
		fmt.Fprintf(b, "| SLO budget consumed | %s |\n", cell(im.BudgetUnknown))
	}
	if im.BudgetUnread != "" {
		fmt.Fprintf(b, "| SLO budget not read | %s |\n", cell(im.BudgetUnread))
	}
	for _, s := range im.Budget {
		fmt.Fprintf(b, "| SLO budget consumed | %s: %s of the window's budget (peak burn %.1f×, %s to %s) |\n",
			cell(s.SLO), humanize.Percent(s.Share), s.PeakBurn, d.at(s.Start), d.at(s.End))
	}
	b.WriteString("\n")
}

// counted writes a count with its unit: a lower bound when some of the
// impact went unmeasured.
func counted(n float64, unit string, unmeasured time.Duration) string {
	switch {
	case unmeasured > 0 && n == 0:
		return "none measured"
	case unmeasured > 0:
		return "at least " + humanize.Commas(n) + unit
	}
	return humanize.Commas(n) + unit
}

func (d Draft) writeTimeline(b *strings.Builder) {
	fmt.Fprintf(b, "## Timeline\n\n| time (%s) | what | source |\n| --- | --- | --- |\n", prose(d.Zone))
	for _, e := range d.Timeline {
		fmt.Fprintf(b, "| %s | %s: %s | %s |\n", d.at(e.T), prose(e.Kind), cell(e.What), code(pipes(e.Source)))
	}
	b.WriteString("\n")
}

func (d Draft) writeRootCause(b *strings.Builder) {
	rc := d.RootCause
	b.WriteString("## Root cause\n\n")
	if rc.Unknown != "" {
		fmt.Fprintf(b, "Not known: %s.\n\n", prose(rc.Unknown))
	}
	if rc.Service != "" {
		fmt.Fprintf(b, "**%s**", prose(rc.Service))
		if rc.Mechanism != "" {
			fmt.Fprintf(b, " (%s)", prose(rc.Mechanism))
		}
		if rc.Summary != "" {
			fmt.Fprintf(b, ": %s", prose(rc.Summary))
		}
		b.WriteString("\n\n")
	}
	if len(rc.Chain) > 0 {
		b.WriteString("The chain, symptom first:\n\n")
		for i, l := range rc.Chain {
			fmt.Fprintf(b, "%d. %s\n", i+1, prose(l))
		}
		b.WriteString("\n")
	}
	if len(rc.Factors) > 0 {
		b.WriteString("### Contributing factors\n\n")
		for _, f := range rc.Factors {
			fmt.Fprintf(b, "- **%s** at %s: %s\n", prose(f.Kind), prose(f.Service), prose(f.Detail))
			for _, e := range f.Evidence {
				writeEvidence(b, "  ", e)
			}
		}
		b.WriteString("\n")
	}
	if len(rc.Evidence) > 0 || len(rc.Traces) > 0 {
		b.WriteString("### Evidence\n\n")
		for _, e := range rc.Evidence {
			fmt.Fprintf(b, "- %s\n", prose(e.What))
			writeEvidence(b, "  ", e)
		}
		if len(rc.Traces) > 0 {
			var ids []string
			for _, t := range rc.Traces {
				ids = append(ids, withLink(code(t.Query), t.Link))
			}
			more := ""
			if rc.MoreTraces > 0 {
				more = fmt.Sprintf(", and %d more in the record's JSON", rc.MoreTraces)
			}
			fmt.Fprintf(b, "- traces: %s%s\n", strings.Join(ids, ", "), more)
		}
		b.WriteString("\n")
	}
}

// writeEvidence writes a query (linked) and a log excerpt under an item.
func writeEvidence(b *strings.Builder, indent string, e Evidence) {
	if e.What != "" && e.Query == "" && len(e.Lines) == 0 {
		fmt.Fprintf(b, "%s- %s\n", indent, prose(e.What))
	}
	if e.Query != "" {
		fmt.Fprintf(b, "%s- query: %s\n", indent, withLink(code(e.Query), e.Link))
	}
	if len(e.Lines) > 0 {
		fmt.Fprintf(b, "%s- log lines:\n", indent)
		for _, l := range e.Lines {
			fmt.Fprintf(b, "%s  - %s\n", indent, code(l))
		}
		if e.MoreLines > 0 {
			fmt.Fprintf(b, "%s  - … and %s\n", indent, humanize.Count(e.MoreLines, "more line"))
		}
	}
}

func (d Draft) writeDone(b *strings.Builder) {
	b.WriteString("## What was done\n\n")
	if len(d.Done) == 0 {
		b.WriteString("Nothing is in the audit log for this incident.\n\n")
		return
	}
	b.WriteString("From the audit log; commands as it shows them, secrets as ‹secret:NAME›.\n\n")
	for _, a := range d.Done {
		fmt.Fprintf(b, "- %s %s (audit entry %s)\n", d.at(a.T), prose(ActionLine(a)), code(a.ID))
		if a.Command != "" {
			fmt.Fprintf(b, "  %s\n", code(CommandShown(a.Command)))
		}
	}
	b.WriteString("\n")
}

// GitHubIssues writes each action item as a GitHub issue: a header line
// that says which of how many, then its title, assignee and labels, then
// its body; issues are separated by a line of "---".
func (d Draft) GitHubIssues() string {
	var parts []string
	for i, it := range d.Items {
		var b strings.Builder
		fmt.Fprintf(&b, "<!-- issue %d of %d, from the postmortem of %s -->\n", i+1, len(d.Items), prose(d.ID))
		fmt.Fprintf(&b, "Title: %s\n", prose(it.Title))
		if it.Owner != "unassigned" {
			fmt.Fprintf(&b, "Assignee: %s\n", prose(it.Owner))
		}
		fmt.Fprintf(&b, "Labels: postmortem, %s\n\n", prose(d.ID))
		fmt.Fprintf(&b, "From the postmortem of %s, %s.\n\n", prose(d.ID), prose(d.Title))
		fmt.Fprintf(&b, "**Why:** %s.\n\n", prose(it.Why))
		if d.RootCause.Service != "" {
			fmt.Fprintf(&b, "**Root cause:** %s", prose(d.RootCause.Service))
			if d.RootCause.Mechanism != "" {
				fmt.Fprintf(&b, " (%s)", prose(d.RootCause.Mechanism))
			}
			b.WriteString(".\n\n")
		}
		fmt.Fprintf(&b, "**Due:** %s.\n", it.Due.In(d.loc()).Format(time.DateOnly))
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "\n---\n\n")
}

// cell makes prose safe in a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(prose(s), "|", `\|`) }

// pipes escapes the pipes of code in a table cell: GitHub ends a cell at
// one even inside a code span.
func pipes(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// proseEscapes turn the characters that start HTML into entities: a
// draft is pasted into wikis and issues that render HTML in Markdown,
// and a record's text (a note, a title from a label) is anyone's.
var proseEscapes = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// prose makes text safe in Markdown outside code: no raw HTML. Code
// spans and blocks (code, fenced) show their text as it is, and need
// none.
func prose(s string) string { return proseEscapes.Replace(s) }

// code writes text as inline code, whole: its delimiter is one backtick
// longer than any run of backticks in it, so nothing inside ends it.
func code(s string) string {
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func withLink(s, link string) string {
	if link == "" {
		return s
	}
	return s + " ([Explore](" + link + "))"
}

// fenced writes a code block whose fence no line of it can close.
func fenced(lang, body string) string {
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	return fence + lang + "\n" + strings.TrimSuffix(body, "\n") + "\n" + fence + "\n"
}
