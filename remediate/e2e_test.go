package remediate

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestShippedRunbooksFixEachScenario runs, for each scenario, the shipped
// runbook that matches it on the simulator: it must take the right branch,
// its action must fix the simulation, and verification must say so. A
// slow database is not a runbook's to fix: its branch escalates.
func TestShippedRunbooksFixEachScenario(t *testing.T) {
	cases := []struct {
		scenario, runbook, target, branch, result string
		after                                     time.Duration
	}{
		{"db-pool-exhaustion", "pool-full", "payment-api", "surge", ResultResolved, 5 * time.Minute},
		{"connection-leak", "pool-full", "payment-api", "leaking", ResultResolved, 35 * time.Minute},
		{"slow-db", "pool-full", "payment-api", "database_slow", ResultEscalated, 5 * time.Minute},
		{"crash-loop", "crash-loop", "cart", "oom_kills", ResultResolved, 5 * time.Minute},
		{"bad-deploy", "bad-deploy", "inventory", "failing", ResultResolved, 5 * time.Minute},
		{"cache-miss-storm", "cache-flushed", "product-cache", "flushed", ResultResolved, 90 * time.Second},
		{"retry-storm", "retry-storm", "user-preferences-api", "retries", ResultResolved, 5 * time.Minute},
		{"slow-burn", "memory-leak", "payment-api", "gc_pauses", ResultResolved, time.Hour},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			t.Parallel()
			k, _ := simKit(t, c.scenario, c.after, simRunbooks(t), nil)
			s, err := k.Look(bg)
			if err != nil {
				t.Fatal(err)
			}
			var m *Matched
			for _, x := range MatchAll(k.Runbooks, s) {
				if x.Name == c.runbook && x.Service == c.target {
					m = &x
					break
				}
			}
			if m == nil {
				t.Fatalf("%s does not match %s; matches: %+v", c.runbook, c.target, MatchAll(k.Runbooks, s))
			}
			p := k.Planner.Plan(bg, *m, s.Incident)
			if p.Diagnosis.Branch != c.branch {
				t.Fatalf("branch %q, want %q: %s", p.Diagnosis.Branch, c.branch, p.Diagnosis.Reason)
			}
			out := k.Run(bg, p, "test", false, nil)
			if out.Result != c.result {
				t.Fatalf("result %s, want %s: %+v", out.Result, c.result, out)
			}
			if c.result == ResultResolved {
				last := out.Actions[len(out.Actions)-1]
				if !strings.Contains(last.Verification, "below 1.0%") {
					t.Errorf("verification %q", last.Verification)
				}
			}
		})
	}
}

