// Package termsafe makes text from backends (log lines, label values, span
// names, error bodies) inert before it reaches a terminal: escape sequences
// (CSI, OSC including OSC 52 clipboard writes, DCS, APC), C0 and C1 control
// characters and bidirectional overrides are removed, and invalid UTF-8 is
// replaced. It imports nothing from this module.
package termsafe

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Line returns s safe to print on one line: tabs become spaces, newlines
// become "⏎".
func Line(s string) string { return clean(s, false) }

// Text returns s safe to print, keeping newlines and tabs.
func Text(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	if isPlain(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansi.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			if multiline {
				b.WriteRune(r)
			} else {
				b.WriteString("⏎")
			}
		case r == '\t':
			if multiline {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		case Controls(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isPlain is the fast path: printable ASCII only.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == 0x7f {
			return false
		}
	}
	return true
}

// Controls reports whether r is what a terminal acts on rather than
// shows: a C0 control, DEL or a C1 control (a lone ESC, an 8-bit CSI),
// or a bidirectional formatting character. Text and Line drop them
// (keeping or replacing tab and newline); JSON output escapes them.
func Controls(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidiControl(r)
}

// isBidiControl reports the Unicode bidirectional formatting characters
// that can make text display in a different order than it reads
// (CVE-2021-42574, "Trojan Source").
func isBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}
