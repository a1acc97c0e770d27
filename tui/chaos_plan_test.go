package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/remediate"
)

// longBody is a Toxiproxy toxic of 300 characters: the plan must show
// it whole, not its first dozen.
var longBody = func() string {
	b := `{"name": "latency", "type": "latency", "stream": "downstream", "toxicity": 1.0, "attributes": {"latency": 50, "jitter": 10}, "comment": "`
	for i := 0; len(b) < 298; i++ {
		b += string(rune('a' + i%26))
	}
	return b + `"}`
}()

// latencyExperiment injects a toxic over HTTP, its body longBody, and
// removes it: a command of several lines, wider than any screen.
var latencyExperiment = `name: ledger-latency
hypothesis: orders keeps its errors under 1% while ledger answers 50 ms slower
target: payment-api
inject:
  - name: latency
    kind: http
    http:
      method: POST
      url: "http://127.0.0.1:8474/proxies/{{.Target}}/toxics"
      headers: {Content-Type: application/json}
      body: '` + longBody + `'
guards:
  - {service: payment-api, signal: error_ratio, below: 1%}
interval: 5s
duration: 10m
rollback:
  - name: remove
    kind: http
    http: {method: DELETE, url: "http://127.0.0.1:8474/proxies/{{.Target}}/toxics/latency"}
`

var pgDown = tea.KeyPressMsg{Code: tea.KeyPgDown}

// TestGoldenChaosLongCommand: at 80×24 the plan of an injection with a
// 300-character body wraps every line of the request (method and URL,
// header, body) and pgdn, while the target's name is asked, scrolls to
// the rollback at its end.
func TestGoldenChaosLongCommand(t *testing.T) {
	if len(longBody) != 300 {
		t.Fatalf("the body is %d characters", len(longBody))
	}
	a, _ := chaosCockpit(t, latencyExperiment, 80, 24, false)
	drive(t, a, press("C"), press("enter"))
	mustShow(t, a, "Type payment-api and enter")
	v := a.top().(*chaosView)
	var plan strings.Builder
	for _, l := range v.drawn {
		if w := ansi.StringWidth(l); w > 80 {
			t.Fatalf("a plan line is %d cells wide, not wrapped: %q", w, l)
		}
		plan.WriteString(ansi.Strip(l))
	}
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for _, want := range []string{"body: '" + longBody + "'", "Content-Type: application/json",
		"POST http://127.0.0.1:8474/proxies/payment-api/toxics", "DELETE http://127.0.0.1:8474/proxies/payment-api/toxics/latency"} {
		if !strings.Contains(squeeze(plan.String()), squeeze(want)) {
			t.Fatalf("the plan lacks %q:\n%s", want, strings.Join(v.drawn, "\n"))
		}
	}
	// read back exactly: the body's line, then its continuations, each
	// under its indentation, give every character of it
	var body string
	for i, l := range v.drawn {
		if l = ansi.Strip(l); strings.HasPrefix(l, "      body: ") {
			body = strings.TrimPrefix(l, "      ")
			for _, c := range v.drawn[i+1:] {
				c = ansi.Strip(c)
				if !strings.HasPrefix(c, "      ") || strings.TrimSpace(c) == "" {
					break
				}
				body += strings.TrimPrefix(c, "      ")
			}
			break
		}
	}
	if want := "body: '" + longBody + "'"; body != want {
		t.Fatalf("the body reads back as\n%q, want\n%q", body, want)
	}
	for range 5 {
		drive(t, a, pgDown)
	}
	if v.offset != v.last() || v.last() == 0 {
		t.Fatalf("pgdn stopped at %d of %d", v.offset, v.last())
	}
	// the keys scrolled; none went into the name
	mustShow(t, a, "Type payment-api and enter: ▏")
	if bad := misfit(screen(a), 80, 24); bad != "" {
		t.Fatal(bad)
	}
	golden.RequireEqual(t, []byte(chaosScreen(a)))
}

