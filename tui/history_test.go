package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
)

// fakeHistory is a history store in memory: List filters and orders as
// the SQL store does, newest first; err fails every read.
type fakeHistory struct {
	history.Store
	records []history.Record
	err     error
}

func (f fakeHistory) List(_ context.Context, flt history.Filter) ([]history.Record, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []history.Record
	for _, r := range f.records {
		if r.When().Before(flt.Since) {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b history.Record) int { return b.When().Compare(a.When()) })
	if flt.Limit > 0 && len(out) > flt.Limit {
		out = out[:flt.Limit]
	}
	return out, nil
}

func (f fakeHistory) Get(_ context.Context, id string) (history.Record, error) {
	if f.err != nil {
		return history.Record{}, f.err
	}
	for _, r := range f.records {
		if r.ID == id {
			return r, nil
		}
	}
	return history.Record{}, history.ErrNotFound
}

func (fakeHistory) Where() string { return "/home/sre/.local/share/oncall/history.db (this machine)" }

// pastIncidents are records around the data's clock now: a resolved
// retry storm the autopilot ended, an open one, a reconstructed one with
// no onset, and older ones for the weekly charts.
func pastIncidents(now time.Time) []history.Record {
	prom := func(name string) string { return `ALERTS{alertname="` + name + `"} at 1m steps (prometheus)` }
	storm := history.Record{
		ID: "inc-3f9a1c07", Stack: "demo", Origin: history.OriginLive, Title: "HighErrorRate on checkout-api", Severity: "page",
		Services: []string{"checkout-api", "payment-api", "user-preferences-api"}, Root: "user-preferences-api", Mechanism: "retry storm",
		Summary:  "user-preferences-api slowed; payment-api's retries multiplied its load; checkout-api failed.",
		Onset:    history.Stamp{T: now.Add(-2 * time.Hour), Source: "p99 of user-preferences-api, anomaly (sim)"},
		Detected: history.Stamp{T: now.Add(-117 * time.Minute), Source: prom("HighErrorRate")},
		Acked:    history.Stamp{T: now.Add(-115 * time.Minute), Source: "silence 7c1e by alice (alertmanager)"},
		Resolved: history.Stamp{T: now.Add(-90 * time.Minute), Source: "runbook retry-storm verified (audit log)"},
		Alerts: []history.AlertSpan{{Name: "HighErrorRate", Service: "checkout-api", Severity: "page", Start: now.Add(-117 * time.Minute),
			End: now.Add(-92 * time.Minute), Source: prom("HighErrorRate")}},
		Acks: []history.Ack{{T: now.Add(-115 * time.Minute), By: "alice", Silence: "7c1e", Source: "alertmanager"}},
		Actions: []history.Action{{T: now.Add(-100 * time.Minute), ID: "a1", Runbook: "retry-storm", Action: "cap-retries", Target: "payment-api",
			User: "autopilot", Command: "kubectl set env deploy/payment-api RETRY_MAX=1 --token ‹secret:KUBE_TOKEN›", Result: "resolved", Autopilot: true}},
		ByAutopilot: true,
		Notes:       []history.Note{{T: now.Add(-110 * time.Minute), By: "alice", Text: "retries from payment-api look like the amplifier"}},
		Snapshots: []history.Snapshot{{T: now.Add(-116 * time.Minute), Summary: "user-preferences-api slow, payment-api retrying",
			Candidates: []history.Suspect{{Service: "user-preferences-api", Likelihood: correlate.Likely}},
			Blast:      history.BlastFigure{Services: []string{"checkout-api", "payment-api"}, FailingPerMin: 1240, MoneyPerMin: 310, Currency: "EUR"}}},
	}
	open := history.Record{ID: "inc-8b20d4e1", Stack: "demo", Origin: history.OriginLive, Title: "PoolExhausted on payment-api", Severity: "critical",
		Services: []string{"payment-api"}, Root: "payments-db",
		Onset:    history.Stamp{T: now.Add(-14 * time.Minute), Source: "pool fill of payments-db (sim)"},
		Detected: history.Stamp{T: now.Add(-10 * time.Minute), Source: prom("PoolExhausted")},
		Alerts:   []history.AlertSpan{{Name: "PoolExhausted", Service: "payment-api", Severity: "critical", Start: now.Add(-10 * time.Minute), Source: prom("PoolExhausted")}}}
	rebuilt := history.Record{ID: "inc-c55e0b9a", Stack: "prod-eu", Origin: history.OriginReconstructed, Title: "LatencyHigh on cart", Severity: "warning",
		Services: []string{"cart"},
		Detected: history.Stamp{T: now.Add(-3*24*time.Hour - 5*time.Hour), Source: prom("LatencyHigh")},
		Resolved: history.Stamp{T: now.Add(-3*24*time.Hour - 4*time.Hour), Source: prom("LatencyHigh")}}
	out := []history.Record{storm, open, rebuilt}
	for i, ago := range []time.Duration{20 * 24 * time.Hour, 24 * 24 * time.Hour, 50 * 24 * time.Hour, 62 * 24 * time.Hour} {
		det := now.Add(-ago)
		out = append(out, history.Record{ID: fmt.Sprintf("inc-0000%04x", i), Stack: "prod-eu", Origin: history.OriginReconstructed,
			Title: "ErrorBudgetBurn on checkout-api", Severity: "page", Services: []string{"checkout-api"}, Root: "inventory",
			Onset:    history.Stamp{T: det.Add(-time.Duration(3+i) * time.Minute), Source: "error ratio of inventory, anomaly (prometheus)"},
			Detected: history.Stamp{T: det, Source: prom("ErrorBudgetBurn")},
			Acked:    history.Stamp{T: det.Add(4 * time.Minute), Source: "silence by bob (alertmanager)"},
			Resolved: history.Stamp{T: det.Add(time.Duration(30+20*i) * time.Minute), Source: prom("ErrorBudgetBurn")}})
	}
	return out
}

