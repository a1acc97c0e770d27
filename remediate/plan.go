package remediate

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

// callersWindow is how far back the service graph is read to find the
// callers of a for_each action's target.
const callersWindow = 15 * time.Minute

// Plan is everything the operator reads before saying yes: the diagnosis
// and its branch, each action exactly as it will run, the guardrails in
// force and how success will be checked.
type Plan struct {
	Runbook     string    `json:"runbook"`
	Description string    `json:"description,omitempty"`
	File        string    `json:"file"`
	Match       Matched   `json:"match"`
	Target      string    `json:"target"`
	Diagnosis   Diagnosis `json:"diagnosis"`
	Actions     []Planned `json:"actions"`
	// Problems are actions of the branch that could not be rendered; the
	// plan does not run with any.
	Problems []string `json:"problems,omitempty"`
	// Incident is a one-line summary of the incident, for the audit log
	// and escalations.
	Incident string              `json:"incident,omitempty"`
	Inc      *correlate.Incident `json:"-"`
	rb       *Runbook
}

// Planned is one action of a plan, rendered.
type Planned struct {
	Name       string     `json:"name"`
	Target     string     `json:"target"`
	Caller     string     `json:"caller,omitempty"`
	Kind       ActionKind `json:"kind"`
	Danger     Danger     `json:"danger"`
	Category   string     `json:"category"`
	Auto       bool       `json:"auto"`
	Command    Command    `json:"command"` // as shown: secrets as ‹secret:NAME›
	Shown      string     `json:"shown"`
	Rollback   string     `json:"rollback,omitempty"`
	Verify     string     `json:"verify,omitempty"`
	Guardrails []string   `json:"guardrails"`
	OnFailure  []string   `json:"on_failure,omitempty"`
	// Inputs are the typed inputs the action reads, as checked:
	// "pool = payment-db (k8s-name)".
	Inputs []string `json:"inputs,omitempty"`
	// Refused is set when a guardrail known at planning (the max step)
	// already says no.
	Refused *Refusal `json:"refused,omitempty"`
	Key     Key      `json:"key"`

	action *Action
	vars   Vars
}

// Planner turns a match into a plan.
type Planner struct {
	Sources sources.Set
	Policy  RunPolicy
	Ledger  Ledger
	Now     func() time.Time
}

// Plan diagnoses and renders. Reading the sources and the ledger (when
// this runbook last fixed the target) is its only I/O.
func (p *Planner) Plan(ctx context.Context, m Matched, inc *correlate.Incident) *Plan {
	rb := m.Runbook
	now := p.Now()
	vars := Vars{Service: m.Service, Likelihood: string(m.Likelihood), Steps: map[string]Value{}}
	if m.Alert != nil {
		vars.Alert, vars.Labels, vars.SLO = m.Alert.Name, m.Alert.Labels, m.Alert.Labels["slo"]
	}
	if inc != nil && len(inc.Candidates) > 0 {
		vars.RootCause = inc.Candidates[0].Service
	}
	plan := &Plan{Runbook: rb.Name, Description: rb.Description, File: rb.File, Match: m, rb: rb, Inc: inc}
	if inc != nil {
		plan.Incident = inc.Summary
	}
	vars.Target = m.Service
	if rb.Target != "" {
		t, err := renderer{vars: vars, all: true}.render("target", rb.Target)
		if err != nil {
			plan.Problems = append(plan.Problems, err.Error())
		}
		vars.Target = t
	}
	plan.Target = vars.Target
	if plan.Target == "" {
		plan.Problems = append(plan.Problems, "no target: the match names no service and the runbook sets no target")
		return plan
	}
	fixedAt, err := p.lastFixed(ctx, rb.Name, plan.Target)
	if err != nil {
		plan.Problems = append(plan.Problems, err.Error())
	}
	plan.Diagnosis = Diagnose(ctx, p.Sources, inc, rb, vars, now, fixedAt)
	for _, name := range plan.Diagnosis.Actions {
		a := rb.action(name)
		callers := []string{""}
		if a.ForEach == "callers" {
			cs, err := p.callers(ctx, vars.Target, now)
			if err != nil {
				plan.Problems = append(plan.Problems, fmt.Sprintf("%s: the callers of %s: %v", a.Name, vars.Target, err))
				continue
			}
			if len(cs) == 0 {
				plan.Problems = append(plan.Problems, fmt.Sprintf("%s: nothing called %s in the last %s", a.Name, vars.Target, shortDuration(callersWindow)))
				continue
			}
			callers = cs
		}
		for _, c := range callers {
			v := vars
			v.Caller = c
			pa, err := p.plan(rb, a, v, now)
			if err != nil {
				plan.Problems = append(plan.Problems, fmt.Sprintf("%s (%s:%d): %v", a.Name, rb.File, a.Line, err))
				continue
			}
			plan.Actions = append(plan.Actions, pa)
		}
	}
	return plan
}

