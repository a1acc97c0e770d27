package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/remediate"
)

func dataHome(t *testing.T) (map[string]string, string) {
	dir := t.TempDir()
	return map[string]string{"XDG_DATA_HOME": dir, "USER": "tester"}, filepath.Join(dir, "oncall", "audit.jsonl")
}

// demoAudit is the demo's audit log in a data directory's variables.
func demoAudit(vars map[string]string) string {
	return filepath.Join(vars["XDG_DATA_HOME"], "oncall", "demo-audit.jsonl")
}

// TestRunbookRunFixesTheDemo is the walk-through on the shell:
// db-pool-exhaustion, the plan, y, the fix verified, and both audit
// entries.
func TestRunbookRunFixesTheDemo(t *testing.T) {
	vars, _ := dataHome(t)
	audit := demoAudit(vars)
	r := oncall(t, vars, "y\n", "runbook", "run", "pool-full", "--demo", "db-pool-exhaustion")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"1. Diagnosis", "→ surge:", "2. Actions, exactly as they will run", "simulator resize-pool payment-api → payment-db size=+100%",
		"3. Guardrails", "cooldown: 10m", "max step: size +100%", "4. Verification", "error ratio of payment-api over 1m below 1.0% within 3m",
		"[resize-pool] verified:", "Result: resolved"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("no %q in:\n%s", want, r.out)
		}
	}
	if !strings.Contains(r.err, "Run pool-full on payment-api? [y/N]") {
		t.Errorf("no question: %s", r.err)
	}
	a := oncall(t, vars, "", "audit", "--demo")
	if a.code != 0 || !strings.Contains(a.out, "tester@") || !strings.Contains(a.out, "pool-full/resize-pool on payment-api") ||
		!strings.Contains(a.out, "command: simulator resize-pool") || !strings.Contains(a.out, ": resolved, exit 0") || strings.Contains(a.out, "UNFINISHED") {
		t.Fatalf("audit:\n%s\n%s", a.out, a.err)
	}
	j := oncall(t, vars, "", "audit", "--demo", "-o", "json")
	var rows []remediate.Row
	if err := json.Unmarshal([]byte(j.out), &rows); err != nil || len(rows) != 1 || rows[0].After == nil || rows[0].After.Verification == "" {
		t.Fatalf("audit json %v: %s", err, j.out)
	}
	if _, err := os.Stat(audit); err != nil {
		t.Fatal(err)
	}
}

// TestConfirmPlanDefaultsToNo: only y runs a low-danger plan; a
// high-danger one runs on its target's name alone, typed or given with
// --confirm, never on -y.
func TestConfirmPlanDefaultsToNo(t *testing.T) {
	low := &remediate.Plan{Runbook: "crash-loop", Target: "cart", Actions: []remediate.Planned{{Danger: remediate.DangerLow}}}
	high := &remediate.Plan{Runbook: "bad-deploy", Target: "inventory", Actions: []remediate.Planned{{Danger: remediate.DangerLow}, {Danger: remediate.DangerHigh}}}
	for _, c := range []struct {
		plan  *remediate.Plan
		in    string
		o     confirmFlags
		typed string
		want  bool
	}{
		{low, "", confirmFlags{}, "", false},
		{low, "\n", confirmFlags{}, "", false},
		{low, "n\n", confirmFlags{}, "", false},
		{low, "yes please\n", confirmFlags{}, "", false},
		{low, "y\n", confirmFlags{}, "", true},
		{low, "", confirmFlags{yes: true}, "", true},
		{low, "", confirmFlags{yes: true}, "prod", false}, // a typed context wants its name
		{low, "prod\n", confirmFlags{}, "prod", true},
		{high, "y\n", confirmFlags{}, "", false},
		{high, "", confirmFlags{yes: true}, "", false},
		{high, "", confirmFlags{names: []string{"inventroy"}}, "", false},
		{high, "", confirmFlags{names: []string{"inventory"}}, "", true},
		{high, "inventory\n", confirmFlags{}, "", true},
	} {
		var errOut strings.Builder
		e := &env{IO: IOStreams{In: strings.NewReader(c.in), Out: &errOut, ErrOut: &errOut}}
		if got := confirmPlan(&Factory{env: e, Global: &globalOptions{typed: c.typed}}, c.o, c.plan); got != c.want {
			t.Errorf("%s, answer %q, %+v, context %q: %v, want %v (%s)", c.plan.Runbook, c.in, c.o, c.typed, got, c.want, errOut.String())
		}
	}
}

