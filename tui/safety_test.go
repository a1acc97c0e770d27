package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// typeText presses each rune of s.
func typeText(t *testing.T, a *App, s string) {
	t.Helper()
	for _, r := range s {
		drive(t, a, press(string(r)))
	}
}

// TestTypedContextHighDangerWantsBothNames: in a confirm: typed context,
// a high-danger plan asks for the target's name and then the context's;
// either alone runs nothing.
func TestTypedContextHighDangerWantsBothNames(t *testing.T) {
	a, f := kitted(t, "bad-deploy", 5*time.Minute, 120, 40, false)
	a.c.deps.ConfirmTyped, a.c.deps.Context = true, "prod"
	openIncidentOf(t, a, "inventory")
	changes := func() int { return len(f.ChangesBetween(f.Onset(), f.Now())) }
	before := changes()
	for _, names := range [][]string{{"prod"}, {"inventory", "inventory"}, {"prod", "inventory"}} {
		drive(t, a, press("R"))
		for _, n := range names {
			if _, open := a.top().(*planView); !open {
				break // refused: the rest would be keys to the incident
			}
			typeText(t, a, n)
			drive(t, a, press("enter"))
		}
		if _, open := a.top().(*planView); open {
			drive(t, a, press("esc"))
		}
		if changes() != before {
			t.Fatalf("%q ran a high-danger plan in a typed context:\n%s", names, screen(a))
		}
	}
	drive(t, a, press("R"))
	if !strings.Contains(screen(a), "Type inventory and enter") {
		t.Fatalf("first question:\n%s", screen(a))
	}
	typeText(t, a, "inventory")
	drive(t, a, press("enter"))
	if !strings.Contains(screen(a), "This is prod: type prod and enter") || changes() != before {
		t.Fatalf("second question:\n%s", screen(a))
	}
	typeText(t, a, "prod")
	drive(t, a, press("enter"))
	if !strings.Contains(screen(a), "✓ resolved") {
		t.Fatalf("both names typed:\n%s", screen(a))
	}
	rows, _, _ := a.c.deps.Kit.Audit.Read()
	if len(rows) != 1 || !strings.Contains(rows[0].Before.Approval, "inventory and prod typed") {
		t.Fatalf("audit %+v", rows)
	}
}

// quits runs cmd as run does and says whether it asked to quit.
func quits(a *App, cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch m := cmd().(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		q := false
		for _, c := range m {
			q = quits(a, c) || q
		}
		return q
	case tickMsg, tailStartedMsg, nil:
		return false
	default:
		_, next := a.Update(m)
		return quits(a, next)
	}
}

// TestQuitWhileARunRuns: q while an action runs does not quit at once;
// it asks, n stays, and y quits once the run has finished and its audit
// entry is written. With nothing running, q quits at once.
func TestQuitWhileARunRuns(t *testing.T) {
	a, _ := kitted(t, "crash-loop", 5*time.Minute, 120, 40, false)
	if _, cmd := a.Update(press("q")); !quits(a, cmd) {
		t.Fatal("q with nothing running did not quit")
	}
	openIncidentOf(t, a, "cart")
	drive(t, a, press("R"))
	_, events := a.Update(press("y"))
	for _, k := range []string{"q", "n", "q"} {
		_, cmd := a.Update(press(k))
		if quits(a, cmd) {
			t.Fatalf("%q quit while the run runs:\n%s", k, screen(a))
		}
	}
	if !strings.Contains(screen(a), "crash-loop on cart") || !strings.Contains(screen(a), "Quit when it has finished?") {
		t.Fatalf("the question:\n%s", screen(a))
	}
	_, cmd := a.Update(press("y"))
	if quits(a, cmd) {
		t.Fatal("y quit before the run finished")
	}
	if !strings.Contains(screen(a), "quitting when crash-loop on cart has finished") {
		t.Fatalf("nothing says it will quit:\n%s", screen(a))
	}
	if !quits(a, events) {
		t.Fatalf("did not quit when the run finished:\n%s", screen(a))
	}
	rows, _, _ := a.c.deps.Kit.Audit.Read()
	if len(rows) != 1 || rows[0].Unfinished || rows[0].After.Result == "" {
		t.Fatalf("audit %+v", rows)
	}
}
