package tui

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// The SLO view says what `oncall slo show` says, line for line, with the
// same titles and words: only its charts are as wide as the view. Each
// line is exactly as wide as the view, hostile names stay inert, and the
// account's state is where the burn-down goes.
func TestSLOViewSaysWhatTheTextSays(t *testing.T) {
	b := slo.Budget{
		SLO: slo.Objective{Name: "checkout-latency\x1b]52;c;cm0gLXJmIH4=\x07", Service: "checkout", Objective: 0.95, Window: 28 * 24 * time.Hour,
			Indicator: sources.Indicator{Kind: sources.SLILatency, Service: "checkout", Threshold: 300 * time.Millisecond}},
		Path: "increase()\x1b[2J", Total: 1000, Bad: 30, SLI: 0.97, Remaining: 0.4, MinutesLeft: 806.4, Status: slo.StatusOK, Threshold: 250 * time.Millisecond,
	}
	for _, c := range []struct {
		name   string
		a      *slo.BudgetHistory
		err    error
		burnDn string
	}{
		{"reading", nil, nil, "BURN-DOWN reading the window…"},
		{"unread", nil, errors.New("prometheus down"), "✗ account: prometheus down"},
		{"read", &slo.BudgetHistory{Span: 28 * 24 * time.Hour, Step: time.Hour}, nil, "SPENT BY  nothing burned over twice the sustainable rate"},
	} {
		d := present.NewSLODetail(b, c.a, c.err, present.SLODetailOptions{Source: "config c.yaml"})
		var text bytes.Buffer
		if err := present.SLODetailText(&text, d); err != nil {
			t.Fatal(err)
		}
		want := strings.Split(strings.TrimSuffix(text.String(), "\n"), "\n")
		for _, width := range []int{80, 90, 200} {
			lines := renderSLO(d, width, styles())
			if len(lines) != len(want) {
				t.Fatalf("%s at %d: %d lines, the text has %d", c.name, width, len(lines), len(want))
			}
			for i, l := range lines {
				if w := lipgloss.Width(l); w != width {
					t.Errorf("%s at %d: line %d is %d cells wide: %q", c.name, width, i, w, l)
				}
				if strings.Contains(l, "\x07") || strings.Contains(l, "[2J") {
					t.Errorf("%s at %d: line %d is not inert: %q", c.name, width, i, l)
				}
				got := strings.TrimRight(ansi.Strip(l), " ")
				if width == 200 && d.Lines()[i].Chart == nil && got != strings.TrimRight(want[i], " ") {
					t.Errorf("%s: line %d is\n%q, the text's is\n%q", c.name, i, got, want[i])
				}
			}
		}
		if !strings.Contains(text.String(), c.burnDn) {
			t.Errorf("%s: the detail lacks %q:\n%s", c.name, c.burnDn, text.String())
		}
	}
}

// The SLO view fills every size the cockpit is tested at, down to 80×12,
// the burn-down as wide as the view allows.
func TestSLOViewFillsEverySize(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}, {200, 60}, {300, 100}, {80, 12}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a := started(t, size[0], size[1])
			b := ov(a).data.Budgets[0]
			drive(t, a, press("g"), press("enter"))
			run(a, loadSLO(a.c.deps, b.SLO))
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Fatalf("%v: %s", size, bad)
			}
			v := a.stack[len(a.stack)-1].(*sloView)
			i := slices.IndexFunc(v.lines, func(l string) bool { return strings.Contains(l, "BURN-DOWN") })
			if i < 0 || i+1 == len(v.lines) {
				t.Fatalf("no burn-down:\n%s", strings.Join(v.lines, "\n"))
			}
			if w := lipgloss.Width(strings.TrimRight(ansi.Strip(v.lines[i+1]), " ")); w != size[0]-2 {
				t.Errorf("the burn-down ends %d cells from the edge, not 2: %q", size[0]-w, v.lines[i+1])
			}
		})
	}
}
