package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/internal/chaosbed"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

// lockedBuffer is run's output, read while run writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	printedToxiproxy = regexp.MustCompile(`toxiproxy  (\S+)`)
	printedRun       = regexp.MustCompile(`oncall --config (\S+) chaos run (\S+)`)
)

// What a user does with make chaos-testbed: run the printed command's
// config and experiment (the shipped toxiproxy-latency, its URL rewritten
// to the bed's Toxiproxy). Its error guard trips, the rollback leaves no
// toxic, and an interrupt stops the servers the bed started.
func TestChaosbedRunsTheShippedLatencyExperiment(t *testing.T) {
	testenv.Binary(t, "toxiproxy-server")
	testenv.Binary(t, "prometheus")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	errc := make(chan error, 1)
	shipped := filepath.Join(testenv.RepoRoot(t), "testdata", "experiments")
	go func() {
		errc <- run(ctx, &out, shipped, t.TempDir(), chaosbed.DefaultRate, chaosbed.DefaultTimeout)
	}()
	testenv.WaitFor(t, time.Minute, func() bool { return strings.Contains(out.String(), "Interrupt (Ctrl-C)") })
	printed := out.String()
	cmd, tox := printedRun.FindStringSubmatch(printed), printedToxiproxy.FindStringSubmatch(printed)
	if cmd == nil || tox == nil {
		t.Fatalf("no run command or Toxiproxy URL in:\n%s", printed)
	}

	cfg, err := config.Load(cmd[1], true, os.LookupEnv)
	if err != nil {
		t.Fatalf("the bed's oncall config: %v", err)
	}
	if cfg.Chaos.Experiments != filepath.Dir(cmd[2]) {
		t.Fatalf("config's chaos.experiments %q; the printed experiment is in %s", cfg.Chaos.Experiments, filepath.Dir(cmd[2]))
	}
	metrics, err := prometheus.New(cfg.Datasources.Prometheus.URL, &http.Client{Timeout: 5 * time.Second}, cfg.Conventions)
	if err != nil {
		t.Fatal(err)
	}
	e, err := chaos.LoadFile(cmd[2])
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := os.ReadFile(cmd[2]); strings.Contains(string(text), chaosbed.DefaultToxiproxyAPI) {
		t.Fatalf("the copy still names the default Toxiproxy API:\n%s", text)
	}
	testenv.WaitFor(t, 30*time.Second, func() bool {
		_, _, err := remediate.ReadSignal(ctx, metrics, chaosbed.Orders, remediate.SignalErrorRatio, time.Now(), 15*time.Second)
		return err == nil
	})
	runner := &chaos.Runner{Metrics: metrics, Exec: &remediate.Executor{Audit: &remediate.Audit{Path: cfg.Remediation.AuditLog},
		HTTP: &http.Client{Timeout: 10 * time.Second}, Getenv: os.LookupEnv, Now: time.Now, User: "tester", Host: "ci"}}
	rep := runner.Run(ctx, e, "test", false)
	if rep.Verdict != chaos.VerdictFailed || rep.Trip == nil {
		t.Fatalf("verdict %s (%s); want a guard trip", rep.Verdict, rep.Why)
	}
	t.Logf("%s", rep.Why)
	toxiproxy := chaosbed.Toxiproxy{API: tox[1], HTTP: http.DefaultClient}
	if left, err := toxiproxy.Toxics(ctx, chaosbed.Ledger); err != nil || len(left) > 0 {
		t.Fatalf("toxics on ledger after the rollback: %v %v", left, err)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("chaosbed did not stop within 30s of its interrupt")
	}
	if _, err := toxiproxy.Toxics(context.Background(), chaosbed.Ledger); err == nil {
		t.Fatal("toxiproxy-server still answers after chaosbed stopped")
	}
}

// A missing server is named with how to install it, before anything
// starts.
func TestChaosbedNamesWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var out lockedBuffer
	err := run(context.Background(), &out, "testdata/experiments", t.TempDir(), 1, time.Second)
	if err == nil {
		t.Fatal("ran with neither server on PATH")
	}
	for _, want := range []string{"toxiproxy-server is not on PATH; install it: go install github.com/Shopify/toxiproxy", "prometheus is not on PATH; install it: apt-get install prometheus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