func (rb *Runbook) action(name string) *Action {
	for i := range rb.Actions {
		if rb.Actions[i].Name == name {
			return &rb.Actions[i]
		}
	}
	return nil
}

func (p *Planner) callers(ctx context.Context, target string, now time.Time) ([]string, error) {
	if p.Sources.Metrics == nil {
		return nil, fmt.Errorf("no metrics backend configured")
	}
	edges, err := p.Sources.Metrics.ServiceGraph(ctx, now, callersWindow)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range edges {
		if e.Server == target && e.Client != sources.UserNode && e.RequestRate > 0 && !slices.Contains(out, e.Client) {
			out = append(out, e.Client)
		}
	}
	return out, nil
}

func (p *Planner) plan(rb *Runbook, a *Action, vars Vars, now time.Time) (Planned, error) {
	vars, err := rb.bind(a, vars)
	if err != nil {
		return Planned{}, err
	}
	r := renderer{vars: vars}
	cmd, err := r.renderSpec(a.Spec, "oncall", now)
	if err != nil {
		return Planned{}, err
	}
	if err := optionFromData(a.Argv, cmd.Argv); err != nil {
		return Planned{}, err
	}
	if err := a.Spec.sentWhereWritten(cmd); err != nil {
		return Planned{}, err
	}
	pa := Planned{Name: a.Name, Target: vars.Target, Caller: vars.Caller, Kind: a.Kind, Danger: a.Danger, Category: a.Category, Auto: a.Auto,
		Command: cmd, Shown: cmd.String(), OnFailure: a.OnFailure, action: a, vars: vars,
		Key: Key{Action: a.Name, Target: vars.Target}}
	for _, name := range slices.Sorted(maps.Keys(vars.Inputs)) {
		pa.Inputs = append(pa.Inputs, fmt.Sprintf("%s = %s (%s)", name, QuoteArg(termsafe.Line(vars.Inputs[name])), rb.Inputs[name].Type))
	}
	if vars.Caller != "" {
		// a for_each action acts on each caller: each is its own target
		pa.Key.Target = vars.Caller
	}
	if a.Rollback != nil {
		rc, err := r.renderSpec(*a.Rollback, "oncall", now)
		if err == nil {
			err = optionFromData(a.Rollback.Argv, rc.Argv)
		}
		if err == nil {
			err = a.Rollback.sentWhereWritten(rc)
		}
		if err != nil {
			return Planned{}, fmt.Errorf("rollback: %w", err)
		}
		pa.Rollback = rc.String()
	}
	if v := a.Verify; v != nil {
		svc, err := r.render("verify.service", v.Service)
		if err != nil {
			return Planned{}, err
		}
		if svc == "" {
			svc = vars.Target
		}
		sig := v.Signal
		if sig == "" {
			sig = SignalErrorRatio
		}
		pa.Verify = fmt.Sprintf("%s of %s over %s below %s within %s", strings.ReplaceAll(sig, "_", " "), svc,
			shortDuration(v.Over.Or(time.Minute)), showSignal(sig, float64(v.Below)), shortDuration(time.Duration(v.Within)))
	} else {
		pa.Verify = "not verified: the runbook declares no verify condition"
	}
	rails := a.Limits
	if rails == nil {
		rails = &Guardrail{}
	}
	g := rails.over(p.Policy.Guardrails)
	if g.Cooldown > 0 {
		pa.Guardrails = append(pa.Guardrails, fmt.Sprintf("cooldown: %s between runs of %s", shortDuration(time.Duration(g.Cooldown)), pa.Key))
	}
	if g.RatePerAction != nil {
		pa.Guardrails = append(pa.Guardrails, fmt.Sprintf("rate: at most %s runs of %s", g.RatePerAction, pa.Key.Action))
	}
	if g.RatePerService != nil {
		pa.Guardrails = append(pa.Guardrails, fmt.Sprintf("rate: at most %s actions on %s", g.RatePerService, pa.Key.Target))
	}
	if p.Policy.MaxConcurrent > 0 {
		pa.Guardrails = append(pa.Guardrails, fmt.Sprintf("concurrency: at most %d actions at once", p.Policy.MaxConcurrent))
	}
	where := "this process only: no ledger"
	if p.Ledger != nil {
		where = p.Ledger.Where()
	}
	pa.Guardrails = append(pa.Guardrails, "lock: one run of "+pa.Key.String()+" at a time ("+where+")")
	if m := a.MaxStep; m != nil {
		line, refusal := maxStep(m, cmd, r)
		pa.Guardrails = append(pa.Guardrails, line)
		pa.Refused = refusal
	}
	if a.Danger == DangerHigh {
		pa.Guardrails = append(pa.Guardrails, "danger high: type "+vars.Target+" to confirm")
	}
	return pa, nil
}

