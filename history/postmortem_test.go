package history

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/slo"
)

func pmAt(h, m, s int) time.Time { return time.Date(2026, 12, 7, h, m, s, 0, time.UTC) }

// handBuilt is a live record of a retry storm on user-preferences-api,
// resolved by a runbook, with everything a postmortem reads.
func handBuilt() Record {
	inc := &correlate.Incident{
		Schema:  correlate.SchemaVersion,
		Summary: "checkout-api errors ← user-preferences-api p99 latency 10×",
		Chain: []correlate.ChainLink{
			{Service: "checkout-api", What: "error ratio 12% (baseline 0.1%)"},
			{Service: "user-preferences-api", What: "p99 latency 2.1 s (baseline 180 ms) at 10:00, retry storm from its callers (64% of traced calls are retries)"},
		},
		Candidates: []correlate.Candidate{{Service: "user-preferences-api", Score: 3.2, Confidence: 0.86, Likelihood: correlate.Likely, Onset: pmAt(10, 0, 0),
			Reasons: []correlate.Reason{
				{Kind: correlate.ReasonAnomaly, Detail: "p99 latency 2.1 s against 180 ms", Weight: 1, Source: `histogram_quantile(0.99, sum by (le) (rate(http_server_duration_seconds_bucket{service="user-preferences-api"}[1m])))`},
				{Kind: correlate.ReasonLogs, Detail: "412 timeout lines from its callers", Weight: 0.5, Source: `{service="checkout-api"} |= "timeout"`,
					Lines: []string{"10:00:31 checkout-api timeout calling user-preferences-api after 500ms", "10:00:32 checkout-api timeout calling user-preferences-api after 500ms",
						"10:00:33 checkout-api timeout calling user-preferences-api after 500ms", "10:00:34 checkout-api timeout", "10:00:35 checkout-api timeout"},
					TraceIDs: []string{"4bf92f3577b34da6a3ce929d0e0e4736"}},
				{Kind: correlate.ReasonExplained, Detail: "weighs nothing", Weight: 0},
			}}},
		Mechanisms: []correlate.Mechanism{{Kind: "retry-amplification", Service: "user-preferences-api", Detail: "calls into user-preferences-api at 3.8× their baseline rate while they fail; 64% of traced calls were retries",
			Evidence: []string{`sum(rate(traces_service_graph_request_total{server="user-preferences-api"}[1m]))`}}},
		Blast: &correlate.BlastRadius{Root: "user-preferences-api", EntryPoints: []string{"checkout-api"}, FailingPerMin: 600, MoneyPerMin: 30, Currency: "EUR"},
		Timeline: []correlate.Event{
			{T: pmAt(9, 58, 0), Kind: "change", Service: "checkout-api", Detail: "config: retries 3"},
			{T: pmAt(10, 0, 0), Kind: "onset", Service: "user-preferences-api", Detail: "p99 latency"},
		},
		Traces: []correlate.TraceView{{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}, {TraceID: "00f067aa0ba902b7"}},
	}
	alertSrc := `ALERTS{alertname="HighErrorRate"} at 15s steps (simulator)`
	return Record{
		ID: "inc-3f2a9c01", Stack: "demo", Origin: OriginLive, Title: "HighErrorRate on checkout-api", Severity: "critical",
		Services: []string{"checkout-api", "user-preferences-api"}, Root: "user-preferences-api", Mechanism: "retry-amplification",
		Summary:  inc.Summary,
		Onset:    Stamp{T: pmAt(10, 0, 0), Source: "user-preferences-api p99 latency departs from its baseline (simulator metrics)", Kind: KindAnomaly},
		Detected: Stamp{T: pmAt(10, 1, 30), Source: alertSrc, Kind: KindAlert},
		Acked:    Stamp{T: pmAt(10, 3, 0), Source: "silence s-1 by alice (alertmanager)", Kind: KindAck},
		Resolved: Stamp{T: pmAt(10, 14, 0), Source: "runbook retry-storm verified (audit log)", Kind: KindVerified},
		Alerts: []AlertSpan{
			{Name: "HighErrorRate", Service: "checkout-api", Severity: "critical", Start: pmAt(10, 1, 30), End: pmAt(10, 13, 0), Source: alertSrc},
			{Name: "SLOBurnRateFast", Service: "checkout-api", Severity: "page", Start: pmAt(10, 2, 0), End: pmAt(10, 13, 30), Source: `ALERTS{alertname="SLOBurnRateFast"} at 15s steps (simulator)`},
		},
		Acks: []Ack{{T: pmAt(10, 3, 0), By: "alice", Silence: "s-1", Source: "silence s-1 (alertmanager)"}},
		Actions: []Action{
			{T: pmAt(10, 6, 0), ID: "a-1", Runbook: "retry-storm", Action: "turn-down-retries", Target: "checkout-api", User: "alice", Approval: "approved by alice", Result: "done",
				Command: "sim set-call checkout-api user-preferences-api retries=0 --key=‹secret:SIM_KEY›"},
			{T: pmAt(10, 8, 0), ID: "a-2", Runbook: "retry-storm", Action: "scale", Target: "user-preferences-api", User: "alice", Result: "resolved",
				Command: "sim scale user-preferences-api replicas=+100%"},
		},
		Notes: []Note{{T: pmAt(10, 4, 0), By: "alice", Text: "retries from checkout look like the driver"}},
		Snapshots: []Snapshot{
			{T: pmAt(10, 2, 0), Summary: "checkout-api errors", Candidates: []Suspect{{Service: "checkout-api", Likelihood: correlate.Possible}}, Blast: BlastFigure{FailingPerMin: 300, MoneyPerMin: 15, Currency: "EUR"}},
			{T: pmAt(10, 4, 0), Summary: inc.Summary, Candidates: []Suspect{{Service: "user-preferences-api", Likelihood: correlate.Likely}}, Blast: BlastFigure{FailingPerMin: 600, MoneyPerMin: 30, Currency: "EUR"}},
			{T: pmAt(10, 9, 0), Summary: inc.Summary, Candidates: []Suspect{{Service: "user-preferences-api", Likelihood: correlate.Likely}}, Blast: BlastFigure{FailingPerMin: 100, MoneyPerMin: 5, Currency: "EUR"}},
		},
		Incident: inc,
	}
}

