package config

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/internal/problem"
)

// A change convention that cannot work fails at load, naming the line of
// the key at fault, not at 3 AM when an incident reads changes.
func TestChangeConventionsAreCheckedAtLoad(t *testing.T) {
	_, err := parse(t, `conventions:
  changes:
    presets: [build_info]
    custom:
      - name: acme_deploys
        query: acme_deploy_info[{{.Window}}]
        service_label: service
        version_label: version
        kind: deploy
`, nil)
	wantProblem(t, err, 6, 16, `conventions.changes.custom[0].query: "acme_deploys": template`)
	cfg, err := parse(t, "conventions:\n  changes:\n    presets: [kube_restart]\n    service_labels: {kube_restart: [container]}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := cfg.Conventions.CompileChanges(); err != nil || r.ServiceLabels("kube_restart")[0] != "container" || len(r.Presets) != 1 {
		t.Fatalf("changes %+v, %v", r, err)
	}
}

// A bad conventions.resources entry is reported at its own line, once,
// and not a second time when the walk already blanked it; both
// service_labels settings take a label or a list.
func TestResourceConventionsAreCheckedAtLoad(t *testing.T) {
	_, err := parse(t, `conventions:
  resources:
    presets: [hikaricp, cadvisor, hikaricp]
    service_labels:
      cadvisor: app-name
`, nil)
	wantProblem(t, err, 3, 35, `conventions.resources.presets[2]: "hikaricp" is listed twice`)
	_, err = parse(t, "conventions:\n  resources:\n    service_labels:\n      cadvisor: app-name\n", nil)
	wantProblem(t, err, 4, 17, `conventions.resources.service_labels.cadvisor: "app-name" is not a Prometheus label name`)
	_, err = parse(t, "conventions:\n  resources:\n    service_labels:\n      cadvisor: {app: x}\n", nil)
	wantProblem(t, err, 4, 17, "expected a label or a list of labels, got a mapping")
	var ps problem.Problems
	if errors.As(err, &ps) && len(ps) != 1 {
		t.Errorf("a blanked value reported again by the compile:\n%v", err)
	}
	_, err = parse(t, "conventions:\n  resources:\n    custom:\n      - name: mine\n        kind: threads\n        used: a\n        max: b\n", nil)
	wantProblem(t, err, 5, 15, `conventions.resources.custom[0].kind: "mine": kind "threads" is not one of`)
	if strings.Contains(err.Error(), "resources custom") {
		t.Errorf("the key path said twice: %v", err)
	}
	cfg, err := parse(t, "conventions:\n  resources:\n    service_labels: {cadvisor: app, hikaricp: [app, job]}\n  changes:\n    service_labels: {build_info: app}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	rq, err := cfg.Conventions.CompileResources()
	if err != nil || !slices.Equal(rq.ServiceLabels("cadvisor"), []string{"app"}) || !slices.Equal(rq.ServiceLabels("hikaricp"), []string{"app", "job"}) {
		t.Fatalf("resources %v %v, %v", rq.ServiceLabels("cadvisor"), rq.ServiceLabels("hikaricp"), err)
	}
	if cr, err := cfg.Conventions.CompileChanges(); err != nil || !slices.Equal(cr.ServiceLabels("build_info"), []string{"app"}) {
		t.Fatalf("changes %v, %v", cr.ServiceLabels("build_info"), err)
	}
}