// maxStep checks the step a parameter takes against its bound.
func maxStep(m *MaxStep, c Command, r renderer) (string, *Refusal) {
	val := ""
	if c.Sim != nil {
		val = c.Sim.Params[m.Param]
	}
	if m.Value != "" {
		v, err := r.render("max_step.value", m.Value)
		if err != nil {
			return "max step", &Refusal{Rule: "max-step", Detail: err.Error()}
		}
		val = v
	}
	bound := humanize.Percent(float64(m.Increase))
	head := fmt.Sprintf("max step: %s %s, at most +%s at once", m.Param, val, bound)
	var inc float64
	switch {
	case !sources.IsAbsolute(val):
		v, err := sources.Relative(val, 1000000)
		if err != nil {
			return head, &Refusal{Rule: "max-step", Detail: fmt.Sprintf("%s %q: %v", m.Param, val, err)}
		}
		if strings.HasPrefix(val, "+") && !strings.HasSuffix(val, "%") && m.From == "" {
			return head, &Refusal{Rule: "max-step", Detail: fmt.Sprintf("%s %s is a count: give max_step.from to judge it", m.Param, val)}
		}
		inc = float64(v)/1000000 - 1
		if !strings.HasSuffix(val, "%") && !strings.HasPrefix(val, "x") {
			from, err := stepFrom(m, r)
			if err != nil {
				return head, err
			}
			n, _ := sources.Relative(val, int(from))
			inc = float64(n)/from - 1
		}
	default:
		from, err := stepFrom(m, r)
		if err != nil {
			return head, err
		}
		n, perr := strconv.ParseFloat(val, 64)
		if perr != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return head, &Refusal{Rule: "max-step", Detail: fmt.Sprintf("%s %q is not a finite number", m.Param, val)}
		}
		inc = n/from - 1
		head = fmt.Sprintf("max step: %s %g → %s, at most +%s at once", m.Param, from, val, bound)
	}
	if math.IsNaN(inc) || math.IsInf(inc, 0) {
		// fail closed: a step that cannot be measured is not small
		return head, &Refusal{Rule: "max-step", Detail: fmt.Sprintf("%s %s: the step cannot be measured", m.Param, val)}
	}
	if inc > float64(m.Increase)+1e-9 {
		return head, &Refusal{Rule: "max-step", Detail: fmt.Sprintf("%s %s is +%s at once; the most allowed is +%s", m.Param, val, humanize.Percent(inc), bound)}
	}
	return head, nil
}

func stepFrom(m *MaxStep, r renderer) (float64, *Refusal) {
	if m.From == "" {
		return 0, &Refusal{Rule: "max-step", Detail: fmt.Sprintf("%s is absolute: give max_step.from to judge the step", m.Param)}
	}
	s, err := r.render("max_step.from", m.From)
	if err != nil {
		return 0, &Refusal{Rule: "max-step", Detail: err.Error()}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, &Refusal{Rule: "max-step", Detail: fmt.Sprintf("max_step.from %q is not a reading of a positive, finite number", termsafe.Line(s))}
	}
	return f, nil
}
