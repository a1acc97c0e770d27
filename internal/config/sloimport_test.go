package config

import (
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
	slos, err := ImportSLOs(p, b)
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
		{"sloth objective", "version: prometheus/v1\nservice: a\nslos:\n  - name: x\n    objective: 101\n    sli:\n      events:\n        error_query: a[{{.window}}]\n        total_query: b[{{.window}}]\n", 4, "objective: 101"},
		{"pyrra bool gauge", "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: x\nspec:\n  target: '99'\n  window: 4w\n  indicator:\n    bool_gauge:\n      metric: up\n", 9, "only Pyrra's ratio and latency"},
		{"pyrra target", "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: x\nspec:\n  target: lots\n  window: 4w\n  indicator:\n    ratio:\n      errors: {metric: 'a{code=\"5\"}'}\n      total: {metric: a}\n", 6, `"lots" is not a number`},
		{"openslo calendar", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: s\n  timeWindow:\n    - duration: 1M\n      isRolling: false\n  indicator: {spec: {ratioMetric: {}}}\n  objectives: [{target: 0.99}]\n", 8, "calendar windows"},
		{"openslo missing sli", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  indicatorRef: nope\n", 5, `no SLI "nope"`},
		{"oncall unknown key", "slos:\n  - name: x\n    service: s\n    objectiv: 99\n", 4, "objectiv"},
		{"syntax", "slos:\n  - name: [\n", 2, "invalid YAML"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ImportSLOs("f.yaml", []byte(c.src))
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
