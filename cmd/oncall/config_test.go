package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

func TestConfigOptions(t *testing.T) {
	if o, err := optionsFor(t, NewCmdConfigValidate); err != nil || o.Factory == nil {
		t.Errorf("validate: %v %+v", err, o)
	}
	if o, err := optionsFor(t, NewCmdConfigShow); err != nil || o.output != "yaml" {
		t.Errorf("show: %v %+v", err, o)
	}
	if o, err := optionsFor(t, NewCmdConfigShow, "-o", "json"); err != nil || o.output != "json" {
		t.Errorf("show -o json: %v %+v", err, o)
	}
	if o, err := optionsFor(t, NewCmdConfigGetContexts, "-o", "json"); err != nil || o.output != "json" {
		t.Errorf("get-contexts -o json: %v %+v", err, o)
	}
	if o, err := optionsFor(t, NewCmdConfigUseContext, "prod"); err != nil || o.name != "prod" {
		t.Errorf("use-context prod: %v %+v", err, o)
	}
	o, err := optionsFor(t, NewCmdConfigImportGrafana, "a.yaml", "b.yaml", "-w", "out.yaml", "--force")
	if err != nil || !slices.Equal(o.files, []string{"a.yaml", "b.yaml"}) || o.write != "out.yaml" || !o.force {
		t.Errorf("import-grafana: %v %+v", err, o)
	}
	if o, err := optionsFor(t, NewCmdConfigImportGrafana, "a.yaml"); err != nil || o.write != "" || o.force {
		t.Errorf("import-grafana defaults: %v %+v", err, o)
	}
	for name, err := range map[string]error{
		"validate extra":        second(optionsFor(t, NewCmdConfigValidate, "extra")),
		"show -o toml":          second(optionsFor(t, NewCmdConfigShow, "-o", "toml")),
		"get-contexts -o yaml":  second(optionsFor(t, NewCmdConfigGetContexts, "-o", "yaml")),
		"use-context":           second(optionsFor(t, NewCmdConfigUseContext)),
		"import-grafana":        second(optionsFor(t, NewCmdConfigImportGrafana)),
		"import-grafana --nope": second(optionsFor(t, NewCmdConfigImportGrafana, "a.yaml", "--nope")),
	} {
		if exitCode(err) != exitUsage {
			t.Errorf("%s: err %v (exit %d), want a usage error", name, err, exitCode(err))
		}
	}
}

// second is the second of two results.
func second[A, B any](_ A, b B) B { return b }

// TestConfigValidateReportsEverySLOProblemAndWarns: every problem of every
// SLO at once, each at its line; a ratio written for a percentage warns
// on stderr and leaves the exit status at 0, as promtool's warnings do.
func TestConfigValidateReportsEverySLOProblemAndWarns(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "slos:\n  - name: a\n    service: s\n    indicator: availabilty\n    objective: 199.9\n    window: 28d\n")
	r := oncall(t, nil, "", "config", "validate", "--config", bad)
	if r.code != exitFailed || !strings.Contains(r.err, bad+":4:16: slos[0].indicator") || !strings.Contains(r.err, bad+":5:16: slos[0].objective: 199.9 is not a percentage") {
		t.Errorf("every problem: %+v", r)
	}
	ratio := writeFile(t, "ratio.yaml", "slos:\n  - name: a\n    service: s\n    objective: 0.999\n    window: 28d\n")
	r = oncall(t, nil, "", "config", "validate", "--config", ratio)
	if r.code != 0 || r.err != ratio+":4:16: warning: slos[0].objective: 0.999 means 0.999%; for 99.9% write 99.9\n" || !strings.HasSuffix(r.out, "1 SLO; 1 warning)\n") {
		t.Errorf("a ratio for a percentage: %+v", r)
	}
}

// TestConfigWarningsInEveryCommand: a command that reads the config says
// its warnings once on stderr, at their line, not only config validate.
func TestConfigWarningsInEveryCommand(t *testing.T) {
	dead := "http://" + testenv.FreeAddr(t)
	cfg := writeFile(t, "ratio.yaml", "datasources:\n  prometheus: {url: "+dead+", retries: 0}\nslos:\n  - {name: a, service: s, indicator: availability, objective: 0.999, window: 28d}\n")
	want := cfg + ":4:63: warning: slos[0].objective: 0.999 means 0.999%; for 99.9% write 99.9\n"
	for _, args := range [][]string{{"slo"}, {"slo", "show", "a"}, {"forecast"}, {"config", "show"}} {
		r := oncall(t, nil, "", append(args, "--config", cfg)...)
		if n := strings.Count(r.err, "warning: "); n != 1 || !strings.HasPrefix(r.err, want) {
			t.Errorf("%v: %d warnings on stderr, want one first:\n%s", args, n, r.err)
		}
	}
}