func pastRecords() []Record {
	return []Record{
		{ID: "inc-0000aaaa", Title: "HighLatency on checkout-api", Root: "user-preferences-api", Mechanism: "retry-amplification", Detected: stamp(time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC), KindAlert)},
		{ID: "inc-0000bbbb", Title: "PodCrashLooping on user-preferences-api", Root: "user-preferences-api", Mechanism: "crash-loop", Detected: stamp(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), KindAlert)},
		{ID: "inc-0000cccc", Title: "HighErrorRate on cart", Root: "cart", Mechanism: "retry-amplification", Detected: stamp(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), KindAlert)},
		{ID: "inc-3f2a9c01", Title: "itself", Root: "user-preferences-api", Mechanism: "retry-amplification"},
	}
}

func pmOptions() PostmortemOptions {
	return PostmortemOptions{Now: pmAt(16, 0, 0), Zone: time.FixedZone("CET", 3600), Owner: "@alice", DueIn: 7 * 24 * time.Hour,
		Explore: &grafana.Explore{URL: "https://grafana.example", UIDs: map[string]string{"prometheus": "prom", "loki": "loki", "tempo": "tempo"}},
		Budgets: []SLOAccount{{Objective: slo.Objective{Name: "checkout-availability"}, History: slo.BudgetHistory{Spends: []slo.Spend{
			{Start: pmAt(10, 1, 0), End: pmAt(10, 13, 0), Share: 0.042, PeakBurn: 21.5},
			{Start: pmAt(2, 0, 0), End: pmAt(2, 30, 0), Share: 0.1, PeakBurn: 5},
		}}}}}
}

func TestPostmortemMarkdownGolden(t *testing.T) {
	d := Postmortem(handBuilt(), pastRecords(), pmOptions())
	golden.RequireEqual(t, []byte(d.Markdown()))
}

func TestPostmortemGitHubIssuesGolden(t *testing.T) {
	d := Postmortem(handBuilt(), pastRecords(), pmOptions())
	golden.RequireEqual(t, []byte(d.GitHubIssues()))
}

