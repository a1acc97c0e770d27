package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// t0 is when every test's data clock starts.
var t0 = time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC)

const runExperiment = `name: payment-db-latency
hypothesis: payment-api keeps errors under 1% while payment-db is slower
target: payment-db
steady_state:
  - {service: payment-api, signal: error_ratio, below: 0.5%, over: 5m}
inject:
  - name: latency
    kind: sim
    sim: {action: inject-latency, service: "{{.Target}}", params: {latency: 200ms}}
guards:
  - {service: payment-api, signal: error_ratio, below: 1%}
  - {service: payment-api, signal: p99, below: 2s}
  - {slo: checkout-availability, burn: 5m, below: 14.4}
interval: 5s
duration: 1m
rollback:
  - name: clear
    kind: sim
    sim: {action: clear-faults, service: "{{.Target}}"}
`

// clock is the data clock: Wait advances it at once.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

// scriptedMetrics answers RED with the script's error ratio and p99 for
// a service at the end of the range asked.
type scriptedMetrics struct {
	sources.Metrics
	script func(svc string, at time.Time) (errRatio, p99 float64, err error)
}

func (m scriptedMetrics) RED(ctx context.Context, svcs []string, r sources.TimeRange, _ time.Duration) ([]sources.RED, error) {
	er, p99, err := m.script(svcs[0], r.End)
	if err != nil {
		return nil, err
	}
	series := func(v float64, q string) sources.Series {
		return sources.Series{Samples: []sources.Sample{{T: r.End, V: v}}, Query: q}
	}
	return []sources.RED{{Service: svcs[0], Requests: series(100, "sum(rate(requests[1m]))"), Errors: series(100*er, "sum(rate(errors[1m]))"), P99: series(p99, "p99(latency[1m])")}}, nil
}

// fixedSLIs answers every window with one error ratio.
type fixedSLIs struct {
	sources.SLIs
	ratio float64
}

func (s fixedSLIs) SLI(_ context.Context, _ sources.Indicator, ws []time.Duration, at time.Time) (sources.SLIReading, error) {
	r := sources.SLIReading{Since: at.Add(-30 * 24 * time.Hour), Path: "fake"}
	for _, w := range ws {
		r.Windows = append(r.Windows, sources.SLIWindow{Window: w, Total: 1000, Bad: sources.Float(1000 * s.ratio), ErrorRatio: sources.Float(s.ratio),
			Queries: []string{fmt.Sprintf("bad[%s] / total[%s]", w, w)}})
	}
	return r, nil
}

// actuator records the simulator actions it is asked for; one whose kind
// is in fail fails, and one asked with a cancelled context fails as a
// real backend's would.
type actuator struct {
	mu   sync.Mutex
	acts []string
	fail map[string]bool
}

func (a *actuator) Act(ctx context.Context, act sources.Action) (sources.Change, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acts = append(a.acts, act.Kind)
	if err := ctx.Err(); err != nil {
		return sources.Change{}, err
	}
	if a.fail[act.Kind] {
		return sources.Change{}, errors.New("the fleet said no")
	}
	return sources.Change{Service: act.Service, Kind: "config", Detail: act.Kind}, nil
}

func (a *actuator) count(kind string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, k := range a.acts {
		if k == kind {
			n++
		}
	}
	return n
}

type fixture struct {
	clk    *clock
	act    *actuator
	audit  *remediate.Audit
	runner *Runner
	exp    *Experiment
	events []Event
}

// healthy is a fleet whose signals stay well inside every bound.
func healthy(string, time.Time) (float64, float64, error) { return 0.001, 0.4, nil }

func newFixture(t *testing.T, script func(string, time.Time) (float64, float64, error)) *fixture {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(file, []byte(runExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clk: &clock{t: t0}, act: &actuator{fail: map[string]bool{}}, audit: &remediate.Audit{Path: filepath.Join(dir, "audit.jsonl")}, exp: e}
	x := &remediate.Executor{Audit: f.audit, Actuator: f.act, Now: f.clk.Now, Wait: f.clk.Wait, User: "tester", Host: "h",
		Getenv: func(string) (string, bool) { return "", false }}
	objective := slo.Objective{Name: "checkout-availability", Service: "checkout-api", Objective: 0.999, Window: 28 * 24 * time.Hour,
		Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: "checkout-api"}}
	f.runner = &Runner{Exec: x, Metrics: scriptedMetrics{script: script}, SLIs: fixedSLIs{ratio: 0.002}, SLOs: []slo.Objective{objective},
		Events: func(ev Event) { f.events = append(f.events, ev) }}
	return f
}

