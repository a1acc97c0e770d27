package present

import (
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/remediate"
)

// TestPlanTextIsTheWholePlanAndInert: every section in the operator's
// order, a for_each action's commands under it once, its guardrails
// said of each caller, and a hostile target drawn inert.
func TestPlanTextIsTheWholePlanAndInert(t *testing.T) {
	evil := "cart\x1b]52;c;cm0gLXJmIH4=\x07"
	p := &remediate.Plan{Runbook: "shed", File: "rb/shed.yaml", Target: evil, Description: "shed load from the callers",
		Match: remediate.Matched{Why: "alert Overload on " + evil},
		Diagnosis: remediate.Diagnosis{Reason: "overloaded holds", Steps: []remediate.StepResult{
			{Name: "overloaded", What: "error ratio", Shown: "12%", Cond: "> 5%", Holds: true, Source: `rate(errors{service="cart"}[1m])`},
			{Name: "logs", What: "timeouts", Err: "loki did not answer"}}},
		Actions: []remediate.Planned{
			{Name: "throttle", Kind: remediate.KindExec, Danger: remediate.DangerLow, Category: "capacity", Auto: true, Shown: "throttle web", Key: remediate.Key{Target: evil},
				Guardrails: []string{"cooldown: 10m on " + evil}, Verify: "errors below 1%", Inputs: []string{"caller = web (k8s-name)"}},
			{Name: "throttle", Kind: remediate.KindExec, Danger: remediate.DangerLow, Category: "capacity", Auto: true, Shown: "throttle api", Key: remediate.Key{Target: evil},
				Refused: &remediate.Refusal{Rule: "max step", Detail: "too many"}},
		}}
	var b strings.Builder
	if err := PlanText(&b, NewPlan(p)); err != nil {
		t.Fatal(err)
	}
	want := `Runbook
  shed on cart (rb/shed.yaml:0)
  matched: alert Overload on cart
  shed load from the callers

1. Diagnosis
  → overloaded: error ratio = 12% (> 5%: yes)
      from rate(errors{service="cart"}[1m])
  ? logs: timeouts: loki did not answer
  branch: overloaded holds

2. Actions, exactly as they will run
  1. throttle [low danger, capacity, auto] (exec'd without a shell, one argument per word, once for each of 2 callers):
     throttle web
     throttle api
     inputs, checked: caller = web (k8s-name)

3. Guardrails
  1. cooldown: 10m on each caller
  1. ✗ refused by max step: too many

4. Verification
  1. errors below 1%
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if m := NewPlan(p); !m.Runnable || m.Outcome != nil {
		t.Errorf("model: %+v", m)
	}
}

// TestPlanThatEscalatesRunsNothing: the escalation stands where the
// actions would, and the model says there is nothing to run, and why.
func TestPlanThatEscalatesRunsNothing(t *testing.T) {
	p := &remediate.Plan{Runbook: "pool-full", Target: "payment-api", Diagnosis: remediate.Diagnosis{Escalate: true, Reason: "no step held"},
		Actions: []remediate.Planned{{Name: "resize"}}}
	m := NewPlan(p)
	last := m.Sections[len(m.Sections)-1]
	if m.Runnable || m.Branch != "no step held" || last.Title != "2. Escalation" || len(m.Sections) != 3 {
		t.Errorf("%+v", m)
	}
}

// TestOutcomeTextNamesTheAuditEntries: each action with its audit id,
// then the escalations; hostile text inert.
func TestOutcomeTextNamesTheAuditEntries(t *testing.T) {
	o := remediate.Outcome{Result: remediate.ResultEscalated, Actions: []remediate.ActionOutcome{
		{Name: "restart", Target: "cart\x1b[2J", Result: remediate.ResultFailed, Error: "exit 1", AuditID: "0123456789abcdef"},
		{Name: "page", Target: "cart", Result: remediate.ResultEscalated}},
		Escalation: []string{"pagerduty: sent"}}
	var b strings.Builder
	if err := OutcomeText(&b, NewOutcome(o)); err != nil {
		t.Fatal(err)
	}
	want := "Result: escalated\n  restart on cart: failed (exit 1); audit 0123456789abcdef\n  page on cart: escalated\n  escalation: pagerduty: sent\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
	if NewOutcome(o).OK || !NewOutcome(remediate.Outcome{Result: remediate.ResultDryRun}).OK {
		t.Error("OK is not remediate's")
	}
}
