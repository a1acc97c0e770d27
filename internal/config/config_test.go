package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func parse(t *testing.T, src string, vars map[string]string) (*Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path, true, env(vars))
}

// Every problem names file:line:column; this checks the position and text.
func wantProblem(t *testing.T, err error, line, col int, contains string) {
	t.Helper()
	var ps problem.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v is not Problems", err)
	}
	for _, p := range ps {
		if p.Line == line && p.Column == col && strings.Contains(p.Msg, contains) {
			if !strings.Contains(p.Error(), "config.yaml:") {
				t.Fatalf("%q does not name the file", p.Error())
			}
			return
		}
	}
	t.Fatalf("no problem at %d:%d containing %q in:\n%v", line, col, contains, err)
}

func TestValidationErrorsNameLineAndColumn(t *testing.T) {
	cases := []struct {
		name, src string
		line, col int
		contains  string
	}{
		{"typo in datasource key", "datasources:\n  prometheus:\n    urll: http://x\n", 3, 5, `unknown key "urll" in datasources.prometheus; expected one of: url,`},
		{"did you mean", "datasources:\n  lokki:\n    url: http://x\n", 2, 3, `(did you mean "loki"?)`},
		{"unknown top-level key", "datasource:\n  loki: {url: http://x}\n", 1, 1, `did you mean "datasources"?`},
		{"bad duration", "datasources:\n  loki:\n    url: http://x\n    timeout: 5 seconds\n", 4, 14, `"5 seconds" is not a duration`},
		{"bool expected", "datasources:\n  loki:\n    url: http://x\n    tls: {insecure_skip_verify: maybe}\n", 4, 33, "expected true or false"},
		{"number expected", "services:\n  checkout-api:\n    value_per_request: lots\n", 3, 24, "expected a number"},
		{"list expected", "services:\n  a:\n    depends_on: b\n", 3, 17, "expected a list"},
		{"mapping expected", "datasources: [prometheus]\n", 1, 14, "expected a mapping"},
		{"missing url", "datasources:\n  tempo:\n    timeout: 5s\n", 3, 5, "url is required"},
		{"bad url", "datasources:\n  tempo:\n    url: localhost:3200\n", 3, 10, "is not an http(s) URL"},
		{"credentials in url", "datasources:\n  tempo:\n    url: http://u:p@host\n", 3, 10, "basic_auth"},
		{"key in url", "datasources:\n  prometheus:\n    url: http://host/prefix?api_key=k\n", 3, 10, "takes no query"},
		{"unset env", "datasources:\n  loki:\n    url: ${LOKI_URL}\n", 3, 10, "LOKI_URL is not set"},
		{"bad red preset", "conventions:\n  red:\n    preset: jaeger\n", 3, 5, `"jaeger" is not one of`},
		{"bad trace regex", "conventions:\n  trace_id:\n    regexes: ['trace=(\\w+']\n", 3, 14, "trace_id regex 1"},
		{"regex without group", "conventions:\n  trace_id:\n    regexes: ['trace=\\w+']\n", 3, 14, "no capture group"},
		{"no alert service label", "conventions:\n  alerts:\n    service_labels: []\n", 3, 21, "needs at least one label"},
		{"slo objective", "slos:\n  - name: a\n    service: s\n    indicator: availability\n    objective: 100\n    window: 28d\n", 5, 16, "between 0 and 100"},
		{"slo indicator", "slos:\n  - name: a\n    service: s\n    indicator: vibes\n    objective: 99\n    window: 28d\n", 4, 16, "not availability, latency or raw"},
		{"duplicate key", "datasources:\n  loki: {url: http://a}\n  loki: {url: http://b}\n", 3, 3, "appears twice"},
		{"tab indentation", "datasources:\n\tloki: {url: http://a}\n", 2, 1, "invalid YAML: found character that cannot start any token"},
		{"theme", "theme: neon\n", 1, 8, "not one of dark, light"},
		{"context confirm", "contexts:\n  prod:\n    confirm: typd\n    datasources: {loki: {url: http://l}}\n", 3, 14, `"typd" is not "typed"`},
		{"context colour", "contexts:\n  prod:\n    color: red\n    datasources: {loki: {url: http://l}}\n", 3, 12, "not a colour"},
		{"context without datasources", "contexts:\n  prod:\n    read_only: true\n", 3, 5, "a context needs datasources"},
		{"context datasource", "contexts:\n  prod:\n    datasources: {loki: {url: loki:3100}}\n", 3, 31, "is not an http(s) URL"},
		{"current context", "current-context: prd\ncontexts:\n  prod:\n    datasources: {loki: {url: http://l}}\n", 1, 18, `did you mean "prod"?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, c.src, nil)
			wantProblem(t, err, c.line, c.col, c.contains)
		})
	}
}

func TestEveryProblemIsReportedInFileOrder(t *testing.T) {
	_, err := parse(t, "datasources:\n  loki:\n    urll: x\n  tempo:\n    timeout: x\n", nil)
	var ps problem.Problems
	if !errors.As(err, &ps) || len(ps) != 4 || ps[0].Line != 3 || ps[3].Line != 5 {
		t.Fatalf("problems %v, want four, from line 3 to 5", err)
	}
	for i, want := range []string{`unknown key "urll"`, "datasources.loki: url is required", "datasources.tempo: url is required", "datasources.tempo.timeout"} {
		if !strings.Contains(ps[i].Msg, want) {
			t.Errorf("problem %d: %s, want %q", i, ps[i].Msg, want)
		}
	}
}

// TestEveryKindOfProblemAtOnce: a file with a mistake of every kind gets
// them all in one run, values that do not decode included.
func TestEveryKindOfProblemAtOnce(t *testing.T) {
	_, err := parse(t, `datasources:
  prometheus:
    url: localhost:9090
    timeotu: 5s
  loki:
    url: http://loki:3100
    timeout: 5 seconds
services:
  checkout-api:
    value_per_request: lots
    tier: -1
slos:
  - name: a
    service: checkout-api
    indicator: availabilty
    objective: abc
    window: 28d
theme: neon
`, nil)
	var ps problem.Problems
	if !errors.As(err, &ps) {
		t.Fatal(err)
	}
	want := []string{`"localhost:9090" is not an http(s) URL`, `unknown key "timeotu"`, `"5 seconds" is not a duration`, `expected a number, got "lots"`,
		"tier: must not be negative", `"availabilty" is not availability, latency or raw (did you mean "availability"?)`, `objective: expected a number, got "abc"`, `theme: "neon"`}
	if len(ps) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if !strings.Contains(ps[i].Msg, w) {
			t.Errorf("problem %d: %s, want %q", i, ps[i].Msg, w)
		}
	}
}

func TestEnvExpansionAndDefaults(t *testing.T) {
	cfg, err := parse(t, `
datasources:
  loki:
    url: ${LOKI_URL:-http://localhost:3100}
    tenant: ${TENANT}
    headers: {X-Price: "$$5"}
services:
  checkout-api:
    tier: ${TIER:-1}
    value_per_request: ${VALUE}
`, map[string]string{"TENANT": "team-a", "VALUE": "0.42"})
	if err != nil {
		t.Fatal(err)
	}
	ds := cfg.Datasources.Loki
	if ds.URL != "http://localhost:3100" || ds.Tenant != "team-a" || ds.Headers["X-Price"].Reveal() != "$5" {
		t.Fatalf("loki %+v", ds)
	}
	if s := cfg.Services["checkout-api"]; s.Tier != 1 || s.ValuePerRequest != 0.42 {
		t.Fatalf("service %+v: expanded plain scalars keep their type", s)
	}
	if cfg.Conventions.ServiceLabel.Loki != "service_name" || cfg.Currency != "USD" {
		t.Fatal("defaults not kept")
	}
}

func TestConventionsOverrideDefaultsFieldByField(t *testing.T) {
	cfg, err := parse(t, "conventions:\n  service_label: {loki: app}\n  red: {preset: otel-http}\n  alerts: {service_labels: [app]}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Conventions
	if c.ServiceLabel.Loki != "app" || c.ServiceLabel.SpanMetrics != "service" || c.RED.Preset != "otel-http" ||
		c.TraceID.Label != "trace_id" || c.ServiceGraph.RequestTotal != "traces_service_graph_request_total" ||
		c.Alerts.ServiceLabels[0] != "app" || c.Alerts.BurnRate[0] != "ErrorBudgetBurn" {
		t.Fatalf("conventions %+v", c)
	}
}

func TestSecretFilesAndRedaction(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cr3t-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
datasources:
  prometheus:
    url: https://prom.example
    bearer_token_file: token
  alertmanager:
    url: https://am.example
    basic_auth: {username: oncall, password: hunter2}
    headers: {X-API-Key: k3y}
`
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(src), 0o600)
	cfg, err := Load(path, true, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Datasources.Prometheus.BearerToken.Reveal() != "s3cr3t-token" {
		t.Fatalf("token file not read relative to the config: %q", cfg.Datasources.Prometheus.BearerToken.Reveal())
	}
	y, _ := yaml.Marshal(cfg)
	j, _ := json.Marshal(cfg)
	for _, out := range []string{string(y), string(j), cfg.Datasources.Alertmanager.BasicAuth.Password.String()} {
		for _, secret := range []string{"s3cr3t-token", "hunter2", "k3y"} {
			if strings.Contains(out, secret) {
				t.Fatalf("secret %q in output:\n%s", secret, out)
			}
		}
	}
	if !strings.Contains(string(y), "<redacted>") || !strings.Contains(string(y), "https://am.example") {
		t.Fatalf("show output lacks redaction or non-secret values:\n%s", y)
	}
}

func TestSecretAndFileTogetherIsAnError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("x"), 0o600)
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte("datasources:\n  loki:\n    url: http://l\n    basic_auth: {username: u, password: p, password_file: pw}\n"), 0o600)
	_, err := Load(path, true, env(nil))
	wantProblem(t, err, 4, 59, "not both")
}

