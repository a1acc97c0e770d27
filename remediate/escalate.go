package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// Escalation target kinds.
const (
	EscalatePagerDuty = "pagerduty" // Events API v2
	EscalateSlack     = "slack"     // a Slack-compatible incoming webhook
	EscalateWebhook   = "webhook"   // the Escalation as JSON
)

// DefaultPagerDutyURL is the Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// EscalationTarget is one place escalations go.
type EscalationTarget struct {
	Name string
	Kind string
	URL  string
	// RoutingKey is PagerDuty's integration key: a secret, sent in the
	// body PagerDuty asks for and written nowhere else.
	RoutingKey string
	Headers    map[string]string // secrets too: never shown
}

// Escalation is what a human is told: the incident, the diagnosis, what
// was tried and how it went, and the traces to open. It holds commands as
// shown, so no secret is in it.
type Escalation struct {
	Summary   string          `json:"summary"`
	Reason    string          `json:"reason"`
	Runbook   string          `json:"runbook"`
	Target    string          `json:"target"`
	Match     string          `json:"match"`
	Incident  string          `json:"incident,omitempty"`
	Chain     []string        `json:"chain,omitempty"`
	Blast     *BlastSummary   `json:"blast_radius,omitempty"`
	Diagnosis Diagnosis       `json:"diagnosis"`
	Tried     []ActionOutcome `json:"actions_tried"`
	TraceIDs  []string        `json:"trace_ids,omitempty"`
	Host      string          `json:"host"`
	User      string          `json:"user"`
	At        time.Time       `json:"at"`
}

// BlastSummary is the blast radius in an escalation.
type BlastSummary struct {
	Services []string `json:"services"`
	// FailingPerMin and MoneyPerMin are nil (null) when the requests at
	// the entry points were not measured: an escalation must not say 0.
	FailingPerMin *float64 `json:"failing_per_min"`
	MoneyPerMin   *float64 `json:"money_per_min"`
	Currency      string   `json:"currency,omitempty"`
}

// NewEscalation gathers an escalation's context from a plan and its outcome.
func NewEscalation(p *Plan, tried []ActionOutcome, reason, user, host string, at time.Time) Escalation {
	e := Escalation{Reason: reason, Runbook: p.Runbook, Target: p.Target, Match: p.Match.Why, Incident: p.Incident,
		Diagnosis: p.Diagnosis, Tried: tried, Host: host, User: user, At: at}
	e.Summary = fmt.Sprintf("oncall: runbook %s on %s needs a human: %s", p.Runbook, p.Target, reason)
	if inc := p.Inc; inc != nil {
		for _, l := range inc.Chain {
			e.Chain = append(e.Chain, l.Service+": "+l.What)
		}
		if b := inc.Blast; b != nil {
			bs := &BlastSummary{Currency: b.Currency}
			if f, m := b.FailingPerMin, b.MoneyPerMin; b.Unknown == "" {
				bs.FailingPerMin, bs.MoneyPerMin = &f, &m
			}
			for _, s := range b.Services {
				bs.Services = append(bs.Services, s.Service)
			}
			e.Blast = bs
		}
		e.TraceIDs = traceIDs(inc)
	}
	return e
}

func traceIDs(inc *correlate.Incident) []string {
	var out []string
	for _, t := range inc.Traces {
		if !slices.Contains(out, t.TraceID) {
			out = append(out, t.TraceID)
		}
	}
	return out
}

// Escalator sends escalations.
type Escalator struct {
	Targets []EscalationTarget
	HTTP    *http.Client
}

// Send tells every target named (all when names is empty) and says, per
// target, how it went: by its name, never its URL, with no secret of any
// target in it even when a server echoes what it was sent.
func (x *Escalator) Send(ctx context.Context, e Escalation, names []string) []string {
	if len(x.Targets) == 0 {
		return []string{"no escalation target is configured (remediation.escalation in the config): nobody was told"}
	}
	secrets := x.secrets()
	var out []string
	for _, t := range x.Targets {
		if len(names) > 0 && !slices.Contains(names, t.Name) {
			continue
		}
		if err := x.send(ctx, t, e); err != nil {
			out = append(out, fmt.Sprintf("%s (%s): %s", t.Name, t.Kind, secrets.scrub(err.Error())))
		} else {
			out = append(out, fmt.Sprintf("%s (%s): sent", t.Name, t.Kind))
		}
	}
	return out
}

