package main

import (
	"context"
	"testing"
	"time"
)

func TestAutopilotOptions(t *testing.T) {
	var got *autopilotOptions
	parse := func(args ...string) error {
		got = nil
		return parseCmd(NewCmdAutopilot(testFactory(nil), func(_ context.Context, o *autopilotOptions) error { got = o; return nil }), args...)
	}
	if err := parse(); err != nil {
		t.Fatal(err)
	}
	if got.interval != 30*time.Second || got.once || got.rounds != 0 || got.output != "text" || got.demo != (DemoFlags{Seed: 1, After: runbookAfter}) || got.Factory == nil {
		t.Errorf("defaults: %+v", *got)
	}
	if err := parse("--demo", "crash-loop", "--after", "2m", "--once", "--interval", "1m", "--rounds", "3", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if got.demo != (DemoFlags{Scenario: "crash-loop", Seed: 1, After: 2 * time.Minute}) || !got.once || got.interval != time.Minute || got.rounds != 3 || got.output != "json" {
		t.Errorf("parsed: %+v", *got)
	}
	wantUsage(t, func() bool { return got != nil }, parse, []string{"--interval", "often"}, []string{"--rounds", "x"}, []string{"now"})
}
