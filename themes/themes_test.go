package themes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestLoadOverlaysAUserPalette(t *testing.T) {
	p := filepath.Join(t.TempDir(), "theme.yaml")
	os.WriteFile(p, []byte("bad: \"#ff0000\"\n"), 0o600)
	got, err := Load("light", p)
	if err != nil || got.Bad != "#ff0000" || got.OK != palettes["light"].OK {
		t.Fatalf("%+v %v", got, err)
	}
	os.WriteFile(p, []byte("bda: \"#ff0000\"\n"), 0o600)
	if _, err := Load("dark", p); err == nil || !strings.Contains(err.Error(), "bda") {
		t.Errorf("typo accepted: %v", err)
	}
	os.WriteFile(p, []byte("bad: red\n"), 0o600)
	if _, err := Load("dark", p); err == nil || !strings.Contains(err.Error(), "not a colour") {
		t.Errorf("bad colour accepted: %v", err)
	}
	if _, err := Load("neon", ""); err == nil {
		t.Error("unknown theme accepted")
	}
}

func TestStateNeverRestsOnColour(t *testing.T) {
	for _, name := range Names() {
		p, _ := Load(name, "")
		s := New(p)
		for level, want := range []string{"✓ up", "! up", "✗ up"} {
			if got := ansi.Strip(s.State(level, "up")); got != want {
				t.Errorf("%s level %d: %q", name, level, got)
			}
		}
	}
}

func TestSeriesColoursComeFromThePalette(t *testing.T) {
	p := filepath.Join(t.TempDir(), "theme.yaml")
	os.WriteFile(p, []byte("series: [\"#000001\", \"#000002\"]\n"), 0o600)
	pal, err := Load("colorblind", p)
	if err != nil || len(pal.Series) != 2 {
		t.Fatalf("%+v %v", pal.Series, err)
	}
	s := New(pal)
	a, b := s.SeriesOf("payment-api"), s.SeriesOf("payment-api")
	if a.Render("x") != b.Render("x") {
		t.Error("a name changed colour between calls")
	}
	seen := map[string]bool{}
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		seen[s.SeriesOf(name).Render("x")] = true
	}
	if len(seen) != 2 {
		t.Errorf("8 names drew %d colours from a series of 2", len(seen))
	}
	os.WriteFile(p, []byte("series: [blue]\n"), 0o600)
	if _, err := Load("dark", p); err == nil || !strings.Contains(err.Error(), "series") {
		t.Errorf("a bad series colour was accepted: %v", err)
	}
	for _, name := range Names() {
		if pal, _ := Load(name, ""); len(pal.Series) < 8 {
			t.Errorf("theme %s has %d series colours", name, len(pal.Series))
		}
	}
}
