package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

// terminalText is how text from data reaches a terminal from the shell:
// every write passes termsafe.Text, so that a label, a target, an
// annotation or an audit field cannot move the cursor, erase the plan
// above a prompt, retitle the window or write the clipboard (newlines and
// tabs stay). Standard error always goes through it; standard output does
// for the commands marked with showData, except as -o json, which
// escapes control characters itself and stays exact.
type terminalText struct{ w io.Writer }

func (t terminalText) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, termsafe.Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// dataAnnotation marks a command whose text output is made of data and
// draws nothing of its own (no colour, no clearing): see showData.
const dataAnnotation = "oncall/shows-data"

// showData marks cmd as printing data as plain text: its standard output
// then goes through terminalText. Commands that draw (the cockpit, colour,
// --watch) make each backend string safe themselves, through
// internal/present (present.Table among it).
func showData(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[dataAnnotation] = "text"
	return cmd
}

// showsData says whether cmd's standard output must go through
// terminalText: it is marked, and not writing JSON.
func showsData(cmd *cobra.Command) bool {
	if _, ok := cmd.Annotations[dataAnnotation]; !ok {
		return false
	}
	f := cmd.Flags().Lookup("output")
	return f == nil || f.Value.String() != "json"
}

func writeJSON(w io.Writer, v any) error { return encodeJSON(w, v, "  ") }

// encodeJSON writes v as JSON whose bytes are safe on a terminal: Go's
// encoder escapes ESC and the other C0 controls, and this escapes what
// it leaves raw (DEL, the C1 controls such as U+009B, a one-byte CSI, and
// the bidirectional overrides). The JSON decodes to the same values.
func encodeJSON(w io.Writer, v any, indent string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", indent)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := make([]byte, 0, b.Len())
	for _, r := range b.String() {
		// the encoder escapes C0 inside strings: a raw newline here is
		// the indentation's
		if r != '\n' && termsafe.Controls(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	_, err := w.Write(out)
	return err
}

// statusWord shows a check status with a symbol that reads without colour
// (colour-blind safe, NO_COLOR safe).
func statusWord(s sources.CheckStatus) string {
	switch s {
	case sources.CheckWarn:
		return "! warn"
	case sources.CheckFail:
		return "✗ FAIL"
	}
	return "✓ ok"
}

// colorStatus colours a statusWord cell; the symbol carries the meaning.
func colorStatus(cell string) string {
	c := "2"
	switch {
	case strings.HasPrefix(cell, "!"):
		c = "3"
	case strings.HasPrefix(cell, "✗"):
		c = "1"
	}
	return lipgloss.NewStyle().Foreground(lipgloss.Color(c)).Render(cell)
}
