package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

type result struct {
	out, err string
	code     int
}

// oncall runs the command line as the binary would, with the given
// environment and standard input.
func oncall(t testing.TB, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	return oncallAt(t, func() time.Time { return time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC) }, vars, stdin, args...)
}

// oncallAt is oncall with a clock: time.Now for tests against real servers.
func oncallAt(t testing.TB, now func() time.Time, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	// what a command keeps (the history, the ledger, the audit log) goes
	// to the test's own data directory unless the test names one: never
	// the home directory of whoever runs the tests
	data := t.TempDir()
	e := &env{
		IO: IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut},
		LookupEnv: func(k string) (string, bool) {
			v, ok := vars[k]
			if !ok && k == "XDG_DATA_HOME" {
				return data, true
			}
			return v, ok
		},
		Now:    now,
		osUser: osUserName,
	}
	code := run(context.Background(), e, args)
	return result{out.String(), errOut.String(), code}
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	return writeAt(t, filepath.Join(t.TempDir(), name), content)
}

// writeAt writes content to the file at path, and returns the path.
func writeAt(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// optionsFor builds a command with newCmd, its runF keeping the options
// and running nothing, executes it on args as the root would (bad flags
// and arguments are usage errors), and returns the options it parsed.
func optionsFor[O any](t *testing.T, newCmd func(*Factory, func(context.Context, *O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	var got *O
	cmd := newCmd(testFactory(nil), func(_ context.Context, o *O) error { got = o; return nil })
	markUsageErrors(cmd)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestVersion(t *testing.T) {
	r := oncall(t, nil, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.out, "oncall ") || !strings.Contains(r.out, "commit ") {
		t.Fatalf("%+v", r)
	}
	r = oncall(t, nil, "", "version", "-o", "json")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || v.Go == "" || v.Version == "" {
		t.Fatalf("json %q: %v", r.out, err)
	}
	if r := oncall(t, nil, "", "version", "-o", "yaml"); r.code == 0 || !strings.Contains(r.err, `--output "yaml"`) {
		t.Fatalf("bad -o accepted: %+v", r)
	}
}

func TestManPages(t *testing.T) {
	r := oncall(t, nil, "", "man")
	if r.code != 0 || !strings.Contains(r.out, `.TH "ONCALL" "1"`) || !strings.Contains(r.out, "doctor") {
		t.Fatalf("man page: %+v", r.out[:min(200, len(r.out))])
	}
	for _, want := range []string{".SH KEYS", "acknowledge the selected alert", ".SH EXIT STATUS", "3  the evidence is incomplete", ".SH ENVIRONMENT", "ONCALL_CONFIG", ".SH FILES"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("oncall(1) lacks %q", want)
		}
	}
	dir := t.TempDir()
	if r := oncall(t, nil, "", "man", "--dir", dir); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	// every page SEE ALSO names is written
	pages, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	if len(pages) < 15 {
		t.Fatalf("%d pages", len(pages))
	}
	for _, p := range pages {
		b, _ := os.ReadFile(p)
		for _, m := range regexp.MustCompile(`fB(oncall[a-z-]*)\(1\)`).FindAllStringSubmatch(string(b), -1) {
			if _, err := os.Stat(filepath.Join(dir, m[1]+".1")); err != nil {
				t.Errorf("%s names %s(1), which is not written", filepath.Base(p), m[1])
			}
		}
		if !strings.Contains(string(b), ".SH EXIT STATUS") {
			t.Errorf("%s has no EXIT STATUS", filepath.Base(p))
		}
	}
}

func TestConfigValidateNamesTheLine(t *testing.T) {
	p := writeFile(t, "config.yaml", "datasources:\n  prometheus:\n    url: http://localhost:9090\n    timeotu: 5s\n")
	r := oncall(t, nil, "", "config", "validate", "--config", p)
	if r.code != 1 || !strings.Contains(r.err, p+`:4:5: unknown key "timeotu"`) || !strings.Contains(r.err, `did you mean "timeout"?`) {
		t.Fatalf("%+v", r)
	}
	ok := writeFile(t, "config.yaml", "datasources:\n  prometheus:\n    url: http://localhost:9090\n")
	if r := oncall(t, nil, "", "config", "validate", "--config", ok); r.code != 0 || !strings.Contains(r.out, "ok (1 datasource,") {
		t.Fatalf("%+v", r)
	}
	// $ONCALL_CONFIG is used when --config is not given.
	if r := oncall(t, map[string]string{"ONCALL_CONFIG": ok}, "", "config", "validate"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestConfigShowRedactsSecrets(t *testing.T) {
	p := writeFile(t, "config.yaml", `datasources:
  loki:
    url: http://loki:3100
    bearer_token: ${LOKI_TOKEN}
    headers: {X-API-Key: k3y-value}
  alertmanager:
    url: http://am:9093
    basic_auth: {username: oncall, password: hunter2}
`)
	for _, format := range []string{"yaml", "json"} {
		r := oncall(t, map[string]string{"LOKI_TOKEN": "tok-123"}, "", "config", "show", "--config", p, "-o", format)
		if r.code != 0 {
			t.Fatalf("%+v", r)
		}
		for _, secret := range []string{"tok-123", "k3y-value", "hunter2"} {
			if strings.Contains(r.out+r.err, secret) {
				t.Fatalf("%s output shows secret %q:\n%s", format, secret, r.out)
			}
		}
		if !strings.Contains(r.out, "<redacted>") || !strings.Contains(r.out, "http://loki:3100") || !strings.Contains(r.out, "traces_service_graph_request_total") {
			t.Fatalf("%s output lacks redaction, values or defaults:\n%s", format, r.out)
		}
	}
}

func TestImportGrafanaWritesAValidConfig(t *testing.T) {
	src := "apiVersion: 1\ndatasources:\n  - name: Loki\n    type: loki\n    url: http://loki:3100\n    basicAuth: true\n    basicAuthUser: u\n    secureJsonData: {basicAuthPassword: pw-secret}\n"
	in := writeFile(t, "grafana.yaml", src)
	out := filepath.Join(t.TempDir(), "oncall.yaml")
	r := oncall(t, nil, "", "config", "import-grafana", in, "-w", out)
	if r.code != 0 || !strings.Contains(r.err, "set GRAFANA_LOKI_PASSWORD") {
		t.Fatalf("%+v", r)
	}
	b, _ := os.ReadFile(out)
	if strings.Contains(string(b), "pw-secret") || !strings.Contains(string(b), "${GRAFANA_LOKI_PASSWORD}") {
		t.Fatalf("written config:\n%s", b)
	}
	if r := oncall(t, map[string]string{"GRAFANA_LOKI_PASSWORD": "x"}, "", "config", "validate", "--config", out); r.code != 0 {
		t.Fatalf("imported config invalid: %+v", r)
	}
	if r := oncall(t, nil, "", "config", "import-grafana", in, "-w", out); r.code == 0 || !strings.Contains(r.err, "--force") {
		t.Fatalf("overwrote without --force: %+v", r)
	}
	// an import that fails leaves the existing file as it was, even with --force
	bad := writeFile(t, "bad.yaml", "datasources: [:\n")
	if r := oncall(t, nil, "", "config", "import-grafana", bad, "-w", out, "--force"); r.code != 2 {
		t.Fatalf("a bad input was imported: %+v", r)
	}
	if after, _ := os.ReadFile(out); string(after) != string(b) {
		t.Fatal("a failed import changed the file")
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// fakeAlertmanager counts silence creations.
func fakeAlertmanager(t *testing.T, posts *atomic.Int32) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v2/silences":
			posts.Add(1)
			w.Write([]byte(`{"silenceID":"s-1"}`))
		case r.URL.Path == "/api/v2/alerts":
			w.Write([]byte(`[{"labels":{"alertname":"CheckoutDown","severity":"page","service":"checkout-api\u001b[2J"},"startsAt":"2026-11-25T02:50:00Z","status":{"state":"active"}}]`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return writeFile(t, "config.yaml", "datasources:\n  alertmanager: {url: "+srv.URL+"}\n")
}

func TestSilenceAddShowsTheRequestAndDefaultsToNo(t *testing.T) {
	var posts atomic.Int32
	cfg := fakeAlertmanager(t, &posts)
	args := []string{"silences", "add", "--config", cfg, "-m", "alertname=CheckoutDown", "-m", "service=~checkout-.*", "-c", "on it", "--author", "alice"}
	for _, answer := range []string{"", "\n", "n\n", "maybe\n"} {
		r := oncall(t, nil, answer, args...)
		if r.code != 1 || !strings.Contains(r.err, "POST /api/v2/silences") || !strings.Contains(r.err, `service=~"checkout-.*"`) || !strings.Contains(r.err, "[y/N]") {
			t.Fatalf("answer %q: %+v", answer, r)
		}
	}
	if posts.Load() != 0 {
		t.Fatalf("%d silences created without a yes", posts.Load())
	}
	if r := oncall(t, nil, "yes\n", args...); r.code != 0 || strings.TrimSpace(r.out) != "s-1" || posts.Load() != 1 {
		t.Fatalf("yes: %+v", r)
	}
	r := oncall(t, nil, "yes\n", append([]string{"--read-only"}, args...)...)
	if r.code != 1 || !strings.Contains(r.err, "--read-only") || posts.Load() != 1 {
		t.Fatalf("--read-only: %+v", r)
	}
	if r := oncall(t, nil, "yes\n", "--read-only", "silences", "expire", "s-1", "--config", cfg); r.code != 1 || !strings.Contains(r.err, "--read-only") {
		t.Fatalf("--read-only expire: %+v", r)
	}
}

func TestAlertsStripsControlSequences(t *testing.T) {
	var posts atomic.Int32
	cfg := fakeAlertmanager(t, &posts)
	r := oncall(t, nil, "", "alerts", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.out, "CheckoutDown") || !strings.Contains(r.out, "10m0s") {
		t.Fatalf("%+v", r)
	}
	if strings.Contains(r.out, "\x1b") {
		t.Fatalf("escape sequence from a label value reached the terminal: %q", r.out)
	}
}

func TestCockpitWithoutATerminalNamesTheTextCommands(t *testing.T) {
	cfg := writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: \"http://127.0.0.1:1\"}\n")
	r := oncall(t, nil, "", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.err, "the cockpit needs a terminal") || !strings.Contains(r.err, "oncall incident") || strings.Contains(r.err, "bubbletea") {
		t.Fatalf("%+v", r)
	}
}

func TestExitCodes(t *testing.T) {
	for args, want := range map[string]int{
		"version":                         0,
		"nosuch":                          2,
		"config nosuch":                   2,
		"--nosuch":                        2,
		"alerts --watch --refresh x":      2,
		"--timezone Mars/Olympus version": 2,
	} {
		if r := oncall(t, nil, "", strings.Fields(args)...); r.code != want {
			t.Errorf("%s: exit %d, want %d (%s)", args, r.code, want, r.err)
		}
	}
	// a backend that does not answer a read: the evidence is incomplete
	cfg := writeFile(t, "config.yaml", "datasources:\n  alertmanager: {url: \"http://"+testenv.FreeAddr(t)+"\", retries: 0}\n")
	if r := oncall(t, nil, "", "alerts", "--config", cfg); r.code != 3 || !strings.Contains(r.err, "alertmanager") {
		t.Errorf("alerts from a dead alertmanager: %+v", r)
	}
	if r := oncall(t, nil, "", "--help"); !strings.Contains(r.out, "Exit status:") || !strings.Contains(r.out, "3  the evidence is incomplete") {
		t.Errorf("--help does not document the exit codes:\n%s", r.out)
	}
}
