package present

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/remediate"
)

// Plan is a runbook's plan as the operator reads it before saying yes
// (oncall runbook show and run, the cockpit's confirmation) and, once it
// has run, how it went. Its strings are terminal-safe, newlines kept: a
// target, a label or a command line may come from a backend.
type Plan struct {
	// Sections are the plan in the order the operator reads it: what
	// matched, the diagnosis and its branch, each action exactly as it
	// will run, the guardrails in force and how it will be verified.
	Sections []Section
	// Runnable is whether the plan has anything to run; Branch, the
	// diagnosis's branch, says why when it has not.
	Runnable bool
	Branch   string
	// Outcome is how the run went; nil until it has ended.
	Outcome *Outcome
}

// Section is one titled part of a plan.
type Section struct {
	Title string
	Lines []string
}

// Outcome is how a run went: its result, one line per action, and how
// telling each target of an escalation went.
type Outcome struct {
	Result string
	// OK is whether the run did what it set out to (remediate's
	// Outcome.OK): resolved, done with nothing to verify, or a dry run.
	OK bool
	// Actions say what ran where, how it went and why, each with its
	// audit id, so that the entry can be found in oncall audit.
	Actions    []string
	Escalation []string
}

// NewPlan presents a plan before it runs; Outcome is set once it has.
func NewPlan(p *remediate.Plan) Plan {
	return Plan{Sections: planSections(p), Runnable: p.Runnable(), Branch: termsafe.Text(p.Diagnosis.Reason)}
}

// NewOutcome presents how a run went.
func NewOutcome(o remediate.Outcome) Outcome {
	out := Outcome{Result: o.Result, OK: o.OK()}
	for _, a := range o.Actions {
		line := a.String()
		if a.AuditID != "" {
			line += "; audit " + a.AuditID
		}
		out.Actions = append(out.Actions, termsafe.Text(line))
	}
	for _, x := range o.Escalation {
		out.Escalation = append(out.Escalation, termsafe.Text(x))
	}
	return out
}

// PlanText writes the plan's sections as plain text, each under its
// title, a blank line between them.
func PlanText(w io.Writer, p Plan) error {
	var b strings.Builder
	for i, s := range p.Sections {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(s.Title + "\n")
		for _, l := range s.Lines {
			b.WriteString("  " + l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// OutcomeText writes how a run went as plain text: the result, then each
// action and each escalation indented under it.
func OutcomeText(w io.Writer, o Outcome) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Result: %s\n", o.Result)
	for _, a := range o.Actions {
		b.WriteString("  " + a + "\n")
	}
	for _, x := range o.Escalation {
		b.WriteString("  escalation: " + x + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// planSections lays a plan out in the order the operator reads it.
func planSections(p *remediate.Plan) []Section {
	out := []Section{{Title: "Runbook", Lines: []string{
		fmt.Sprintf("%s on %s (%s:%d)", p.Runbook, p.Target, p.File, runbookLine(p)),
		"matched: " + p.Match.Why,
	}}}
	if p.Description != "" {
		out[0].Lines = append(out[0].Lines, p.Description)
	}
	out = append(out, diagnosisSection(p.Diagnosis))
	if len(p.Problems) > 0 {
		out = append(out, Section{Title: "Cannot run", Lines: slices.Clone(p.Problems)})
	}
	if p.Diagnosis.Escalate {
		out = append(out, Section{Title: "2. Escalation", Lines: []string{"nothing runs: the incident goes to a human with what was seen"}})
	} else {
		out = append(out, actionSections(p)...)
	}
	for i := range out {
		for j, l := range out[i].Lines {
			out[i].Lines[j] = termsafe.Text(l)
		}
	}
	return out
}

// runbookLine is the line of the runbook's file it starts on; 0 for a
// plan not made from a loaded runbook.
func runbookLine(p *remediate.Plan) int {
	if p.Match.Runbook == nil {
		return 0
	}
	return p.Match.Runbook.Line
}

// diagnosisSection is each step with what it read, whether its condition
// held (→), or why it could not tell (?), and the branch taken.
func diagnosisSection(d remediate.Diagnosis) Section {
	s := Section{Title: "1. Diagnosis"}
	for _, st := range d.Steps {
		mark := "·"
		switch {
		case st.Err != "":
			mark = "?"
		case st.Holds:
			mark = "→"
		}
		line := fmt.Sprintf("%s %s: %s", mark, st.Name, st.What)
		switch {
		case st.Err != "":
			line += ": " + st.Err
		case st.Cond != "":
			line += fmt.Sprintf(" = %s (%s: %s)", st.Shown, st.Cond, yesNo(st.Holds))
		default:
			line += " = " + st.Shown
		}
		s.Lines = append(s.Lines, line)
		if st.Source != "" {
			s.Lines = append(s.Lines, "    from "+st.Source)
		}
		for _, x := range st.Samples {
			s.Lines = append(s.Lines, "    seen: "+x)
		}
	}
	s.Lines = append(s.Lines, "branch: "+d.Reason)
	return s
}

// actionSections are the actions exactly as they will run, the
// guardrails in force and the verification, numbered alike.
func actionSections(p *remediate.Plan) []Section {
	a := Section{Title: "2. Actions, exactly as they will run"}
	g := Section{Title: "3. Guardrails"}
	v := Section{Title: "4. Verification"}
	n := 0
	for i := 0; i < len(p.Actions); {
		x := p.Actions[i]
		// a for_each action's commands are listed under it once
		j := i + 1
		for j < len(p.Actions) && p.Actions[j].Name == x.Name {
			j++
		}
		n++
		each := ""
		if j-i > 1 {
			each = fmt.Sprintf(", once for each of %d callers", j-i)
		}
		a.Lines = append(a.Lines, fmt.Sprintf("%d. %s [%s danger, %s%s] (%s%s):", n, x.Name, x.Danger, x.Category, autoWord(x.Auto), howItRuns(x.Kind), each))
		for _, y := range p.Actions[i:j] {
			for _, l := range strings.Split(y.Shown, "\n") {
				a.Lines = append(a.Lines, "   "+l)
			}
		}
		if len(x.Inputs) > 0 {
			a.Lines = append(a.Lines, "   inputs, checked: "+strings.Join(x.Inputs, ", "))
		}
		if x.Rollback != "" {
			a.Lines = append(a.Lines, "   on failure, rolls back with: "+x.Rollback)
		}
		if len(x.OnFailure) > 0 {
			a.Lines = append(a.Lines, "   on failure: "+strings.Join(x.OnFailure, " and "))
		}
		prefix := ""
		if len(p.Actions) > 1 {
			prefix = fmt.Sprintf("%d. ", n)
		}
		for _, r := range x.Guardrails {
			if j-i > 1 {
				r = strings.ReplaceAll(r, " on "+x.Key.Target, " on each caller")
			}
			g.Lines = append(g.Lines, prefix+r)
		}
		for _, y := range p.Actions[i:j] {
			if y.Refused != nil {
				g.Lines = append(g.Lines, prefix+"✗ "+y.Refused.Error())
			}
		}
		v.Lines = append(v.Lines, prefix+x.Verify)
		i = j
	}
	return []Section{a, g, v}
}

// howItRuns says how an action of a kind reaches its target.
func howItRuns(k remediate.ActionKind) string {
	switch k {
	case remediate.KindHTTP:
		return "HTTP request"
	case remediate.KindSilence:
		return "Alertmanager silence"
	case remediate.KindSim:
		return "simulator action"
	}
	return "exec'd without a shell, one argument per word"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func autoWord(a bool) string {
	if a {
		return ", auto"
	}
	return ""
}
