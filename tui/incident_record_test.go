package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
)

// recording gives d an incident history in a SQLite file of its own,
// and a directory for postmortem drafts.
func recording(t *testing.T, d Deps) Deps {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d.History = &history.Recorder{Store: st, Stack: "demo", Wall: d.Wall}
	d.PostmortemDir = filepath.Join(t.TempDir(), "postmortems")
	d.User = "alice"
	return d
}

// recordOf is the record of the incident view on top.
func recordOf(t *testing.T, a *App) history.Record {
	t.Helper()
	v, ok := a.top().(*incidentView)
	if !ok || v.record == "" {
		t.Fatalf("no recorded incident on top:\n%s", screen(a))
	}
	r, err := a.c.deps.History.Store.Get(context.Background(), v.record)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOpeningAnIncidentRecordsIt: the incident view writes its record as
// the whole incident loads, with the alert that triggered it.
func TestOpeningAnIncidentRecordsIt(t *testing.T) {
	a := startedWith(t, recording(t, deps(testFleet(t))), 160, 48)
	drive(t, a, press("enter"))
	r := recordOf(t, a)
	v := a.top().(*incidentView)
	if r.Origin != history.OriginLive || r.Stack != "demo" || r.Root != v.inc.Candidates[0].Service || r.Summary != v.inc.Summary {
		t.Errorf("record %s: origin %s stack %s root %s summary %q", r.ID, r.Origin, r.Stack, r.Root, r.Summary)
	}
	if len(r.Alerts) == 0 || r.Alerts[0].Source != "alertmanager" || r.Detected.IsZero() || r.Onset.IsZero() || len(r.Snapshots) != 1 {
		t.Errorf("record %s: alerts %+v detected %+v onset %+v snapshots %d", r.ID, r.Alerts, r.Detected, r.Onset, len(r.Snapshots))
	}
	mustShow(t, a, "n note")
	// opened again, nothing changed: the same record, no new snapshot
	drive(t, a, press("esc"), press("enter"))
	if again := recordOf(t, a); again.ID != r.ID || len(again.Snapshots) != 1 {
		t.Errorf("opened again: %s with %d snapshots, want %s with 1", again.ID, len(again.Snapshots), r.ID)
	}
}

// TestNoHistoryRecordsNothing: without a recorder, n and P say why.
func TestNoHistoryRecordsNothing(t *testing.T) {
	a := started(t, 160, 48)
	drive(t, a, press("enter"), press("n"))
	mustShow(t, a, "no incident history: set history: in the config")
	drive(t, a, press("P"))
	mustShow(t, a, "no incident history")
	if strings.Contains(screen(a), "n note") {
		t.Errorf("the footer offers notes with no history:\n%s", screen(a))
	}
}

// TestNoteSavesToTheRecord: n asks for a line; esc keeps nothing, enter
// saves it signed; read-only allows it, as it changes only the history.
func TestNoteSavesToTheRecord(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		d := recording(t, deps(testFleet(t)))
		d.ReadOnly = readOnly
		a := startedWith(t, d, 120, 30)
		drive(t, a, press("enter"), press("n"))
		id := a.stack[len(a.stack)-2].(*incidentView).record
		mustShow(t, a, "NOTE TO "+id)
		typeText(t, a, "q?r")
		drive(t, a, press("esc"))
		mustShow(t, a, "note not saved")
		drive(t, a, press("n"))
		typeText(t, a, "db pool at max, q? raised")
		drive(t, a, press("enter"))
		mustShow(t, a, "note saved to "+id)
		r := recordOf(t, a)
		if len(r.Notes) != 1 || r.Notes[0].Text != "db pool at max, q? raised" || r.Notes[0].By != "alice" || !r.Notes[0].T.Equal(d.Now().UTC()) {
			t.Errorf("read-only %v: notes %+v", readOnly, r.Notes)
		}
	}
}

// TestPostmortemKeyWritesTheDraft: P writes <dir>/<id>.md, for its owner
// only, and says where.
func TestPostmortemKeyWritesTheDraft(t *testing.T) {
	d := recording(t, deps(testFleet(t)))
	a := startedWith(t, d, 200, 40)
	drive(t, a, press("enter"), press("P"))
	r := recordOf(t, a)
	path := filepath.Join(d.PostmortemDir, r.ID+".md")
	mustShow(t, a, "postmortem draft written to "+path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), r.ID) {
		t.Errorf("the draft does not name %s:\n%s", r.ID, b)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, d.PostmortemDir: 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, fi.Mode(), err, want)
		}
	}
}

