package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/remediate"
)

// goodExperiment is the runs' experiment with a schedule.
var goodExperiment = runExperiment + "schedule: \"0 3 * * 2\"\n"

func TestParseGood(t *testing.T) {
	e, ps := Parse([]byte(goodExperiment), "exp.yaml")
	if len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if e.Name != "payment-db-latency" || e.Target != "payment-db" || time.Duration(e.Duration) != time.Minute || e.Schedule != "0 3 * * 2" {
		t.Fatalf("parsed %+v", e)
	}
	if a := e.Inject[0]; a.Danger != remediate.DangerHigh || a.Category != "chaos" || a.Line != 7 {
		t.Errorf("inject defaults: danger %q category %q line %d", a.Danger, a.Category, a.Line)
	}
	if a := e.Rollback[0]; a.Danger != remediate.DangerLow || a.Category != "chaos" || a.Line != 17 {
		t.Errorf("rollback defaults: danger %q category %q line %d", a.Danger, a.Category, a.Line)
	}
	if g := e.Guards[1]; g.Line != 12 || *g.Below != 2 {
		t.Errorf("guard 2: line %d below %v", g.Line, *g.Below)
	}
	if len(e.SHA256) != 64 || !filepath.IsAbs(e.Dir) {
		t.Errorf("sha256 %q dir %q", e.SHA256, e.Dir)
	}
	p := e.Plan("tester", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(p.Problems) > 0 || p.Danger != remediate.DangerHigh || !strings.Contains(p.Inject[0].Shown, "payment-db") {
		t.Errorf("plan %+v", p)
	}
	cs := p.Confirmations("prod")
	if len(cs) != 2 || cs[0].Name != "payment-db" || cs[1].Name != "prod" {
		t.Errorf("confirmations %+v", cs)
	}
}

func TestParseProblemsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, edit, want string
		line             int
	}{
		{"unknown key", "hypothesis: x\nfavourite: 1\n", "field favourite not found", 2},
		{"no rollback", "rollback: []\n", "rollback: an experiment needs", 1},
		{"no guards", "guards: []\n", "guards: an experiment needs", 1},
		{"no inject", "inject: []\n", "inject: an experiment needs", 1},
		{"silence inject", "inject:\n  - {name: hush, kind: silence, silence: {matchers: 'a=\"b\"', for: 1h}}\n", "kind silence cannot inject", 2},
		{"both bounds", "guards:\n  - {service: a, signal: p99, below: 1s, above: 0.1}\n", "exactly one of below and above", 2},
		{"red and slo", "guards:\n  - {service: a, signal: p99, slo: x, burn: 5m, below: 1}\n", "give service and signal, or slo and burn", 2},
		{"bad signal", "guards:\n  - {service: a, signal: latency_p99, below: 1}\n", "one of error_ratio, p99, requests", 2},
		{"ratio above 1", "guards:\n  - {service: a, signal: error_ratio, below: 5}\n", "a ratio between 0 and 1", 2},
		{"bad bound", "guards:\n  - {service: a, signal: p99, below: soon}\n", `bound "soon"`, 2},
		{"no duration", "duration: 0s\n", "duration is required", 1},
		{"interval too long", "interval: 10m\n", "shorter than the duration", 1},
		{"interval too short", "interval: 100ms\n", "at least 1s", 1},
		{"bad schedule", "schedule: every tuesday\n", "schedule", 1},
		{"no name", "name: ''\n", "name is required", 1},
		{"bad template", "rollback:\n  - {name: clear, kind: exec, argv: ['{{.Nope']}\n", `action "clear"`, 2},
		// a top-level field's problem is at its own key's line
		{"no rollback at its line", "hypothesis: x\nrollback: []\n", "rollback: an experiment needs", 2},
		{"target an option", "hypothesis: x\ntarget: '--help'\n", "is not a service name", 2},
		{"target a path", "hypothesis: x\ntarget: ../x\n", "is not a service name", 2},
		{"target with a space", "hypothesis: x\ntarget: 'payment db'\n", "is not a service name", 2},
		{"target too long", "hypothesis: x\ntarget: " + strings.Repeat("a", 300) + "\n", "is not a service name", 2},
		{"duration over a day", "hypothesis: x\nduration: 25h\n", "at most 1d", 2},
		{"schedule every ns", "hypothesis: x\nschedule: '@every 1ns'\n", "at most one a minute", 2},
		{"schedule every 0s", "hypothesis: x\nschedule: '@every 0s'\n", "at most one a minute", 2},
		{"schedule every 30s", "hypothesis: x\nschedule: '@every 30s'\n", "at most one a minute", 2},
		{"infinite bound", "guards:\n  - {service: a, signal: requests, above: Inf}\n", "a finite number", 2},
		{"NaN bound", "guards:\n  - {service: a, signal: requests, above: NaN}\n", "a finite number", 2},
		{"escape in name", "hypothesis: x\nname: \"pay\\e[2Kment\"\n", "control character", 2},
		{"bidi in hypothesis", "name: x\nhypothesis: \"ok \\u202e\"\n", "control character", 2},
		{"newline in target", "hypothesis: x\ntarget: \"payment-db\\nfake\"\n", "control character", 2},
		{"escape in action name", "rollback:\n  - {name: \"clear\\e[8m\", kind: sim, sim: {action: clear-faults, service: a}}\n", "control character", 2},
		{"escape in check service", "guards:\n  - {service: \"a\\e[8m\", signal: p99, below: 1s}\n", "control character", 2},
		{"escape in slo", "guards:\n  - {slo: \"a\\r\", burn: 5m, below: 1}\n", "control character", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := Parse([]byte(override(t, tc.edit)), "dir/exp.yaml")
			if len(ps) == 0 {
				t.Fatal("no problem")
			}
			for _, p := range ps {
				if p.File == "dir/exp.yaml" && p.Line == tc.line && strings.Contains(p.Msg, tc.want) {
					return
				}
			}
			t.Errorf("want dir/exp.yaml:%d: …%s…, got:\n%v", tc.line, tc.want, ps)
		})
	}
}