func (x *Escalator) send(ctx context.Context, t EscalationTarget, e Escalation) error {
	var body any
	url := t.URL
	switch t.Kind {
	case EscalatePagerDuty:
		if url == "" {
			url = DefaultPagerDutyURL
		}
		body = pagerDutyEvent(t.RoutingKey, e)
	case EscalateSlack:
		body = map[string]string{"text": slackText(e)}
	default:
		body = e
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range t.Headers {
		h[k] = v
	}
	resp, err := send(ctx, x.HTTP, &Request{Method: http.MethodPost, URL: url, Headers: h, Body: string(b)})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if err := statusError(resp); err != nil {
		if said := strings.TrimSpace(string(msg)); said != "" {
			return fmt.Errorf("%w: %s", err, termsafe.Line(said))
		}
		return err
	}
	return nil
}

// pagerDutyPath is the Events API's path on PagerDuty's hosts (the US
// default, the EU's): public, as the routing key is what identifies the
// service. Any other path a PagerDuty target names (a proxy's) may hold
// a secret, as a webhook's does.
const pagerDutyPath = "/v2/enqueue"

// secrets are every target's secrets, each shown by the target's name:
// its sensitive headers, its URL's user, password and query values, its
// URL's path unless it is PagerDuty's public one (a Slack or other
// webhook's path is its secret), and its routing key. What is no secret
// ("application/json", /v2/enqueue) stays readable in an error.
func (x *Escalator) secrets() *scrubber {
	s := &scrubber{}
	for _, t := range x.Targets {
		u, err := url.Parse(t.URL)
		public := t.Kind == EscalatePagerDuty && err == nil && (t.URL == "" || u.Path == pagerDutyPath)
		s.addURL(t.URL, t.Name+" url", !public)
		s.add(t.RoutingKey, secretShown(t.Name+" routing_key"))
		for k, v := range t.Headers {
			if !sensitiveHeaders[http.CanonicalHeaderKey(k)] {
				continue
			}
			s.add(v, secretShown(t.Name+" headers."+k))
			// "Bearer TOKEN": a server may echo the token alone
			if _, cred, ok := strings.Cut(v, " "); ok {
				s.add(cred, secretShown(t.Name+" headers."+k))
			}
		}
	}
	return s
}

// pagerDutyEvent is an Events API v2 trigger; custom_details carries the
// whole escalation.
func pagerDutyEvent(routingKey string, e Escalation) map[string]any {
	summary := e.Summary
	if len(summary) > 1024 { // PagerDuty's limit
		summary = summary[:1021] + "..."
	}
	return map[string]any{
		"routing_key":  routingKey,
		"event_action": "trigger",
		"dedup_key":    "oncall/" + e.Runbook + "/" + e.Target,
		"client":       "oncall",
		"payload": map[string]any{
			"summary":        summary,
			"source":         e.Host,
			"severity":       "critical",
			"timestamp":      e.At.UTC().Format(time.RFC3339),
			"component":      e.Target,
			"group":          e.Runbook,
			"class":          "remediation",
			"custom_details": e,
		},
	}
}

func slackText(e Escalation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n", e.Summary)
	if e.Incident != "" {
		fmt.Fprintf(&b, "Incident: %s\n", e.Incident)
	}
	if e.Blast != nil {
		failing := "unknown"
		if f := e.Blast.FailingPerMin; f != nil {
			failing = humanize.Commas(*f)
		}
		fmt.Fprintf(&b, "Blast radius: %s, %s failing requests/min\n", humanize.Count(len(e.Blast.Services), "service"), failing)
	}
	fmt.Fprintf(&b, "Diagnosis: %s\n", e.Diagnosis.Reason)
	for _, t := range e.Tried {
		fmt.Fprintf(&b, "Tried %s: `%s` → %s\n", t.Name, t.Shown, t.Result)
	}
	if len(e.TraceIDs) > 0 {
		fmt.Fprintf(&b, "Traces: %s\n", strings.Join(e.TraceIDs[:min(5, len(e.TraceIDs))], ", "))
	}
	return b.String()
}