func TestLocate(t *testing.T) {
	e := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if p, explicit := Locate("x.yaml", e(map[string]string{"ONCALL_CONFIG": "y"})); p != "x.yaml" || !explicit {
		t.Fatal("flag first")
	}
	if p, explicit := Locate("", e(map[string]string{"ONCALL_CONFIG": "y"})); p != "y" || !explicit {
		t.Fatal("then ONCALL_CONFIG")
	}
	if p, explicit := Locate("", e(map[string]string{"XDG_CONFIG_HOME": "/x"})); p != "/x/oncall/config.yaml" || explicit {
		t.Fatal("then XDG_CONFIG_HOME")
	}
	if p, _ := Locate("", e(map[string]string{"HOME": "/h"})); p != "/h/.config/oncall/config.yaml" {
		t.Fatal("then ~/.config")
	}
}

func TestMissingDefaultFileIsTheDefaultConfig(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "none.yaml"), false, env(nil))
	if err != nil || cfg.Datasources.Prometheus != nil || cfg.Conventions.RED.Preset != "spanmetrics" {
		t.Fatalf("cfg %+v err %v", cfg, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml"), true, env(nil)); err == nil {
		t.Fatal("a named file that is missing must be an error")
	}
}

func TestFullExampleIsValid(t *testing.T) {
	b, err := os.ReadFile("../../docs/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("docs/config.example.yaml", b, env(map[string]string{"LOKI_TOKEN": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SLOs) != 4 || cfg.SLOs[0].Window != timeparse.Duration(28*24*time.Hour) || cfg.SLOs[3].Recorded == nil || cfg.Services["payment-api"].ValuePerRequest != 0.9 {
		t.Fatalf("example decoded wrong: %+v", cfg)
	}
	if err := cfg.UseContext("prod"); err != nil || cfg.Datasources.Prometheus.Tenant != "prod" || cfg.Datasources.Loki != nil || cfg.Grafana.URL != "http://localhost:3000" {
		t.Fatalf("context prod: %v %+v", err, cfg.Datasources)
	}
}

