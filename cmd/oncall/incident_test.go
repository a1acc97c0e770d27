package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/correlate"
)

func TestIncidentDemoText(t *testing.T) {
	r := oncall(t, nil, "", "incident", "--deadline", "2m", "--demo", "retry-storm", "--no-color")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	for _, want := range []string{
		"WHAT BROKE FIRST", "← user-preferences-api: errors", "pool:payment-db exhausted (100/100)",
		"ROOT-CAUSE CANDIDATES", "1. user-preferences-api  likely",
		"retry-amplification", "DEPENDENCY TREE", "├─ payment-api", "BLAST RADIUS", "entry points:", "USD per minute",
		"TRACES", "TIMELINE", "ErrorBudgetBurn",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.ContainsRune(r.out, '\x1b') {
		t.Error("escape sequences in --no-color output")
	}
}

func TestIncidentDemoJSONAndTrace(t *testing.T) {
	r := oncall(t, nil, "", "incident", "--deadline", "2m", "--demo", "db-pool-exhaustion", "--seed", "2", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var inc correlate.Incident
	if err := json.Unmarshal([]byte(r.out), &inc); err != nil {
		t.Fatal(err)
	}
	if inc.Schema != correlate.SchemaVersion || inc.Candidates[0].Service != "payment-api" || inc.Blast == nil || len(inc.Traces) == 0 {
		t.Fatalf("incident %+v", inc.Candidates)
	}
	// start again from one of its traces
	id := inc.Traces[0].TraceID
	r = oncall(t, nil, "", "incident", "--deadline", "2m", "--demo", "db-pool-exhaustion", "--seed", "2", "--trace", strings.ToUpper(id), "-o", "json")
	var byTrace correlate.Incident
	if err := json.Unmarshal([]byte(r.out), &byTrace); err != nil || r.code != 0 {
		t.Fatalf("%v %s", err, r.err)
	}
	if byTrace.Trigger.TraceID != id || len(byTrace.Traces) == 0 || byTrace.Traces[0].TraceID != id {
		t.Errorf("trace trigger: %+v, traces %d", byTrace.Trigger, len(byTrace.Traces))
	}
	md := oncall(t, nil, "", "incident", "--deadline", "2m", "--demo", "bad-deploy", "-o", "markdown")
	for _, want := range []string{"# Incident", "## What broke first", "**inventory**", "| time (UTC) |"} {
		if !strings.Contains(md.out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestIncidentBadInput(t *testing.T) {
	empty := writeFile(t, "config.yaml", "datasources: {}\n")
	for args, want := range map[string]string{
		"incident --demo nope":                        `unknown scenario "nope"`,
		"incident --demo quiet --service a --trace b": "at most one of",
		"incident --demo quiet --at yesterday":        `--at "yesterday"`,
		"incident --demo quiet --trace xyz":           "--trace",
		"incident --demo quiet --alert NoSuchAlert":   "no such alert is firing",
		"incident --config " + empty:                  "no datasources configured",
		"incident --demo quiet -o yaml":               "--output",
	} {
		r := oncall(t, nil, "", strings.Fields(args)...)
		if r.code == 0 || !strings.Contains(r.err, want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", args, r.code, r.err, want)
		}
	}
	// quiet: it says there is nothing likely, and exits 0
	r := oncall(t, nil, "", "incident", "--deadline", "2m", "--demo", "quiet")
	if r.code != 0 || !strings.Contains(r.out, "thin evidence: no cause is likely") {
		t.Errorf("quiet: %d %s", r.code, r.out)
	}
}

// BenchmarkIncidentDemoJSON is `oncall incident --demo retry-storm -o
// json` end to end: simulating 40 minutes of the fleet, gathering through
// the sources interfaces, analysing and writing JSON.
func BenchmarkIncidentDemoJSON(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r := oncall(b, nil, "", "incident", "--deadline", "2m", "--demo", "retry-storm", "-o", "json")
		if r.code != 0 {
			b.Fatal(r.err)
		}
	}
}