// TestWrongActionEscalatesWithTheWholeContext restarts a service whose
// pool is too small: verification fails, and a PagerDuty Events v2
// receiver gets the incident, the blast radius, the diagnosis, what was
// tried and the traces, and no secret but the routing key it needs.
func TestWrongActionEscalatesWithTheWholeContext(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad event %s %s: %v", r.Method, b, err)
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"x"}`))
	}))
	defer pd.Close()
	const key = "R0UT1NGK3Y-secret-0123456789abcdef"
	esc := &Escalator{Targets: []EscalationTarget{{Name: "pd", Kind: EscalatePagerDuty, URL: pd.URL, RoutingKey: key}}, HTTP: pd.Client()}
	k, _ := simKit(t, "db-pool-exhaustion", 5*time.Minute, []*Runbook{testdataRunbook(t, "wrong-action")}, esc)
	s, err := k.Look(bg)
	if err != nil {
		t.Fatal(err)
	}
	ms := MatchAll(k.Runbooks, s)
	if len(ms) == 0 || ms[0].Service != "payment-api" {
		t.Fatalf("matches %+v", ms)
	}
	out := k.Run(bg, k.Planner.Plan(bg, ms[0], s.Incident), "test", false, nil)
	if out.Result != ResultEscalated || out.Actions[0].Result != ResultFailed {
		t.Fatalf("outcome %+v", out)
	}
	if len(out.Escalation) != 1 || !strings.Contains(out.Escalation[0], "pd (pagerduty): sent") {
		t.Fatalf("escalation %v", out.Escalation)
	}
	// the escalation is audited under the run's approval: the history
	// tells the autopilot's escalations from a person's by it
	rows, _, err := k.Audit.Read()
	if err != nil {
		t.Fatal(err)
	}
	escalated := 0
	for _, r := range rows {
		if strings.HasPrefix(r.Before.Result, ResultEscalated) {
			escalated++
			if r.Before.Approval != "test" {
				t.Errorf("the escalation's entry has approval %q, not the run's", r.Before.Approval)
			}
		}
	}
	if escalated != 1 {
		t.Errorf("%d escalation entries in the audit log", escalated)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	ev := got[0]
	// the Events API v2 fields
	if ev["routing_key"] != key || ev["event_action"] != "trigger" || ev["dedup_key"] != "oncall/wrong-action/payment-api" {
		t.Errorf("envelope %v", ev)
	}
	p, _ := ev["payload"].(map[string]any)
	for _, f := range []string{"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"} {
		if p[f] == nil || p[f] == "" {
			t.Errorf("payload.%s missing", f)
		}
	}
	if sev := p["severity"]; sev != "critical" && sev != "error" && sev != "warning" && sev != "info" {
		t.Errorf("severity %v", sev)
	}
	if _, err := time.Parse(time.RFC3339, p["timestamp"].(string)); err != nil {
		t.Errorf("timestamp: %v", err)
	}
	if s := p["summary"].(string); len(s) > 1024 || !strings.Contains(s, "payment-api") {
		t.Errorf("summary %q", s)
	}
	d, _ := p["custom_details"].(map[string]any)
	for _, f := range []string{"incident", "chain", "blast_radius", "diagnosis", "actions_tried", "trace_ids"} {
		if d[f] == nil {
			t.Errorf("custom_details.%s missing: %v", f, d)
		}
	}
	tried, _ := d["actions_tried"].([]any)
	if len(tried) != 1 || !strings.Contains(tried[0].(map[string]any)["verification"].(string), "not below 1.0% within 2m") {
		t.Errorf("actions_tried %v", tried)
	}
	if ids, _ := d["trace_ids"].([]any); len(ids) == 0 {
		t.Error("no trace IDs")
	}
	details, _ := json.Marshal(d)
	if strings.Contains(string(details), key) {
		t.Error("the routing key is in custom_details")
	}
	audit, _ := os.ReadFile(k.Audit.Path)
	if strings.Contains(string(audit), key) || !strings.Contains(string(audit), "escalated") {
		t.Errorf("audit log:\n%s", audit)
	}
}

// TestAutopilotFixesTheObviousAndProposesTheRest: it resolves a crash loop
// and an exhausted pool on its own, and proposes a high-danger rollback,
// which a second round leaves waiting.
func TestAutopilotFixesTheObviousAndProposesTheRest(t *testing.T) {
	for _, c := range []struct{ scenario, runbook, did, result string }{
		{"crash-loop", "crash-loop", "ran", ResultResolved},
		{"db-pool-exhaustion", "pool-full", "ran", ResultResolved},
		{"bad-deploy", "bad-deploy", "proposed", ""},
	} {
		t.Run(c.scenario, func(t *testing.T) {
			t.Parallel()
			k, _ := simKit(t, c.scenario, 5*time.Minute, simRunbooks(t), nil)
			ap := &Autopilot{Runbooks: k.Runbooks, Planner: k.Planner, Exec: &k.Exec, Ledger: k.Ledger, Policy: k.Policy, Now: k.Planner.Now, By: "autopilot@test", Situation: k.Look}
			ds, err := ap.Round(bg)
			if err != nil {
				t.Fatal(err)
			}
			var d *Decision
			for i := range ds {
				if ds[i].Runbook == c.runbook {
					d = &ds[i]
				}
				if ds[i].Did == "ran" && ds[i].Runbook != c.runbook {
					t.Errorf("it also ran %+v", ds[i])
				}
			}
			if d == nil || d.Did != c.did || (c.result != "" && d.Outcome.Result != c.result) {
				t.Fatalf("decision %+v in %+v", d, ds)
			}
			if c.did != "proposed" {
				return
			}
			ps, err := Proposals(bg, k.Ledger)
			if err != nil || len(ps) != 1 || ps[0].Danger != DangerHigh || !strings.Contains(ps[0].Actions[0], "rollback") || !strings.Contains(ps[0].Why, "not a category the policy automates") {
				t.Fatalf("proposals %+v %v", ps, err)
			}
			again, _ := ap.Round(bg)
			for _, x := range again {
				if x.Runbook == c.runbook && x.Did != "waiting" {
					t.Errorf("second round %+v: the proposal should be waiting", x)
				}
			}
		})
	}
}

// TestMatchOnTheSLOBurning: a runbook may match an SLO whose burn-rate
// alert fires.
func TestMatchOnTheSLOBurning(t *testing.T) {
	rb := &Runbook{Name: "payments", Match: Match{SLOs: []string{"payments-availability"}}}
	k, _ := simKit(t, "db-pool-exhaustion", 5*time.Minute, []*Runbook{rb}, nil)
	s, err := k.Look(bg)
	if err != nil {
		t.Fatal(err)
	}
	ms := MatchAll(k.Runbooks, s)
	if len(ms) != 1 || ms[0].Service != "payment-api" || !strings.Contains(ms[0].Why, "(SLO payments-availability)") {
		t.Fatalf("SLOs %v, matches %+v", s.SLOs, ms)
	}
	k2, _ := simKit(t, "quiet", 5*time.Minute, []*Runbook{rb}, nil)
	if s2, _ := k2.Look(bg); len(MatchAll(k2.Runbooks, s2)) != 0 {
		t.Errorf("a quiet fleet matches: %v", s2.SLOs)
	}
}