// TestChaosListShowsEveryProblem: two bad files each show their
// file:line: message on a row of their own, under the experiment that
// loaded; on a short screen the rows scroll to them.
func TestChaosListShowsEveryProblem(t *testing.T) {
	a, _ := chaosCockpit(t, errorsExperiment, 80, 24, false)
	dir := t.TempDir()
	for name, text := range map[string]string{
		"good.yaml":      errorsExperiment,
		"no-guards.yaml": strings.Replace(errorsExperiment, "guards:", "unguarded:", 1),
		"torn.yaml":      "name: torn\n  target: [\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	es, err := chaos.LoadDir(dir)
	if err == nil || len(es) != 1 {
		t.Fatalf("LoadDir: %d experiments, %v", len(es), err)
	}
	a.c.deps.Chaos.Experiments, a.c.deps.Chaos.LoadErr = es, err
	problems := loadProblems(err)
	if len(problems) < 2 {
		t.Fatalf("%d problems, want one a file at least: %v", len(problems), err)
	}
	drive(t, a, press("C"))
	mustShow(t, a, "payment-errors")
	for _, p := range problems {
		mustShow(t, a, "✗ "+ansi.Truncate(p, 76, ""))
	}
	for _, f := range []string{"no-guards.yaml:", "torn.yaml:"} {
		mustShow(t, a, f)
	}
	// on a short screen, the last problem is reached by moving down
	drive(t, a, tea.WindowSizeMsg{Width: 80, Height: 7})
	for range len(problems) + 1 {
		drive(t, a, press("down"))
	}
	mustShow(t, a, "▸ "+ansi.Truncate(problems[len(problems)-1], 76, ""))
	if bad := misfit(screen(a), 80, 7); bad != "" {
		t.Fatal(bad)
	}
}

// TestChaosReportSaysWhyAndAFailedRollback: a run that passed but whose
// rollback failed shows the runner's why whole, the failed rollback with
// its error, and that the fault may still be in place.
func TestChaosReportSaysWhyAndAFailedRollback(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	why := "rollback failed: remove on ledger: failed; the guards held for 10m"
	rep := chaos.Report{Experiment: "ledger-latency", Run: "abc123", Verdict: chaos.VerdictAborted, Why: why, Injected: at,
		Inject:   []remediate.ActionOutcome{{Name: "latency", Target: "ledger", Result: remediate.ResultDone}},
		Rollback: []remediate.ActionOutcome{{Name: "remove", Target: "ledger", Result: remediate.ResultFailed, Error: "connection refused"}}}
	out := ansi.Strip(strings.Join(renderChaosReport(rep, time.UTC, styles()), "\n"))
	for _, want := range []string{"✗ ABORTED", "  " + why, "rollback: ✗ remove on ledger: failed (connection refused)",
		"✗ the rollback did not finish: the fault may still be in place"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the report lacks %q:\n%s", want, out)
		}
	}
}

// TestChaosRecoveryIsRecorded: the rollback of a run that never
// finished is recorded in the history as a run is, and the flash says
// its ID.
func TestChaosRecoveryIsRecorded(t *testing.T) {
	a, _ := chaosCockpit(t, errorsExperiment, 120, 40, false)
	st := chaosHistory(t, a)
	e := a.c.deps.Chaos.Experiments[0]
	ref := remediate.ExperimentRef{Name: e.Name, Run: remediate.NewID(), File: e.File, SHA256: e.SHA256, Stage: chaos.StageStart}
	x := a.c.deps.Kit.Exec
	if err := x.Note(ref, e.Name, e.Target, "started", "killed"); err != nil {
		t.Fatal(err)
	}
	// the fault went in, and the process was killed before its rollback
	inject := ref
	inject.Stage = chaos.StageInject
	if o := x.RunStandalone(context.Background(), remediate.Standalone{Owner: e.Name, Action: e.Inject[0],
		Vars: remediate.Vars{Target: e.Target}, Experiment: &inject}); o.Result != remediate.ResultDone {
		t.Fatalf("the injection: %s", o.String())
	}
	drive(t, a, press("C"))
	mustShow(t, a, "payment-errors never finished")
	drive(t, a, press("enter"))
	mustShow(t, a, "Roll it back? [y/N]")
	_, cmd := a.Update(press("y"))
	run(a, cmd)
	recs, err := st.List(context.Background(), history.Filter{})
	if err != nil || len(recs) != 1 || recs[0].Origin != history.OriginChaos {
		t.Fatalf("the history after the recovery: %v %+v", err, recs)
	}
	mustShow(t, a, "recorded as "+recs[0].ID+" in the history (H)")
	if u := chaos.FindUnfinished(mustRows(t, a)); len(u) != 0 {
		t.Fatalf("still unfinished after the recovery: %+v", u)
	}
}

func mustRows(t *testing.T, a *App) []remediate.Row {
	t.Helper()
	rows, _, err := a.c.deps.Kit.Audit.Read()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestChaosListShowsALiveRunWithoutItsRollback: an unfinished run that
// another process runs now says so, and offers no rollback.
func TestChaosListShowsALiveRunWithoutItsRollback(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	u := chaos.Unfinished{Ref: remediate.ExperimentRef{Name: "ledger-latency", Run: "r1"}, Started: at, By: "ana@box", Target: "ledger"}
	l := chaosList{Unfinished: []chaos.Unfinished{u}, Live: map[string]string{"r1": "ana@box"}, Sel: 1, Zone: time.UTC}
	out := ansi.Strip(strings.Join(renderChaosList(l, 120, 20, styles()), "\n"))
	if !strings.Contains(out, "ledger-latency running now (by ana@box)") || strings.Contains(out, "offers its rollback") {
		t.Fatalf("the list:\n%s", out)
	}
	// enter on it says who runs it, and opens no rollback
	a, _ := chaosCockpit(t, errorsExperiment, 120, 40, false)
	drive(t, a, press("C"))
	a.Update(unfinishedMsg{runs: []chaos.Unfinished{u}, live: l.Live})
	drive(t, a, press("enter"))
	if _, ok := a.top().(*chaosListView); !ok {
		t.Fatalf("enter on a live run opened %T", a.top())
	}
	mustShow(t, a, "ledger-latency is running now (by ana@box): its own process rolls it back")
}
