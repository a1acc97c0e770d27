// Package archtest holds the tests that keep the tree's shape: which
// package may import which. It has no code of its own.
package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

const module = "github.com/oncall-cockpit/oncall/"

// allowed lists, for each package of the module, the packages of the
// module it may import (tests aside). Imports flow one way:
// cmd → tui → chaos → history → remediate → correlate → slo → sources; backends and the simulated
// world import only sources; internal helpers sit where they are needed.
var allowed = map[string][]string{
	"sources":              {},
	"sources/prometheus":   {"sources"},
	"sources/loki":         {"sources", "internal/httpcall"},
	"sources/tempo":        {"sources", "internal/httpcall"},
	"sources/alertmanager": {"sources", "internal/httpcall"},
	"sources/grafana":      {"sources", "internal/httpcall", "internal/termsafe"},
	"sim":                  {"sources", "internal/timeparse"},
	"sources/sim":          {"sources", "sim"},
	"slo":                  {"sources"},
	"correlate":            {"sources", "slo", "internal/humanize", "internal/termsafe"},
	"remediate":            {"sources", "correlate", "internal/humanize", "internal/termsafe", "internal/problem", "internal/timeparse"},
	"themes":               {},
	"history":              {"sources", "slo", "correlate", "remediate", "internal/humanize", "internal/termsafe", "internal/timeparse", "internal/grafana"},
	"history/sqlstore":     {"history", "remediate"},
	"chaos":                {"sources", "slo", "correlate", "remediate", "history", "internal/humanize", "internal/termsafe", "internal/timeparse", "internal/problem"},
	"tui":                  {"sources", "slo", "correlate", "remediate", "history", "chaos", "themes", "internal/present", "internal/humanize", "internal/termsafe", "internal/timeparse", "internal/grafana"},
	"internal/grafana":     {},
	"internal/present":     {"sources", "slo", "correlate", "remediate", "history", "internal/humanize", "internal/termsafe", "internal/timeparse"},
	"internal/config":      {"sources", "internal/suggest", "internal/timeparse", "internal/problem"},
	"internal/suggest":     {},
	"internal/timeparse":   {},
	"internal/problem":     {},
	"internal/httpx":       {"internal/termsafe"},
	"internal/httpcall":    {"sources"},
	"internal/humanize":    {},
	"internal/termsafe":    {},
	"internal/cassette":    {},
	"internal/testenv":     {"sources", "sources/sim", "sim", "slo", "correlate"},
	"cmd/oncall": {"sources", "sources/prometheus", "sources/loki", "sources/tempo", "sources/alertmanager", "sources/grafana", "sources/sim", "sim",
		"slo", "correlate", "remediate", "history", "history/sqlstore", "chaos", "tui", "themes", "internal/config", "internal/httpx", "internal/present", "internal/humanize", "internal/termsafe", "internal/suggest", "internal/timeparse", "internal/problem", "internal/grafana"},
	// the independent trial fleet shares no code with sim (issue 21)
	"internal/trialfleet":           {"internal/cassette"},
	"internal/trialfleet/cmd/trial": {"internal/trialfleet"},
	// the chaos test bed is a real service behind Toxiproxy, for tests
	// and for users trying experiments (make chaos-testbed)
	"internal/chaosbed":              {},
	"internal/chaosbed/cmd/chaosbed": {"internal/chaosbed"},
}

// testOnly are packages no product code may import.
var testOnly = []string{"internal/testenv", "internal/evaltest", "internal/archtest"}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = testenv.RepoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func TestImportsFlowOneWay(t *testing.T) {
	seen := map[string]bool{}
	for _, line := range goList(t, "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], module)
		seen[pkg] = true
		if slices.Contains(testOnly, pkg) {
			continue
		}
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is new: add it to the import rules in this test (and to the layout table in docs/testing.md)", pkg)
			continue
		}
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			if slices.Contains(testOnly, imp) {
				t.Errorf("%s imports the test-only package %s", pkg, imp)
			} else if !slices.Contains(rules, imp) {
				t.Errorf("%s imports %s; it may import only %v", pkg, imp, rules)
			}
		}
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("the rules name %s, which no longer exists", pkg)
		}
	}
}

// TestSimDependsOnlyOnSources is the simulated world's rule, transitively:
// it is a world, and the adapter in sources/sim is its only way in. Its
// one helper, internal/timeparse, imports nothing of the module.
func TestSimDependsOnlyOnSources(t *testing.T) {
	for _, dep := range goList(t, "-deps", "./sim") {
		if pkg, ok := strings.CutPrefix(dep, module); ok && pkg != "sim" && !slices.Contains(allowed["sim"], pkg) {
			t.Errorf("sim depends on %s", dep)
		}
	}
}
