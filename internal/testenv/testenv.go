// Package testenv gives tests the real things they need: the recorded
// backend fixtures in testdata/backends, free loopback ports, and real
// Prometheus and Alertmanager processes from the Debian packages.
//
// When a server binary or the fixtures are missing, a test fails under
// CI=true and is skipped with the reason otherwise; it never skips silently.
// Only tests import this package.
package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Missing reports a missing prerequisite: a failure in CI, a skip elsewhere.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing and CI=true: the README's test command installs it", what)
	} else {
		t.Skipf("%s is missing; run the README's test command (as root on Debian it installs it)", what)
	}
}

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// FixturesDir is testdata/backends, the answers recorded from real Loki,
// Tempo and Prometheus servers, or $ONCALL_FIXTURES to replay another
// recording. They are part of the repository, so their absence is a
// broken checkout and fails the test.
func FixturesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ONCALL_FIXTURES")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "testdata", "backends")
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.json")); err != nil {
		t.Fatalf("the recorded backend fixtures are missing from %s: %v", dir, err)
	}
	return dir
}

// Fixture returns one fixture file's bytes.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(FixturesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// StatusFixture parses a "HTTP <code>\n<body>" fixture.
func StatusFixture(t testing.TB, name string) (int, []byte) {
	t.Helper()
	b := Fixture(t, name)
	first, body, _ := strings.Cut(string(b), "\n")
	code, err := strconv.Atoi(strings.TrimPrefix(first, "HTTP "))
	if err != nil {
		t.Fatalf("%s: first line %q is not HTTP <code>", name, first)
	}
	return code, []byte(body)
}

// FreeAddr returns a loopback address with a port nothing listens on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Binary finds a server binary on PATH.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "the "+name+" binary")
	}
	return p
}

// Start runs a server process for the test's lifetime and waits until
// readyURL answers 200. Its output goes to a file that is printed if the
// server does not come up.
func Start(t testing.TB, readyURL, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(bin)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := os.ReadFile(logPath)
	t.Fatalf("%s did not become ready at %s within 30s; its log:\n%s", bin, readyURL, out)
}

// Alertmanager starts a real Alertmanager and returns its base URL.
func Alertmanager(t testing.TB) string {
	t.Helper()
	bin := Binary(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	write(t, cfg, "route:\n  receiver: blackhole\n  group_wait: 0s\nreceivers:\n  - name: blackhole\n")
	addr := FreeAddr(t)
	Start(t, "http://"+addr+"/-/ready", bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	return "http://" + addr
}

// PrometheusOptions configure a test Prometheus.
type PrometheusOptions struct {
	Rules        string   // rule file content
	Alertmanager string   // base URL to send alerts to
	Scrape       []string // host:port targets scraped every second as job "oncall-test"
	OpenMetrics  string   // OpenMetrics text backfilled with promtool before start
	Features     []string // --enable-feature values
	// OpenMetricsFile is a file of OpenMetrics text backfilled after
	// OpenMetrics, for histories too large to hold in memory
	OpenMetricsFile string
}

// Prometheus starts a real Prometheus and returns its base URL.
func Prometheus(t testing.TB, o PrometheusOptions) string {
	t.Helper()
	bin := Binary(t, "prometheus")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var backfill []string
	if o.OpenMetrics != "" {
		om := filepath.Join(dir, "backfill.om")
		write(t, om, o.OpenMetrics)
		backfill = append(backfill, om)
	}
	if o.OpenMetricsFile != "" {
		backfill = append(backfill, o.OpenMetricsFile)
	}
	for _, om := range backfill {
		promtool := Binary(t, "promtool")
		// one block per month rather than promtool's default of one per two
		// hours: a month's history backfills in a second, not a minute
		if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h", om, data).CombinedOutput(); err != nil {
			t.Fatalf("promtool backfill: %v\n%s", err, out)
		}
	}
	var cfg strings.Builder
	cfg.WriteString("global: {scrape_interval: 1s, evaluation_interval: 1s}\n")
	if o.Rules != "" {
		write(t, filepath.Join(dir, "rules.yml"), o.Rules)
		cfg.WriteString("rule_files: [rules.yml]\n")
	}
	if o.Alertmanager != "" {
		fmt.Fprintf(&cfg, "alerting:\n  alertmanagers: [{static_configs: [{targets: [%q]}]}]\n", strings.TrimPrefix(o.Alertmanager, "http://"))
	}
	if len(o.Scrape) > 0 {
		fmt.Fprintf(&cfg, "scrape_configs:\n  - job_name: oncall-test\n    static_configs: [{targets: [%q]}]\n", strings.Join(o.Scrape, `", "`))
	}
	write(t, filepath.Join(dir, "prometheus.yml"), cfg.String())
	addr := FreeAddr(t)
	args := []string{"--config.file=" + filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path=" + data,
		"--web.listen-address=" + addr, "--rules.alert.resend-delay=1s", "--storage.tsdb.retention.time=100y"}
	for _, f := range o.Features {
		args = append(args, "--enable-feature="+f)
	}
	Start(t, "http://"+addr+"/-/ready", bin, args...)
	return "http://" + addr
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// WaitFor polls cond every 100ms until it holds, failing the test after d.
func WaitFor(t testing.TB, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
