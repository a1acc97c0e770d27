package main

import (
	"context"
	"slices"
	"testing"
)

func TestProposalsOptions(t *testing.T) {
	var got *proposalsOptions
	parse := func(args ...string) error {
		got = nil
		return parseCmd(NewCmdProposals(testFactory(nil), func(_ context.Context, o *proposalsOptions) error { got = o; return nil }), args...)
	}
	if err := parse(); err != nil {
		t.Fatal(err)
	}
	if got.verb != "" || got.id != "" || got.output != "text" || got.confirm.yes || got.demo != (DemoFlags{Seed: 1, After: runbookAfter}) {
		t.Errorf("defaults: %+v", *got)
	}
	if err := parse("approve", "p1", "-y", "--confirm", "inventory", "--demo", "crash-loop"); err != nil {
		t.Fatal(err)
	}
	if got.verb != "approve" || got.id != "p1" || !got.confirm.yes || !slices.Equal(got.confirm.names, []string{"inventory"}) || got.demo.Scenario != "crash-loop" {
		t.Errorf("approve: %+v", *got)
	}
	if err := parse("reject", "p2"); err != nil || got.verb != "reject" || got.id != "p2" {
		t.Errorf("reject: %v %+v", err, got)
	}
	wantUsage(t, func() bool { return got != nil }, parse, []string{"approve"}, []string{"accept", "p1"}, []string{"approve", "p1", "p2"}, []string{"-o", "yaml"})
}
