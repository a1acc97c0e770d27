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
