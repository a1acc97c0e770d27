package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// The SLO view renders the same presentation as `oncall slo show`: the
// same words for a latency SLO's threshold, each line exactly as wide as
// the view, and the account's state in the burn-down's place.
func TestSLOViewSaysWhatTheTextSays(t *testing.T) {
	b := slo.Budget{
		SLO: slo.Objective{Name: "checkout-latency", Service: "checkout", Objective: 0.95, Window: 28 * 24 * time.Hour,
			Indicator: sources.Indicator{Kind: sources.SLILatency, Service: "checkout", Threshold: 300 * time.Millisecond}},
		Path: "increase()", Total: 1000, Bad: 30, SLI: 0.97, Remaining: 0.4, MinutesLeft: 806.4, Status: slo.StatusOK, Threshold: 250 * time.Millisecond,
	}
	for _, c := range []struct {
		name   string
		a      *slo.BudgetHistory
		err    error
		burnDn string
	}{
		{"reading", nil, nil, "BURN-DOWN  reading the window…"},
		{"unread", nil, errors.New("prometheus down"), "BURN-DOWN  ✗ prometheus down"},
		{"read", &slo.BudgetHistory{Span: 28 * 24 * time.Hour, Step: time.Hour}, nil, "SPENT BY  " + present.NothingSpent},
	} {
		lines := renderSLO(present.NewSLODetail(b, c.a, c.err, present.SLODetailOptions{}), 90, styles())
		for i, l := range lines {
			if w := lipgloss.Width(l); w != 90 {
				t.Errorf("%s: line %d is %d cells wide: %q", c.name, i, w, l)
			}
		}
		out := ansi.Strip(strings.Join(lines, "\n"))
		for _, want := range []string{"threshold  250ms (the histogram boundary nearest 300ms)", "SLI        97.0000%  1,000 events, 30 bad", c.burnDn} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the view lacks %q:\n%s", c.name, want, out)
			}
		}
	}
}
