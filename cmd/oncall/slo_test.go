package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSLODemo(t *testing.T) {
	r := oncall(t, nil, "", "slo", "--demo", "retry-storm", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var rep sloReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Budgets) != 8 || len(rep.Errors) != 0 {
		t.Fatalf("%d budgets, errors %v", len(rep.Budgets), rep.Errors)
	}
	worst := rep.Budgets[0]
	if worst.Remaining >= 0 || worst.Burn["5m"] < 14.4 || !strings.Contains(worst.Source, "traces_spanmetrics_calls_total") {
		t.Errorf("worst budget after a retry storm %+v", worst)
	}
	quiet := oncall(t, nil, "", "slo", "--demo", "quiet", "--after", "2h", "--no-color")
	if quiet.code != 0 || strings.Contains(quiet.out, "spent") || !strings.Contains(quiet.out, "✓ ok") || !strings.Contains(quiet.out, "of its 28d window") {
		t.Errorf("quiet: %d\n%s", quiet.code, quiet.out)
	}
}

func TestSLOFromConfigNeedsPrometheus(t *testing.T) {
	cfg := writeFile(t, "config.yaml", "datasources: {}\nslos:\n  - {name: a, service: s, indicator: availability, objective: 99.9, window: 28d}\n")
	if r := oncall(t, nil, "", "slo", "--config", cfg); r.code == 0 || !strings.Contains(r.err, "needs a prometheus datasource") {
		t.Errorf("%d %s", r.code, r.err)
	}
}
