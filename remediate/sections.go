package remediate

import (
	"fmt"
	"strings"
)

// Section is one part of a plan as the cockpit and the shell show it.
type Section struct {
	Title string
	Lines []string
}

// Sections are the plan in the order the operator reads it: what matched,
// the diagnosis and its branch, each action exactly as it will run, the
// guardrails in force and how it will be verified.
func (p *Plan) Sections() []Section {
	out := []Section{{Title: "Runbook", Lines: []string{
		fmt.Sprintf("%s on %s (%s:%d)", p.Runbook, p.Target, p.File, p.rbLine()),
		"matched: " + p.Match.Why,
	}}}
	if p.Description != "" {
		out[0].Lines = append(out[0].Lines, p.Description)
	}
	d := Section{Title: "1. Diagnosis"}
	for _, s := range p.Diagnosis.Steps {
		mark := "·"
		switch {
		case s.Err != "":
			mark = "?"
		case s.Holds:
			mark = "→"
		}
		line := fmt.Sprintf("%s %s: %s", mark, s.Name, s.What)
		switch {
		case s.Err != "":
			line += ": " + s.Err
		case s.Cond != "":
			line += fmt.Sprintf(" = %s (%s: %s)", s.Shown, s.Cond, yesNo(s.Holds))
		default:
			line += " = " + s.Shown
		}
		d.Lines = append(d.Lines, line)
		if s.Source != "" {
			d.Lines = append(d.Lines, "    from "+s.Source)
		}
		for _, x := range s.Samples {
			d.Lines = append(d.Lines, "    seen: "+x)
		}
	}
	d.Lines = append(d.Lines, "branch: "+p.Diagnosis.Reason)
	out = append(out, d)
	if len(p.Problems) > 0 {
		out = append(out, Section{Title: "Cannot run", Lines: p.Problems})
	}
	if p.Diagnosis.Escalate {
		out = append(out, Section{Title: "2. Escalation", Lines: []string{"nothing runs: the incident goes to a human with what was seen"}})
		return out
	}
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
		how := "exec'd without a shell, one argument per word"
		switch x.Kind {
		case KindHTTP:
			how = "HTTP request"
		case KindSilence:
			how = "Alertmanager silence"
		case KindSim:
			how = "simulator action"
		}
		each := ""
		if j-i > 1 {
			each = fmt.Sprintf(", once for each of %d callers", j-i)
		}
		a.Lines = append(a.Lines, fmt.Sprintf("%d. %s [%s danger, %s%s] (%s%s):", n, x.Name, x.Danger, x.Category, autoWord(x.Auto), how, each))
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
	return append(out, a, g, v)
}

func (p *Plan) rbLine() int {
	if p.rb == nil {
		return 0
	}
	return p.rb.Line
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

// Danger is the plan's highest danger: high when any action is.
func (p *Plan) Danger() Danger {
	for _, a := range p.Actions {
		if a.Danger == DangerHigh {
			return DangerHigh
		}
	}
	return DangerLow
}

// Why a plan asks for a name to be typed before it acts.
const (
	// ConfirmHighDanger asks for the target's name: a reflex y does not
	// run a high-danger action.
	ConfirmHighDanger = "high danger"
	// ConfirmTypedContext asks for the context's name, as a confirm:
	// typed context promises before any action in it.
	ConfirmTypedContext = "typed context"
)

// Confirmation is one name a plan wants typed before it acts.
type Confirmation struct {
	Name string
	Why  string // ConfirmHighDanger or ConfirmTypedContext
}

// Confirmations are the names a plan wants typed before it acts, in the
// order they are asked: the target's when it is high danger, then the
// context's in a confirm: typed context (typedContext, "" when the
// context does not ask). Each is typed once, and neither stands in for
// the other, even when the two names are the same. None: y will do.
func (p *Plan) Confirmations(typedContext string) []Confirmation {
	var out []Confirmation
	if p.Danger() == DangerHigh {
		out = append(out, Confirmation{Name: p.Target, Why: ConfirmHighDanger})
	}
	if typedContext != "" {
		out = append(out, Confirmation{Name: typedContext, Why: ConfirmTypedContext})
	}
	return out
}

// Runnable says whether the plan has anything to run.
func (p *Plan) Runnable() bool {
	return len(p.Problems) == 0 && !p.Diagnosis.Escalate && len(p.Actions) > 0
}
