package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

func importFile(t *testing.T, name string) []SLO {
	t.Helper()
	p := filepath.Join("..", "..", "testdata", "slos", name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	slos, _, err := ImportSLOs(p, b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return slos
}

func TestImportedSLOsAreTheSameObjectives(t *testing.T) {
	const month = timeparse.Duration(30 * 24 * time.Hour)
	for _, c := range []struct {
		file, format string
		names        [2]string
	}{
		{"sloth.yaml", FormatSloth, [2]string{"requests-availability", "requests-latency"}},
		{"pyrra.yaml", FormatPyrra, [2]string{"checkout-requests-availability", "checkout-requests-latency"}},
		{"openslo.yaml", FormatOpenSLO, [2]string{"checkout-requests-availability", "checkout-requests-latency"}},
		{"oncall.yaml", FormatOncall, [2]string{"checkout-requests-availability", "checkout-requests-latency"}},
	} {
		t.Run(c.format, func(t *testing.T) {
			slos := importFile(t, c.file)
			if len(slos) != 2 {
				t.Fatalf("%d SLOs, want 2: %+v", len(slos), slos)
			}
			for i, want := range []float64{99.9, 99} {
				s := slos[i]
				if s.Name != c.names[i] || s.Service != "checkout" || s.Objective != want || s.Window != month {
					t.Errorf("slo %d: %+v", i, s)
				}
				if !strings.Contains(s.Origin, c.file+":") || !strings.HasSuffix(s.Origin, "("+c.format+")") {
					t.Errorf("origin %q", s.Origin)
				}
				if err := SLOIndicator(s).Check(); err != nil {
					t.Errorf("slo %d: %v", i, err)
				}
			}
		})
	}
	// each format's own way of saying the same indicator
	sloth := importFile(t, "sloth.yaml")
	if sloth[0].Indicator != "raw" || !strings.Contains(sloth[0].ErrorQuery, `code=~"(5..|429)"`) || sloth[0].Recorded.ID != "checkout-requests-availability" || len(sloth[0].Alerting) != 4 {
		t.Errorf("sloth availability: %+v", sloth[0])
	}
	if len(sloth[1].Alerting) != 2 || sloth[1].Alerting[0].Factor != 14.4 {
		t.Errorf("sloth latency with its ticket alert disabled: %+v", sloth[1].Alerting)
	}
	pyrra := importFile(t, "pyrra.yaml")
	if pyrra[0].Errors != `http_requests_total{job="checkout",code=~"(5..|429)"}` || pyrra[0].Recorded.Metric != "http_requests_total" {
		t.Errorf("pyrra ratio: %+v", pyrra[0])
	}
	if pyrra[1].Indicator != "latency" || pyrra[1].LatencyThreshold != timeparse.Duration(300*time.Millisecond) || pyrra[1].Histogram != `http_request_duration_seconds_bucket{job="checkout"}` {
		t.Errorf("pyrra latency: %+v", pyrra[1])
	}
	// Pyrra's windows scale with its 30 days: 1h becomes 1h04m, as Pyrra's own
	if a := pyrra[0].Alerting[0]; a.Factor != 14 || a.Long != timeparse.Duration(64*time.Minute) || a.Short != timeparse.Duration(5*time.Minute) {
		t.Errorf("pyrra fast window %s/%s ×%g", time.Duration(a.Long), time.Duration(a.Short), a.Factor)
	}
	open := importFile(t, "openslo.yaml")
	if open[0].Good == "" || open[0].Total == "" || open[0].Indicator != "availability" {
		t.Errorf("openslo ratio by reference: %+v", open[0])
	}
}

func TestImportProblemsNameFileAndLine(t *testing.T) {
	for _, c := range []struct {
		name, src string
		line      int
		contains  string
	}{
		{"unknown", "kind: Deployment\napiVersion: apps/v1\n", 1, "not a Sloth"},
		{"sloth plugin", "version: prometheus/v1\nservice: a\nslos:\n  - name: x\n    objective: 99\n    sli:\n      plugin:\n        id: sloth-common/availability\n", 8, "SLI plugins"},
		{"sloth objective", "version: prometheus/v1\nservice: a\nslos:\n  - name: x\n    objective: 101\n    sli:\n      events:\n        error_query: a[{{.window}}]\n        total_query: b[{{.window}}]\n", 5, "objective: 101"},
		{"pyrra bool gauge", "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: x\nspec:\n  target: '99'\n  window: 4w\n  indicator:\n    bool_gauge:\n      metric: up\n", 9, "only Pyrra's ratio and latency"},
		{"pyrra window", "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: x\nspec:\n  target: '99'\n  window: 0d\n  indicator:\n    ratio:\n      errors: {metric: 'a{code=\"5\"}'}\n      total: {metric: a}\n", 7, "window is required"},
		{"pyrra target", "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: x\nspec:\n  target: lots\n  window: 4w\n  indicator:\n    ratio:\n      errors: {metric: 'a{code=\"5\"}'}\n      total: {metric: a}\n", 6, `"lots" is not a number`},
		{"openslo calendar", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: s\n  timeWindow:\n    - duration: 1M\n      isRolling: false\n  indicator: {spec: {ratioMetric: {}}}\n  objectives: [{target: 0.99}]\n", 8, "calendar windows"},
		{"openslo missing sli", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  indicatorRef: nope\n", 5, `no SLI "nope"`},
		{"oncall unknown key", "slos:\n  - name: x\n    service: s\n    objectiv: 99\n", 4, "objectiv"},
		{"syntax", "slos:\n  - name: [\n", 2, "invalid YAML"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ImportSLOs("f.yaml", []byte(c.src))
			ps, ok := err.(problem.Problems)
			if !ok {
				t.Fatalf("error %v", err)
			}
			for _, p := range ps {
				if p.File == "f.yaml" && p.Line == c.line && strings.Contains(p.Error(), c.contains) {
					return
				}
			}
			t.Errorf("no problem at line %d containing %q in:\n%v", c.line, c.contains, err)
		})
	}
}

func TestSLOFilesJoinTheConfig(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "slos", "sloth.yaml"))
	os.WriteFile(filepath.Join(dir, "sloth.yaml"), b, 0o600)
	cfgPath := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfgPath, []byte("slos:\n  - {name: web, service: web, objective: 99.9, window: 28d}\nslo_files: [sloth.yaml, missing.yaml]\n"), 0o600)
	_, err := Load(cfgPath, true, func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") || !strings.Contains(err.Error(), "oncall.yaml:3") {
		t.Fatalf("a missing SLO file: %v", err)
	}
	os.WriteFile(cfgPath, []byte("slos:\n  - {name: web, service: web, objective: 99.9, window: 28d}\nslo_files: [sloth.yaml]\n"), 0o600)
	cfg, err := Load(cfgPath, true, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SLOs) != 3 || cfg.SLOs[0].Origin != cfgPath+":2" || !strings.HasPrefix(cfg.SLOs[1].Origin, filepath.Join(dir, "sloth.yaml")+":") {
		t.Errorf("slos %+v", cfg.SLOs)
	}
}

