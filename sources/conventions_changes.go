package sources

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
)

// ChangeConventions say where a metrics backend finds deploys, restarts
// and scaling: which built-in presets to read, which label names the
// service in each, and the fleet's own change metrics.
type ChangeConventions struct {
	// Presets are the built-in readers to run, by name (ChangePresets),
	// in order of precedence: when two report the same change, the first
	// listed tells it. Left out, every preset runs; an empty list
	// (presets: []) runs none, leaving only Custom.
	Presets []string `yaml:"presets" json:"presets"`
	// ServiceLabels name, per preset, the label or labels that name the
	// service, tried in order: the first a series has wins. A preset left out keeps
	// its default (DefaultChangeServiceLabels).
	ServiceLabels map[string]LabelList `yaml:"service_labels,omitempty" json:"service_labels,omitempty"`
	// Custom are the fleet's own change metrics.
	Custom []CustomChange `yaml:"custom,omitempty" json:"custom,omitempty"`
}

// CustomChange reads a fleet's own change metric, such as
// acme_deploy_info{service, version}: a new value of VersionLabel in a
// service is a change of Kind.
type CustomChange struct {
	// Name is cited in each change's Source ("prometheus: <name>").
	Name string `yaml:"name" json:"name"`
	// Query is a PromQL template over ChangeTemplateData, read as a range
	// query: each series holds one service's one version.
	Query        string `yaml:"query" json:"query"`
	ServiceLabel string `yaml:"service_label" json:"service_label"`
	VersionLabel string `yaml:"version_label" json:"version_label"`
	// Kind is deploy (a return to an earlier version is then a
	// rollback), config, restart or scale.
	Kind ChangeKind `yaml:"kind" json:"kind"`
}

// ChangeTemplateData is what a custom change template sees: the labels
// it reads back and the range query's step, e.g.
// `max by ({{.ServiceLabel}}, {{.VersionLabel}}) (last_over_time(acme_deploy_info[{{.Step}}]))`.
type ChangeTemplateData struct {
	ServiceLabel string
	VersionLabel string
	Step         string
}

// The built-in change presets.
const (
	PresetBuildInfo      = "build_info"      // the version label of *_build_info
	PresetTargetInfo     = "target_info"     // OTel target_info{service_version}
	PresetKubeDeploy     = "kube_deploy"     // kube-state-metrics deployment generation, ReplicaSet creation
	PresetProcessRestart = "process_restart" // process_start_time_seconds moving
	PresetKubeRestart    = "kube_restart"    // container restarts and OOM kills
	PresetKubeScale      = "kube_scale"      // deployment replicas and HPA targets
)

// ChangePresets are the built-in change presets, in the order they run.
var ChangePresets = []string{PresetBuildInfo, PresetTargetInfo, PresetKubeDeploy, PresetProcessRestart, PresetKubeRestart, PresetKubeScale}

// DefaultChangeServiceLabels are the labels each preset reads the service
// from when the conventions name none. prometheusLabel is
// service_label.prometheus, the label of the fleet's own metrics. The
// labels pod and replicaset are read as the workload that owns them: the
// generated suffixes are cut ("checkout-7d9f8b6c4-x2k9z" is "checkout").
func DefaultChangeServiceLabels(preset, prometheusLabel string) []string {
	switch preset {
	case PresetTargetInfo:
		return []string{"service_name", "job"} // OTel's resource attribute, else job, which OTel sets to it
	case PresetKubeDeploy:
		return []string{"deployment", "replicaset"}
	case PresetKubeRestart:
		return []string{"pod"}
	case PresetKubeScale:
		return []string{"deployment", "horizontalpodautoscaler"}
	}
	return []string{prometheusLabel}
}

// ChangeReaders is the checked form of ChangeConventions.
type ChangeReaders struct {
	Presets []string
	labels  map[string][]string
	Custom  []CustomChangeQuery
}

// CustomChangeQuery is a compiled CustomChange.
type CustomChangeQuery struct {
	Name, ServiceLabel, VersionLabel string
	Kind                             ChangeKind
	query                            *template.Template
}

// Render returns the custom change's PromQL for a range query at step
// (a PromQL duration such as "15s").
func (q CustomChangeQuery) Render(step string) string {
	s, _ := renderBounded(q.query, ChangeTemplateData{ServiceLabel: q.ServiceLabel, VersionLabel: q.VersionLabel, Step: step}) // checked by CompileChanges
	return s
}

// MaxRenderedQuery bounds what a query template writes, in bytes: a real
// PromQL query is a few hundred bytes, a fleet-wide service regex a few
// tens of kilobytes, and a template that loops (`{{range 20000000}}`)
// must fail at load in a moment, not take seconds and gigabytes.
const MaxRenderedQuery = 64 << 10

// errQueryTooLong is what a template writing past MaxRenderedQuery fails with.
var errQueryTooLong = fmt.Errorf("renders more than %d KB; a PromQL query is far shorter (a loop?)", MaxRenderedQuery>>10)

// boundedWriter is a buffer that fails a write past MaxRenderedQuery,
// which stops the template executing it.
type boundedWriter struct{ bytes.Buffer }

func (w *boundedWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > MaxRenderedQuery {
		return 0, errQueryTooLong
	}
	return w.Buffer.Write(p)
}

// renderBounded executes tpl with data, failing past MaxRenderedQuery.
func renderBounded(tpl *template.Template, data any) (string, error) {
	var w boundedWriter
	if err := tpl.Execute(&w, data); err != nil {
		return "", err
	}
	return w.String(), nil
}

// ServiceLabels are the labels a preset reads the service from, in order.
func (r ChangeReaders) ServiceLabels(preset string) []string { return r.labels[preset] }

