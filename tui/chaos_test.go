package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
)

// errorsExperiment fails a fifth of payment-api's requests: its error
// guard at 1% trips at the first reading that sees them.
const errorsExperiment = `name: payment-errors
hypothesis: payment-api keeps its errors under 1% while a fifth of its requests fail
target: payment-api
steady_state:
  - {service: payment-api, signal: error_ratio, below: 1%, over: 5m}
inject:
  - name: errors
    kind: sim
    sim: {action: inject-errors, service: "{{.Target}}", params: {ratio: 20%}}
guards:
  - {service: payment-api, signal: error_ratio, below: 1%}
  - {service: payment-api, signal: p99, below: 2s}
interval: 5s
duration: 10m
rollback:
  - name: clear
    kind: sim
    sim: {action: clear-faults, service: "{{.Target}}"}
`

// chaosCockpit is the cockpit on the quiet fleet ten minutes in, with
// the experiment of text in C's list, run on the simulator by the
// runbooks' executor (a guard interval's wait moves the fleet on).
func chaosCockpit(t *testing.T, text string, w, h int, readOnly bool) (*App, *sim.Fleet) {
	t.Helper()
	a, f := kitted(t, "quiet", 10*time.Minute, w, h, readOnly)
	file := filepath.Join(t.TempDir(), "experiment.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := chaos.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := a.c.deps
	a.c.deps.Chaos = &ChaosDeps{Experiments: []*chaos.Experiment{e}, Dir: "experiments", Runner: func() *chaos.Runner {
		return &chaos.Runner{Exec: &d.Kit.Exec, Metrics: d.Sources.Metrics, SLIs: d.Sources.SLIs, SLOs: d.SLOs}
	}}
	return a, f
}

// stepRun feeds a run's messages to the app one at a time until stop
// holds after one; it returns what reads the rest.
func stepRun(a *App, cmd tea.Cmd, stop func() bool) tea.Cmd {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch m := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, m...)
		case chaosEventMsg, chaosDoneMsg:
			_, next := a.Update(m)
			queue = append(queue, next)
			if stop() {
				return tea.Batch(queue...)
			}
		default:
			run(a, func() tea.Msg { return m })
		}
	}
	return nil
}

// runIDs are the audit log's run IDs, new every run: masked in goldens.
var runIDs = regexp.MustCompile(`run [0-9a-f]{6,}`)

func chaosScreen(a *App) string {
	return runIDs.ReplaceAllStringFunc(screen(a), func(s string) string { return "run " + strings.Repeat("X", len(s)-4) })
}

// startChaos opens C, the experiment, and types its target's name: the
// command that reads the run's first event.
func startChaos(t *testing.T, a *App) tea.Cmd {
	t.Helper()
	drive(t, a, press("C"), press("enter"))
	mustShow(t, a, "Type payment-api and enter")
	typeText(t, a, "payment-api")
	_, cmd := a.Update(press("enter"))
	if _, ok := a.top().(*chaosView); !ok || cmd == nil {
		t.Fatalf("enter did not start the run:\n%s", screen(a))
	}
	return cmd
}

// TestGoldenChaos: the list, the plan, the panel with the guard TRIPPED
// while it rolls back, and the report, at 80×24 and 100×30.
func TestGoldenChaos(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a, _ := chaosCockpit(t, errorsExperiment, size[0], size[1], false)
			drive(t, a, press("C"))
			t.Run("list", func(t *testing.T) { golden.RequireEqual(t, []byte(chaosScreen(a))) })
			drive(t, a, press("esc"))
			cmd := startChaos(t, a)
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Fatal(bad)
			}
			v := a.top().(*chaosView)
			rest := stepRun(a, cmd, func() bool { return v.stage == chaos.StageRollback })
			t.Run("tripped", func(t *testing.T) { golden.RequireEqual(t, []byte(chaosScreen(a))) })
			out := screen(a)
			if !strings.Contains(out, "TRIPPED") || !strings.Contains(out, "ROLLING BACK") {
				t.Fatalf("no trip, no rollback:\n%s", out)
			}
			stepRun(a, rest, func() bool { return v.report != nil })
			t.Run("report", func(t *testing.T) { golden.RequireEqual(t, []byte(chaosScreen(a))) })
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Fatal(bad)
			}
		})
	}
}