// An imported objective between 0 and 1 is warned of at its own line, as
// the config's own is; a file listed twice is read once and said so.
func TestImportedObjectiveWrittenAsARatioWarns(t *testing.T) {
	dir := t.TempDir()
	sloth := "version: prometheus/v1\nservice: a\nslos:\n  - name: x\n    objective: 0.999\n    sli:\n      events:\n        error_query: a[{{.window}}]\n        total_query: b[{{.window}}]\n"
	pyrra := "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: y\nspec:\n  target: \"0.999\"\n  window: 30d\n  indicator:\n    ratio:\n      errors: {metric: 'a{code=\"5\"}'}\n      total: {metric: a}\n"
	os.WriteFile(filepath.Join(dir, "sloth.yaml"), []byte(sloth), 0o600)
	os.WriteFile(filepath.Join(dir, "pyrra.yaml"), []byte(pyrra), 0o600)
	cfgPath := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfgPath, []byte("slo_files: [sloth.yaml, pyrra.yaml, sloth.yaml]\n"), 0o600)
	cfg, err := Load(cfgPath, true, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		cfgPath + ":1:37: slo_files[2]: sloth.yaml is listed twice (also slo_files[0])",
		filepath.Join(dir, "sloth.yaml") + `:5:16: slo "x": objective 0.999 means 0.999%; for 99.9% write 99.9`,
		filepath.Join(dir, "pyrra.yaml") + `:6:11: slo "y": objective 0.999 means 0.999%; for 99.9% write 99.9`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(cfg.SLOs) != 2 {
		t.Errorf("warnings:\n%s\nwant:\n%s\n(%d SLOs)", strings.Join(got, "\n"), strings.Join(want, "\n"), len(cfg.SLOs))
	}
	// a broken file listed twice says its problem once
	os.WriteFile(filepath.Join(dir, "sloth.yaml"), []byte(strings.Replace(sloth, "0.999", "101", 1)), 0o600)
	_, err = Load(cfgPath, true, func(string) (string, bool) { return "", false })
	if n := strings.Count(fmt.Sprint(err), "objective: 101"); n != 1 {
		t.Errorf("the problem said %d times:\n%v", n, err)
	}
}

// An objective in percent becomes a ratio without float noise: 99.9 is
// 0.999, not 0.9990000000000001.
func TestObjectiveRatioHasNoFloatNoise(t *testing.T) {
	for pct, want := range map[float64]float64{99.9: 0.999, 0.999: 0.00999, 99.95: 0.9995, 99.99999: 0.9999999} {
		if got := (SLO{Objective: pct}).Ratio(); got != want {
			t.Errorf("%v%% is the ratio %v, want %v", pct, got, want)
		}
	}
}
