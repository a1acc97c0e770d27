package evaltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/cassette"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
)

// trialCassettes is where the recorded slice of the independent trial
// fleet lives, one directory per graded incident.
const trialCassettes = "testdata/trialfleet/cassettes"

// reRecordCommand is how a case directory is recorded again, run from
// the repository's root with a real stack up (../shared/REAL-STACK.md).
const reRecordCommand = "a new trial run (docs/trial-fleet.md), then go run ./internal/trialfleet/cmd/trial grade --ledger <its ledger> --oncall <built oncall> --record <dir>, and copy its %s-like cases into " + trialCassettes

// maxCaseBytes bounds one recorded incident: the repository carries
// every recording, and a few hundred KB of gzipped answers is already
// thousands of log lines and dozens of traces.
const maxCaseBytes = 512 << 10

// TestTrialFleetReplay replays every recorded incident of the trial
// fleet through the built binary and oncall's real adapters: each
// datasource of the case's oncall.yaml is served from its cassette, and
// the first candidate must be the root the fleet injected, with every
// request oncall sent found in the recording.
func TestTrialFleetReplay(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(t), trialCassettes)
	// ONCALL_CASSETTES replays another set, e.g. a whole trial's
	// recordings while the engine is tuned (docs/trial-fleet.md)
	if dir := os.Getenv("ONCALL_CASSETTES"); dir != "" {
		root = dir
	}
	cases, _ := filepath.Glob(filepath.Join(root, "*", cassette.CaseFile))
	if len(cases) == 0 {
		msg := fmt.Sprintf("the trial fleet's recordings are missing: no %s/*/%s; record them with: %s",
			trialCassettes, cassette.CaseFile, fmt.Sprintf(reRecordCommand, "<class>"))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin := testenv.BuildOncall(t)
	for _, c := range cases {
		dir := filepath.Dir(c)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if n := dirBytes(t, dir); n > maxCaseBytes {
				t.Errorf("%s holds %d KB, more than %d KB: record a quieter incident", dir, n>>10, maxCaseBytes>>10)
			}
			replayTrialCase(t, bin, dir, fmt.Sprintf(reRecordCommand, filepath.Base(dir)))
		})
	}
}

// replayTrialCase runs `oncall incident` on the recording in dir, each
// datasource answered by a Replayer of its cassette, checks the first
// candidate is the case's root and no request missed, and returns the
// incident's JSON. reRecord is the command a failure tells to run.
func replayTrialCase(t *testing.T, bin, dir, reRecord string) []byte {
	t.Helper()
	c, err := cassette.ReadCase(dir)
	if err != nil {
		t.Fatal(err)
	}
	replayers := map[string]*cassette.Replayer{}
	cfg := replayConfig(t, dir, func(backend string) string {
		cas, err := cassette.Load(cassette.Path(dir, backend))
		if err != nil {
			t.Fatalf("oncall.yaml configures %s but its cassette does not load: %v", backend, err)
		}
		replayers[backend] = cassette.NewReplayer(cas, c.At)
		srv := httptest.NewServer(replayers[backend])
		t.Cleanup(srv.Close)
		return srv.URL
	})
	out, stderr, exit := runOncall(t, bin, "--config", cfg, "incident", "--at", c.At.UTC().Format(time.RFC3339), "--service", c.Service, "-o", "json")

	var misses []string
	for backend, r := range replayers {
		for _, m := range r.Misses() {
			misses = append(misses, backend+": "+m)
		}
	}
	slices.Sort(misses) // the backends come in map order
	if len(misses) > 0 {
		t.Errorf("the recording no longer matches the queries oncall sends; re-record with: %s\n%d request(s) missed:\n  %s",
			reRecord, len(misses), strings.Join(misses, "\n  "))
	}
	truth := sim.Truth{RootCause: c.Root}
	for _, s := range c.BlastRadius {
		truth.Affected = append(truth.Affected, sim.Impact{Service: s})
	}
	g := gradeIncident(out, truth)
	if g.first != c.Root {
		t.Errorf("%s: first candidate %q, the fleet's root %q (exit %d)\nstderr: %s\nstdout: %.2000s", c.Class, g.first, c.Root, exit, stderr, out)
	}
	t.Logf("%s: first %q, blast radius precision %.2f recall %.2f, exit %d", c.Class, g.first, g.precision, g.recall, exit)
	return out
}

