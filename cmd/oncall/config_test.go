package main

import (
	"slices"
	"testing"
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
