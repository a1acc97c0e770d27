package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

func TestSLODemo(t *testing.T) {
	r := oncall(t, nil, "", "slo", "--demo", "retry-storm", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var rep sloReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Budgets) != 8 {
		t.Fatalf("%d budgets", len(rep.Budgets))
	}
	for _, b := range rep.Budgets {
		if b.Err != "" {
			t.Errorf("%s: %s", b.SLO.Name, b.Err)
		}
	}
	worst := rep.Budgets[0]
	if worst.Status != slo.StatusPage || worst.BurnOver(5*time.Minute) < 14.4 || !strings.Contains(strings.Join(worst.Queries, " "), "traces_spanmetrics_calls_total") {
		t.Errorf("worst budget after a retry storm %+v", worst)
	}
	if worst.Forecast == nil || !worst.Forecast.Within() {
		t.Errorf("no forecast of the worst budget's exhaustion: %+v", worst.Forecast)
	}
	quiet := oncall(t, nil, "", "slo", "--demo", "quiet", "--after", "2h", "--no-color")
	if quiet.code != 0 || strings.Contains(quiet.out, "spent") || strings.Contains(quiet.out, "page") || !strings.Contains(quiet.out, "✓ ok") {
		t.Errorf("quiet: %d\n%s", quiet.code, quiet.out)
	}
	show := oncall(t, nil, "", "slo", "show", "payments-availability", "--demo", "retry-storm", "--after", "20m", "--no-color")
	for _, want := range []string{"✗ page", "ALERTS", "FIRING", "forecast", "BURN-DOWN", "SPENT BY", "the simulator's topology"} {
		if !strings.Contains(show.out, want) {
			t.Errorf("show is missing %q:\n%s", want, show.out)
		}
	}
	if r := oncall(t, nil, "", "slo", "show", "payment-availability", "--demo", "quiet"); r.code != 2 || !strings.Contains(r.err, `no SLO "payment-availability"; did you mean payments-availability?`) {
		t.Errorf("an unknown SLO: %+v", r)
	}
}

func TestSLOGateOnTheSimulator(t *testing.T) {
	// retry-storm spends the payments budget about half an hour in
	spent := oncall(t, nil, "", "slo", "gate", "--demo", "retry-storm", "--after", "40m", "--min-budget", "25%", "--slo", "payments-availability")
	if spent.code != 1 || !strings.HasPrefix(spent.out, "gate: payments-availability has -") || !strings.HasSuffix(spent.out, "deploys blocked\n") {
		t.Errorf("a spent budget: %+v", spent)
	}
	ok := oncall(t, nil, "", "slo", "gate", "--demo", "quiet", "--min-budget", "0.1", "--slo", "payments-availability", "-o", "json")
	var res gateResult
	if ok.code != 0 || json.Unmarshal([]byte(ok.out), &res) != nil || !res.Pass || res.MinBudget != 0.1 {
		t.Errorf("a healthy budget: %+v", ok)
	}
	for _, bad := range []string{"lots", "150%", "-1"} {
		if r := oncall(t, nil, "", "slo", "gate", "--demo", "quiet", "--min-budget", bad); r.code != 2 {
			t.Errorf("--min-budget %s: %+v", bad, r)
		}
	}
	if r := oncall(t, nil, "", "slo", "gate", "--demo", "quiet"); r.code != 2 || !strings.Contains(r.err, "min-budget") {
		t.Errorf("no --min-budget: %+v", r)
	}
}

