package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The chaos section: a directory resolved beside the config, the floor as
// a percentage or a fraction, and each problem at its line.
func TestChaosSection(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "experiments"), 0o700); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "config.yaml")
	for _, tc := range []struct {
		yaml  string
		floor float64
	}{
		{"chaos:\n  experiments: experiments\n  budget_floor: 40%\n", 0.4},
		{"chaos:\n  budget_floor: 0.1\n", 0.1},
		{"chaos: {}\n", DefaultBudgetFloor},
	} {
		cfg, err := Parse(name, []byte(tc.yaml), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if got := cfg.Chaos.Floor(); got != tc.floor {
			t.Errorf("%q: floor %v, want %v", tc.yaml, got, tc.floor)
		}
		if strings.Contains(tc.yaml, "experiments:") && cfg.Chaos.Experiments != filepath.Join(dir, "experiments") {
			t.Errorf("experiments %q: not resolved beside the config", cfg.Chaos.Experiments)
		}
	}
	_, err := Parse(name, []byte("chaos:\n  experiments: nowhere\n  budget_floor: 140%\n  schedule: x\n"), env(nil))
	for _, want := range []string{
		name + `:2:16: chaos.experiments: "nowhere" is not a directory`,
		name + `:3:17: chaos.budget_floor: "140%" is not a share between 0% and 100%`,
		name + `:4:3: unknown key "schedule" in chaos`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
}

// The default experiments directory is used only when it exists.
func TestChaosDefaultDirectory(t *testing.T) {
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return home
		}
		return ""
	}
	if d := (Chaos{}).ExperimentDir(getenv); d != "" {
		t.Errorf("no directory yet: got %q", d)
	}
	want := filepath.Join(home, "oncall", "experiments")
	if err := os.MkdirAll(want, 0o700); err != nil {
		t.Fatal(err)
	}
	if d := (Chaos{}).ExperimentDir(getenv); d != want {
		t.Errorf("got %q, want %q", d, want)
	}
	if d := (Chaos{Experiments: "/x"}).ExperimentDir(getenv); d != "/x" {
		t.Errorf("the configured one: got %q", d)
	}
}
