package sources

import (
	"fmt"
	"regexp"
	"slices"
	"text/template"
)

// Resource presets: which exporters' pool, CPU and memory series the
// Prometheus adapter reads. Each names a family of metrics; the adapter
// writes their queries.
const (
	ResourceOTelPool  = "otel_pool"
	ResourceHikariCP  = "hikaricp"
	ResourceGoSQL     = "go_sql"
	ResourcePgBouncer = "pgbouncer"
	ResourceCAdvisor  = "cadvisor"
	ResourceProcess   = "process"
)

// ResourcePresets are every built-in preset, in the default order of
// precedence when two report the same resource of a service: a pool's
// own exporter before a proxy's, a container's limit before a process's
// cores.
var ResourcePresets = []string{ResourceOTelPool, ResourceHikariCP, ResourceGoSQL, ResourcePgBouncer, ResourceCAdvisor, ResourceProcess}

// Resource kinds a custom resource may have: the Resource of its
// Saturation is "pool:<target>", or the kind itself.
const (
	ResourceKindPool    = "pool"
	ResourceKindWorkers = "workers"
	ResourceKindCPU     = "cpu"
	ResourceKindMemory  = "memory"
)

// ResourceConventions say where the fleet's pool, CPU and memory
// saturation lives in Prometheus.
type ResourceConventions struct {
	// Presets are the built-in presets to query, in order of precedence:
	// when two report the same resource of a service, the first listed
	// tells it (custom resources come before every preset). Left out,
	// every preset in ResourcePresets' order; an empty list (presets: [])
	// queries none, leaving only Custom.
	Presets []string `yaml:"presets" json:"presets"`
	// ServiceLabels name, per preset, the label or labels that name the
	// owning service, tried in order: the first a series has wins. A
	// preset left out reads service_label.prometheus (cadvisor's default
	// is container).
	ServiceLabels map[string]LabelList `yaml:"service_labels,omitempty" json:"service_labels,omitempty"`
	// Targets map a pool's name to the service the graph calls its target:
	// a key "service/pool" applies to that service's pool only, a key
	// "pool" to every service's; an unmapped pool's name is its target.
	Targets map[string]string `yaml:"targets,omitempty" json:"targets,omitempty"`
	// PgBouncerMax is a pgbouncer pool's size when the exporter has no
	// pgbouncer_databases_pool_size for it (pgbouncer.ini's default_pool_size).
	PgBouncerMax float64 `yaml:"pgbouncer_max,omitempty" json:"pgbouncer_max,omitempty"`
	// ProcessCores is the cores each process of the process preset may
	// use; 0 reads machine_cpu_cores.
	ProcessCores float64 `yaml:"process_cores,omitempty" json:"process_cores,omitempty"`
	// Custom resources, for fleets that export their own names.
	Custom []CustomResource `yaml:"custom,omitempty" json:"custom,omitempty"`
}

// CustomResource is one resource read with the fleet's own PromQL. Used
// and Max are Go text/templates over ResourceTemplateData whose series
// carry ServiceLabel (and TargetLabel for a pool).
type CustomResource struct {
	Name string `yaml:"name" json:"name"` // shown as "prometheus: <name>"
	Kind string `yaml:"kind" json:"kind"` // pool, workers, cpu or memory
	Used string `yaml:"used" json:"used"`
	Max  string `yaml:"max" json:"max"`
	// ServiceLabel names the owning service; default service_label.prometheus.
	ServiceLabel string `yaml:"service_label,omitempty" json:"service_label,omitempty"`
	// TargetLabel is the label naming a pool (required for kind pool).
	TargetLabel string `yaml:"target_label,omitempty" json:"target_label,omitempty"`
	// Targets map pool names to targets as ResourceConventions.Targets,
	// and are tried before them.
	Targets map[string]string `yaml:"targets,omitempty" json:"targets,omitempty"`
}

// ResourceTemplateData is what a custom resource template sees. Service
// is a regular expression (already escaped, `.+` for all services) and
// Window a rate() range, as in REDTemplateData.
type ResourceTemplateData struct {
	Service      string
	ServiceLabel string
	Window       string
}

// labelName is what Prometheus accepts as a label name; a label put in a
// query must be one, or the query is invalid or worse. The change
// conventions check theirs with it too.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ResourceQueries is the checked form of the resource conventions.
type ResourceQueries struct {
	// Presets are the enabled built-in presets, in order of precedence.
	Presets []string
	Custom  []CustomResourceQuery
	conv    ResourceConventions
	promSvc string
}

// CustomResourceQuery is a custom resource with its templates parsed.
type CustomResourceQuery struct {
	CustomResource
	used, max *template.Template
}