// TestVerifiedRunbookResolvesTheRecord: a runbook run from the incident
// that verifies resolved adds its action and resolves the record, saying so.
func TestVerifiedRunbookResolvesTheRecord(t *testing.T) {
	a, _ := kitted(t, "db-pool-exhaustion", 5*time.Minute, 120, 40, false)
	a.c.deps = recording(t, a.c.deps)
	openIncidentOf(t, a, "payment-api")
	id := recordOf(t, a).ID
	drive(t, a, press("R"), press("y"))
	mustShow(t, a, "✓ resolved")
	mustShow(t, a, "runbook pool-full: resolved; "+id+" resolved")
	r, err := a.c.deps.History.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Resolved.Source != "runbook pool-full verified (audit log)" || r.Resolved.T.IsZero() {
		t.Errorf("resolved %+v", r.Resolved)
	}
	rows, _, _ := a.c.deps.Kit.Audit.Read()
	if len(r.Actions) != 1 || len(rows) != 1 || r.Actions[0].ID != rows[0].Before.ID || r.Actions[0].Runbook != "pool-full" ||
		r.Actions[0].User != "alice" || r.Actions[0].Approval != "confirmed by alice in the cockpit" {
		t.Errorf("actions %+v, want the audit log's one", r.Actions)
	}
}

// TestNoteDialogFillsEverySize: the note's input fills the screen
// exactly, keeps the breadcrumbs, and takes every key; n over the
// waterfall is still its next trace.
func TestNoteDialogFillsEverySize(t *testing.T) {
	for _, size := range [][2]int{{80, 12}, {80, 24}, {200, 60}} {
		a := startedWith(t, recording(t, deps(testFleet(t))), size[0], size[1])
		drive(t, a, press("enter"), press("n"))
		if _, ok := a.top().(*noteDialog); !ok || !a.top().Capturing() {
			t.Fatalf("%v: n opened no note input:\n%s", size, screen(a))
		}
		typeText(t, a, strings.Repeat("long note ", 30))
		if bad := misfit(screen(a), size[0], size[1]); bad != "" {
			t.Fatalf("%v: %s", size, bad)
		}
		if !strings.Contains(screen(a), "incident checkout-api") {
			t.Errorf("%v: the note hid the breadcrumbs:\n%s", size, screen(a))
		}
	}
	a := startedWith(t, recording(t, deps(testFleet(t))), 120, 30)
	drive(t, a, press("enter"), press("t"), press("n"))
	if _, ok := a.top().(*traceView); !ok {
		t.Errorf("n in the waterfall left it:\n%s", screen(a))
	}
}

// fullDisk is a history store that reads but cannot write.
type fullDisk struct{ history.Store }

func (fullDisk) Get(context.Context, string) (history.Record, error) {
	return history.Record{}, history.ErrNotFound
}
func (fullDisk) List(context.Context, history.Filter) ([]history.Record, error) { return nil, nil }
func (fullDisk) Save(context.Context, history.Record) (history.Record, error) {
	return history.Record{}, errors.New("disk full")
}
func (fullDisk) Where() string { return "a full disk" }

// TestAnUnwritableHistoryIsSaid: the incident still shows; the failure
// is flashed, and n says why there is nothing to add to.
func TestAnUnwritableHistoryIsSaid(t *testing.T) {
	d := recording(t, deps(testFleet(t)))
	d.History.Store = fullDisk{}
	a := startedWith(t, d, 160, 48)
	drive(t, a, press("enter"))
	mustShow(t, a, "ROOT-CAUSE CANDIDATES")
	mustShow(t, a, "not recorded in the incident history: ")
	mustShow(t, a, "disk full")
	drive(t, a, press("n"))
	mustShow(t, a, "this incident was not recorded: ")
	if _, ok := a.top().(*noteDialog); ok {
		t.Error("n asked for a note with no record to add it to")
	}
}
