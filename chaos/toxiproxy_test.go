package chaos_test

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/internal/chaosbed"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

// rig is the chaos test bed behind a real Toxiproxy, scraped every second
// by a real Prometheus that the guards read through a second Toxiproxy
// proxy, so that a test can cut the guards' backend off.
type rig struct {
	tox     *testenv.Toxiproxy
	toxics  chaosbed.Toxiproxy
	metrics *prometheus.Client
	dir     string
}

func startRig(t *testing.T) *rig {
	t.Helper()
	tox := testenv.StartToxiproxy(t)
	testenv.Binary(t, "prometheus") // before the bed, so a missing one fails or skips first
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	bed, err := chaosbed.Start(ctx, chaosbed.Options{Route: func(_ context.Context, ledger string) (string, error) {
		return "http://" + tox.Proxy(chaosbed.Ledger, ledger), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bed.Close() })
	prom := testenv.Prometheus(t, testenv.PrometheusOptions{Scrape: []string{bed.MetricsAddr}})
	guards := tox.Proxy("prometheus", strings.TrimPrefix(prom, "http://"))
	conv := sources.DefaultConventions()
	conv.ServiceLabel.Prometheus = "service"
	conv.RED = sources.REDTemplates{Preset: sources.PresetOTelHTTP}
	metrics, err := prometheus.New("http://"+guards, &http.Client{Timeout: 5 * time.Second}, conv)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{tox: tox, toxics: chaosbed.Toxiproxy{API: tox.API(), HTTP: http.DefaultClient}, metrics: metrics, dir: t.TempDir()}
	// the steady state needs a rate, so two scrapes of orders' traffic
	testenv.WaitFor(t, 30*time.Second, func() bool {
		_, _, err := remediate.ReadSignal(context.Background(), metrics, chaosbed.Orders, remediate.SignalErrorRatio, time.Now(), 15*time.Second)
		return err == nil
	})
	return r
}

// toxiproxyAPI stands for the rig's Toxiproxy API in the tests' own
// experiments: unreplaced, it is no address at all, so a test never
// reaches a Toxiproxy it did not start.
const toxiproxyAPI = "TOXIPROXY_API"

// experiment writes an experiment file with the rig's Toxiproxy API in
// place of toxiproxyAPI or, in a shipped file, of the default address,
// and loads it as a user's would be.
func (r *rig) experiment(t *testing.T, name, text string) *chaos.Experiment {
	t.Helper()
	if !strings.Contains(text, toxiproxyAPI) && !strings.Contains(text, chaosbed.DefaultToxiproxyAPI) {
		t.Fatalf("%s names no Toxiproxy API to point at the rig's", name)
	}
	text = strings.NewReplacer(toxiproxyAPI, r.toxics.API, chaosbed.DefaultToxiproxyAPI, r.toxics.API).Replace(text)
	path := filepath.Join(r.dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := chaos.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (r *rig) runner(t *testing.T, events func(chaos.Event)) *chaos.Runner {
	t.Helper()
	return &chaos.Runner{
		Exec: &remediate.Executor{Audit: &remediate.Audit{Path: filepath.Join(r.dir, "audit.jsonl")},
			HTTP: &http.Client{Timeout: 10 * time.Second}, Getenv: os.LookupEnv, Now: time.Now, User: "tester", Host: "ci"},
		Metrics: r.metrics,
		Events:  events,
	}
}

func (r *rig) ledgerToxics(t *testing.T) []string {
	t.Helper()
	names, err := r.toxics.Toxics(context.Background(), chaosbed.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// wantRolledBack checks that every rollback action ran and that
// Toxiproxy has no toxic left on ledger.
func (r *rig) wantRolledBack(t *testing.T, rep chaos.Report) {
	t.Helper()
	if len(rep.Rollback) == 0 {
		t.Fatalf("no rollback ran; report %+v", rep)
	}
	for _, o := range rep.Rollback {
		if o.Result != remediate.ResultDone {
			t.Errorf("rollback %s: %s", o.Name, o.String())
		}
	}
	if left := r.ledgerToxics(t); len(left) > 0 {
		t.Fatalf("toxics left on ledger after the run: %v", left)
	}
}

const latencyWithinGuard = `name: ledger-latency-small
hypothesis: orders keeps errors under 5% and its p99 under 1s while ledger answers 50 ms (±10 ms) slower
target: ledger
steady_state:
  - {service: orders, signal: error_ratio, below: 1%, over: 15s}
inject:
  - name: latency
    kind: http
    http:
      method: POST
      url: "TOXIPROXY_API/proxies/{{.Target}}/toxics"
      body: '{"name": "latency", "type": "latency", "stream": "downstream", "attributes": {"latency": 50, "jitter": 10}}'
guards:
  # loose enough for a machine under load (a stalled scheduler fails a
  # few requests at orders' 300 ms timeout and lifts the p99 towards it);
  # the 50 ms toxic itself fails none
  - {service: orders, signal: error_ratio, below: 5%, over: 15s}
  - {service: orders, signal: p99, below: 1s, over: 15s}
interval: 1s
duration: 20s
rollback:
  - name: remove-latency
    kind: http
    http: {method: DELETE, url: "TOXIPROXY_API/proxies/{{.Target}}/toxics/latency"}
`

// A latency well inside orders' timeout and the p99 guard: the run
// passes, the guards saw the latency (so the toxic was in), and the
// rollback leaves no toxic.
func TestToxiproxyLatencyWithinGuardPasses(t *testing.T) {
	r := startRig(t)
	e := r.experiment(t, "small.yaml", latencyWithinGuard)
	rep := r.runner(t, nil).Run(context.Background(), e, "test", false)
	if rep.Verdict != chaos.VerdictPassed {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	worst := math.Inf(-1)
	for _, rd := range rep.Guards[1].Readings {
		worst = max(worst, rd.Value)
	}
	// ledger's 5 ms plus the toxic's 50 ms at least: a p99 below that
	// means the fault never went in
	if worst < 0.05 {
		t.Fatalf("orders' p99 peaked at %.3fs: the 50 ms toxic did not show", worst)
	}
	r.wantRolledBack(t, rep)
}

// The shipped experiment (the README's): 250 ms ± 100 ms against orders'
// 300 ms timeout turns a share of orders' requests into 502s; the error
// guard trips within two guard intervals of the errors reaching
// Prometheus, and the rollback removes the toxic.
func TestToxiproxyLatencyBeyondGuardTripsAndRollsBack(t *testing.T) {
	r := startRig(t)
	shipped, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "experiments", "toxiproxy-latency.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := r.experiment(t, "toxiproxy-latency.yaml", string(shipped))
	rep := r.runner(t, nil).Run(context.Background(), e, "test", false)
	if rep.Verdict != chaos.VerdictFailed || rep.Trip == nil {
		t.Fatalf("verdict %s (%s); want failed with a trip", rep.Verdict, rep.Why)
	}
	if !strings.Contains(rep.Trip.Label, "error ratio") {
		t.Fatalf("tripped %q; want the error ratio guard", rep.Trip.Label)
	}
	// when the first 502 reached Prometheus: the data's own clock
	errs, err := r.metrics.QueryRange(context.Background(),
		`http_server_request_duration_seconds_count{service="orders", http_response_status_code="502"}`,
		sources.TimeRange{Start: rep.Injected.Add(-time.Second), End: rep.Trip.At}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) == 0 || len(errs[0].Samples) == 0 {
		t.Fatalf("no 502 from orders reached Prometheus before the trip at %s", rep.Trip.At)
	}
	shown := errs[0].Samples[0].T
	interval := time.Duration(e.Interval)
	if lag := rep.Trip.At.Sub(shown); lag > 2*interval {
		t.Fatalf("the guard tripped %s after the errors showed at %s; want within two intervals (%s)", lag, shown.Format(time.TimeOnly), 2*interval)
	}
	t.Logf("errors showed %s after the injection; the guard tripped %s after that", shown.Sub(rep.Injected).Round(time.Millisecond), rep.Trip.At.Sub(shown).Round(time.Millisecond))
	r.wantRolledBack(t, rep)
}

// The guards' Prometheus stops answering mid-experiment: the run aborts
// (it never continues blind) and still rolls back.
func TestToxiproxyGuardBackendDiesAbortsAndRollsBack(t *testing.T) {
	r := startRig(t)
	e := r.experiment(t, "small.yaml", strings.Replace(latencyWithinGuard, "duration: 20s", "duration: 30s", 1))
	firstGuard := make(chan struct{})
	cutOff := make(chan struct{})
	// a failure below must not leave the run waiting in its event
	release := sync.OnceFunc(func() { close(cutOff) })
	defer release()
	events := func(ev chaos.Event) {
		if ev.Guard && ev.Reading != nil && ev.Reading.Check == 0 && ev.Reading.OK {
			select {
			case firstGuard <- struct{}{}:
				<-cutOff // the next reading comes after Prometheus is gone
			default:
			}
		}
	}
	done := make(chan chaos.Report, 1)
	go func() { done <- r.runner(t, events).Run(context.Background(), e, "test", false) }()
	select {
	case <-firstGuard:
	case rep := <-done:
		t.Fatalf("the run ended before a guard was read: %s: %s", rep.Verdict, rep.Why)
	}
	// the fault is in while the guards read: what the rollback must remove
	if in := r.ledgerToxics(t); !slices.Equal(in, []string{"latency"}) {
		t.Fatalf("toxics on ledger during the run: %v; want [latency]", in)
	}
	r.tox.SetEnabled("prometheus", false)
	release()
	var rep chaos.Report
	select {
	case rep = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the run did not stop within a minute of its guards' backend going away")
	}
	if rep.Verdict != chaos.VerdictAborted || !strings.Contains(rep.Why, "unreadable") {
		t.Fatalf("verdict %s (%s); want aborted, a guard unreadable", rep.Verdict, rep.Why)
	}
	r.wantRolledBack(t, rep)
}

// Every shipped experiment parses without a problem.
func TestShippedExperimentsParse(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "testdata", "experiments")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no experiments in %s", dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, ps := chaos.Parse(b, f); len(ps) > 0 {
			t.Errorf("%s: %v", filepath.Base(f), ps)
		}
	}
	loaded, err := chaos.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != len(files) {
		t.Fatalf("LoadDir read %d experiments of %d files", len(loaded), len(files))
	}
}