// CompileResources checks the resource conventions and parses the custom
// templates. The error is a *ConventionError at the key at fault.
func (c Conventions) CompileResources() (ResourceQueries, error) {
	rc := c.Resources
	q := ResourceQueries{Presets: slices.Clone(rc.Presets), conv: rc, promSvc: c.ServiceLabel.Prometheus}
	if err := checkPresets("resources.presets", rc.Presets, ResourcePresets); err != nil {
		return ResourceQueries{}, err
	}
	if err := checkServiceLabels("resources.service_labels", rc.ServiceLabels, ResourcePresets); err != nil {
		return ResourceQueries{}, err
	}
	for _, f := range []struct {
		key   string
		value float64
	}{{"pgbouncer_max", rc.PgBouncerMax}, {"process_cores", rc.ProcessCores}} {
		if f.value < 0 {
			return ResourceQueries{}, conventionErr("resources."+f.key, "must not be negative")
		}
	}
	seen := map[string]bool{}
	for i, cr := range rc.Custom {
		at := fmt.Sprintf("resources.custom[%d]", i)
		bad := func(key, format string, args ...any) error {
			return conventionErr(at+key, "%q: %s", cr.Name, fmt.Sprintf(format, args...))
		}
		switch {
		case cr.Name == "":
			return ResourceQueries{}, conventionErr(at, "needs a name, shown as each reading's source")
		case seen[cr.Name] || slices.Contains(ResourcePresets, cr.Name):
			return ResourceQueries{}, bad(".name", "the name is already a preset's or another custom resource's")
		case !slices.Contains([]string{ResourceKindPool, ResourceKindWorkers, ResourceKindCPU, ResourceKindMemory}, cr.Kind):
			return ResourceQueries{}, bad(".kind", "kind %q is not one of pool, workers, cpu, memory", cr.Kind)
		case cr.Used == "" || cr.Max == "":
			return ResourceQueries{}, bad("", "needs both a used and a max template")
		case cr.Kind == ResourceKindPool && cr.TargetLabel == "":
			return ResourceQueries{}, bad("", "a pool needs target_label, the label naming the pool or its target")
		case cr.TargetLabel != "" && !labelName.MatchString(cr.TargetLabel):
			return ResourceQueries{}, bad(".target_label", "%q is not a Prometheus label name", cr.TargetLabel)
		case cr.ServiceLabel != "" && !labelName.MatchString(cr.ServiceLabel):
			return ResourceQueries{}, bad(".service_label", "%q is not a Prometheus label name", cr.ServiceLabel)
		}
		seen[cr.Name] = true
		if cr.ServiceLabel == "" {
			cr.ServiceLabel = c.ServiceLabel.Prometheus
		}
		cq := CustomResourceQuery{CustomResource: cr}
		for _, f := range []struct {
			name, src string
			dst       **template.Template
		}{{"used", cr.Used, &cq.used}, {"max", cr.Max, &cq.max}} {
			tpl, err := template.New(f.name).Option("missingkey=error").Parse(f.src)
			if err == nil {
				// executed once so that an unknown field fails at load time
				_, err = renderBounded(tpl, ResourceTemplateData{Service: ".+", ServiceLabel: cr.ServiceLabel, Window: "5m"})
			}
			if err != nil {
				return ResourceQueries{}, bad("."+f.name, "template: %v", err)
			}
			*f.dst = tpl
		}
		q.Custom = append(q.Custom, cq)
	}
	return q, nil
}

// ServiceLabels are the labels naming the owning service in a preset's
// series, in order: the first a series has wins.
func (q ResourceQueries) ServiceLabels(preset string) []string {
	if l := q.conv.ServiceLabels[preset]; len(l) > 0 {
		return l
	}
	if preset == ResourceCAdvisor {
		return []string{"container"} // cAdvisor and kube-state-metrics have no job of the app's
	}
	return []string{q.promSvc}
}

// PgBouncerMax is the configured pgbouncer pool size, 0 when unset.
func (q ResourceQueries) PgBouncerMax() float64 { return q.conv.PgBouncerMax }

// ProcessCores is the configured cores per process, 0 when unset.
func (q ResourceQueries) ProcessCores() float64 { return q.conv.ProcessCores }

// PoolTarget names the target of a service's pool: the custom resource's
// map, then the conventions', each by "service/pool" then "pool"; an
// unmapped pool's name is its target.
func (q ResourceQueries) PoolTarget(custom map[string]string, service, pool string) string {
	for _, m := range []map[string]string{custom, q.conv.Targets} {
		if t := m[service+"/"+pool]; t != "" {
			return t
		}
		if t := m[pool]; t != "" {
			return t
		}
	}
	return pool
}

// Render returns the used and max queries for the data.
func (q CustomResourceQuery) Render(d ResourceTemplateData) (used, max string) {
	// validated by CompileResources with the same data type
	used, _ = renderBounded(q.used, d)
	max, _ = renderBounded(q.max, d)
	return used, max
}

// DefaultResourceConventions query every preset.
func DefaultResourceConventions() ResourceConventions {
	return ResourceConventions{Presets: slices.Clone(ResourcePresets)}
}
