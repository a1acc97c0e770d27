package termsafe

import "testing"

func TestLineMakesHostileTextInert(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain":              {"GET /checkout 200", "GET /checkout 200"},
		"sgr colour":         {"retrying \x1b[31mcharge\x1b[0m traceID=a4c1", "retrying charge traceID=a4c1"},
		"osc52 clipboard":    {"ok\x1b]52;c;cm0gLXJmIH4=\x07done", "okdone"},
		"osc52 st":           {"ok\x1b]52;c;cm0gLXJmIH4=\x1b\\done", "okdone"},
		"osc8 hyperlink":     {"\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		"cursor movement":    {"a\x1b[2J\x1b[H\x1b[10;10Hb", "ab"},
		"dcs":                {"x\x1bP1$r0m\x1b\\y", "xy"},
		"8-bit csi":          {"x\u009b31my", "x31my"},
		"bell and backspace": {"a\x07b\x08c", "abc"},
		"lone escape":        {"a\x1b", "a"},
		"bidi override":      {"user\u202egnp.exe", "usergnp.exe"},
		"bidi isolate":       {"a\u2066b\u2069c", "abc"},
		"newline and tab":    {"a\nb\tc", "a⏎b c"},
		"invalid utf8":       {"a\xffb", "a\uFFFDb"},
		"unicode kept":       {"résumé ✓ 日本", "résumé ✓ 日本"},
	}
	for name, c := range cases {
		if got := Line(c.in); got != c.want {
			t.Errorf("%s: Line(%q) = %q, want %q", name, c.in, got, c.want)
		}
	}
}

func TestTextKeepsLines(t *testing.T) {
	if got := Text("a\n\x1b[1mb\x1b[0m\tc"); got != "a\nb\tc" {
		t.Fatalf("Text = %q", got)
	}
}

func FuzzLineHasNoControls(f *testing.F) {
	f.Add("retrying \x1b[31mcharge\x1b[0m")
	f.Add("\x1b]52;c;AAAA\x07")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range Line(s) {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || isBidiControl(r) {
				t.Fatalf("Line(%q) kept control %U", s, r)
			}
		}
	})
}
