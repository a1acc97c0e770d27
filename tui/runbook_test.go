package tui

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// kitted is the cockpit on a scenario's fleet at onset+after with the
// simulator's runbooks; verification moves the fleet on.
func kitted(t *testing.T, scenario string, after time.Duration, w, h int, readOnly bool) (*App, *sim.Fleet) {
	t.Helper()
	f, err := sim.New(sim.Options{Scenario: scenario, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.AdvanceTo(f.Onset().Add(after))
	rbs, err := remediate.LoadFS(sim.Runbooks, "runbooks", "sim/runbooks")
	if err != nil {
		t.Fatal(err)
	}
	d := deps(f)
	d.User, d.ReadOnly = "alice", readOnly
	b := simsrc.New(f)
	wait := func(ctx context.Context, dd time.Duration) error { f.Advance(dd); return ctx.Err() }
	policy := remediate.DefaultRunPolicy()
	ledger := remediate.SilenceLedger{Alerts: b}
	audit := &remediate.Audit{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	d.Kit = &remediate.Kit{Runbooks: rbs, Ledger: ledger, Audit: audit, Policy: policy, Meta: d.Meta,
		Planner: &remediate.Planner{Sources: d.Sources, Policy: policy, Ledger: ledger, Now: f.Now},
		Exec: remediate.Executor{Sources: d.Sources, Actuator: b, Audit: audit, HTTP: http.DefaultClient, Escalate: &remediate.Escalator{},
			Guard: &remediate.Guard{Ledger: ledger, Policy: policy, Now: f.Now, Sleep: wait}, Now: f.Now, Wait: wait,
			Getenv: func(string) (string, bool) { return "", false }, User: "alice", Host: "test", ReadOnly: readOnly}}
	a := New(d, styles())
	drive(t, a, tea.WindowSizeMsg{Width: w, Height: h})
	run(a, loadOverview(d, nil))
	return a, f
}

// openIncidentOf opens the incident of a service.
func openIncidentOf(t *testing.T, a *App, service string) {
	t.Helper()
	run(a, openIncident(a.c, correlate.Trigger{Service: service, Window: 15 * time.Minute}))
	if !strings.Contains(screen(a), "RUNBOOKS") {
		t.Fatalf("no runbooks in the incident:\n%s", screen(a))
	}
}

// mustShow fails the test, with the screen, unless the screen shows want.
func mustShow(t *testing.T, a *App, want string) {
	t.Helper()
	if !strings.Contains(screen(a), want) {
		t.Fatalf("the screen does not show %q:\n%s", want, screen(a))
	}
}

// TestPlanShowsEverythingAndDefaultsToNo: R opens the plan (diagnosis,
// the command as it will run, guardrails, verification); a key other
// than y runs nothing; y runs it and the verification passes.
func TestPlanShowsEverythingAndDefaultsToNo(t *testing.T) {
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a, f := kitted(t, "db-pool-exhaustion", 5*time.Minute, size[0], size[1], false)
			openIncidentOf(t, a, "payment-api")
			if !strings.Contains(screen(a), "1. pool-full on payment-api") {
				t.Fatalf("the runbook is not listed first:\n%s", screen(a))
			}
			drive(t, a, press("R"))
			golden.RequireEqual(t, []byte(screen(a)))
			changes := len(f.ChangesBetween(f.Onset(), f.Now()))
			drive(t, a, press("n"))
			if _, open := a.top().(*planView); open || len(f.ChangesBetween(f.Onset(), f.Now())) != changes || !strings.Contains(screen(a), "not run: pool-full") {
				t.Fatalf("n ran it:\n%s", screen(a))
			}
			drive(t, a, press("R"), press("y"))
			out := screen(a)
			if !strings.Contains(out, "✓ resolved") || !strings.Contains(out, "runbook pool-full: resolved") {
				t.Fatalf("after y:\n%s", out)
			}
			rows, _, _ := a.c.deps.Kit.Audit.Read()
			if len(rows) != 1 || rows[0].Unfinished || rows[0].Before.Approval != "confirmed by alice in the cockpit" {
				t.Fatalf("audit %+v", rows)
			}
		})
	}
}

// TestHighDangerWantsTheTargetTyped: y is text, a wrong name is no.
func TestHighDangerWantsTheTargetTyped(t *testing.T) {
	a, f := kitted(t, "bad-deploy", 5*time.Minute, 120, 40, false)
	openIncidentOf(t, a, "inventory")
	mustShow(t, a, "1. bad-deploy on inventory")
	drive(t, a, press("R"))
	mustShow(t, a, "Type inventory and enter")
	changes := len(f.ChangesBetween(f.Onset(), f.Now()))
	drive(t, a, press("y"), press("enter"))
	if len(f.ChangesBetween(f.Onset(), f.Now())) != changes || !strings.Contains(screen(a), "not run: the name typed was not inventory") {
		t.Fatalf("y ran a high-danger plan:\n%s", screen(a))
	}
	drive(t, a, press("R"))
	typeText(t, a, "inventory")
	drive(t, a, press("enter"))
	mustShow(t, a, "✓ resolved")
}

func TestReadOnlyRunsNoRunbook(t *testing.T) {
	a, _ := kitted(t, "db-pool-exhaustion", 5*time.Minute, 120, 40, true)
	openIncidentOf(t, a, "payment-api")
	mustShow(t, a, "read-only: nothing runs")
	drive(t, a, press("R"))
	if _, open := a.top().(*planView); open || !strings.Contains(screen(a), "read-only: runbooks are disabled") {
		t.Fatalf("%s", screen(a))
	}
}

func TestPlanFillsEverySize(t *testing.T) {
	for _, size := range [][2]int{{80, 12}, {80, 24}, {200, 60}} {
		a, _ := kitted(t, "db-pool-exhaustion", 5*time.Minute, size[0], size[1], false)
		openIncidentOf(t, a, "payment-api")
		drive(t, a, press("R"))
		if bad := misfit(screen(a), size[0], size[1]); bad != "" {
			t.Fatalf("%v: %s", size, bad)
		}
	}
}

// TestLeavingARunLetsItFinish: esc while it runs leaves the view; the
// run goes on, and its outcome is flashed.
func TestLeavingARunLetsItFinish(t *testing.T) {
	a, _ := kitted(t, "crash-loop", 5*time.Minute, 120, 40, false)
	openIncidentOf(t, a, "cart")
	drive(t, a, press("R"))
	_, next := a.Update(press("y"))
	drive(t, a, press("esc"))
	if _, open := a.top().(*planView); open {
		t.Fatal("esc did not leave the plan")
	}
	run(a, next)
	mustShow(t, a, "runbook crash-loop: resolved")
	if rows, _, _ := a.c.deps.Kit.Audit.Read(); len(rows) != 1 || rows[0].Unfinished {
		t.Fatalf("audit %+v", rows)
	}
}

// TestRunbooksThatDidNotLoadAreSaid: a broken file is named in the
// incident, not silently missing.
func TestRunbooksThatDidNotLoadAreSaid(t *testing.T) {
	a, _ := kitted(t, "db-pool-exhaustion", 5*time.Minute, 140, 40, false)
	a.c.deps.Kit.LoadErr = problem.Problems{{File: "runbooks/bad.yaml", Line: 7, Msg: "action \"x\": danger \"medium\": low or high"}}
	openIncidentOf(t, a, "payment-api")
	mustShow(t, a, "✗ not loaded: runbooks/bad.yaml:7: action")
}
