package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

// TestGrafanaAnnotationsConfig: the annotations read from grafana.url with
// a token that config show redacts; annotations without a URL, or with a
// negative limit, are errors at their line, and so are a URL, TLS files
// or timeout a datasource could not have.
func TestGrafanaAnnotationsConfig(t *testing.T) {
	cfg, err := parse(t, `grafana:
  url: https://grafana.example
  bearer_token: ${GRAFANA_TOKEN}
  annotations: {tags: [deploy], service_tag: app}
`, map[string]string{"GRAFANA_TOKEN": "glsa_s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Grafana.AnnotationsOn() || cfg.Grafana.BearerToken.Reveal() != "glsa_s3cr3t" || cfg.Grafana.Annotations.ServiceTag != "app" {
		t.Fatalf("grafana read as %+v", cfg.Grafana)
	}
	if d := cfg.IncidentDeadline(); d != DefaultTimeout+DeadlineMargin {
		t.Errorf("deadline %s with no datasource but the annotations", d)
	}
	cfg.Grafana.Timeout = timeparse.Duration(time.Minute)
	if d := cfg.IncidentDeadline(); d != time.Minute+DeadlineMargin {
		t.Errorf("deadline %s does not wait for the annotations' timeout", d)
	}
	y, _ := yaml.Marshal(cfg)
	j, _ := json.Marshal(cfg)
	for _, out := range []string{string(y), string(j)} {
		if strings.Contains(out, "glsa_s3cr3t") || !strings.Contains(out, "redacted") {
			t.Errorf("the grafana token is not redacted:\n%s", out)
		}
	}

	_, err = parse(t, "grafana:\n  annotations: {limit: -1}\n", nil)
	wantProblem(t, err, 2, 16, "needs grafana.url")
	wantProblem(t, err, 2, 24, "must be positive")

	// the annotations' requests follow a datasource's rules
	_, err = parse(t, "grafana:\n  url: https://grafana.example/?token=x\n  annotations: {}\n  tls: {ca_file: nosuch.pem}\n  timeout: -1s\n", nil)
	wantProblem(t, err, 2, 8, "takes no query")
	wantProblem(t, err, 4, 18, "nosuch.pem")
	wantProblem(t, err, 5, 12, "is not a duration")
}