// TestEverySLOProblemAtOnce: a bad indicator does not hide the SLO's
// other problems, a NaN objective is refused, and each names its line.
func TestEverySLOProblemAtOnce(t *testing.T) {
	_, err := parse(t, `slos:
  - name: a
    service: s
    indicator: availabilty
    objective: 199.9
    window: 28d
  - name: b
    service: s
    objective: .nan
    window: 28d
`, nil)
	wantProblem(t, err, 4, 16, `indicator: "availabilty" is not availability, latency or raw`)
	wantProblem(t, err, 5, 16, "slos[0].objective: 199.9 is not a percentage between 0 and 100")
	wantProblem(t, err, 9, 16, "slos[1].objective: NaN is not a percentage")
}

// TestObjectiveWrittenAsARatioWarns: 0.999 is a valid objective of
// 0.999%, almost surely meant as 99.9%: a warning with its line, not an
// error; beside errors it is listed with them, marked.
func TestObjectiveWrittenAsARatioWarns(t *testing.T) {
	src := "slos:\n  - {name: a, service: s, objective: 99.9, window: 28d}\n  - name: b\n    service: s\n    objective: 0.999\n    window: 28d\n"
	cfg, err := parse(t, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Line != 5 || cfg.Warnings[0].Msg != "slos[1].objective: 0.999 means 0.999%; for 99.9% write 99.9" {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	cfg, err = parse(t, strings.Replace(src, "0.999", "0.9996", 1), nil)
	if err != nil || len(cfg.Warnings) != 1 || !strings.HasSuffix(cfg.Warnings[0].Msg, "for 99.96% write 99.96") {
		t.Errorf("0.9996: %v %v", err, cfg.Warnings)
	}
	_, err = parse(t, src+"theme: neon\n", nil)
	wantProblem(t, err, 5, 16, "warning: slos[1].objective: 0.999 means 0.999%")
}