// TestRunbookRunRefuses: no runs nothing, read-only refuses everything,
// a high-danger plan wants its name; the name typed runs it.
func TestRunbookRunRefuses(t *testing.T) {
	vars, _ := dataHome(t)
	audit := demoAudit(vars)
	r := oncall(t, vars, "n\n", "runbook", "run", "crash-loop", "--demo", "crash-loop")
	if r.code != 1 || !strings.Contains(r.err, "not done") || !strings.Contains(r.err, "[y/N]") {
		t.Errorf("n: exit %d %s", r.code, r.err)
	}
	r = oncall(t, vars, "", "runbook", "run", "bad-deploy", "--demo", "bad-deploy", "-y")
	if r.code != 1 || !strings.Contains(r.err, "needs inventory typed: -y is not enough") {
		t.Errorf("-y on high danger: %d %s", r.code, r.err)
	}
	for _, args := range [][]string{
		{"runbook", "run", "crash-loop", "--demo", "crash-loop", "-y", "--read-only"},
		{"autopilot", "--demo", "crash-loop", "--once", "--read-only"},
	} {
		r := oncall(t, vars, "y\n", args...)
		if r.code != 1 || !strings.Contains(r.err, "read-only") {
			t.Errorf("%v: %d %s", args, r.code, r.err)
		}
	}
	if _, err := os.Stat(audit); err == nil {
		b, _ := os.ReadFile(audit)
		t.Fatalf("something ran:\n%s", b)
	}
	r = oncall(t, vars, "inventory\n", "runbook", "run", "bad-deploy", "--demo", "bad-deploy")
	if r.code != 0 || !strings.Contains(r.out, "Result: resolved") || !strings.Contains(r.err, "High danger: type inventory") {
		t.Fatalf("typed: %d\n%s\n%s", r.code, r.out, r.err)
	}
	// the dry run shows and runs nothing
	r = oncall(t, vars, "", "runbook", "run", "crash-loop", "--demo", "crash-loop", "--dry-run")
	if r.code != 0 || !strings.Contains(r.out, "Result: dry run") {
		t.Fatalf("dry run: %d %s %s", r.code, r.out, r.err)
	}
}

func TestRunbookValidateNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("name: bad\nmatch: {alerts: [A]}\nactions:\n  - name: x\n    kind: exec\n    argv: [bash, -c, \"restart {{.Target}}\"]\n    danger: low\n    category: restart\n"), 0o600)
	r := oncall(t, nil, "", "runbook", "validate", dir)
	if r.code != 1 || !strings.Contains(r.out, bad+":4: action \"x\": argv[2] puts a template into a bash command string") {
		t.Fatalf("%d\n%s\n%s", r.code, r.out, r.err)
	}
	r = oncall(t, nil, "", "runbook", "validate", filepath.Join("..", "..", "testdata", "runbooks"), filepath.Join("..", "..", "sim", "runbooks"))
	if r.code != 0 {
		t.Fatalf("%d %s %s", r.code, r.out, r.err)
	}
}