// TestGoldenChaosPlan: the plan as it asks, every command as it will
// run.
func TestGoldenChaosPlan(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a, _ := chaosCockpit(t, errorsExperiment, size[0], size[1], false)
			drive(t, a, press("C"), press("enter"))
			golden.RequireEqual(t, []byte(chaosScreen(a)))
		})
	}
}

// TestChaosTripRollsBackAndReports: the guard trips, the fault is
// cleared, the report says FAILED with the trip, and the audit log holds
// the run's end.
func TestChaosTripRollsBackAndReports(t *testing.T) {
	a, f := chaosCockpit(t, errorsExperiment, 120, 40, false)
	run(a, startChaos(t, a))
	out := screen(a)
	for _, want := range []string{"ENDED ✗ FAILED", "TRIPPED", "tripped: payment-api error ratio < 1%", "rollback: ✓ clear on payment-api: done",
		"chaos payment-errors: failed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the screen does not show %q:\n%s", want, out)
		}
	}
	if len(a.c.runs) != 0 {
		t.Fatalf("the run is still counted as running: %v", a.c.runs)
	}
	rows, _, _ := a.c.deps.Kit.Audit.Read()
	if u := chaos.FindUnfinished(rows); len(u) != 0 {
		t.Fatalf("the run is unfinished in the audit log: %+v", u)
	}
	if got := len(f.ChangesBetween(f.Onset(), f.Now())); got < 2 {
		t.Fatalf("the simulator saw %d changes: the injection and its rollback did not both reach it", got)
	}
}

// TestChaosAbortRollsBack: x cancels the run, which rolls back and
// reports aborted. The guard interval's wait holds until the run is
// cancelled, so that x comes while the fault is in.
func TestChaosAbortRollsBack(t *testing.T) {
	calm := strings.Replace(errorsExperiment, "ratio: 20%", "ratio: 0.1%", 1)
	a, _ := chaosCockpit(t, calm, 120, 40, false)
	a.c.deps.Kit.Exec.Wait = func(ctx context.Context, _ time.Duration) error {
		<-ctx.Done()
		return ctx.Err()
	}
	cmd := startChaos(t, a)
	v := a.top().(*chaosView)
	rest := stepRun(a, cmd, func() bool { return !v.injected.IsZero() })
	mustShow(t, a, "INJECTED since 23:33:00 · 10m00s of 10m left")
	// quitting with the fault in asks first, and n stays
	drive(t, a, press("q"))
	mustShow(t, a, "experiment payment-errors on payment-api")
	drive(t, a, press("n"))
	drive(t, a, press("x"))
	mustShow(t, a, "ROLLING BACK")
	stepRun(a, rest, func() bool { return v.report != nil })
	out := screen(a)
	if !strings.Contains(out, "✗ ABORTED") || !strings.Contains(out, "rollback: ✓ clear on payment-api: done") || !strings.Contains(out, "aborted from the cockpit (x)") {
		t.Fatalf("after x:\n%s", out)
	}
}

// TestChaosConfirmationRules: a wrong name runs nothing; read-only shows
// the plan and runs nothing; a typed context wants its name after the
// target's; no experiments configured says so.
func TestChaosConfirmationRules(t *testing.T) {
	a, _ := chaosCockpit(t, errorsExperiment, 120, 40, false)
	drive(t, a, press("C"), press("enter"))
	typeText(t, a, "payment")
	drive(t, a, press("enter"))
	mustShow(t, a, "not run: payment-errors: the name typed was not payment-api")
	if rows, _, _ := a.c.deps.Kit.Audit.Read(); len(rows) != 0 {
		t.Fatalf("a wrong name wrote %d audit rows", len(rows))
	}

	a.c.deps.ConfirmTyped, a.c.deps.Context = true, "prod"
	drive(t, a, press("esc"), press("C"), press("enter"))
	typeText(t, a, "payment-api")
	drive(t, a, press("enter"))
	mustShow(t, a, "This is prod: type prod")

	ro, _ := chaosCockpit(t, errorsExperiment, 120, 40, true)
	drive(t, ro, press("C"), press("enter"))
	mustShow(t, ro, "read-only: nothing runs")
	drive(t, ro, press("y"))
	if rows, _, _ := ro.c.deps.Kit.Audit.Read(); len(rows) != 0 || strings.Contains(screen(ro), "RUNNING") {
		t.Fatalf("read-only ran it:\n%s", screen(ro))
	}

	none, _ := kitted(t, "quiet", 10*time.Minute, 120, 40, false)
	drive(t, none, press("C"))
	mustShow(t, none, "chaos is not configured")
}

