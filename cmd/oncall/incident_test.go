package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/testenv"
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
		"incident --demo quiet --at yesterday":        `"yesterday" is not a time`,
		"incident --demo quiet --at 10m":              `"10m" has no sign: write -10m`,
		"incident --demo quiet --at +1h":              "in the future",
		"incident --demo quiet --service paymnt-api":  `no service "paymnt-api"; did you mean payment-api?`,
		"incident --demo quiet --window 1fortnight":   `"1fortnight" is not a duration`,
		"incident --demo quiet --trace xyz":           "--trace",
		"incident --demo quiet --alert NoSuchAlert":   `no firing alert "NoSuchAlert"; there are none`,
		"incident --config " + empty:                  "no datasources configured",
		"incident --demo quiet -o yaml":               "--output",
	} {
		r := oncall(t, nil, "", strings.Fields(args)...)
		if r.code != 2 || !strings.Contains(r.err, want) {
			t.Errorf("%s: exit %d, stderr %q, want exit 2 and %q", args, r.code, r.err, want)
		}
	}
	// quiet: it says there is nothing likely, and exits 0
	r := oncall(t, nil, "", "incident", "--deadline", "2m", "--demo", "quiet")
	if r.code != 0 || !strings.Contains(r.out, "thin evidence: no cause is likely") {
		t.Errorf("quiet: %d %s", r.code, r.out)
	}
}

// TestIncidentTimesAndDurationsAsTheConfigReadsThem: --window takes the
// config's units, and an --at with an offset comes back in UTC.
func TestIncidentTimesAndDurationsAsTheConfigReadsThem(t *testing.T) {
	r := oncall(t, nil, "", "incident", "--deadline", "2m", "--demo", "bad-deploy", "--window", "1d", "--baseline", "1h",
		"--at", "2026-11-28T00:33:00+01:00", "-o", "json")
	var inc correlate.Incident
	if err := json.Unmarshal([]byte(r.out), &inc); err != nil || r.code != 0 {
		t.Fatalf("%v %+v", err, r)
	}
	if inc.Trigger.At.Location() != time.UTC || inc.Trigger.At.Hour() != 23 || inc.Trigger.Window != 24*time.Hour {
		t.Errorf("trigger %+v", inc.Trigger)
	}
	if !strings.HasSuffix(strings.Split(r.out, "\"at\": \"")[1][:21], "Z\"") {
		t.Errorf("the JSON time is not in UTC: %s", r.out[:200])
	}
	// --timezone writes the text in another zone, and says which
	txt := oncall(t, nil, "", "incident", "--deadline", "2m", "--demo", "bad-deploy", "--timezone", "Asia/Tokyo")
	if !strings.Contains(txt.out, " JST (") {
		t.Errorf("the window's zone is not named:\n%s", txt.out[:200])
	}
}

// TestIncidentWithDeadBackendsSaysSoFirst points every datasource at a
// closed port: the headline says the evidence is missing, not that all
// is calm, and the exit status is 3.
func TestIncidentWithDeadBackendsSaysSoFirst(t *testing.T) {
	dead := "http://" + testenv.FreeAddr(t)
	cfg := writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: "+dead+", retries: 0}\n  alertmanager: {url: "+dead+", retries: 0}\n")
	r := oncallAt(t, time.Now, nil, "", "incident", "--config", cfg, "--deadline", "5s")
	if r.code != 3 {
		t.Fatalf("exit %d: %+v", r.code, r)
	}
	head := strings.SplitN(r.out, "WHAT BROKE FIRST", 2)[0]
	if !strings.Contains(head, "EVIDENCE INCOMPLETE") || !strings.Contains(head, "metrics: RED") || !strings.Contains(r.out, "no verdict: the metrics did not arrive") {
		t.Errorf("the headline does not lead with what is missing:\n%s", r.out)
	}
	if strings.Contains(r.out, "no service departs from its baseline") {
		t.Errorf("a dead backend reported as calm:\n%s", r.out)
	}
	if !strings.Contains(r.err, "evidence incomplete") {
		t.Errorf("stderr %q", r.err)
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

// TestIncidentAtInTheFuture: an --at ahead of now says by how much while
// the figure means something, and past a day (where the difference
// saturates: "2562047h47m16.85s") gives now instead.
func TestIncidentAtInTheFuture(t *testing.T) {
	for at, want := range map[string]string{
		"+1h":                  "--at +1h is 1h in the future; an incident window ends now or before",
		"+90s":                 "--at +90s is 1m30s in the future;",
		"2999-01-01T00:00:00Z": "--at 2999-01-01T00:00:00Z is in the future (now is 2026-11-27 23:33 UTC);", // the simulator's clock
	} {
		r := oncall(t, nil, "", "incident", "--demo", "quiet", "--at", at)
		if r.code != exitUsage || !strings.Contains(r.err, want) {
			t.Errorf("--at %s: exit %d, %q; want %q", at, r.code, r.err, want)
		}
	}
	now := time.Date(2026, 12, 6, 22, 33, 0, 0, time.UTC)
	if got := inTheFuture(now.Add(25*time.Hour), now); got != "in the future (now is 2026-12-06 22:33 UTC)" {
		t.Errorf("a day ahead: %q", got)
	}
}