// replayConfig writes a copy of dir's oncall.yaml whose datasource URLs,
// and Grafana's, are those serve returns for each, and returns its path.
func replayConfig(t *testing.T, dir string, serve func(backend string) string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "oncall.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s/oncall.yaml: %v", dir, err)
	}
	if _, ok := cfg["contexts"]; ok {
		// their datasources would reach the real servers of the recording
		t.Fatalf("%s/oncall.yaml has contexts: a recording's config names one stack, under datasources", dir)
	}
	sections := map[string]any{}
	if ds, ok := cfg["datasources"].(map[string]any); ok {
		for backend, v := range ds {
			sections[backend] = v
		}
	}
	if g, ok := cfg["grafana"]; ok {
		sections["grafana"] = g
	}
	for backend, v := range sections {
		// every URL is replaced, so nothing the test runs reaches a real server
		if m, ok := v.(map[string]any); ok && m["url"] != nil {
			m["url"] = serve(backend)
		}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "oncall.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dirBytes is the size of the files in dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
	}
	return n
}

// runOncall runs the built binary with a home of its own, so no user
// configuration, state or audit log is read, and returns its stdout,
// stderr and exit status.
func runOncall(t *testing.T, bin string, args ...string) (stdout, stderr []byte, exit int) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home, "XDG_STATE_HOME="+home, "XDG_CACHE_HOME="+home)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running %s: %v", bin, err)
	}
	return out.Bytes(), errOut.Bytes(), cmd.ProcessState.ExitCode()
}

// TestCassetteReplaysARealPrometheusIncident holds the mechanism that
// TestTrialFleetReplay relies on: an incident is run through a Recorder
// in front of a real Prometheus, the recording is laid out as a case
// directory, and replaying it through the built binary gives the same
// incident JSON with no request missing from the cassette.
func TestCassetteReplaysARealPrometheusIncident(t *testing.T) {
	const scenario, service = "retry-storm", "checkout-api"
	// onset + 2 minutes, with 8 minutes of history before the onset, as
	// TestTenMinutesOfRealPrometheusHistory asks
	o := sim.Options{Scenario: scenario, Seed: 1, Start: sim.Epoch}
	for o.Start.Add(32 * time.Minute).After(time.Now().Add(-time.Minute)) {
		o.Start = o.Start.Add(-24 * time.Hour) // in the past, at the same time of day
	}
	at := o.Start.Add(32 * time.Minute)
	f, err := sim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	om, err := testenv.SimOpenMetrics(f, at.Add(-10*time.Minute), at, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	promURL := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: om})
	bin := testenv.BuildOncall(t)

	target, _ := url.Parse(promURL)
	rec := cassette.NewRecorder("prometheus", target, at)
	recSrv := httptest.NewServer(rec)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "oncall.yaml"), []byte("datasources:\n  prometheus:\n    url: "+recSrv.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	truth := f.Truth()
	c := cassette.Case{Class: scenario, Root: truth.RootCause, At: at, Service: service}
	for _, a := range truth.Affected {
		c.BlastRadius = append(c.BlastRadius, a.Service)
	}
	if err := cassette.WriteCase(dir, c); err != nil {
		t.Fatal(err)
	}
	recorded, stderr, exit := runOncall(t, bin, "--config", filepath.Join(dir, "oncall.yaml"), "incident", "--at", at.UTC().Format(time.RFC3339), "--service", service, "-o", "json")
	recSrv.Close()
	if !json.Valid(recorded) {
		t.Fatalf("the recorded run's output is not JSON (exit %d): %s\nstderr: %s", exit, recorded, stderr)
	}
	if err := rec.Save(cassette.Path(dir, "prometheus")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(cassette.Path(dir, "prometheus"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cassette: %d exchanges, %d bytes", len(rec.Cassette().Exchanges), st.Size())

	replayed := replayTrialCase(t, bin, dir, "this test records its own cassette")
	if !bytes.Equal(recorded, replayed) {
		t.Errorf("the replayed incident differs from the recorded one\nrecorded: %s\nreplayed: %s", recorded, replayed)
	}
}
