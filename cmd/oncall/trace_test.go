package main

import (
	"testing"
	"time"
)

func TestTraceOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdTrace, "4BF92F3577B34DA6A3CE929D0E0E4736")
	if err != nil {
		t.Fatal(err)
	}
	// the ID is kept as given: runTrace normalizes it, and names it as given when it cannot
	if o.Factory == nil || o.id != "4BF92F3577B34DA6A3CE929D0E0E4736" || o.output != "text" || o.demo != (DemoFlags{Seed: 1, After: logsAfter}) {
		t.Errorf("defaults: %+v", *o)
	}
	if o, err = optionsFor(t, NewCmdTrace, "abc", "-o", "json", "--demo", "retry-storm", "--seed", "2", "--after", "20m"); err != nil ||
		o.output != "json" || o.demo != (DemoFlags{Scenario: "retry-storm", Seed: 2, After: 20 * time.Minute}) {
		t.Errorf("parsed: %v %+v", err, o)
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"abc", "-o", "yaml"}} {
		if _, err := optionsFor(t, NewCmdTrace, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}
