package sources

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestChangeConventionsDefaultToEveryPresetAndTheirLabels(t *testing.T) {
	c := DefaultConventions()
	c.ServiceLabel.Prometheus = "service"
	r, err := c.CompileChanges()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Presets, ChangePresets) || len(r.Custom) != 0 {
		t.Fatalf("presets %v, custom %v", r.Presets, r.Custom)
	}
	for preset, want := range map[string]LabelList{
		PresetBuildInfo: {"service"}, PresetProcessRestart: {"service"}, PresetTargetInfo: {"service_name", "job"},
		PresetKubeDeploy: {"deployment", "replicaset"}, PresetKubeRestart: {"pod"}, PresetKubeScale: {"deployment", "horizontalpodautoscaler"},
	} {
		if got := r.ServiceLabels(preset); !slices.Equal(got, want) {
			t.Errorf("%s reads the service from %v, want %v", preset, got, want)
		}
	}
}

// The example in docs/configuration.md (kept in testdata, and checked to
// be the same) decodes over the defaults as the config loader does, and
// compiles.
func TestChangeConventionsExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "changes", "conventions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(b)+"```") {
		t.Error("docs/configuration.md's changes example is not testdata/changes/conventions.yaml")
	}
	file := struct {
		Conventions Conventions `yaml:"conventions"`
	}{DefaultConventions()}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	r, err := file.Conventions.CompileChanges()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Presets, []string{PresetBuildInfo, PresetKubeDeploy, PresetKubeRestart, PresetKubeScale}) ||
		!slices.Equal(r.ServiceLabels(PresetBuildInfo), []string{"app", "job"}) ||
		!slices.Equal(r.ServiceLabels(PresetKubeRestart), []string{"container"}) ||
		!slices.Equal(r.ServiceLabels(PresetKubeDeploy), []string{"deployment", "replicaset"}) {
		t.Fatalf("presets %v, labels %v %v", r.Presets, r.ServiceLabels(PresetBuildInfo), r.ServiceLabels(PresetKubeRestart))
	}
	if len(r.Custom) != 2 || r.Custom[0].Kind != ChangeDeploy || r.Custom[0].Name != "acme_deploys" || r.Custom[1].Kind != ChangeConfig {
		t.Fatalf("custom %+v", r.Custom)
	}
	if q := r.Custom[0].Render("30s"); q != "max by (service, version) (last_over_time(acme_deploy_info[30s]))" {
		t.Errorf("custom query %s", q)
	}
}

// TestChangeConventionsNameWhatIsWrong: each fault is a ConventionError
// at the key at fault, so that config validate points at its line.
func TestChangeConventionsNameWhatIsWrong(t *testing.T) {
	good := CustomChange{Name: "acme", Query: "acme_deploy_info", ServiceLabel: "service", VersionLabel: "version", Kind: ChangeDeploy}
	for _, tc := range []struct {
		path, msg string
		cc        ChangeConventions
	}{
		{"changes.presets[0]", `"kube" is not one of build_info, target_info`, ChangeConventions{Presets: []string{"kube"}}},
		{"changes.presets[1]", `"build_info" is listed twice`, ChangeConventions{Presets: []string{PresetBuildInfo, PresetBuildInfo}}},
		{"changes.service_labels.acme", `"acme" is not a preset (build_info, `, ChangeConventions{ServiceLabels: map[string]LabelList{"acme": {"job"}}}},
		{"changes.service_labels.kube_restart", `needs at least one label`, ChangeConventions{ServiceLabels: map[string]LabelList{PresetKubeRestart: {}}}},
		{"changes.service_labels.build_info[1]", `"app-name" is not a Prometheus label name`, ChangeConventions{ServiceLabels: map[string]LabelList{PresetBuildInfo: {"app", "app-name"}}}},
		{"changes.custom[0]", `needs a name`, ChangeConventions{Custom: []CustomChange{{Query: "x", ServiceLabel: "s", VersionLabel: "v", Kind: ChangeDeploy}}}},
		{"changes.custom[0].version_label", `"acme": "" is not a Prometheus label name`, ChangeConventions{Custom: []CustomChange{{Name: "acme", Query: "x", ServiceLabel: "s", Kind: ChangeDeploy}}}},
		{"changes.custom[0].kind", `"acme": "rollback" is not one of deploy, config, restart, scale`, ChangeConventions{Custom: []CustomChange{{Name: "acme", Query: "x", ServiceLabel: "s", VersionLabel: "v", Kind: ChangeRollback}}}},
		{"changes.custom[0].query", `"acme": template: template: acme:1: function "bad" not defined`, ChangeConventions{Custom: []CustomChange{{Name: "acme", Query: "{{bad}}", ServiceLabel: "s", VersionLabel: "v", Kind: ChangeDeploy}}}},
		{"changes.custom[0].query", `"acme": template: template: acme:1:2: executing "acme" at <.Window>: can't evaluate field Window`, ChangeConventions{Custom: []CustomChange{{Name: "acme", Query: "{{.Window}}", ServiceLabel: "s", VersionLabel: "v", Kind: ChangeDeploy}}}},
		{"changes.custom[1].name", `"acme" is already a preset's or another custom change's`, ChangeConventions{Custom: []CustomChange{good, good}}},
		{"changes.custom[0].name", `"build_info" is already a preset's`, ChangeConventions{Custom: []CustomChange{{Name: PresetBuildInfo, Query: "x", ServiceLabel: "s", VersionLabel: "v", Kind: ChangeDeploy}}}},
	} {
		c := DefaultConventions()
		c.Changes = tc.cc
		_, err := c.CompileChanges()
		var ce *ConventionError
		if !errors.As(err, &ce) || ce.Path != tc.path || !strings.Contains(ce.Err.Error(), tc.msg) {
			t.Errorf("got %v, want %s: %s", err, tc.path, tc.msg)
		}
	}
}

// TestLabelListTakesOneOrMany: every service_labels setting takes a label
// or a list of labels.
func TestLabelListTakesOneOrMany(t *testing.T) {
	var c ChangeConventions
	if err := yaml.Unmarshal([]byte("service_labels: {build_info: app, kube_restart: [namespace, container]}"), &c); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.ServiceLabels[PresetBuildInfo], []string{"app"}) || !slices.Equal(c.ServiceLabels[PresetKubeRestart], []string{"namespace", "container"}) {
		t.Errorf("labels %v", c.ServiceLabels)
	}
	if err := yaml.Unmarshal([]byte("service_labels: {build_info: {app: x}}"), &c); err == nil {
		t.Error("a mapping of labels decoded")
	}
}
