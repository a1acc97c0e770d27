package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
)

// RecordEscalation marks an escalation sent, so that the next rounds do
// not page again for the same runbook and target until it ends.
const RecordEscalation = "escalation"

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
}

// proposalNote is what a proposal record's note holds.
type proposalNote struct {
	Match   string   `json:"match"`
	Why     string   `json:"why"`
	Actions []string `json:"actions"`
	Danger  Danger   `json:"danger"`
}

// Propose records a plan for a human to approve or reject, until ttl.
func Propose(ctx context.Context, l Ledger, p *Plan, why, by string, now time.Time, ttl time.Duration) (string, error) {
	n := proposalNote{Match: p.Match.Why, Why: why, Danger: DangerLow}
	for _, a := range p.Actions {
		n.Actions = append(n.Actions, a.Shown)
		if a.Danger == DangerHigh {
			n.Danger = DangerHigh
		}
	}
	b, _ := json.Marshal(n)
	return l.Add(ctx, Record{Kind: RecordProposal, Key: Key{Action: p.Runbook, Target: p.Target}, By: by, Start: now.Add(-time.Minute), End: now.Add(ttl), Note: string(b)})
}

// Proposals lists the proposals waiting, oldest first.
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
			p.Match, p.Why, p.Actions, p.Danger = n.Match, n.Why, n.Actions, n.Danger
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
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
	Policy   Policy
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
	var out []Decision
	var plans []*Plan
	for _, m := range MatchAll(a.Runbooks, s) {
		if proposed[Key{m.Name, m.Service}] {
			out = append(out, Decision{Runbook: m.Name, Target: m.Service, Did: "waiting", Why: "its proposal waits for a human"})
			continue
		}
		plans = append(plans, a.Planner.Plan(ctx, m, s.Incident))
	}
	// a runbook whose steps found nothing says only that it does not fit:
	// when another found a branch, that one speaks for the incident
	handled := false
	for _, p := range plans {
		handled = handled || (len(p.Problems) == 0 && p.Runnable()) || (p.Diagnosis.Escalate && p.Diagnosis.Branch != "")
	}
	for _, p := range plans {
		d := Decision{Runbook: p.Runbook, Target: p.Target}
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
			o := a.Exec.Run(ctx, p, "autopilot", false)
			d.Did, d.Why, d.Outcome = "escalated", p.Diagnosis.Reason, &o
			_, _ = a.Ledger.Add(ctx, Record{Kind: RecordEscalation, Key: Key{p.Runbook, p.Target}, By: a.By, Start: a.Now().Add(-time.Minute),
				End: a.Now().Add(a.Policy.ProposalTTL), Note: "oncall escalated: " + p.Diagnosis.Reason})
			out = append(out, d)
			continue
		}
		if why := a.needsHuman(p, s.Incident); why != "" {
			id, err := Propose(ctx, a.Ledger, p, why, a.By, a.Now(), a.Policy.ProposalTTL)
			if err != nil {
				d.Did, d.Why = "skipped", err.Error()
			} else {
				d.Did, d.Why = "proposed", why+" (proposal "+id+")"
			}
			out = append(out, d)
			continue
		}
		o := a.Exec.Run(ctx, p, "autopilot: every action auto and automatable, root cause likely", false)
		d.Did, d.Why, d.Outcome = "ran", p.Diagnosis.Reason, &o
		if o.Result == ResultEscalated {
			_, _ = a.Ledger.Add(ctx, Record{Kind: RecordEscalation, Key: Key{p.Runbook, p.Target}, By: a.By, Start: a.Now().Add(-time.Minute),
				End: a.Now().Add(a.Policy.ProposalTTL), Note: "oncall escalated after a failed action"})
		}
		out = append(out, d)
	}
	return out, nil
}

// needsHuman says why a plan may not run unattended, or "".
func (a *Autopilot) needsHuman(p *Plan, inc *correlate.Incident) string {
	if inc != nil && inc.Thin {
		return "the incident's evidence is thin"
	}
	if p.Match.Likelihood != "" && p.Match.Likelihood != correlate.Likely {
		return fmt.Sprintf("the root cause is only %s", p.Match.Likelihood)
	}
	if p.Match.Runbook != nil && p.Match.Runbook.Match.RootCause != nil && p.Match.Likelihood == "" {
		return "the root cause is not established"
	}
	if inc != nil && p.Match.Likelihood != "" && len(inc.Candidates) > 0 && inc.Candidates[0].Service != p.Target {
		return fmt.Sprintf("%s is a likely cause, but %s is the likeliest", p.Target, inc.Candidates[0].Service)
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
