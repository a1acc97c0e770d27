package config

import (
	"os"
	"strings"
	"testing"
)

func TestImportGrafana(t *testing.T) {
	b, err := os.ReadFile("testdata/grafana-datasources.yaml")
	if err != nil {
		t.Fatal(err)
	}
	imp, err := ImportGrafana(map[string][]byte{"datasources.yaml": b})
	if err != nil {
		t.Fatal(err)
	}
	out := string(imp.YAML)
	for _, secret := range []string{"mimir-pass", "tenant-1", "am-key"} {
		if strings.Contains(out, secret) {
			t.Fatalf("secret %q copied into the config:\n%s", secret, out)
		}
	}
	// The output is a valid oncall config once the variables are set.
	vars := map[string]string{"GRAFANA_MIMIR_PASSWORD": "p", "GRAFANA_MIMIR_TENANT": "tenant-1", "GRAFANA_ALERTMANAGER_X_API_KEY": "k"}
	cfg, err := Parse("imported.yaml", imp.YAML, env(vars))
	if err != nil {
		t.Fatalf("imported config does not validate: %v\n%s", err, out)
	}
	p := cfg.Datasources.Prometheus
	if p.URL != "https://mimir.example/prometheus" || p.Tenant != "tenant-1" || p.BasicAuth.Username != "grafana" ||
		p.BasicAuth.Password.Reveal() != "p" || !p.TLS.InsecureSkipVerify {
		t.Fatalf("prometheus %+v: want the default (Mimir) datasource with auth, tenant and TLS", p)
	}
	if cfg.Datasources.Alertmanager.Headers["X-API-Key"].Reveal() != "k" {
		t.Fatalf("alertmanager headers %v", cfg.Datasources.Alertmanager.Headers)
	}
	c := cfg.Conventions
	if len(c.TraceID.Regexes) != 1 || c.TraceID.Regexes[0] != `traceID=(\w+)` || c.TraceID.Label != "trace_id" {
		t.Fatalf("trace ID conventions %+v: want the Tempo-linked derived fields only", c.TraceID)
	}
	if c.ServiceLabel.Loki != "service_name" {
		t.Fatalf("loki service label %q", c.ServiceLabel.Loki)
	}
	if g := cfg.Grafana.Datasources; g["prometheus"] != "mimir" || g["loki"] != "loki" || g["tempo"] != "tempo" || cfg.Grafana.URL != "" {
		t.Fatalf("grafana %+v: want the datasource UIDs for Explore links, the URL left to set", cfg.Grafana)
	}
	notes := strings.Join(imp.Notes, "\n")
	for _, want := range []string{"GRAFANA_MIMIR_PASSWORD", "GRAFANA_MIMIR_TENANT", `skipped "Prometheus (old)"`, `skipped "Postgres"`, `skipped derived field "Ticket"`} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestImportGrafanaRejectsOtherFiles(t *testing.T) {
	if _, err := ImportGrafana(map[string][]byte{"dash.yaml": []byte("apiVersion: 1\nproviders: []\n")}); err == nil || !strings.Contains(err.Error(), "dash.yaml") {
		t.Fatalf("error %v should name the file", err)
	}
}