func TestPostmortemImpact(t *testing.T) {
	im := Postmortem(handBuilt(), nil, pmOptions()).Impact
	// from the first snapshot on: 10:02–10:04 at 300, 10:04–10:09 at 600,
	// 10:09–10:14 at 100; the two minutes from the onset are not guessed
	if im.Failed != 300*2+600*5+100*5 || im.Money != 15*2+30*5+5*5 || im.Currency != "EUR" || !im.FailedKnown || im.Unmeasured != 2*time.Minute {
		t.Errorf("impact %+v", im)
	}
	for _, want := range []string{"100–600 failing requests a minute × the 12 min from 11:02:00 to 11:14:00", "3 blast-radius snapshots (11:02:00 to 11:09:00)", "the 2 min from the onset at 11:00:00 to the first snapshot were not measured"} {
		if !strings.Contains(im.How, want) {
			t.Errorf("how %q lacks %q", im.How, want)
		}
	}
	for _, want := range []string{"5–30 EUR a minute", "value_per_request", "the config's currency", "the same 2 min were not measured"} {
		if !strings.Contains(im.MoneyHow, want) {
			t.Errorf("money's how %q lacks %q", im.MoneyHow, want)
		}
	}
	md := Postmortem(handBuilt(), nil, pmOptions()).Markdown()
	if !strings.Contains(md, "| Failed requests | at least 4,100 (") || !strings.Contains(md, "| Money | at least 205 EUR (5–30 EUR a minute") {
		t.Errorf("impact rows:\n%s", md)
	}
	if im.Duration != 14*time.Minute {
		t.Errorf("duration %s", im.Duration)
	}
	// the night's spend is another incident's
	if len(im.Budget) != 1 || im.Budget[0].Share != 0.042 {
		t.Errorf("budget %+v", im.Budget)
	}
	o := pmOptions()
	o.Budgets = nil
	r := handBuilt()
	r.Snapshots, r.Incident = nil, nil
	im = Postmortem(r, nil, o).Impact
	if im.FailedKnown || !strings.HasPrefix(im.How, "not known") || !strings.HasPrefix(im.BudgetUnknown, "not known") {
		t.Errorf("unknown impact %+v", im)
	}
}

func TestPostmortemSimilarMatchesRootThenMechanism(t *testing.T) {
	s := Postmortem(handBuilt(), pastRecords(), pmOptions()).Similar
	if len(s) != 2 || s[0].ID != "inc-0000aaaa" || s[0].Match != "root and mechanism" || s[1].ID != "inc-0000bbbb" || s[1].Match != "root" {
		t.Errorf("similar %+v", s)
	}
}

// secretCore is in every secret of this test and nowhere else.
const secretCore = "SEKRIT"

func TestPostmortemNeverShowsASecret(t *testing.T) {
	secrets := []string{
		"token=tk-" + secretCore + "-1",
		"password: pw-" + secretCore + "-2",
		`"api_key": "ak-` + secretCore + `-3"`,
		"Authorization: Bearer br" + secretCore + "4abcdef",
		"https://admin:pw" + secretCore + "5@db.internal:5432/app",
		"https://hooks.example/x?sig=sg" + secretCore + "6&v=1",
		"ghp_" + secretCore + "7abcdefghijklmnopqrstu",
		"--client-secret=cs-" + secretCore + "-8",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE" + secretCore + "9\n-----END RSA PRIVATE KEY-----",
	}
	for i, sec := range secrets {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := handBuilt()
			r.Title += " " + sec
			r.Notes = append(r.Notes, Note{T: pmAt(10, 5, 0), By: "bob", Text: "tried " + sec})
			r.Actions[1].Command += " " + sec
			r.Actions[1].Result = "failed: " + sec
			r.Alerts[0].Source += " " + sec
			r.Incident.Candidates[0].Reasons[1].Lines[0] += " " + sec
			r.Incident.Candidates[0].Reasons[0].Source += " # " + sec
			r.Incident.Mechanisms[0].Detail += " " + sec
			r.Incident.Chain[0].What += " " + sec
			d := Postmortem(r, nil, pmOptions())
			js, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{"markdown": d.Markdown(), "github": d.GitHubIssues(), "json": string(js)} {
				if strings.Contains(out, secretCore) {
					t.Errorf("%s shows the secret %q: %s", name, sec, lines(out, secretCore))
				}
			}
			// the audit log's own redaction stays as it wrote it
			if !strings.Contains(d.Markdown(), "--key=‹secret:SIM_KEY›") {
				t.Errorf("the audit log's command changed")
			}
		})
	}
}