// TestChaosUnfinishedRunOffersItsRollback: a run whose end the audit log
// lacks (the process was killed) is listed first; enter offers its
// rollback, and y runs it and writes the end.
func TestChaosUnfinishedRunOffersItsRollback(t *testing.T) {
	a, _ := chaosCockpit(t, errorsExperiment, 120, 40, false)
	e := a.c.deps.Chaos.Experiments[0]
	x := a.c.deps.Kit.Exec
	ref := remediate.ExperimentRef{Name: e.Name, Run: remediate.NewID(), File: e.File, SHA256: e.SHA256, Stage: chaos.StageStart}
	if err := x.Note(ref, e.Name, e.Target, "started", "killed"); err != nil {
		t.Fatal(err)
	}
	drive(t, a, press("C"))
	mustShow(t, a, "payment-errors never finished — its fault may still be in place")
	drive(t, a, press("enter"))
	mustShow(t, a, "Roll it back? [y/N]")
	mustShow(t, a, "clear: simulator clear-faults payment-api")
	drive(t, a, press("y"))
	mustShow(t, a, "rollback: ✓ clear on payment-api: done")
	rows, _, _ := a.c.deps.Kit.Audit.Read()
	if u := chaos.FindUnfinished(rows); len(u) != 0 {
		t.Fatalf("still unfinished after the rollback: %+v", u)
	}
}

// chaosHistory gives the cockpit a history in a SQLite file of its own.
func chaosHistory(t *testing.T, a *App) history.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a.c.deps.History = &history.Recorder{Store: st, Stack: "demo", Wall: a.c.deps.Wall}
	return st
}

// sequenced reports whether msg is tea.Sequence's message (unexported):
// its commands, to run in order.
func sequenced(msg tea.Msg) ([]tea.Cmd, bool) {
	v := reflect.ValueOf(msg)
	if !v.IsValid() || v.Kind() != reflect.Slice || !v.Type().ConvertibleTo(reflect.TypeFor[[]tea.Cmd]()) {
		return nil, false
	}
	return v.Convert(reflect.TypeFor[[]tea.Cmd]()).Interface().([]tea.Cmd), true
}

// drainQuits runs cmd as the program does, a sequence's commands in
// order, and says whether it quit; what follows the quit is not run.
func drainQuits(a *App, cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	msg := cmd()
	if cmds, ok := sequenced(msg); ok {
		for _, c := range cmds {
			if drainQuits(a, c) {
				return true
			}
		}
		return false
	}
	switch m := msg.(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		q := false
		for _, c := range m {
			q = drainQuits(a, c) || q
		}
		return q
	case tickMsg, tailStartedMsg, nil:
		return false
	default:
		_, next := a.Update(m)
		return drainQuits(a, next)
	}
}