func TestAuditShowsUnfinished(t *testing.T) {
	vars, audit := dataHome(t)
	a := &remediate.Audit{Path: audit}
	if err := a.Append(remediate.Entry{ID: "abc", Phase: remediate.PhaseBefore, User: "alice", Host: "h", Runbook: "r", Action: "restart", Target: "cart", Command: "kubectl rollout restart deployment/cart"}); err != nil {
		t.Fatal(err)
	}
	r := oncall(t, vars, "", "audit")
	if !strings.Contains(r.out, "UNFINISHED: no after entry") || !strings.Contains(r.out, "kubectl rollout restart deployment/cart") {
		t.Fatalf("%s", r.out)
	}
}

// TestConfigRemediation validates the policy: never-automatable
// categories and escalation targets, at their lines; config's list stays
// remediate's.
func TestConfigRemediation(t *testing.T) {
	if strings.Join(config.NeverAutomatable, ",") != strings.Join(remediate.NeverAutomatable, ",") {
		t.Fatal("config.NeverAutomatable and remediate.NeverAutomatable differ")
	}
	p := writeFile(t, "c.yaml", `datasources:
  alertmanager: {url: "http://127.0.0.1:1"}
remediation:
  automatable: [restart, security]
  rate_per_action: three
  escalation:
    - {name: pd, kind: pagerdutty}
    - {name: chat, kind: slack}
`)
	r := oncall(t, nil, "", "--config", p, "config", "validate")
	for _, want := range []string{":4:", `"security" is never automatable`, ":5:", "rate_per_action", ":7:", "pagerdutty", `did you mean "pagerduty"`, "slack needs url"} {
		if !strings.Contains(r.out+r.err, want) {
			t.Errorf("no %q in:\n%s%s", want, r.out, r.err)
		}
	}
}

// TestSilencesHideTheLedger: the remediation records are silences, but
// not the operator's: they are listed only with --ledger.
func TestSilencesHideTheLedger(t *testing.T) {
	silences := `[{"id":"s1","status":{"state":"active"},"matchers":[{"name":"alertname","value":"X","isEqual":true,"isRegex":false}],"startsAt":"2026-11-25T02:00:00Z","endsAt":"2026-11-25T04:00:00Z","createdBy":"alice","comment":"on it"},
{"id":"s2","status":{"state":"active"},"matchers":[{"name":"oncall_remediation","value":"lock","isEqual":true,"isRegex":false},{"name":"oncall_action","value":"restart","isEqual":true,"isRegex":false}],"startsAt":"2026-11-25T02:00:00Z","endsAt":"2026-11-25T04:00:00Z","createdBy":"bob@h","comment":"oncall lock"}]`
	cfg := fakeAlertmanagerWith(t, "[]", silences, nil)
	r := oncall(t, nil, "", "--config", cfg, "silences")
	if !strings.Contains(r.out, "s1") || strings.Contains(r.out, "s2") {
		t.Errorf("%s", r.out)
	}
	if r := oncall(t, nil, "", "--config", cfg, "silences", "--ledger"); !strings.Contains(r.out, "s2") {
		t.Errorf("--ledger: %s", r.out)
	}
}

func TestRunbookNamesComplete(t *testing.T) {
	r := oncall(t, nil, "", "__complete", "runbook", "run", "--demo", "crash-loop", "")
	for _, want := range []string{"pool-full\t", "crash-loop\t", "bad-deploy\t"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("no %q in:\n%s", want, r.out)
		}
	}
}

// parseCmd runs cmd on args as the root would (bad flags and arguments
// are usage errors), its help and errors discarded: with a runF that
// keeps the options, it tests the flags without running anything.
func parseCmd(cmd *cobra.Command, args ...string) error {
	markUsageErrors(cmd)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.Execute()
}

// wantUsage checks that each args is refused as a usage error, before
// the command runs.
func wantUsage(t *testing.T, ran func() bool, parse func(...string) error, cases ...[]string) {
	t.Helper()
	for _, args := range cases {
		if err := parse(args...); exitCode(err) != exitUsage || ran() {
			t.Errorf("%q: err %v (exit %d), ran %v; want a usage error", args, err, exitCode(err), ran())
		}
	}
}