// override puts the edit's top-level keys in place of the good file's,
// first, so the edit's lines are the file's.
func override(t *testing.T, edit string) string {
	t.Helper()
	var base, over yaml.Node
	if err := yaml.Unmarshal([]byte(goodExperiment), &base); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(edit), &over); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	om := over.Content[0]
	for i := 0; i < len(om.Content); i += 2 {
		keys[om.Content[i].Value] = true
	}
	var rest strings.Builder
	bm := base.Content[0]
	for i := 0; i < len(bm.Content); i += 2 {
		if keys[bm.Content[i].Value] {
			continue
		}
		b, err := yaml.Marshal(&yaml.Node{Kind: yaml.MappingNode, Content: bm.Content[i : i+2]})
		if err != nil {
			t.Fatal(err)
		}
		rest.Write(b)
	}
	return edit + rest.String()
}

func TestBoundsAndLabels(t *testing.T) {
	for _, tc := range []struct{ yaml, label string }{
		{"{service: payment-api, signal: error_ratio, below: 1%}", "payment-api error ratio < 1%"},
		{"{service: payment-api, signal: error_ratio, below: 0.005}", "payment-api error ratio < 0.5%"},
		{"{service: payment-api, signal: p99, below: 2s}", "payment-api p99 < 2s"},
		{"{service: payment-api, signal: p99, below: 500ms}", "payment-api p99 < 500ms"},
		{"{service: payment-api, signal: p99, below: 0.25}", "payment-api p99 < 250ms"},
		{"{service: payment-api, signal: requests, above: 10}", "payment-api requests > 10/s"},
		{"{slo: checkout-availability, burn: 5m, below: 14.4}", "checkout-availability burn 5m < 14.4"},
	} {
		var c Check
		if err := yaml.Unmarshal([]byte(tc.yaml), &c); err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		if got := c.Label(); got != tc.label {
			t.Errorf("%s: label %q, want %q", tc.yaml, got, tc.label)
		}
	}
	var b Bound
	if err := yaml.Unmarshal([]byte("1.5%"), &b); err != nil || b.String() != "0.015" {
		t.Errorf("1.5%%: %v %v", b, err)
	}
	if err := yaml.Unmarshal([]byte("later"), &b); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad bound: %v", err)
	}
}

func TestLoadDirKeepsTheGoodFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good.yaml", goodExperiment)
	write("bad.yml", "name: x\n")
	write("notes.txt", "not an experiment")
	es, err := LoadDir(dir)
	if len(es) != 1 || es[0].Name != "payment-db-latency" {
		t.Fatalf("loaded %d", len(es))
	}
	if err == nil || !strings.Contains(err.Error(), "bad.yml") {
		t.Errorf("error %v, want bad.yml's problems", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "bad.yml")); err == nil {
		t.Error("LoadFile of a bad file: no error")
	}
	if e, err := LoadFile(filepath.Join(dir, "good.yaml")); err != nil || e.Dir != dir {
		t.Errorf("LoadFile: %v, dir %q", err, e.Dir)
	}
}

// A file larger than an experiment, or one that is not a regular file,
// is refused before it is read whole.
func TestLoadRefusesHugeAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte(goodExperiment+"# "+strings.Repeat("x", maxFileSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(huge); err == nil || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Errorf("LoadFile of a 1 MiB file: %v", err)
	}
	if _, err := LoadFile(os.DevNull); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadFile of %s: %v", os.DevNull, err)
	}
	if err := os.Symlink(os.DevNull, filepath.Join(dir, "null.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "huge.yaml is larger") || !strings.Contains(err.Error(), "null.yaml is not a regular file") {
		t.Errorf("LoadDir: %v", err)
	}
}