// TestChaosQuitAbortsTheRun: q while the fault is in asks; y aborts the
// run at once (not after its ten minutes), says it rolls back, and quits
// once the rollback has run, exactly once, and the run is in the
// history. The guard interval's wait holds until the run is cancelled:
// only the abort ends it.
func TestChaosQuitAbortsTheRun(t *testing.T) {
	calm := strings.Replace(errorsExperiment, "ratio: 20%", "ratio: 0.1%", 1)
	a, f := chaosCockpit(t, calm, 120, 40, false)
	st := chaosHistory(t, a)
	a.c.deps.Kit.Exec.Wait = func(ctx context.Context, _ time.Duration) error {
		<-ctx.Done()
		return ctx.Err()
	}
	cmd := startChaos(t, a)
	v := a.top().(*chaosView)
	rest := stepRun(a, cmd, func() bool { return !v.injected.IsZero() })
	changes := len(f.ChangesBetween(f.Onset(), f.Now()))
	_, q := a.Update(press("q"))
	if drainQuits(a, q) {
		t.Fatalf("q quit with the fault in:\n%s", screen(a))
	}
	mustShow(t, a, "AN EXPERIMENT IS RUNNING")
	mustShow(t, a, "Abort it and quit once it has rolled back?")
	_, y := a.Update(press("y"))
	if drainQuits(a, y) {
		t.Fatalf("y quit before the rollback:\n%s", screen(a))
	}
	mustShow(t, a, "ROLLING BACK")
	mustShow(t, a, "aborted: quitting once experiment payment-errors on payment-api has rolled back")
	if !drainQuits(a, rest) {
		t.Fatalf("did not quit once the run had rolled back:\n%s", screen(a))
	}
	if v.report == nil || v.report.Verdict != chaos.VerdictAborted || !strings.Contains(v.report.Why, "the cockpit is quitting") {
		t.Fatalf("the report: %+v", v.report)
	}
	rows, _, _ := a.c.deps.Kit.Audit.Read()
	rollbacks := 0
	for _, r := range rows {
		if x := r.Before.Experiment; x != nil && x.Stage == chaos.StageRollback {
			rollbacks++
			if r.Unfinished || r.After.Result != remediate.ResultDone {
				t.Errorf("the rollback did not finish: %+v", r)
			}
		}
	}
	if rollbacks != 1 {
		t.Fatalf("%d rollbacks in the audit log, want 1: %+v", rollbacks, rows)
	}
	if u := chaos.FindUnfinished(rows); len(u) != 0 {
		t.Fatalf("the run is unfinished in the audit log: %+v", u)
	}
	if got := len(f.ChangesBetween(f.Onset(), f.Now())) - changes; got != 1 {
		t.Fatalf("the simulator saw %d changes after the injection, want the one rollback", got)
	}
	recs, err := st.List(context.Background(), history.Filter{})
	if err != nil || len(recs) != 1 || recs[0].Origin != history.OriginChaos {
		t.Fatalf("the history before quitting: %v %+v", err, recs)
	}
}

// TestChaosFailedRunIsRecorded: a run whose guard tripped is an incident
// in the history, and the flash says its ID; a store that cannot write
// says why.
func TestChaosFailedRunIsRecorded(t *testing.T) {
	a, _ := chaosCockpit(t, errorsExperiment, 120, 40, false)
	st := chaosHistory(t, a)
	run(a, startChaos(t, a))
	recs, err := st.List(context.Background(), history.Filter{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("the history: %v %+v", err, recs)
	}
	r := recs[0]
	if r.Origin != history.OriginChaos || !strings.Contains(r.Title, "payment-errors failed: payment-api error ratio < 1%") {
		t.Fatalf("the record: %+v", r)
	}
	mustShow(t, a, "chaos payment-errors: failed, recorded as "+r.ID+" in the history (H)")

	full, _ := chaosCockpit(t, errorsExperiment, 120, 40, false)
	chaosHistory(t, full)
	full.c.deps.History.Store = fullDisk{}
	run(full, startChaos(t, full))
	mustShow(t, full, "chaos payment-errors: failed, not recorded in the history: disk full")
}

// TestRunningHeading: the quit question names what runs.
func TestRunningHeading(t *testing.T) {
	for _, c := range []struct {
		runbooks, experiments, rollbacks int
		want                             string
	}{
		{1, 0, 0, "A RUNBOOK IS RUNNING"},
		{0, 1, 0, "AN EXPERIMENT IS RUNNING"},
		{0, 0, 1, "A ROLLBACK IS RUNNING"},
		{2, 1, 0, "2 RUNBOOKS AND AN EXPERIMENT ARE RUNNING"},
	} {
		if got := runningHeading(c.runbooks, c.experiments, c.rollbacks); got != c.want {
			t.Errorf("runningHeading(%d, %d, %d) = %q, want %q", c.runbooks, c.experiments, c.rollbacks, got, c.want)
		}
	}
}
