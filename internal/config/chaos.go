package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultBudgetFloor is chaos.budget_floor's default: a quarter of the
// error budget kept for what production does on its own, so that a
// scheduled experiment never spends the last of it.
const DefaultBudgetFloor = 0.25

// Chaos is where chaos experiments are, and when the daemon may start
// one (docs/chaos.md).
type Chaos struct {
	// Experiments is a directory of experiment files; by default
	// $XDG_CONFIG_HOME/oncall/experiments when it exists.
	Experiments string `yaml:"experiments,omitempty" json:"experiments,omitempty"`
	// BudgetFloor is the share of every SLO's error budget that must
	// remain for the daemon to start an experiment: 25% or 0.25.
	BudgetFloor string `yaml:"budget_floor,omitempty" json:"budget_floor,omitempty"`
}

// Floor is BudgetFloor as a share (0.25), DefaultBudgetFloor when unset.
func (c Chaos) Floor() float64 {
	if c.BudgetFloor == "" {
		return DefaultBudgetFloor
	}
	// validated when the file was read
	f, _ := ParseShare(c.BudgetFloor)
	return f
}

// ExperimentDir is the configured experiments directory, else
// $XDG_CONFIG_HOME/oncall/experiments (~/.config when unset) when it
// exists, else "".
func (c Chaos) ExperimentDir(getenv func(string) string) string {
	if c.Experiments != "" {
		return c.Experiments
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	d := filepath.Join(dir, "oncall", "experiments")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// ParseShare reads a share between 0 and 1, written as a percentage
// ("25%") or a fraction ("0.25").
func ParseShare(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a share between 0%% and 100%% (write 25%% or 0.25)", s)
	}
	if pct {
		f /= 100
	}
	if !(f >= 0 && f <= 1) {
		return 0, fmt.Errorf("%q is not a share between 0%% and 100%% (write 25%% or 0.25)", s)
	}
	return f, nil
}

// checkChaos checks the experiments directory and the budget floor.
func (v *validator) checkChaos(c *Chaos) {
	if c.Experiments != "" {
		if st, err := os.Stat(v.resolve(c.Experiments)); err != nil || !st.IsDir() {
			v.atPath("chaos.experiments", "%q is not a directory", c.Experiments)
		} else {
			c.Experiments = v.resolve(c.Experiments)
		}
	}
	if c.BudgetFloor != "" {
		if _, err := ParseShare(c.BudgetFloor); err != nil {
			v.atPath("chaos.budget_floor", "%v", err)
		}
	}
}
