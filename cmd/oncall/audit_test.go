package main

import (
	"context"
	"testing"
)

func TestAuditOptions(t *testing.T) {
	var got *auditOptions
	parse := func(args ...string) error {
		got = nil
		return parseCmd(NewCmdAudit(testFactory(nil), func(_ context.Context, o *auditOptions) error { got = o; return nil }), args...)
	}
	if err := parse(); err != nil {
		t.Fatal(err)
	}
	if got.demo || got.path != "" || got.limit != 0 || got.output != "text" {
		t.Errorf("defaults: %+v", *got)
	}
	if err := parse("--demo", "--limit", "5", "-o", "json"); err != nil || !got.demo || got.limit != 5 || got.output != "json" {
		t.Errorf("--demo: %v %+v", err, got)
	}
	if err := parse("--file", "/var/log/oncall.jsonl"); err != nil || got.path != "/var/log/oncall.jsonl" || got.demo {
		t.Errorf("--file: %v %+v", err, got)
	}
	// --demo here names the demo's log, not a scenario
	wantUsage(t, func() bool { return got != nil }, parse, []string{"--demo", "crash-loop"}, []string{"--limit", "all"})
	if err := parse("--file", "x", "--demo"); err == nil || got != nil {
		t.Errorf("--file with --demo: %v", err)
	}
}
