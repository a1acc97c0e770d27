package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// TestRunbookMatchesARuleAlert: on a Prometheus-only stack (no
// Alertmanager) a runbook matching CheckoutDown, which only Prometheus's
// rules fire, matches it in runbook list, and the autopilot proposes it
// (its action is not automated), as oncall alerts lists the alert.
func TestRunbookMatchesARuleAlert(t *testing.T) {
	url := prometheusFiring(t, checkoutRules)
	dir := filepath.Dir(runbookDir(t, map[string]string{"checkout.yaml": `name: checkout-down
match: {alerts: [CheckoutDown]}
actions:
  - name: note
    kind: exec
    argv: [` + program(t, "printf") + `, "checkout\n"]
    danger: low
    category: cleanup
`}))
	cfg := writeAt(t, filepath.Join(dir, "config.yaml"), fmt.Sprintf("datasources:\n  prometheus: {url: %q}\nrunbooks: ./runbooks\nremediation:\n  audit_log: %s\n",
		url, filepath.Join(dir, "audit.jsonl")))
	vars := map[string]string{"USER": "alice", "XDG_DATA_HOME": filepath.Join(dir, "data")}
	at := func(args ...string) result {
		return oncallAt(t, time.Now, vars, "", append([]string{"--config", cfg}, args...)...)
	}

	r := at("runbook", "list", "-o", "json")
	var list struct {
		Matches []struct {
			Name    string `json:"runbook"`
			Service string
			Alert   *struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(r.out), &list); err != nil || r.code != 0 {
		t.Fatalf("runbook list: %v, exit %d\n%s%s", err, r.code, r.out, r.err)
	}
	if m := list.Matches; len(m) != 1 || m[0].Name != "checkout-down" || m[0].Service != "checkout" || m[0].Alert == nil || m[0].Alert.Name != "CheckoutDown" {
		t.Errorf("matches %+v, want checkout-down on checkout by CheckoutDown\n%s", m, r.err)
	}

	r = at("autopilot", "--once")
	if r.code != 0 || !strings.Contains(r.out, "proposed  checkout-down on checkout") {
		t.Fatalf("autopilot: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = at("proposals", "-o", "json")
	var ps []remediate.Proposal
	if err := json.Unmarshal([]byte(r.out), &ps); err != nil || len(ps) != 1 || ps[0].Runbook != "checkout-down" {
		t.Errorf("proposals %v: %s%s", err, r.out, r.err)
	}
}
