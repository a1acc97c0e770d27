package remediate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
)

// RecordEscalation marks an escalation sent, so that the next rounds do
// not page again for the same runbook and target until it ends.
const RecordEscalation = "escalation"

// AutopilotApproval is the approval the autopilot runs plans with, as
// the audit log keeps it: alone for an escalation's run, followed by
// ": " and why for a plan it ran itself. The history tells the
// autopilot's actions from people's by it.
const AutopilotApproval = "autopilot"

// Proposal is a plan waiting for a human: what the autopilot would do,
// and why it did not.
type Proposal struct {
	ID      string    `json:"id"`
	Runbook string    `json:"runbook"`
	Target  string    `json:"target"`
	Match   string    `json:"match"`
	Why     string    `json:"why"` // why it needs a human
	Actions []string  `json:"actions"`
	Danger  Danger    `json:"danger"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Expires time.Time `json:"expires"`
	// Likelihood and Score are the target's standing among the incident's
	// root-cause candidates when it was proposed (none: not a candidate).
	Likelihood correlate.Likelihood `json:"likelihood,omitempty"`
	Score      float64              `json:"score,omitempty"`
}

// proposalNote is what a proposal record's note holds.
type proposalNote struct {
	Match      string               `json:"match"`
	Why        string               `json:"why"`
	Actions    []string             `json:"actions"`
	Danger     Danger               `json:"danger"`
	Likelihood correlate.Likelihood `json:"likelihood,omitempty"`
	Score      float64              `json:"score,omitempty"`
}

// Propose records a plan for a human to approve or reject, until ttl.
func Propose(ctx context.Context, l Ledger, p *Plan, why, by string, now time.Time, ttl time.Duration) (string, error) {
	n := proposalNote{Match: p.Match.Why, Why: why, Danger: DangerLow}
	if p.Inc != nil {
		for _, c := range p.Inc.Candidates {
			if c.Service == p.Target {
				n.Likelihood, n.Score = c.Likelihood, c.Score
				break
			}
		}
	}
	for _, a := range p.Actions {
		n.Actions = append(n.Actions, a.Shown)
		if a.Danger == DangerHigh {
			n.Danger = DangerHigh
		}
	}
	b, _ := json.Marshal(n)
	return l.Add(ctx, Record{Kind: RecordProposal, Key: Key{Action: p.Runbook, Target: p.Target}, By: by, Start: ledgerStamps(), End: now.Add(ttl), Note: string(b)})
}

// Proposals lists the proposals waiting in the diagnosis's order: those
// on a likelier root-cause candidate first, then on a higher-scored one,
// then the oldest first. The cockpit's A approves the first.
func Proposals(ctx context.Context, l Ledger) ([]Proposal, error) {
	rs, err := l.Records(ctx)
	if err != nil {
		return nil, err
	}
	var out []Proposal
	for _, r := range rs {
		if r.Kind != RecordProposal || !r.Active {
			continue
		}
		p := Proposal{ID: r.ID, Runbook: r.Key.Action, Target: r.Key.Target, By: r.By, At: r.Start, Expires: r.End}
		var n proposalNote
		if err := json.Unmarshal([]byte(r.Note), &n); err != nil {
			p.Why = "unreadable proposal note: " + err.Error()
		} else {
			p.Match, p.Why, p.Actions, p.Danger, p.Likelihood, p.Score = n.Match, n.Why, n.Actions, n.Danger, n.Likelihood, n.Score
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Proposal) int {
		return cmp.Or(correlate.CompareStanding(a.Likelihood, a.Score, b.Likelihood, b.Score), a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Decide ends a proposal, approved or rejected, and writes the decision
// to the audit log. Ending it first means two cockpits cannot both act on
// it: the second one's End fails.
func Decide(ctx context.Context, l Ledger, audit *Audit, p Proposal, approved bool, user, host string) error {
	if err := l.End(ctx, p.ID); err != nil {
		return fmt.Errorf("proposal %s: %w (another cockpit may have decided it)", p.ID, err)
	}
	word := "rejected"
	if approved {
		word = "approved"
	}
	return audit.Append(Entry{ID: NewID(), Phase: PhaseDecision, Time: time.Now().UTC(), User: user, Host: host, Runbook: p.Runbook, Target: p.Target,
		Result: fmt.Sprintf("proposal %s %s by %s", p.ID, word, user), Command: strings.Join(p.Actions, "; ")})
}

// Decision is what the autopilot did about one match.
type Decision struct {
	Runbook string   `json:"runbook"`
	Target  string   `json:"target"`
	Did     string   `json:"did"` // ran, proposed, escalated, waiting, skipped
	Why     string   `json:"why"`
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Autopilot automates the obvious and escalates the suspicious: each
// round it matches runbooks to what is firing, runs on its own only the
// actions marked auto whose category the policy automates, and proposes
// or escalates everything else.
type Autopilot struct {
	Runbooks []*Runbook
	Planner  *Planner
	Exec     *Executor
	Ledger   Ledger
	Policy   RunPolicy
	Now      func() time.Time
	By       string
	// Situation reads what is going on: firing alerts and the incident.
	Situation func(ctx context.Context) (Situation, error)
}

// Round looks once and acts.
func (a *Autopilot) Round(ctx context.Context) ([]Decision, error) {
	s, err := a.Situation(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := a.Ledger.Records(ctx)
	if err != nil {
		return nil, err
	}
	// an open proposal waits for its human; an escalation sent stops
	// another for the same, but not a plan that has since found a branch
	proposed, escalated := map[Key]bool{}, map[Key]bool{}
	for _, r := range rs {
		if r.Active && r.Kind == RecordProposal {
			proposed[r.Key] = true
		}
		if r.Active && r.Kind == RecordEscalation {
			escalated[r.Key] = true
		}
	}
	// planned first: proposals are kept by the plan's target, which a
	// runbook's target: may make another than the matched service; a
	// match on its own service whose proposal waits needs no plan. Every
	// plan reads the records as the round did: nothing is written before
	// the last is made.
	planner := *a.Planner
	planner.Ledger = roundLedger{Ledger: a.Ledger, records: rs}
	type match struct {
		key  Key
		plan *Plan // nil: its proposal waits, so it was not planned
	}
	var matches []match
	seen := map[Key]bool{}
	for _, m := range MatchAll(a.Runbooks, s) {
		k := Key{m.Name, m.Service}
		var p *Plan
		if m.Runbook.Target != "" || !proposed[k] {
			p = planner.Plan(ctx, m, s.Incident)
			k = Key{p.Runbook, p.Target}
		}
		if !seen[k] {
			// one plan per runbook and target: the best match's
			seen[k] = true
			matches = append(matches, match{k, p})
		}
	}
	// a runbook whose steps found nothing says only that it does not fit:
	// when another found a branch, or waits for a human with one, that one
	// speaks for the incident
	handled := false
	for _, m := range matches {
		handled = handled || proposed[m.key] || m.plan.Runnable() || (m.plan.Diagnosis.Escalate && m.plan.Diagnosis.Branch != "")
	}
	var out []Decision
	for _, m := range matches {
		d := Decision{Runbook: m.key.Action, Target: m.key.Target}
		if proposed[m.key] {
			d.Did, d.Why = "waiting", "its proposal waits for a human"
			out = append(out, d)
			continue
		}
		p := m.plan
		if why := alreadyFixed(p); why != "" {
			d.Did, d.Why = "skipped", why
			out = append(out, d)
			continue
		}
		if handled && p.Diagnosis.Escalate && p.Diagnosis.Branch == "" {
			d.Did, d.Why = "skipped", "its steps found nothing, and another runbook has a plan for the incident"
			out = append(out, d)
			continue
		}
		if len(p.Problems) > 0 {
			d.Did, d.Why = "skipped", strings.Join(p.Problems, "; ")
			out = append(out, d)
			continue
		}
		if p.Diagnosis.Escalate && escalated[Key{p.Runbook, p.Target}] {
			d.Did, d.Why = "waiting", "escalated already: "+p.Diagnosis.Reason
			out = append(out, d)
			continue
		}
		if p.Diagnosis.Escalate {
			o := a.Exec.Run(ctx, p, AutopilotApproval, false)
			d.Did, d.Why, d.Outcome = "escalated", p.Diagnosis.Reason, &o
			_, _ = a.Ledger.Add(ctx, Record{Kind: RecordEscalation, Key: Key{p.Runbook, p.Target}, By: a.By, Start: ledgerStamps(),
				End: a.Now().Add(a.Policy.ProposalTTL), Note: "oncall escalated: " + p.Diagnosis.Reason})
			out = append(out, d)
			continue
		}
		if why := a.needsHuman(p); why != "" {
			id, err := Propose(ctx, a.Ledger, p, why, a.By, a.Now(), a.Policy.ProposalTTL)
			if err != nil {
				d.Did, d.Why = "skipped", err.Error()
			} else {
				d.Did, d.Why = "proposed", why+" (proposal "+id+")"
			}
			out = append(out, d)
			continue
		}
		o := a.Exec.Run(ctx, p, AutopilotApproval+": every action auto and automatable, the target the likeliest cause and likely", false)
		d.Did, d.Why, d.Outcome = "ran", p.Diagnosis.Reason, &o
		if len(o.Escalation) > 0 {
			// after a failed action, or a target fixed while its symptom
			// still fails
			_, _ = a.Ledger.Add(ctx, Record{Kind: RecordEscalation, Key: Key{p.Runbook, p.Target}, By: a.By, Start: ledgerStamps(),
				End: a.Now().Add(a.Policy.ProposalTTL), Note: "oncall escalated after the run ended " + o.Result})
		}
		out = append(out, d)
	}
	return out, nil
}

// alreadyFixed says why a plan only repeats a fix already verified, or
// "": its steps, counting only the evidence since that fix, found
// nothing; or, with no steps, the alert it matched has fired since before
// the fix. Neither a run nor a page would add anything.
func alreadyFixed(p *Plan) string {
	d := p.Diagnosis
	if d.FixedAt.IsZero() {
		return ""
	}
	if d.Escalate && d.Branch == "" {
		return fmt.Sprintf("fixed and verified at %s; nothing since says it is back (%s)", d.FixedAt.UTC().Format("15:04:05"), d.Reason)
	}
	al := p.Match.Alert
	if p.rb == nil || len(p.rb.Diagnose) > 0 || al == nil || !d.FixedAt.After(al.StartsAt) {
		return ""
	}
	return fmt.Sprintf("fixed and verified at %s; alert %s has fired since %s, before the fix", d.FixedAt.UTC().Format("15:04:05"), al.Name, al.StartsAt.UTC().Format("15:04:05"))
}

// roundLedger is the ledger as a round read it, once for all its plans.
type roundLedger struct {
	Ledger
	records []Record
}

// Records are the records the round read.
func (l roundLedger) Records(context.Context) ([]Record, error) { return l.records, nil }

// needsHuman says why a plan may not run unattended, or "". Alone, the
// autopilot acts only on the incident's likeliest root-cause candidate,
// and only when that one is likely: whatever matched the runbook (an
// alert, a service, a possible cause), without that it proposes.
func (a *Autopilot) needsHuman(p *Plan) string {
	inc := p.Inc
	switch {
	case inc == nil:
		return "no incident is assembled: no root cause is established"
	case inc.Thin:
		return "the incident's evidence is thin"
	case len(inc.Candidates) == 0:
		return "the incident names no root-cause candidate"
	case inc.Candidates[0].Service != p.Target:
		return fmt.Sprintf("%s is not the likeliest cause: %s is the likeliest (%s)", p.Target, inc.Candidates[0].Service, inc.Candidates[0].Likelihood)
	case inc.Candidates[0].Likelihood != correlate.Likely:
		return fmt.Sprintf("%s is the likeliest cause, but only %s", p.Target, inc.Candidates[0].Likelihood)
	}
	for _, x := range p.Actions {
		switch {
		case !x.Auto:
			return x.Name + " is not marked auto"
		case !a.Policy.Automates(x.Category):
			return fmt.Sprintf("%s is %s, not a category the policy automates", x.Name, x.Category)
		case x.Danger == DangerHigh:
			return x.Name + " is high danger"
		}
	}
	return ""
}
