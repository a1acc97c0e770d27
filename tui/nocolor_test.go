package tui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
)

// noColor is the frame as NO_COLOR (or --no-color) draws it: the cockpit
// runs with the Ascii profile, which drops every colour and keeps bold
// and reverse.
func noColor(a *App) string {
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.Ascii}
	_, _ = w.WriteString(a.render())
	return b.String()
}

// colour is an SGR that sets a foreground or background colour.
var colour = regexp.MustCompile(`\x1b\[[0-9;:]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])[;:m]`)

// TestGoldenNoColor keeps a NO_COLOR frame of each view at 80×24: what
// is selected, failing or muted must read without colour, and every
// list's selection is marked with a ▸.
func TestGoldenNoColor(t *testing.T) {
	frames := map[string]func(t *testing.T) (*App, string){
		"overview": func(t *testing.T) (*App, string) { return started(t, 80, 24), "▸ " },
		"incident": func(t *testing.T) (*App, string) {
			a := started(t, 80, 24)
			return drive(t, a, press("enter")), "ROOT-CAUSE CANDIDATES"
		},
		"waterfall": func(t *testing.T) (*App, string) {
			a := started(t, 80, 24)
			return drive(t, a, press("enter"), press("t"), press("j")), "▸ "
		},
		"logs": func(t *testing.T) (*App, string) {
			a, _ := openLogsAt(t, 80, 24)
			return drive(t, a, press("k")), "▸ "
		},
		"slo": func(t *testing.T) (*App, string) {
			a := started(t, 80, 24)
			b := ov(a).data.Budgets[0]
			drive(t, a, press("g"), press("enter"))
			run(a, loadSLO(a.c.deps, b.SLO))
			return a, "BURN RATES"
		},
		"help": func(t *testing.T) (*App, string) {
			a := started(t, 80, 24)
			return drive(t, a, press("?")), "? "
		},
	}
	for name, open := range frames {
		t.Run(name, func(t *testing.T) {
			a, want := open(t)
			out := noColor(a)
			if c := colour.FindString(out); c != "" {
				t.Errorf("a colour under NO_COLOR: %q", c)
			}
			plain := screen(a)
			if !strings.Contains(plain, want) {
				t.Errorf("no %q under NO_COLOR:\n%s", want, plain)
			}
			if n := strings.Count(plain, "\n") + 1; n != 24 {
				t.Errorf("%d lines", n)
			}
			golden.RequireEqual(t, []byte(stripTook(out)))
		})
	}
}
