package tui

import (
	"strings"
	"testing"
	"time"
)

// A question's text wraps rather than being cut: how to answer it stays
// whole at 80 and 60 columns, with the footer's y and n.
func TestQuestionWrapsItsText(t *testing.T) {
	for _, w := range []int{80, 60} {
		a := busy(t, w, 24)
		a.c.runs = map[int64]string{1: "restart-pods on checkout-api"}
		drive(t, a, press("q"))
		out := screen(a)
		flat := strings.Join(strings.Fields(out), " ")
		for _, want := range []string{"n, enter or esc stays.", "would show it UNFINISHED.", "[y/N] y yes · n no"} {
			if !strings.Contains(flat, want) {
				t.Errorf("at %d columns %q is cut:\n%s", w, want, out)
			}
		}
		if _, body, _ := strings.Cut(out, "\n"); strings.Contains(body, "…") {
			t.Errorf("at %d columns a line is cut:\n%s", w, out)
		}
	}
}

// In a typed context the name being typed stays in the footer, with its
// keys, at 80 and 60 columns.
func TestTypedConfirmShowsTheNameTyped(t *testing.T) {
	for _, w := range []int{80, 60} {
		d := deps(fleetAt(t, "db-pool-exhaustion", 1, 8*time.Minute))
		d.ConfirmTyped, d.Context = true, "prod-eu-west-1"
		a := startedWith(t, d, w, 24)
		drive(t, a, press("a"))
		drive(t, a, typed("prod-eu-we")...)
		if out := screen(a); !strings.Contains(out, "type prod-eu-west-1") || !strings.Contains(out, "-we▏") || !strings.Contains(out, "esc no") {
			t.Errorf("at %d columns the name typed or the keys are cut:\n%s", w, out)
		}
	}
}