func TestSLOImportAndValidate(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "testdata", "slos")
	r := oncall(t, nil, "", "slo", "import", filepath.Join(dir, "sloth.yaml"), filepath.Join(dir, "pyrra.yaml"))
	if r.code != 0 || !strings.HasPrefix(r.out, "slos:\n") || strings.Count(r.out, "# from ") != 4 {
		t.Fatalf("import: %+v", r)
	}
	// what import prints is a config the loader takes as it is
	cfg, err := config.Parse("imported.yaml", []byte(r.out), func(string) (string, bool) { return "", false })
	if err != nil || len(cfg.SLOs) != 4 || cfg.SLOs[0].Recorded == nil || cfg.SLOs[3].Indicator != "latency" {
		t.Fatalf("re-reading the import: %v %+v", err, cfg)
	}
	v := oncall(t, nil, "", "slo", "validate", filepath.Join(dir, "sloth.yaml"), filepath.Join(dir, "openslo.yaml"))
	if v.code != 0 || v.out != "ok: 4 SLOs: 2 openslo, 2 sloth\n" {
		t.Errorf("validate: %+v", v)
	}
	bad := writeFile(t, "bad.yaml", "version: prometheus/v1\nservice: a\nslos:\n  - name: x\n    objective: 100\n    sli: {events: {error_query: 'a[{{.window}}]', total_query: 'b[{{.window}}]'}}\n")
	v = oncall(t, nil, "", "slo", "validate", bad)
	if v.code != 1 || !strings.Contains(v.err, bad+":5:16:") || !strings.Contains(v.err, "objective: 100") {
		t.Errorf("a bad file: %+v", v)
	}
	// valid but probably not meant: said at its line, by import and
	// validate alike, without failing either
	ratio := writeFile(t, "ratio.yaml", "version: prometheus/v1\nservice: a\nslos:\n  - name: x\n    objective: 0.999\n    sli: {events: {error_query: 'a[{{.window}}]', total_query: 'b[{{.window}}]'}}\n")
	for _, verb := range []string{"import", "validate"} {
		v = oncall(t, nil, "", "slo", verb, ratio)
		if v.code != 0 || strings.Count(v.err, "warning:") != 1 || !strings.Contains(v.err, ratio+":5:16: warning:") || !strings.Contains(v.err, "0.999 means 0.999%") {
			t.Errorf("slo %s of a ratio: %+v", verb, v)
		}
	}
	cfgFile := writeFile(t, "oncall.yaml", "slos:\n  - {name: a, service: s, objective: 99.9, window: 28d}\nslo_files: ["+filepath.Join(dir, "pyrra.yaml")+"]\n")
	v = oncall(t, nil, "", "slo", "validate", "--config", cfgFile)
	if v.code != 0 || !strings.Contains(v.out, "ok (3 SLOs: 2 pyrra)") {
		t.Errorf("validate the config: %+v", v)
	}
}

func TestSLOFromConfigNeedsPrometheus(t *testing.T) {
	cfg := writeFile(t, "config.yaml", "datasources: {}\nslos:\n  - {name: a, service: s, indicator: availability, objective: 99.9, window: 28d}\n")
	if r := oncall(t, nil, "", "slo", "--config", cfg); r.code == 0 || !strings.Contains(r.err, "needs a prometheus datasource") {
		t.Errorf("%d %s", r.code, r.err)
	}
}

func TestSLOListOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdSLOList)
	if err != nil {
		t.Fatal(err)
	}
	// the defaults: the config's world, read once, in text
	if o.demo != (DemoFlags{Seed: 1, After: 10 * time.Minute}) || o.horizon != slo.ForecastHorizon || o.output != "text" || o.watch.on || o.watch.refresh != 2*time.Second || o.Factory == nil {
		t.Errorf("defaults: %+v", *o)
	}
	o, err = optionsFor(t, NewCmdSLOList, "--demo", "retry-storm", "--after", "20m", "--horizon", "1d", "-o", "json", "-w", "--refresh", "5s")
	if err != nil {
		t.Fatal(err)
	}
	if o.demo != (DemoFlags{Scenario: "retry-storm", Seed: 1, After: 20 * time.Minute}) || o.horizon != 24*time.Hour || o.output != "json" || !o.watch.on || o.watch.refresh != 5*time.Second {
		t.Errorf("parsed: %+v", *o)
	}
	for _, args := range [][]string{{"-o", "yaml"}, {"--after", "soon"}, {"--seed", "one"}, {"extra"}} {
		if _, err := optionsFor(t, NewCmdSLOList, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

func TestSLOShowOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdSLOShow, "payments-availability", "--demo", "quiet", "--seed", "7", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if o.name != "payments-availability" || o.demo != (DemoFlags{Scenario: "quiet", Seed: 7, After: 10 * time.Minute}) || o.output != "json" || o.watch.on {
		t.Errorf("parsed: %+v", *o)
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"a", "--horizon", "x"}} {
		if _, err := optionsFor(t, NewCmdSLOShow, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

func TestSLOGateOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdSLOGate, "--min-budget", "25%", "--slo", "a", "--slo", "b", "--demo", "retry-storm")
	if err != nil {
		t.Fatal(err)
	}
	if o.min != 0.25 || !slices.Equal(o.names, []string{"a", "b"}) || o.demo != (DemoFlags{Scenario: "retry-storm", Seed: 1, After: 10 * time.Minute}) || o.output != "text" {
		t.Errorf("parsed: %+v", *o)
	}
	if o, err := optionsFor(t, NewCmdSLOGate, "--min-budget", "0.1"); err != nil || o.min != 0.1 || o.names != nil {
		t.Errorf("--min-budget 0.1: %v %+v", err, o)
	}
	// a gate refuses what it cannot read before it reads anything
	for _, args := range [][]string{{}, {"--min-budget", "lots"}, {"--min-budget", "150%"}, {"--min-budget", "1", "--watch"}} {
		if o, err := optionsFor(t, NewCmdSLOGate, args...); exitCode(err) != exitUsage || o != nil {
			t.Errorf("%q: err %v (exit %d), ran %v; want a usage error", args, err, exitCode(err), o != nil)
		}
	}
}

func TestSLOImportAndValidateOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdSLOImport, "a.yaml", "b.yaml", "-o", "json")
	if err != nil || !slices.Equal(o.files, []string{"a.yaml", "b.yaml"}) || o.output != "json" {
		t.Errorf("import: %v %+v", err, o)
	}
	if o, err := optionsFor(t, NewCmdSLOImport, "a.yaml"); err != nil || o.output != "yaml" {
		t.Errorf("import's default output: %v %+v", err, o)
	}
	for _, args := range [][]string{{}, {"a.yaml", "-o", "text"}} {
		if _, err := optionsFor(t, NewCmdSLOImport, args...); exitCode(err) != exitUsage {
			t.Errorf("import %q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	v, err := optionsFor(t, NewCmdSLOValidate)
	if err != nil || len(v.files) != 0 || v.Factory == nil {
		t.Errorf("validate the config: %v %+v", err, v)
	}
	if v, err := optionsFor(t, NewCmdSLOValidate, "a.yaml"); err != nil || !slices.Equal(v.files, []string{"a.yaml"}) {
		t.Errorf("validate files: %v %+v", err, v)
	}
}

// deadSLOConfig is a config with one SLO whose Prometheus listens on
// nothing.
func deadSLOConfig(t *testing.T) string {
	t.Helper()
	dead := "http://" + testenv.FreeAddr(t)
	return writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: "+dead+", retries: 0}\nslos:\n  - {name: a, service: s, indicator: availability, objective: 99.9, window: 28d}\n")
}

// oncallCombined runs the command line with stdout and stderr into one
// buffer, so that a test sees which came first.
func oncallCombined(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var both bytes.Buffer
	e := &env{IO: IOStreams{In: strings.NewReader(""), Out: &both, ErrOut: &both}, LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now, osUser: osUserName}
	code := run(context.Background(), e, args)
	return both.String(), code
}

// TestSLOWithDeadPrometheusSaysSoFirst: budgets that could not be read
// exit 3 and say so on stderr before the data, and their JSON carries
// null, never a 0 nobody read.
func TestSLOWithDeadPrometheusSaysSoFirst(t *testing.T) {
	cfg := deadSLOConfig(t)
	// forecast also could not read the saturation
	parts := map[string]string{"slo": "1 part", "forecast": "2 parts"}
	for _, args := range [][]string{{"slo"}, {"slo", "show", "a"}, {"forecast"}} {
		args = append(args, "--config", cfg, "--no-color")
		out, code := oncallCombined(t, args...)
		if code != exitIncomplete || !strings.HasPrefix(out, "oncall: incomplete: "+parts[args[0]]+" could not be read (a: prometheus ") || !strings.Contains(out, "connection refused") {
			t.Errorf("%v: exit %d, want 3 and the cause first:\n%s", args, code, out)
		}
	}
	r := oncallAt(t, time.Now, nil, "", "slo", "--config", cfg, "--no-color")
	if !strings.Contains(r.out, "? unread") || !strings.Contains(r.out, "note: a: not read: connection refused") {
		t.Errorf("the list does not show what it could not read:\n%s", r.out)
	}
	// the whole error once, first on stderr; the rows say its cause
	for _, args := range [][]string{{"slo"}, {"slo", "show", "a"}, {"forecast"}} {
		out, _ := oncallCombined(t, append(args, "--config", cfg, "--no-color")...)
		if n := strings.Count(out, "connect: connection refused"); n != 1 {
			t.Errorf("%v says the whole error %d times, want once:\n%s", args, n, out)
		}
		if n, rows := strings.Count(out, "connection refused"), strings.Count(out, "? unread"); n != 1+rows {
			t.Errorf("%v says the cause %d times, want on stderr and in each of its %d rows:\n%s", args, n, rows, out)
		}
	}
	r = oncallAt(t, time.Now, nil, "", "slo", "--config", cfg, "-o", "json")
	var rep struct {
		Budgets []map[string]any `json:"budgets"`
	}
	if r.code != exitIncomplete || json.Unmarshal([]byte(r.out), &rep) != nil || len(rep.Budgets) != 1 {
		t.Fatalf("json: %+v", r)
	}
	b := rep.Budgets[0]
	if b["status"] != "unread" || !strings.Contains(fmt.Sprint(b["error"]), "connection refused") {
		t.Errorf("status %v, error %v", b["status"], b["error"])
	}
	for _, k := range []string{"remaining", "sli", "consumed", "minutes_left", "total", "bad", "covered_ns"} {
		if v, ok := b[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	gate := oncallAt(t, time.Now, nil, "", "slo", "gate", "--config", cfg, "--min-budget", "25%", "-o", "json")
	if gate.code != exitIncomplete || !strings.Contains(gate.out, `"remaining": null`) {
		t.Errorf("gate: %+v", gate)
	}
}

// steadySLIs reads a healthy budget at once; its histories hang until the
// context ends when hang is set, and are empty (too short to forecast)
// otherwise.
type steadySLIs struct{ hang bool }

func (steadySLIs) SLI(_ context.Context, _ sources.Indicator, windows []time.Duration, at time.Time) (sources.SLIReading, error) {
	r := sources.SLIReading{Since: at.Add(-28 * 24 * time.Hour), Path: "test"}
	for _, w := range windows {
		r.Windows = append(r.Windows, sources.SLIWindow{Window: w, Total: 1000, Bad: 0, ErrorRatio: 0})
	}
	return r, nil
}

func (s steadySLIs) SLIHistory(ctx context.Context, _ sources.Indicator, _ sources.TimeRange, step time.Duration) (sources.SLIHistory, error) {
	if s.hang {
		<-ctx.Done()
		return sources.SLIHistory{}, ctx.Err()
	}
	return sources.SLIHistory{Step: step}, nil
}

// A history that did not arrive by the deadline is unread, as a refused
// one is; one read but too short only means no forecast.
func TestForecastTimeoutIsUnread(t *testing.T) {
	objs := []slo.Objective{{Name: "a", Service: "a", Objective: 0.999, Window: 28 * 24 * time.Hour,
		Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: "a"}}}
	at := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		hang   bool
		unread string
	}{{true, "a forecast: context deadline exceeded"}, {false, ""}} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		w := &World{Sources: sources.Set{SLIs: steadySLIs{hang: c.hang}}}
		bs, unread := loadWithForecasts(ctx, w, objs, at, time.Hour)
		cancel()
		if bs[0].Err != "" || bs[0].Forecast != nil {
			t.Errorf("hang %v: budget %q, forecast %v", c.hang, bs[0].Err, bs[0].Forecast)
		}
		if got := strings.Join(whole(unread), "; "); got != c.unread {
			t.Errorf("hang %v: unread %q, want %q", c.hang, got, c.unread)
		}
	}
}