func TestRunbookListOptions(t *testing.T) {
	var got *runbookListOptions
	parse := func(args ...string) error {
		got = nil
		return parseCmd(NewCmdRunbookList(testFactory(nil), func(_ context.Context, o *runbookListOptions) error { got = o; return nil }), args...)
	}
	if err := parse(); err != nil || got == nil {
		t.Fatalf("defaults: %v", err)
	}
	if got.demo != (DemoFlags{Seed: 1, After: runbookAfter}) || got.output != "text" || got.Factory == nil {
		t.Errorf("defaults: %+v", *got)
	}
	if err := parse("--demo", "retry-storm", "--after", "20m", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if got.demo != (DemoFlags{Scenario: "retry-storm", Seed: 1, After: 20 * time.Minute}) || got.output != "json" {
		t.Errorf("parsed: %+v", *got)
	}
	wantUsage(t, func() bool { return got != nil }, parse, []string{"-o", "yaml"}, []string{"pool-full"}, []string{"--after", "soon"})
}

func TestRunbookShowOptions(t *testing.T) {
	var got *runbookShowOptions
	parse := func(args ...string) error {
		got = nil
		return parseCmd(NewCmdRunbookShow(testFactory(nil), func(_ context.Context, o *runbookShowOptions) error { got = o; return nil }), args...)
	}
	if err := parse("pool-full", "--demo", "db-pool-exhaustion", "--seed", "7", "--target", "payment-api"); err != nil {
		t.Fatal(err)
	}
	if got.name != "pool-full" || got.target != "payment-api" || got.output != "text" || got.demo != (DemoFlags{Scenario: "db-pool-exhaustion", Seed: 7, After: runbookAfter}) {
		t.Errorf("parsed: %+v", *got)
	}
	wantUsage(t, func() bool { return got != nil }, parse, []string{}, []string{"a", "b"}, []string{"pool-full", "-o", "markdown"})
}

func TestRunbookRunOptions(t *testing.T) {
	var got *runbookRunOptions
	parse := func(args ...string) error {
		got = nil
		return parseCmd(NewCmdRunbookRun(testFactory(nil), func(_ context.Context, o *runbookRunOptions) error { got = o; return nil }), args...)
	}
	if err := parse("pool-full"); err != nil {
		t.Fatal(err)
	}
	if got.name != "pool-full" || got.dryRun || got.confirm.yes || got.confirm.names != nil || got.target != "" || got.demo != (DemoFlags{Seed: 1, After: runbookAfter}) {
		t.Errorf("defaults: %+v", *got)
	}
	if err := parse("bad-deploy", "--target", "inventory", "--dry-run", "-y", "--confirm", "inventory", "--confirm", "prod", "-o", "json", "--demo", "bad-deploy"); err != nil {
		t.Fatal(err)
	}
	if got.target != "inventory" || !got.dryRun || !got.confirm.yes || !slices.Equal(got.confirm.names, []string{"inventory", "prod"}) || got.output != "json" || got.demo.Scenario != "bad-deploy" {
		t.Errorf("parsed: %+v", *got)
	}
	wantUsage(t, func() bool { return got != nil }, parse, []string{}, []string{"pool-full", "--confirm"}, []string{"pool-full", "--dry-run=maybe"})
}

func TestRunbookValidateOptions(t *testing.T) {
	var got *runbookValidateOptions
	parse := func(args ...string) error {
		got = nil
		return parseCmd(NewCmdRunbookValidate(testFactory(nil), func(_ context.Context, o *runbookValidateOptions) error { got = o; return nil }), args...)
	}
	if err := parse("a.yaml", "dir"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.paths, []string{"a.yaml", "dir"}) {
		t.Errorf("parsed: %+v", *got)
	}
	wantUsage(t, func() bool { return got != nil }, parse, []string{}, []string{"dir", "--demo", "crash-loop"})
}
