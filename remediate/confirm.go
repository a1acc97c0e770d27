package remediate

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