func TestPostmortemIsInert(t *testing.T) {
	for _, h := range testenv.HostileValues {
		r := handBuilt()
		r.Title, r.Root, r.Notes[0].Text, r.Actions[0].Command = h.Value, h.Value, h.Value, h.Value
		r.Incident.Candidates[0].Reasons[1].Lines[0] = h.Value
		d := Postmortem(r, pastRecords(), pmOptions())
		for _, out := range []string{d.Markdown(), d.GitHubIssues(), d.Experiment} {
			if testenv.HasEscape([]byte(out)) {
				t.Errorf("%s: escape sequence in the draft", h.Name)
			}
		}
	}
}

func TestPostmortemTrimsLongLogExcerpts(t *testing.T) {
	r := handBuilt()
	r.Incident.Candidates[0].Reasons[1].Lines[0] = strings.Repeat("x", 5000)
	md := Postmortem(r, nil, pmOptions()).Markdown()
	if strings.Contains(md, strings.Repeat("x", maxLineRunes)) || !strings.Contains(md, "… and 2 more lines") {
		t.Errorf("excerpt not trimmed:\n%s", md)
	}
}

// lines are the lines of out that hold s, to say where a leak is.
func lines(out, s string) string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			ls = append(ls, l)
		}
	}
	return strings.Join(ls, "\n")
}

// The experiment guards the service that paged first, then the entry
// points by how fast they fail, never the root, and three at most.
func TestPostmortemGuardsThePagedServiceFirst(t *testing.T) {
	r := handBuilt()
	r.Alerts = []AlertSpan{
		{Name: "ConnectionPoolExhausted", Service: "fraud-api", Severity: "warning", Start: pmAt(10, 1, 0)},
		{Name: "ErrorBudgetBurn", Service: "checkout-api", Severity: "page", Start: pmAt(10, 2, 0)},
		{Name: "HighLatency", Service: "user-preferences-api", Severity: "page", Start: pmAt(10, 0, 30)},
	}
	r.Incident.Blast = &correlate.BlastRadius{EntryPoints: []string{"email-service", "mobile-gateway", "partner-gateway", "web-gateway"},
		Services: []correlate.Impacted{{Service: "web-gateway", ErrorRate: 40}, {Service: "mobile-gateway", ErrorRate: 12}, {Service: "email-service", ErrorRate: 0.1}}}
	got := guardedServices(r)
	if want := []string{"checkout-api", "web-gateway", "mobile-gateway"}; !slices.Equal(got, want) {
		t.Errorf("guarded %v, want %v", got, want)
	}
	// nothing paged: the service the incident was opened on
	r.Alerts[1].Severity, r.Alerts[2].Severity = "warning", "warning"
	r.Incident.Trigger.Service = "checkout-api"
	if got := guardedServices(r); got[0] != "checkout-api" {
		t.Errorf("guarded %v: the trigger is not first", got)
	}
}

// ActionLine is what an audit entry did, without its time or command.
func TestActionLine(t *testing.T) {
	for _, c := range []struct {
		a    Action
		want string
	}{
		{Action{Runbook: "retry-storm", Action: "scale", Target: "api", User: "alice", Approval: "approved by bob", Result: "resolved", Command: "kubectl scale"},
			"retry-storm/scale on api by alice (approved by bob) → resolved"},
		{Action{Action: "escalate", User: "alice", Autopilot: true}, "escalate by the autopilot"},
		{Action{Runbook: "pool-full"}, "pool-full"},
	} {
		if got := ActionLine(c.a); got != c.want {
			t.Errorf("ActionLine(%+v) = %q, want %q", c.a, got, c.want)
		}
	}
}
