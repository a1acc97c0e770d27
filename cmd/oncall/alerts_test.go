package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

func TestAlertsOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdAlerts)
	if err != nil {
		t.Fatal(err)
	}
	if o.Factory == nil || len(o.matchers) != 0 || o.output != "text" || o.active || o.silenced || o.inhibited || o.watch != (watchOptions{refresh: 2 * time.Second}) {
		t.Errorf("defaults: %+v", *o)
	}
	o, err = optionsFor(t, NewCmdAlerts, "HighErrorRate", "severity=page", "-s", "-i", "-o", "json", "-w", "--refresh", "5s")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.matchers, []string{"HighErrorRate", "severity=page"}) || o.active || !o.silenced || !o.inhibited || o.output != "json" ||
		o.watch != (watchOptions{on: true, refresh: 5 * time.Second}) {
		t.Errorf("parsed: %+v", *o)
	}
	for _, args := range [][]string{{"-o", "yaml"}, {"--refresh", "soon"}, {"--nosuch"}} {
		if _, err := optionsFor(t, NewCmdAlerts, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

// TestAlertsFromTheDemo: a newcomer lists the scenario's alerts without
// a stack, in text and JSON.
func TestAlertsFromTheDemo(t *testing.T) {
	demo := []string{"alerts", "--demo", "db-pool-exhaustion"}
	r := oncall(t, nil, "", demo...)
	if r.code != 0 || !strings.Contains(r.out, "ConnectionPoolExhausted  warning   firing") || !strings.Contains(r.out, "service=payment-api") {
		t.Fatalf("%+v", r)
	}
	js := oncall(t, nil, "", append(demo, "ConnectionPoolExhausted", "-o", "json")...)
	var alerts []sources.Alert
	if err := json.Unmarshal([]byte(js.out), &alerts); js.code != 0 || err != nil || len(alerts) != 1 || alerts[0].Service != "payment-api" {
		t.Fatalf("json: %v %+v", err, js)
	}
	// nothing matches: an empty list, not null
	if none := oncall(t, nil, "", append(demo, "NoSuchAlert", "-o", "json")...); none.code != 0 || strings.TrimSpace(none.out) != "[]" {
		t.Errorf("no match: %+v", none)
	}
}