// historyDeps are the test fleet's deps with a store of past incidents
// and the cockpit's zone pinned.
func historyDeps(t testing.TB, st history.Store) Deps {
	d := deps(testFleet(t))
	d.History = &history.Recorder{Store: st, Stack: history.DemoStack}
	d.Zone = time.UTC
	return d
}

func withHistory(t testing.TB, w, h int) *App {
	t.Helper()
	return startedWith(t, historyDeps(t, fakeHistory{records: pastIncidents(testFleet(t).Now())}), w, h)
}

func TestGoldenHistoryAndStats(t *testing.T) {
	for _, size := range sizes {
		a := withHistory(t, size[0], size[1])
		drive(t, a, press("H"))
		t.Run(fmt.Sprintf("list/%dx%d", size[0], size[1]), func(t *testing.T) {
			out := screen(a)
			for _, want := range []string{"INCIDENT HISTORY", "inc-8b20d4e1", "open", "user-preferenc", "auto", "30m"} {
				if !strings.Contains(out, want) {
					t.Errorf("the list lacks %q:\n%s", want, out)
				}
			}
			golden.RequireEqual(t, []byte(out))
		})
		drive(t, a, press("j"), press("enter"))
		t.Run(fmt.Sprintf("record/%dx%d", size[0], size[1]), func(t *testing.T) {
			out := screen(a)
			for _, want := range []string{"INCIDENT inc-3f9a1c07", "resolved by the autopilot", "TIMELINE", "runbook retry-storm verified (audit log)",
				"MTTD 3 min · MTTA 2 min · MTTR 30 min"} {
				if !strings.Contains(out, want) {
					t.Errorf("the record lacks %q:\n%s", want, out)
				}
			}
			golden.RequireEqual(t, []byte(out))
		})
		drive(t, a, press("S"))
		t.Run(fmt.Sprintf("stats/%dx%d", size[0], size[1]), func(t *testing.T) {
			out := screen(a)
			for _, want := range []string{"ON-CALL FIGURES", "Every stack's records but the demo's", "MTTR", "of 3 incidents", "PER WEEK"} {
				if !strings.Contains(out, want) {
					t.Errorf("the figures lack %q:\n%s", want, out)
				}
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// The record view lists everything the record holds, down to the last
// snapshot, when scrolled; the secret stays a placeholder.
func TestRecordShowsEveryPart(t *testing.T) {
	a := withHistory(t, 100, 60)
	drive(t, a, press("H"), press("j"), press("enter"))
	out := screen(a)
	for _, want := range []string{"ALERTS (1)", "ACKNOWLEDGEMENTS (1)", "ACTIONS (1, from the audit log)", "retry-storm/cap-retries on payment-api by the autopilot → resolved",
		"‹secret:KUBE_TOKEN›", "NOTES (1)", "alice: retries from payment-api", "SNAPSHOTS (1", "user-preferences-api likely", "1,240 failing/min"} {
		if !strings.Contains(out, want) {
			t.Errorf("the record lacks %q:\n%s", want, out)
		}
	}
	// the reconstructed record has no onset: its MTTR is from detection, and says so
	drive(t, a, press("esc"), press("j"), press("enter"))
	if out := screen(a); !strings.Contains(out, "–                   onset        unknown") ||
		!strings.Contains(out, "MTTR 60 min (from the first alert: the onset is unknown)") {
		t.Errorf("a record without onset:\n%s", out)
	}
}

// H and S without a history store say so, and open nothing.
func TestHistoryKeysWithoutAStoreSaySo(t *testing.T) {
	a := started(t, 100, 30)
	for _, k := range []string{"H", "S"} {
		drive(t, a, press(k))
		if len(a.stack) != 1 || !strings.Contains(screen(a), "history is not configured") {
			t.Errorf("%s without a store:\n%s", k, screen(a))
		}
	}
	// a store configured but not opened: they say why
	d := deps(testFleet(t))
	d.HistoryUnavailable = "history unavailable: history store PostgreSQL database oncall on 127.0.0.1:5: no answer within 10s"
	a = startedWith(t, d, 100, 30)
	for _, k := range []string{"H", "S"} {
		drive(t, a, press(k))
		if len(a.stack) != 1 || !strings.Contains(screen(a), "history unavailable: history store PostgreSQL") {
			t.Errorf("%s with the store unavailable:\n%s", k, screen(a))
		}
	}
}

// A store that fails greys its own panel, names the store and the error,
// and leaves the header and the footer whole; r reads it again.
func TestHistoryStoreErrorGreysItsPanelAlone(t *testing.T) {
	st := &fakeHistory{records: pastIncidents(testFleet(t).Now())}
	a := startedWith(t, historyDeps(t, st), 100, 30)
	drive(t, a, press("H"))
	st.err = errors.New("history store /home/sre/.local/share/oncall/history.db (this machine): database is locked") // as sqlstore names itself
	drive(t, a, press("r"))
	out := screen(a)
	for _, want := range []string{"history store /home/sre/.local/share/oncall/history.db (this machine): database is locked", "inc-8b20d4e1", "? help"} {
		if !strings.Contains(out, want) {
			t.Errorf("the failing store's list lacks %q:\n%s", want, out)
		}
	}
	// a row not selected is one muted style from end to end
	if line := strings.Split(a.render(), "\n")[5]; !strings.Contains(ansi.Strip(line), "inc-3f9a1c07") || len(sgr.FindAllString(line, -1)) != 2 {
		t.Errorf("an old row is not greyed: %q", line)
	}
	drive(t, a, press("S"))
	if out := screen(a); !strings.Contains(out, "database is locked") || !strings.Contains(out, "? help") {
		t.Errorf("the figures of a failing store:\n%s", out)
	}
	st.err = nil
	drive(t, a, press("r"))
	if out := screen(a); strings.Contains(out, "database is locked") || !strings.Contains(out, "MTTR") {
		t.Errorf("r did not read the store again:\n%s", out)
	}
}

// Until the store answers, the views say they are reading.
func TestHistoryViewsSayTheyAreReading(t *testing.T) {
	a := withHistory(t, 80, 24)
	_, cmd := a.Update(press("H"))
	a.Update(cmd()) // the push, not the load
	if out := screen(a); !strings.Contains(out, "reading the history…") {
		t.Errorf("the list before its load:\n%s", out)
	}
	run(a, pop(nil))
	_, cmd = a.Update(press("S"))
	a.Update(cmd())
	if out := screen(a); !strings.Contains(out, "reading the history…") {
		t.Errorf("the figures before their load:\n%s", out)
	}
}

// The history list, a record and the figures fill every size exactly, the
// list's selection in sight, before and after the loads and scrolled.
func TestHistoryViewsFillEverySize(t *testing.T) {
	recs := manyIncidents(testFleet(t).Now())
	for _, size := range [][2]int{{80, 24}, {100, 30}, {200, 60}, {300, 100}, {80, 12}, {60, 20}, {40, 8}} {
		a := startedWith(t, historyDeps(t, fakeHistory{records: recs}), size[0], size[1])
		for _, keys := range [][]string{{"H"}, {"j", "j"}, {"G"}, {"g"}, {"enter"}, {"G"}, {"esc", "S"}, {"G"}, {"d"}} {
			for _, k := range keys {
				drive(t, a, press(k))
			}
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Fatalf("%dx%d after %v: %s\n%s", size[0], size[1], keys, bad, screen(a))
			}
			if _, list := a.top().(*historyView); list && size[1] > 6 && !strings.Contains(screen(a), "▸ ") {
				t.Errorf("%dx%d after %v: no selection in sight:\n%s", size[0], size[1], keys, screen(a))
			}
		}
	}
}

// Text from a record (a service, a note, an alert, a source) that tries
// to drive the terminal is drawn inert in the list, the record, the
// figures and the detail.
func TestHostileRecordsRenderInert(t *testing.T) {
	evil := "svc\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u202e"
	now := testFleet(t).Now()
	r := pastIncidents(now)[0]
	r.ID, r.Stack, r.Root, r.Title, r.Severity = "inc-"+evil, evil, evil, evil, evil
	r.Services = []string{evil}
	r.Notes = []history.Note{{T: now, By: evil, Text: "note " + evil}}
	r.Alerts[0].Name, r.Alerts[0].Service, r.Alerts[0].Source = evil, evil, evil
	r.Detected.Source, r.Actions[0].Command = evil, evil
	r.Snapshots[0].Candidates[0].Service = evil
	a := startedWith(t, historyDeps(t, fakeHistory{records: []history.Record{r}}), 160, 40)
	for _, keys := range [][]string{{"H"}, {"enter"}, {"d"}, {"esc", "esc", "S"}, {"d"}} {
		for _, k := range keys {
			drive(t, a, press(k))
		}
		raw := a.render()
		for _, bad := range []string{"\x1b]52", "\x1b[2J", "\u202e", "\x07"} {
			if strings.Contains(raw, bad) {
				t.Errorf("after %v the frame holds %q", keys, bad)
			}
		}
		if bad := misfit(screen(a), 160, 40); bad != "" {
			t.Errorf("after %v: %s", keys, bad)
		}
	}
}

// The whole flow in the real program: the overview, H for the history,
// enter on a record, esc back, S for the figures.
func TestTeatestHistoryFlow(t *testing.T) {
	d := historyDeps(t, fakeHistory{records: pastIncidents(testFleet(t).Now())})
	tm := teatest.NewTestModel(t, New(d, styles()), teatest.WithInitialTermSize(120, 40))
	wait := func(want string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(ansi.Strip(string(b)), want) },
			teatest.WithDuration(20*time.Second))
	}
	wait("FIRING ALERTS")
	tm.Send(press("H"))
	wait("INCIDENT HISTORY")
	tm.Send(press("enter"))
	wait("PoolExhausted on payment-api")
	tm.Send(press("esc"))
	tm.Send(press("S"))
	wait("ON-CALL FIGURES")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(*App)
	var titles []string
	for _, c := range final.stack {
		titles = append(titles, c.Title())
	}
	if got := strings.Join(titles, " › "); got != "overview › history › stats" {
		t.Errorf("the stack at the end: %s", got)
	}
}

// The weekly charts count each record once, in the week it was detected,
// and the figures count only the table's thirty days; the demo's records
// are left out beside a real stack's, as oncall stats leaves them.
func TestWeeklyFiguresCountEachRecordOnce(t *testing.T) {
	now := testFleet(t).Now()
	recs := pastIncidents(now)
	f := countFigures(recs, now, history.StatsOptions{}, time.UTC)
	total := 0
	for _, w := range f.Weeks {
		total += w.Fleet.Incidents
	}
	if total != 5 || len(f.Weeks) != statsWeeks {
		t.Errorf("the weeks count %d of prod-eu's 5 records in %d weeks", total, len(f.Weeks))
	}
	if f.Stats.Fleet.Incidents != 3 {
		t.Errorf("the thirty days hold %d of prod-eu's incidents, want 3", f.Stats.Fleet.Incidents)
	}
	// a record on a week's boundary belongs to the later week alone
	edge := recs[2]
	edge.Detected.T, edge.Resolved.T = now.Add(-week), now.Add(-week+time.Hour)
	f = countFigures([]history.Record{edge}, now, history.StatsOptions{}, time.UTC)
	if f.Weeks[statsWeeks-2].Fleet.Incidents+f.Weeks[statsWeeks-1].Fleet.Incidents != 1 {
		t.Errorf("a record on a boundary is counted %d times", f.Weeks[statsWeeks-2].Fleet.Incidents+f.Weeks[statsWeeks-1].Fleet.Incidents)
	}
}

// P in the history list and in a record writes the record's postmortem
// draft to the drafts' directory, as P in the incident view does.
func TestHistoryPWritesThePostmortem(t *testing.T) {
	st := fakeHistory{records: pastIncidents(testFleet(t).Now())}
	d := historyDeps(t, st)
	d.PostmortemDir = t.TempDir()
	a := startedWith(t, d, 120, 30)
	drive(t, a, press("H"), press("j"), press("enter"), press("P"))
	path := filepath.Join(d.PostmortemDir, "inc-3f9a1c07.md")
	if !strings.Contains(screen(a), "postmortem draft written to "+path) {
		t.Fatalf("P in the record:\n%s", screen(a))
	}
	md, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(md), "inc-3f9a1c07") || !strings.Contains(string(md), "user-preferences-api") {
		t.Fatalf("the draft (%v):\n%s", err, md)
	}
	drive(t, a, press("esc"), press("k"), press("P"))
	if _, err := os.Stat(filepath.Join(d.PostmortemDir, "inc-8b20d4e1.md")); err != nil {
		t.Errorf("P in the list wrote nothing for the selection: %v\n%s", err, screen(a))
	}
	// without a directory for drafts, P says how to get one
	a.c.deps.PostmortemDir = ""
	drive(t, a, press("P"))
	if !strings.Contains(screen(a), "oncall postmortem inc-8b20d4e1 prints it") {
		t.Errorf("P without a directory:\n%s", screen(a))
	}
}

// manyIncidents are the past incidents and sixty more, enough to scroll
// at any size.
func manyIncidents(now time.Time) []history.Record {
	recs := pastIncidents(now)
	for i := range 60 {
		r := recs[len(recs)-1]
		r.ID = fmt.Sprintf("inc-1000%04x", i)
		r.Detected.T = r.Detected.T.Add(-time.Duration(i) * time.Hour)
		recs = append(recs, r)
	}
	return recs
}

// Each history view makes the moves its help lists, as the other views do
// (TestEachViewMakesTheMovesItsHelpLists), and lists the moves it makes.
func TestHistoryViewsMakeTheMovesTheirHelpLists(t *testing.T) {
	const w, h = 80, 16
	st := fakeHistory{records: manyIncidents(testFleet(t).Now())}
	views := map[string][]string{"history": {"H"}, "record": {"H", "j", "enter"}, "stats": {"S"}}
	moves := []struct {
		key string
		up  bool
	}{{"j", false}, {"G", false}, {"ctrl+d", false}, {"k", true}, {"g", true}, {"ctrl+u", true}}
	for name, open := range views {
		t.Run(name, func(t *testing.T) {
			a := startedWith(t, historyDeps(t, st), w, h)
			for _, k := range open {
				drive(t, a, press(k))
			}
			for _, m := range moves {
				km := press(m.key)
				if strings.HasPrefix(m.key, "ctrl+") {
					km = tea.KeyPressMsg{Code: rune(m.key[5]), Mod: tea.ModCtrl}
				}
				if m.up {
					drive(t, a, press("j"), press("j"), press("j"))
				} else {
					drive(t, a, press("k"), press("k"), press("k"))
				}
				top, before := a.top(), aboveLastLine(a)
				drive(t, a, km)
				moved := a.top() == top && aboveLastLine(a) != before
				if help := listed(top.FullHelp(), km); help != moved {
					t.Errorf("%s: %s listed %v, moved %v:\n%s", name, m.key, help, moved, screen(a))
				}
			}
		})
	}
}

// An empty store says what fills it; a failing one still fills the
// screen exactly, down to the smallest.
func TestHistoryViewsEmptyAndFailing(t *testing.T) {
	a := startedWith(t, historyDeps(t, fakeHistory{}), 100, 30)
	drive(t, a, press("H"))
	if out := screen(a); !strings.Contains(out, "No incident remembered yet") {
		t.Errorf("an empty history:\n%s", out)
	}
	drive(t, a, press("S"))
	if out := screen(a); !strings.Contains(out, "No incident in these 30 days.") || !strings.Contains(out, "PER WEEK") {
		t.Errorf("the figures of an empty history:\n%s", out)
	}
	for _, size := range [][2]int{{80, 24}, {80, 12}, {40, 8}, {300, 100}} {
		st := &fakeHistory{records: manyIncidents(testFleet(t).Now())}
		a := startedWith(t, historyDeps(t, st), size[0], size[1])
		drive(t, a, press("H"), press("G"))
		st.err = errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")
		for _, keys := range [][]string{{"r"}, {"g"}, {"S"}, {"G"}} {
			for _, k := range keys {
				drive(t, a, press(k))
			}
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Fatalf("%dx%d after %v with a failing store: %s\n%s", size[0], size[1], keys, bad, screen(a))
			}
		}
	}
}
