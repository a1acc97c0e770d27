package tui

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// hostile is what the attacker's Alertmanager sent as a generatorURL:
// it ends bracketed paste, runs a command and writes the clipboard again.
const hostile = "http://gen/\x1b[201~\necho PWNED > /tmp/pwned\n\x1b]52;c;ZWNobyBoaQ==\x07\u202e\x9b2J\ttab"

// runCmd runs cmd in a real program and returns what the program wrote.
type runCmd struct{ cmd tea.Cmd }

func (m runCmd) Init() tea.Cmd                       { return tea.Sequence(m.cmd, tea.Quit) }
func (m runCmd) Update(tea.Msg) (tea.Model, tea.Cmd) { return m, nil }
func (m runCmd) View() tea.View                      { return tea.NewView("") }

// clipboardOf is what cmd puts on the clipboard, read back from the
// OSC 52 sequence the program writes to the terminal.
func clipboardOf(t *testing.T, cmd tea.Cmd) (string, bool) {
	t.Helper()
	var out bytes.Buffer
	p := tea.NewProgram(runCmd{cmd}, tea.WithOutput(&out), tea.WithInput(nil), tea.WithWindowSize(80, 24))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		p.Kill()
		t.Fatal("program did not finish")
	}
	m := regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]*)(?:\x07|\x1b\\)`).FindSubmatch(out.Bytes())
	if m == nil {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func printableOnly(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if termsafe.Controls(r) {
			t.Fatalf("clipboard holds control %U: %q", r, s)
		}
	}
	for _, bad := range []string{"[201~", "]52;", "\n"} {
		if strings.Contains(s, bad) {
			t.Fatalf("clipboard holds %q: %q", bad, s)
		}
	}
}

func TestCopyTextPutsOnlyPrintableTextOnTheClipboard(t *testing.T) {
	for name, cmd := range map[string]tea.Cmd{
		"copyText":  copyText("the line", hostile),
		"copyLines": copyLines("the pane", []string{"a " + hostile, hostile}),
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := clipboardOf(t, cmd)
			if !ok {
				t.Fatal("nothing copied")
			}
			if name == "copyLines" {
				lines := strings.Split(got, "\n")
				if len(lines) != 2 {
					t.Fatalf("want the pane's 2 lines, got %q", got)
				}
				got = strings.Join(lines, " ")
			}
			printableOnly(t, got)
			if !strings.Contains(got, "echo PWNED > /tmp/pwned") {
				t.Errorf("the text itself should stay, shown and inert: %q", got)
			}
		})
	}
}

func TestCopyLinkRefusesWhatIsNotAnHTTPLink(t *testing.T) {
	for _, bad := range []string{hostile, "javascript:alert(1)", "sim://rules/x", "file:///etc/passwd", "http://a b", "http:///path", "http://gen/\u202eevil"} {
		if _, ok := clipboardOf(t, copyLink("the alert's source", bad)); ok {
			t.Errorf("%q copied", bad)
		}
		msg := copyLink("the alert's source", bad)()
		if f, ok := msg.(flashMsg); !ok || !strings.Contains(string(f), "is not copied, it ") {
			t.Errorf("%q: want a flash saying why, got %#v", bad, msg)
		}
		if s := shownLink(bad); s == bad || strings.ContainsFunc(s, termsafe.Controls) {
			t.Errorf("shownLink(%q) = %q: not marked, or not safe", bad, s)
		}
	}
	const good = "https://prometheus.example/graph?g0.expr=up%7Bjob%3D%22x%22%7D"
	got, ok := clipboardOf(t, copyLink("the alert's source", good))
	if !ok || got != good {
		t.Errorf("copied %q, want %q", got, good)
	}
	if shownLink(good) != good {
		t.Errorf("shownLink(%q) = %q", good, shownLink(good))
	}
}
