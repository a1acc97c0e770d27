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

// The example in docs/configuration.md (kept in testdata, and checked to
// be the same) decodes over the defaults and compiles.
func TestResourceConventionsExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "resources", "conventions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(b)+"```") {
		t.Error("docs/configuration.md's resources example is not testdata/resources/conventions.yaml")
	}
	file := struct {
		Conventions Conventions `yaml:"conventions"`
	}{DefaultConventions()}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	c := file.Conventions
	q, err := c.CompileResources()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.Presets, []string{ResourceHikariCP, ResourceGoSQL, ResourceCAdvisor, ResourceProcess}) {
		t.Errorf("presets %v", q.Presets)
	}
	if !slices.Equal(q.ServiceLabels(ResourceCAdvisor), []string{"app"}) || !slices.Equal(q.ServiceLabels(ResourceHikariCP), []string{"app", "job"}) ||
		!slices.Equal(q.ServiceLabels(ResourceGoSQL), []string{"job"}) || q.ProcessCores() != 2 {
		t.Errorf("labels cadvisor %q hikaricp %q go_sql %q, cores %g", q.ServiceLabels(ResourceCAdvisor), q.ServiceLabels(ResourceHikariCP), q.ServiceLabels(ResourceGoSQL), q.ProcessCores())
	}
	if len(q.Custom) != 2 || q.Custom[0].ServiceLabel != "job" || q.Custom[1].ServiceLabel != "service" {
		t.Fatalf("custom %+v", q.Custom)
	}
	used, limit := q.Custom[0].Render(ResourceTemplateData{Service: "checkout", ServiceLabel: "job", Window: "2m"})
	if used != `sum by (job, datasource) (shop_db_pool_used{job=~"checkout"})` || !strings.HasPrefix(limit, "sum by (job, datasource) (shop_db_pool_size{") {
		t.Errorf("rendered %s and %s", used, limit)
	}
	for _, tc := range []struct {
		custom              map[string]string
		service, pool, want string
	}{
		{nil, "checkout", "HikariPool-2", "payments-db"}, // the service's own mapping
		{nil, "billing", "HikariPool-2", "HikariPool-2"}, // not this service's: the name stays
		{nil, "billing", "HikariPool-1", "orders-db"},    // every service's
		{q.Custom[0].Targets, "shop", "primary", "orders-db"},
		{map[string]string{"HikariPool-1": "ledger-db"}, "x", "HikariPool-1", "ledger-db"}, // the resource's own map first
	} {
		if got := q.PoolTarget(tc.custom, tc.service, tc.pool); got != tc.want {
			t.Errorf("PoolTarget(%s, %s) = %q, want %q", tc.service, tc.pool, got, tc.want)
		}
	}
}

func TestDefaultResourcesAreEveryPresetWithCAdvisorByContainer(t *testing.T) {
	q, err := DefaultConventions().CompileResources()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.Presets, ResourcePresets) || !slices.Equal(q.ServiceLabels(ResourceCAdvisor), []string{"container"}) || !slices.Equal(q.ServiceLabels(ResourceGoSQL), []string{"job"}) {
		t.Errorf("presets %v, cadvisor labels %q", q.Presets, q.ServiceLabels(ResourceCAdvisor))
	}
}

// TestResourcePresetsKeepTheirListedOrder: the order the presets are
// listed in is their precedence, as the change presets'.
func TestResourcePresetsKeepTheirListedOrder(t *testing.T) {
	c := DefaultConventions()
	c.Resources.Presets = []string{ResourceProcess, ResourceHikariCP}
	q, err := c.CompileResources()
	if err != nil || !slices.Equal(q.Presets, c.Resources.Presets) {
		t.Errorf("presets %v, %v; want %v", q.Presets, err, c.Resources.Presets)
	}
}

func TestResourceConventionErrorsNameTheFault(t *testing.T) {
	ok := CustomResource{Name: "mine", Kind: ResourceKindWorkers, Used: "a", Max: "b"}
	for _, tc := range []struct {
		name      string
		edit      func(*ResourceConventions)
		path, msg string
	}{
		{"unknown preset", func(r *ResourceConventions) { r.Presets = []string{"hikari"} }, "resources.presets[0]", `"hikari" is not one of otel_pool`},
		{"preset twice", func(r *ResourceConventions) { r.Presets = []string{"cadvisor", "hikaricp", "cadvisor"} }, "resources.presets[2]", `"cadvisor" is listed twice`},
		{"label of no preset", func(r *ResourceConventions) { r.ServiceLabels = map[string]LabelList{"k8s": {"app"}} }, "resources.service_labels.k8s", `"k8s" is not a preset`},
		{"hostile label", func(r *ResourceConventions) { r.ServiceLabels = map[string]LabelList{"cadvisor": {`app"}`}} }, "resources.service_labels.cadvisor[0]", `"app\"}" is not a Prometheus label name`},
		{"negative cores", func(r *ResourceConventions) { r.ProcessCores = -1 }, "resources.process_cores", "must not be negative"},
		{"no name", func(r *ResourceConventions) { c := ok; c.Name = ""; r.Custom = []CustomResource{c} }, "resources.custom[0]", "needs a name"},
		{"a preset's name", func(r *ResourceConventions) { c := ok; c.Name = "hikaricp"; r.Custom = []CustomResource{c} }, "resources.custom[0].name", `"hikaricp": the name is already`},
		{"twice", func(r *ResourceConventions) { r.Custom = []CustomResource{ok, ok} }, "resources.custom[1].name", `"mine": the name is already`},
		{"bad kind", func(r *ResourceConventions) { c := ok; c.Kind = "threads"; r.Custom = []CustomResource{c} }, "resources.custom[0].kind", `kind "threads" is not one of pool, workers, cpu, memory`},
		{"no max", func(r *ResourceConventions) { c := ok; c.Max = ""; r.Custom = []CustomResource{c} }, "resources.custom[0]", "needs both a used and a max template"},
		{"pool without target", func(r *ResourceConventions) { c := ok; c.Kind = ResourceKindPool; r.Custom = []CustomResource{c} }, "resources.custom[0]", "a pool needs target_label"},
		{"bad target label", func(r *ResourceConventions) {
			c := ok
			c.Kind, c.TargetLabel = ResourceKindPool, "pool name"
			r.Custom = []CustomResource{c}
		}, "resources.custom[0].target_label", `"pool name" is not a Prometheus label name`},
		{"unparsable", func(r *ResourceConventions) { c := ok; c.Used = "{{.Service"; r.Custom = []CustomResource{c} }, "resources.custom[0].used", `"mine": template:`},
		{"unknown field", func(r *ResourceConventions) { c := ok; c.Max = "{{.Pool}}"; r.Custom = []CustomResource{c} }, "resources.custom[0].max", `"mine": template:`},
	} {
		c := DefaultConventions()
		tc.edit(&c.Resources)
		_, err := c.CompileResources()
		var ce *ConventionError
		if !errors.As(err, &ce) || ce.Path != tc.path || !strings.Contains(ce.Err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %s: %s", tc.name, err, tc.path, tc.msg)
		}
	}
}