// auditLines are the audit log's entries as written, in order, each as
// "phase stage" (an action's as "phase stage:action").
func (f *fixture) auditLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.audit.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e remediate.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		s := e.Phase + " " + e.Experiment.Stage
		if e.Phase != remediate.PhaseDecision {
			s += ":" + e.Action
		}
		out = append(out, s)
	}
	return out
}

func TestRunPassesAndAuditsInOrder(t *testing.T) {
	f := newFixture(t, healthy)
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictPassed || !rep.OK() || rep.Trip != nil {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if n := len(rep.Guards[0].Readings); n != 12 {
		t.Errorf("%d readings of a 1m run at 5s, want 12", n)
	}
	if q := rep.Guards[2].Query; !strings.Contains(q, "bad[5m0s]") {
		t.Errorf("burn guard's query %q", q)
	}
	if v := rep.Guards[2].Readings[0].Value; v < 1.99 || v > 2.01 {
		t.Errorf("burn %v, want 2 (0.2%% errors against a 0.1%% budget)", v)
	}
	if f.act.count("inject-latency") != 1 || f.act.count("clear-faults") != 1 {
		t.Errorf("actions %v", f.act.acts)
	}
	want := []string{"decision start", "before inject:latency", "after inject:latency", "before rollback:clear", "after rollback:clear", "decision end"}
	if got := f.auditLines(t); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(text.String(), "\n"); first != "PASSED" {
		t.Errorf("first line %q", first)
	}
	for _, want := range []string{"  payment-api error ratio < 1%\n    worst 0.1%", "sum(rate(errors[1m]))", "simulator inject-latency payment-db latency=200ms", "▂▂▂▂▂▂▂▂▂▂▂▂"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestGuardTripFailsWithinOneIntervalAndRollsBackOnce(t *testing.T) {
	f := newFixture(t, func(svc string, at time.Time) (float64, float64, error) {
		if at.Sub(t0) >= 22*time.Second {
			return 0.05, 0.4, nil
		}
		return 0.001, 0.4, nil
	})
	traces := &failedTraces{ids: []string{"abc123", "def\x1b[2J456"}}
	f.runner.Traces = traces
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictFailed || rep.Trip == nil {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if late := rep.Trip.At.Sub(t0.Add(22 * time.Second)); late < 0 || late > 5*time.Second {
		t.Errorf("tripped %s after the errors began, want within one interval", late)
	}
	if f.act.count("clear-faults") != 1 {
		t.Errorf("rollback ran %d times", f.act.count("clear-faults"))
	}
	q := traces.asked
	if strings.Join(rep.Traces, " ") != "abc123 def456" || !q.ErrorsOnly || q.Limit != 5 || strings.Join(q.Services, ",") != "payment-api,payment-db" || !q.Range.Start.Equal(rep.Injected) {
		t.Errorf("traces %q from %+v", rep.Traces, q)
	}
	want := "FAILED: guard payment-api error ratio < 1% tripped at 03:00:25 (25s after injection): value 5.0% ≥ 1%"
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if rep.Headline() != want || !strings.HasPrefix(text.String(), "FAILED: guard payment-api error ratio < 1% tripped at 03:00:25") {
		t.Errorf("headline %q\nwant     %q\ntext:\n%s", rep.Headline(), want, text.String())
	}
	lines := f.auditLines(t)
	if strings.Join(lines, "|") != "decision start|before inject:latency|after inject:latency|decision guard|before rollback:clear|after rollback:clear|decision end" {
		t.Errorf("audit log: %v", lines)
	}
	rec := rep.Record("prod")
	if rec.Origin != history.OriginChaos || rec.Title != "chaos experiment payment-db-latency failed: payment-api error ratio < 1%" ||
		strings.Join(rec.Services, ",") != "payment-api,payment-db" || rec.Root != "payment-db" || !rec.Detected.T.Equal(rep.Trip.At) ||
		!rec.Onset.T.Equal(rep.Injected) || !rec.Resolved.T.Equal(rep.Ended) || len(rec.Actions) != 2 || !history.ValidID(rec.ID) {
		t.Errorf("record %+v", rec)
	}
	if len(rec.Notes) != 1 || !strings.HasPrefix(rec.Notes[0].Text, "FAILED: guard") {
		t.Errorf("notes %+v", rec.Notes)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rep); err != nil || !strings.Contains(md.String(), "| payment-api error ratio &lt; 1% | 5.0% |") {
		t.Errorf("markdown (%v):\n%s", err, md.String())
	}
}

func TestUnreadableGuardAbortsAndRollsBack(t *testing.T) {
	f := newFixture(t, func(svc string, at time.Time) (float64, float64, error) {
		if at.Sub(t0) >= 20*time.Second {
			return 0, 0, errors.New("dial tcp 127.0.0.1:9090: connection refused \x1b[31mred")
		}
		return 0.001, 0.4, nil
	})
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictAborted || !strings.Contains(rep.Why, "unreadable") || !strings.Contains(rep.Why, "never continues blind") {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if f.act.count("clear-faults") != 1 {
		t.Errorf("rollback ran %d times", f.act.count("clear-faults"))
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	if !strings.Contains(string(b), `"value":null`) {
		t.Errorf("an unreadable value is not null in JSON")
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "\x1b") {
		t.Errorf("a backend's escape sequence reached the report")
	}
}

func TestInterruptAbortsAndStillRollsBack(t *testing.T) {
	f := newFixture(t, healthy)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	f.runner.Events = func(ev Event) {
		if ev.Guard && ev.Reading.At.Sub(t0) >= 15*time.Second {
			cancel(errors.New("interrupted (SIGINT)"))
		}
	}
	rep := f.runner.Run(ctx, f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictAborted || !strings.HasPrefix(rep.Why, "interrupted (SIGINT)") {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if len(rep.Rollback) != 1 || rep.Rollback[0].Result != remediate.ResultDone || f.act.count("clear-faults") != 1 {
		t.Errorf("rollback after the interrupt: %+v", rep.Rollback)
	}
	if lines := f.auditLines(t); lines[len(lines)-1] != "decision end" {
		t.Errorf("audit log ends with %q", lines[len(lines)-1])
	}
}

func TestFailedInjectionRollsBack(t *testing.T) {
	f := newFixture(t, healthy)
	f.act.fail["inject-latency"] = true
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictAborted || !strings.Contains(rep.Why, "injection latency on payment-db: failed") {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if f.act.count("clear-faults") != 1 || len(rep.Guards[0].Readings) != 0 {
		t.Errorf("rollback %d, guard readings %d", f.act.count("clear-faults"), len(rep.Guards[0].Readings))
	}
}

func TestSteadyStateFailingInjectsNothing(t *testing.T) {
	f := newFixture(t, func(string, time.Time) (float64, float64, error) { return 0.007, 0.4, nil })
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictAborted || !strings.Contains(rep.Why, "steady state does not hold: payment-api error ratio < 0.5% is 0.7%") {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if len(f.act.acts) != 0 || !rep.Injected.IsZero() {
		t.Errorf("acted: %v", f.act.acts)
	}
	if lines := f.auditLines(t); strings.Join(lines, "|") != "decision start|decision end" {
		t.Errorf("audit log: %v", lines)
	}
}

func TestReadOnlyAndDryRunTouchNothing(t *testing.T) {
	f := newFixture(t, healthy)
	f.runner.Exec.ReadOnly = true
	if rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false); rep.Verdict != VerdictRefused || !strings.Contains(rep.Why, "read-only") {
		t.Errorf("read-only: %s: %s", rep.Verdict, rep.Why)
	}
	f.runner.Exec.ReadOnly = false
	unguarded := *f.exp
	unguarded.Rollback = nil
	if rep := f.runner.Run(context.Background(), &unguarded, "confirmed by tester", false); rep.Verdict != VerdictRefused || !strings.Contains(rep.Why, "rollback: an experiment needs") {
		t.Errorf("without a rollback: %s: %s", rep.Verdict, rep.Why)
	}
	// a dry run injects nothing: read-only does not stop it
	f.runner.Exec.ReadOnly = true
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", true)
	if rep.Verdict != VerdictDryRun || !rep.OK() || len(rep.SteadyState) != 1 || !rep.SteadyState[0].OK {
		t.Errorf("dry run under read-only: %s: %s %+v", rep.Verdict, rep.Why, rep.SteadyState)
	}
	if h := rep.Headline(); h != "DRY RUN: nothing injected; the steady state holds" {
		t.Errorf("headline %q", h)
	}
	if len(f.act.acts) != 0 || f.auditLines(t) != nil {
		t.Errorf("acted %v, audit %v", f.act.acts, f.auditLines(t))
	}
}

func TestUnfinishedRunIsFoundAndRecovered(t *testing.T) {
	f := newFixture(t, healthy)
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	// cut the log after the injection: the process was killed there
	b, err := os.ReadFile(f.audit.Path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(f.audit.Path, []byte(strings.Join(lines[:3], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	rows, bad, err := f.audit.Read()
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	us := FindUnfinished(rows)
	if len(us) != 1 || us[0].Ref.Run != rep.Run || us[0].By != "tester@h" || len(us[0].Injected) != 1 || !strings.HasPrefix(us[0].Injected[0], "latency: simulator inject-latency") {
		t.Fatalf("unfinished %+v", us)
	}
	// the file changed since: the rollback is the current one's, and it says so
	changed := *f.exp
	changed.SHA256 = strings.Repeat("0", 64)
	rec := f.runner.Recover(context.Background(), us[0], &changed, "confirmed by tester")
	if rec.Verdict != VerdictAborted || !strings.HasPrefix(rec.Why, "recovered: the run "+rep.Run+" was killed before its rollback; rolled back now") ||
		!strings.Contains(rec.Why, "changed since that run") {
		t.Errorf("recover: %s: %s", rec.Verdict, rec.Why)
	}
	if f.act.count("clear-faults") != 2 {
		t.Errorf("clear-faults ran %d times, want the run's and the recovery's", f.act.count("clear-faults"))
	}
	rows, _, _ = f.audit.Read()
	if us := FindUnfinished(rows); len(us) != 0 {
		t.Errorf("still unfinished after recovery: %+v", us)
	}
}

func TestDaemonRefusals(t *testing.T) {
	f := newFixture(t, healthy)
	budget := slo.Budget{SLO: slo.Objective{Name: "checkout-availability"}, Remaining: 0.1}
	d := &Daemon{Runner: f.runner, Floor: 0.25, Budgets: func(context.Context) []slo.Budget { return []slo.Budget{budget} }}
	if why := d.Refusal(context.Background()); !strings.Contains(why, "checkout-availability has 10.0% of its error budget left, below the floor of 25.0%") {
		t.Errorf("budget refusal %q", why)
	}
	budget.Remaining = sources.NaN()
	if why := d.Refusal(context.Background()); !strings.Contains(why, "SLO checkout-availability's budget is undefined") {
		t.Errorf("an undefined budget let an experiment through: %q", why)
	}
	budget.Remaining = 0.5
	if why := d.Refusal(context.Background()); why != "" {
		t.Errorf("refused with budget to spare: %q", why)
	}
	d.OpenIncident = func(context.Context) (string, error) { return "inc-0badf00d", nil }
	if why := d.Refusal(context.Background()); why != "incident inc-0badf00d is open" {
		t.Errorf("incident refusal %q", why)
	}
	d.OpenIncident = func(context.Context) (string, error) { return "", errors.New("store locked") }
	if why := d.Refusal(context.Background()); !strings.Contains(why, "cannot tell whether an incident is open") {
		t.Errorf("unknown incident state %q", why)
	}
}

func TestDaemonStartsOnScheduleAndNotesRefusals(t *testing.T) {
	f := newFixture(t, healthy)
	f.exp.Schedule = "*/5 * * * *"
	f.clk.t = t0.Add(time.Minute)
	open := "inc-0badf00d"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reports []Report
	d := &Daemon{Runner: f.runner, Experiments: []*Experiment{f.exp}, Floor: 0.25, Approval: "daemon",
		OpenIncident: func(context.Context) (string, error) { return open, nil },
		Done: func(rep Report) {
			reports = append(reports, rep)
			open = "" // the incident closes: the next start runs
			if len(reports) == 2 {
				cancel()
			}
		}}
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 {
		t.Fatalf("%d reports", len(reports))
	}
	if r := reports[0]; r.Verdict != VerdictRefused || !r.Started.Equal(t0.Add(5*time.Minute)) || !strings.Contains(r.Why, "incident inc-0badf00d is open") {
		t.Errorf("first start: %s at %s: %s", r.Verdict, r.Started, r.Why)
	}
	if r := reports[1]; r.Verdict != VerdictPassed || !r.Started.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("second start: %s at %s: %s", r.Verdict, r.Started, r.Why)
	}
	rows, _, err := f.audit.Read()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Before.Result != VerdictRefused || rows[0].Before.Experiment.Stage != StageStart {
		t.Errorf("the refusal's audit entry: %+v", rows[0].Before)
	}
	if us := FindUnfinished(rows); len(us) != 0 {
		t.Errorf("a refused start counted as unfinished: %+v", us)
	}
}

// silentMetrics answers the steady state, then never again.
type silentMetrics struct {
	scriptedMetrics
	from time.Time
}

func (m silentMetrics) RED(ctx context.Context, svcs []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	if !r.End.Before(m.from) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return m.scriptedMetrics.RED(ctx, svcs, r, step)
}

func TestSilentGuardBackendAbortsAndRollsBack(t *testing.T) {
	f := newFixture(t, healthy)
	f.runner.Metrics = silentMetrics{scriptedMetrics: scriptedMetrics{script: healthy}, from: t0.Add(10 * time.Second)}
	f.runner.ReadTimeout = 20 * time.Millisecond
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictAborted || !strings.Contains(rep.Why, "guard payment-api error ratio < 1% unreadable") || !strings.Contains(rep.Why, "deadline exceeded") {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if at := rep.Guards[0].Readings[len(rep.Guards[0].Readings)-1].At; at.Sub(t0) > 10*time.Second {
		t.Errorf("aborted at %s, want at the first silent reading (10s)", at.Sub(t0))
	}
	if f.act.count("clear-faults") != 1 {
		t.Errorf("rollback ran %d times", f.act.count("clear-faults"))
	}
}

func TestSecretsStayOutOfTheAuditLogAndReport(t *testing.T) {
	f := newFixture(t, healthy)
	dir := t.TempDir()
	file := filepath.Join(dir, "exec.yaml")
	body := strings.Replace(runExperiment, `    kind: sim
    sim: {action: inject-latency, service: "{{.Target}}", params: {latency: 200ms}}`, `    kind: exec
    argv: [true, "--token={{secret \"CHAOS_TOKEN\"}}", "{{.Target}}"]`, 1)
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f.runner.Exec.Getenv = func(name string) (string, bool) { return "s3cr3t-value", name == "CHAOS_TOKEN" }
	rep := f.runner.Run(context.Background(), e, "confirmed by tester", false)
	if rep.Verdict != VerdictPassed {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	var out bytes.Buffer
	if err := WriteText(&out, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&out, rep); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(f.audit.Path)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"report": out.String(), "json": string(js), "audit log": string(log)} {
		if strings.Contains(text, "s3cr3t-value") {
			t.Errorf("the secret is in the %s", name)
		}
		if !strings.Contains(text, "‹secret:CHAOS_TOKEN›") {
			t.Errorf("the %s does not show the secret's placeholder", name)
		}
	}
}

// failedTraces answers a trace search with its IDs.
type failedTraces struct {
	sources.Traces
	ids   []string
	asked sources.TraceSearch
}

func (f *failedTraces) SearchTraces(_ context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	f.asked = q
	var out []sources.TraceSummary
	for _, id := range f.ids {
		out = append(out, sources.TraceSummary{TraceID: id})
	}
	return out, nil
}

// A run whose rollback failed stays unfinished: its end entry says so,
// every later start offers the rollback again, and its history record
// stays open; a recovery that succeeds then finishes it.
func TestFailedRollbackStaysRecoverable(t *testing.T) {
	f := newFixture(t, healthy)
	f.act.fail["clear-faults"] = true
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictAborted || !strings.Contains(rep.Why, "rollback failed") || rep.RolledBack() {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if rec := rep.Record("prod"); !rec.Open() {
		t.Errorf("the record of a run whose rollback failed is resolved at %v: the fault may still be in", rec.Resolved.T)
	}
	rows, _, err := f.audit.Read()
	if err != nil {
		t.Fatal(err)
	}
	us := FindUnfinished(rows)
	if len(us) != 1 || us[0].Ref.Run != rep.Run {
		t.Fatalf("unfinished %+v, want the run whose rollback failed", us)
	}
	// the recovery fails too: still owed
	if rec := f.runner.Recover(context.Background(), us[0], f.exp, "confirmed by tester"); rec.RolledBack() {
		t.Fatalf("recovery rolled back with a failing actuator: %s", rec.Why)
	}
	rows, _, _ = f.audit.Read()
	if us := FindUnfinished(rows); len(us) != 1 {
		t.Fatalf("after a failed recovery: unfinished %+v, want the run still", us)
	}
	f.act.fail["clear-faults"] = false
	if rec := f.runner.Recover(context.Background(), us[0], f.exp, "confirmed by tester"); !rec.RolledBack() {
		t.Fatalf("recovery: %s: %s", rec.Verdict, rec.Why)
	}
	rows, _, _ = f.audit.Read()
	if us := FindUnfinished(rows); len(us) != 0 {
		t.Errorf("still unfinished after a recovery that rolled back: %+v", us)
	}
}

// faultTrips is a fleet whose error ratio is 5% while an injected fault
// is in (more inject-latency than clear-faults have succeeded), else 0.1%.
func faultTrips(act **actuator) func(string, time.Time) (float64, float64, error) {
	return func(string, time.Time) (float64, float64, error) {
		a := *act
		a.mu.Lock()
		in := 0
		for _, k := range a.acts {
			switch {
			case k == "inject-latency":
				in++
			case k == "clear-faults" && !a.fail[k]:
				in = 0
			}
		}
		a.mu.Unlock()
		if in > 0 {
			return 0.05, 0.4, nil
		}
		return 0.001, 0.4, nil
	}
}

// The daemon does not run again an experiment whose run failed once its
// fault was in, and starts nothing while a run it started owes its
// rollback; a recovery written to the audit log lets the others start.
func TestDaemonBenchesFailedRunsAndWaitsForRollback(t *testing.T) {
	var act *actuator
	f := newFixture(t, faultTrips(&act))
	act = f.act
	f.act.fail["clear-faults"] = true
	f.exp.Schedule = "*/5 * * * *"
	other := *f.exp
	other.Name = "other"
	f.clk.t = t0.Add(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reports []Report
	d := &Daemon{Runner: f.runner, Experiments: []*Experiment{f.exp, &other}, Floor: 0.25, Approval: "daemon",
		Done: func(rep Report) {
			reports = append(reports, rep)
			if len(reports) == 2 {
				// someone rolls the owed run back by hand
				f.act.fail["clear-faults"] = false
				rows, _, err := f.audit.Read()
				if err != nil {
					t.Error(err)
				}
				for _, u := range FindUnfinished(rows) {
					f.runner.Recover(ctx, u, f.exp, "confirmed by tester")
				}
			}
			if len(reports) == 4 {
				cancel()
			}
		}}
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 4 {
		t.Fatalf("%d reports", len(reports))
	}
	want := []struct{ name, verdict, why string }{
		{f.exp.Name, VerdictFailed, "the daemon does not run payment-db-latency again until it is restarted, and starts nothing until run " + reports[0].Run + " is rolled back"},
		{"other", VerdictRefused, "run " + reports[0].Run + " of payment-db-latency did not roll back"},
		{f.exp.Name, VerdictRefused, "failed once its fault was in: the daemon does not run payment-db-latency again until it is restarted"},
		{"other", VerdictFailed, "the daemon does not run other again until it is restarted"},
	}
	for i, w := range want {
		if r := reports[i]; r.Experiment != w.name || r.Verdict != w.verdict || !strings.Contains(r.Why, w.why) {
			t.Errorf("start %d: %s %s: %s; want %s %s: …%s…", i, r.Experiment, r.Verdict, r.Why, w.name, w.verdict, w.why)
		}
	}
	if n := f.act.count("inject-latency"); n != 2 {
		t.Errorf("inject-latency ran %d times, want once per experiment", n)
	}
}

// With no ReadTimeout set, a guard backend that stops answering aborts
// the run within about two intervals and the read's bound (2 × 1s,
// floor 2s) of wall time, not the old 10 s.
func TestSilentGuardBackendAbortsWithinTwoIntervals(t *testing.T) {
	f := newFixture(t, healthy)
	f.runner.Metrics = silentMetrics{scriptedMetrics: scriptedMetrics{script: healthy}, from: t0.Add(time.Second)}
	e := *f.exp
	e.Interval = timeparse.Duration(time.Second)
	start := time.Now()
	rep := f.runner.Run(context.Background(), &e, "confirmed by tester", false)
	took := time.Since(start)
	if rep.Verdict != VerdictAborted || !strings.Contains(rep.Why, "unreadable") || !strings.Contains(rep.Why, "deadline exceeded") {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if took < 2*time.Second || took > 2*time.Second+2*time.Second {
		t.Errorf("a silent backend aborted the run after %s, want about the 2s bound, within two intervals of it", took)
	}
	if f.act.count("clear-faults") != 1 {
		t.Errorf("rollback ran %d times", f.act.count("clear-faults"))
	}
}