// CompileChanges checks the change conventions and parses the custom
// templates. The error is a *ConventionError at the key at fault.
func (c Conventions) CompileChanges() (ChangeReaders, error) {
	cc := c.Changes
	r := ChangeReaders{Presets: slices.Clone(cc.Presets), labels: map[string][]string{}}
	if err := checkPresets("changes.presets", cc.Presets, ChangePresets); err != nil {
		return ChangeReaders{}, err
	}
	if err := checkServiceLabels("changes.service_labels", cc.ServiceLabels, ChangePresets); err != nil {
		return ChangeReaders{}, err
	}
	for _, p := range ChangePresets {
		r.labels[p] = DefaultChangeServiceLabels(p, c.ServiceLabel.Prometheus)
		if l, ok := cc.ServiceLabels[p]; ok {
			r.labels[p] = l
		}
	}
	for i, x := range cc.Custom {
		at := fmt.Sprintf("changes.custom[%d]", i)
		q, err := x.compile(at)
		if err != nil {
			return ChangeReaders{}, err
		}
		if slices.Contains(ChangePresets, q.Name) || slices.ContainsFunc(r.Custom, func(o CustomChangeQuery) bool { return o.Name == q.Name }) {
			return ChangeReaders{}, conventionErr(at+".name", "%q is already a preset's or another custom change's", q.Name)
		}
		r.Custom = append(r.Custom, q)
	}
	return r, nil
}

// compile checks a custom change (at path) and parses its template; the
// error is at the key at fault.
func (x CustomChange) compile(path string) (CustomChangeQuery, error) {
	bad := func(key, format string, args ...any) (CustomChangeQuery, error) {
		return CustomChangeQuery{}, conventionErr(path+key, "%q: %s", x.Name, fmt.Sprintf(format, args...))
	}
	if x.Name == "" {
		return CustomChangeQuery{}, conventionErr(path, "needs a name, cited as each change's source")
	}
	for _, l := range [][2]string{{"service_label", x.ServiceLabel}, {"version_label", x.VersionLabel}} {
		if !labelName.MatchString(l[1]) {
			return bad("."+l[0], "%q is not a Prometheus label name", l[1])
		}
	}
	switch x.Kind {
	case ChangeDeploy, ChangeConfig, ChangeRestart, ChangeScale:
	default:
		return bad(".kind", "%q is not one of deploy, config, restart, scale", x.Kind)
	}
	if strings.TrimSpace(x.Query) == "" {
		return bad("", "needs a query")
	}
	tpl, err := template.New(x.Name).Option("missingkey=error").Parse(x.Query)
	if err == nil {
		// Execute once so a reference to an unknown field fails at load time, not at 3 AM.
		_, err = renderBounded(tpl, ChangeTemplateData{ServiceLabel: x.ServiceLabel, VersionLabel: x.VersionLabel, Step: "15s"})
	}
	if err != nil {
		return bad(".query", "template: %v", err)
	}
	return CustomChangeQuery{Name: x.Name, ServiceLabel: x.ServiceLabel, VersionLabel: x.VersionLabel, Kind: x.Kind, query: tpl}, nil
}

// LabelList is one label or several, tried in order: the first a series
// has names the service. In YAML it is a string or a list of strings, so
// that every service_labels setting takes the same shapes.
type LabelList []string

// UnmarshalYAML reads a single label as a list of one. It takes yaml's
// decode function rather than a node so that sources needs no YAML
// package; a loader that walks the file checks the shape first.
func (l *LabelList) UnmarshalYAML(decode func(any) error) error {
	var one string
	if err := decode(&one); err == nil {
		*l = LabelList{one}
		return nil
	}
	var many []string
	if err := decode(&many); err != nil {
		return err
	}
	*l = many
	return nil
}

// ConventionError is a fault in the conventions at one key, so that a
// loader can point at that key's line. Path is dotted from the
// conventions as the file spells it: "changes.presets[2]",
// "resources.service_labels.cadvisor".
type ConventionError struct {
	Path string
	Err  error
}

func (e *ConventionError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the fault itself.
func (e *ConventionError) Unwrap() error { return e.Err }

// conventionErr is a ConventionError at path.
func conventionErr(path, format string, args ...any) error {
	return &ConventionError{Path: path, Err: fmt.Errorf(format, args...)}
}

// checkServiceLabels checks a service_labels setting (at path) whose keys
// must be presets and whose values Prometheus label names.
func checkServiceLabels(path string, labels map[string]LabelList, presets []string) error {
	for _, p := range slices.Sorted(maps.Keys(labels)) {
		if !slices.Contains(presets, p) {
			return conventionErr(path+"."+p, "%q is not a preset (%s)", p, strings.Join(presets, ", "))
		}
		if len(labels[p]) == 0 {
			return conventionErr(path+"."+p, "needs at least one label")
		}
		for i, l := range labels[p] {
			if !labelName.MatchString(l) {
				return conventionErr(fmt.Sprintf("%s.%s[%d]", path, p, i), "%q is not a Prometheus label name", l)
			}
		}
	}
	return nil
}

// checkPresets checks a presets setting (at path): each a known preset,
// none twice.
func checkPresets(path string, listed, known []string) error {
	for i, p := range listed {
		at := fmt.Sprintf("%s[%d]", path, i)
		if !slices.Contains(known, p) {
			return conventionErr(at, "%q is not one of %s", p, strings.Join(known, ", "))
		}
		if slices.Index(listed, p) < i {
			return conventionErr(at, "%q is listed twice", p)
		}
	}
	return nil
}
