package main

import (
	"slices"
	"testing"
	"time"
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
