package sources

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTemplatesThatLoopFailAtLoad: a template writing more than
// MaxRenderedQuery fails at load, naming the template, in every family
// that renders one (change, resource, RED), instead of running for
// seconds and gigabytes.
func TestTemplatesThatLoopFailAtLoad(t *testing.T) {
	const loop = `{{range 20000000}}{{$.ServiceLabel}}{{end}}`
	c := DefaultConventions()
	c.Changes.Custom = []CustomChange{{Name: "dos", Query: loop, ServiceLabel: "service", VersionLabel: "version", Kind: ChangeDeploy}}
	_, err := c.CompileChanges()
	var ce *ConventionError
	if !errors.As(err, &ce) || ce.Path != "changes.custom[0].query" || !strings.Contains(err.Error(), `"dos": template: `+errQueryTooLong.Error()) {
		t.Errorf("change: %v", err)
	}

	c = DefaultConventions()
	c.Resources.Custom = []CustomResource{{Name: "dos", Kind: ResourceKindPool, Used: loop, Max: "x", ServiceLabel: "app", TargetLabel: "db"}}
	if _, err := c.CompileResources(); !errors.As(err, &ce) || ce.Path != "resources.custom[0].used" || !strings.Contains(err.Error(), errQueryTooLong.Error()) {
		t.Errorf("resource: %v", err)
	}

	c = DefaultConventions()
	c.RED = REDTemplates{Preset: "custom", Rate: loop, Errors: "x", Latency: "x"}
	if _, err := c.CompileRED(); err == nil || !strings.Contains(err.Error(), "red rate template") || !errors.Is(err, errQueryTooLong) {
		t.Errorf("red: %v", err)
	}
}

// TestPartialNamesItsPartsOnOneLine: a partial answer reads as its parts
// joined on one line, is ErrPartial, and keeps the parts for errors.As.
func TestPartialNamesItsPartsOnOneLine(t *testing.T) {
	be := &BackendError{Backend: "grafana", Op: "annotations", URL: "GET http://g/api/annotations", Status: 401, Body: `{"message":"invalid API key"}`}
	err := Partial(nil, errors.New(Brief(be)), errors.New("presets build_info did not answer within 4.5s"))
	if !errors.Is(err, ErrPartial) || err.Error() != "grafana annotations: HTTP 401; presets build_info did not answer within 4.5s" {
		t.Errorf("%v", err)
	}
	if Partial(nil, nil) != nil {
		t.Errorf("no parts is no error")
	}
}

// TestMergeChangesSaysWhichSourceFailed: Grafana failing while Prometheus
// found changes is said, in a few words, next to what was found.
func TestMergeChangesSaysWhichSourceFailed(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	prom := fixedChanges{found: []Change{{T: t0, Service: "checkout", Kind: ChangeDeploy, Source: "prometheus: build_info"}}}
	for _, failed := range []error{
		&BackendError{Backend: "grafana", Op: "annotations", Status: 401, Body: "secret-looking body"},
		&BackendError{Backend: "grafana", Op: "annotations", Err: fmt.Errorf("decoding: %w", errors.New("invalid character '<'"))},
	} {
		got, err := MergeChanges(prom, fixedChanges{err: failed}).Changes(context.Background(), TimeRange{})
		if len(got) != 1 || !errors.Is(err, ErrPartial) || !strings.HasPrefix(err.Error(), "grafana annotations: ") || strings.Contains(err.Error(), "body") {
			t.Errorf("%d changes, %v", len(got), err)
		}
	}
}

// TestFoldChangesKeepsTheLatestPerServiceAndKind: the earliest changes of
// a service and kind beyond MaxChangesPerKind are folded into the
// earliest kept, which counts them; other services and kinds are kept.
func TestFoldChangesKeepsTheLatestPerServiceAndKind(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var cs []Change
	for i := range 25 {
		cs = append(cs, Change{T: t0.Add(time.Duration(i) * time.Minute), Service: "api", Kind: ChangeDeploy, Detail: "d", Version: strings.Repeat("v", 500)})
	}
	cs = append(cs, Change{T: t0, Service: "api", Kind: ChangeRestart}, Change{T: t0, Service: "db", Kind: ChangeDeploy})
	got := FoldChanges(cs)
	if len(got) != MaxChangesPerKind+2 || got[0].T != t0.Add(15*time.Minute) || got[0].Detail != "d (25 deploys in range, the 15 earliest folded)" {
		t.Fatalf("%d kept, first %+v", len(got), got[0])
	}
	if n := len([]rune(got[0].Version)); n != MaxVersionText {
		t.Errorf("version of %d runes", n)
	}
}
