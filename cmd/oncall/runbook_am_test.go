package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/remediate"
)

// TestRemediationOnARealAlertmanager: an alert fires in a real
// Alertmanager 0.25; the autopilot proposes the runbook that matches it
// (its action is not auto) and keeps the proposal there; another command
// lists it and approves it, the action runs as argv with the label,
// through its typed input, as one argument, and a second run is refused by the cooldown,
// which every command sees. The records stay out of oncall silences.
func TestRemediationOnARealAlertmanager(t *testing.T) {
	am := testenv.Alertmanager(t)
	postAlerts(t, am, map[string]string{"alertname": "DiskFull", "service": "api", "severity": "page", "volume": "/data/vol-1"})
	dir := filepath.Dir(runbookDir(t, map[string]string{"disk.yaml": `name: disk-full
match: {alerts: [DiskFull]}
inputs:
  volume: {from: "{{.Labels.volume}}", type: regex, pattern: '/.*'}
actions:
  - name: clean
    kind: exec
    argv: [` + program(t, "printf") + `, "cleaning %s\n", "[{{.Inputs.volume}}]"]
    danger: low
    category: cleanup
`}))
	cfg := writeAt(t, filepath.Join(dir, "config.yaml"), "datasources:\n  alertmanager: {url: \""+am+"\"}\nrunbooks: ./runbooks\nremediation:\n  cooldown: 30m\n  audit_log: "+filepath.Join(dir, "audit.jsonl")+"\n")
	vars := map[string]string{"USER": "alice"}
	at := func(stdin string, args ...string) result {
		return oncallAt(t, time.Now, vars, stdin, append([]string{"--config", cfg}, args...)...)
	}

	r := at("", "autopilot", "--once")
	if r.code != 0 || !strings.Contains(r.out, "proposed  disk-full on api: the incident's evidence is thin") {
		t.Fatalf("autopilot: %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = at("", "proposals", "-o", "json")
	var ps []remediate.Proposal
	if err := json.Unmarshal([]byte(r.out), &ps); err != nil || len(ps) != 1 || ps[0].Target != "api" || !strings.Contains(ps[0].Actions[0], `'[/data/vol-1]'`) {
		t.Fatalf("proposals %v: %s %s", err, r.out, r.err)
	}
	if r := at("", "autopilot", "--once"); !strings.Contains(r.out, "waiting") {
		t.Errorf("a second round proposes again:\n%s", r.out)
	}
	r = at("", "proposals", "approve", ps[0].ID, "-y")
	if r.code != 0 || !strings.Contains(r.out, "cleaning [/data/vol-1]") || !strings.Contains(r.out, "Result: done") {
		t.Fatalf("approve: %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = at("", "runbook", "run", "disk-full", "-y")
	if r.code != 1 || !strings.Contains(r.out, "refused by cooldown: clean on api ran at") || !strings.Contains(r.out, "by alice@") || !strings.Contains(r.out, "clears at") {
		t.Fatalf("second run: %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r := at("", "proposals"); !strings.Contains(r.out, "No proposal is waiting") {
		t.Errorf("the approved proposal still waits:\n%s", r.out)
	}
	if r := at("", "silences"); strings.Contains(r.out, "oncall_remediation") {
		t.Errorf("the ledger shows among the silences:\n%s", r.out)
	}
	if r := at("", "silences", "--ledger", "--expired"); !strings.Contains(r.out, "oncall_remediation=\"run\"") || !strings.Contains(r.out, "oncall_remediation=\"proposal\"") {
		t.Errorf("--ledger:\n%s", r.out)
	}
	a := at("", "audit")
	if !strings.Contains(a.out, "approved by alice") || !strings.Contains(a.out, "disk-full/clean on api") || !strings.Contains(a.out, "exit 0") {
		t.Errorf("audit:\n%s", a.out)
	}
}
