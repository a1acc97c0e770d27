package tui

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/slo"
)

// P drafts through history.DraftFrom with the deps' budget reader, as
// oncall postmortem does: the draft says the budget the reader read.
func TestPostmortemReadsBudgetsThroughDeps(t *testing.T) {
	recs := pastIncidents(testFleet(t).Now())
	d := historyDeps(t, fakeHistory{records: recs})
	d.PostmortemDir = t.TempDir()
	var asked []string
	d.Budgets = func(_ context.Context, r history.Record) ([]history.SLOAccount, error) {
		asked = append(asked, r.ID)
		return []history.SLOAccount{{Objective: slo.Objective{Name: "checkout-availability"}, History: slo.BudgetHistory{Spends: []slo.Spend{
			{Start: r.Onset.T, End: r.Onset.T.Add(10 * time.Minute), Share: 0.05, PeakBurn: 20},
		}}}}, nil
	}
	a := startedWith(t, d, 120, 30)
	drive(t, a, press("H"), press("enter"), press("P"))
	v, ok := a.top().(*recordView)
	if !ok {
		t.Fatalf("enter opened %T", a.top())
	}
	id := v.record.ID
	path := filepath.Join(d.PostmortemDir, id+".md")
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no draft (%v):\n%s", err, screen(a))
	}
	if len(asked) != 1 || asked[0] != id || !strings.Contains(string(md), "| SLO budget consumed | checkout-availability: 5.0% of the window's budget") {
		t.Errorf("budgets read for %v; the draft:\n%s", asked, md)
	}
}

// P on a record someone wrote by hand with an ID that is not oncall's
// writes nothing, anywhere, and says why: "../../x" would name a file
// outside the drafts' directory, a bidi character one other than shown.
func TestPostmortemRefusesHostileIDs(t *testing.T) {
	for _, id := range []string{"../../x", "/tmp/atk/abs", "inc-0000\u202eaaaa", "inc-3f9a1c07/../../y", "inc-3f9a1c07\x1b[2J"} {
		t.Run(strconv.QuoteToASCII(id), func(t *testing.T) {
			root := t.TempDir()
			recs := pastIncidents(testFleet(t).Now())[:1]
			recs[0].ID = id
			d := historyDeps(t, fakeHistory{records: recs})
			d.PostmortemDir = filepath.Join(root, "a", "b", "postmortems")
			a := startedWith(t, d, 160, 30)
			drive(t, a, press("H"), press("P"))
			if s := screen(a); !strings.Contains(s, "postmortem not written: record ID") || !strings.Contains(s, "is not an ID oncall writes") {
				t.Errorf("P on %q:\n%s", id, s)
			}
			if testenv.HasEscape([]byte(screen(a))) {
				t.Errorf("the flash shows the ID's escape")
			}
			var files []string
			_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, _ error) error {
				if e != nil && !e.IsDir() {
					files = append(files, p)
				}
				return nil
			})
			if len(files) > 0 {
				t.Errorf("P on %q wrote %v", id, files)
			}
		})
	}
}

// P again never replaces a draft people have edited: the new one goes
// beside it, and no temporary file is left.
func TestPostmortemKeepsEditedDrafts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "postmortems")
	const id = "inc-3f9a1c07"
	first, err := writeDraftFile(dir, id, "# draft one\n")
	if err != nil || first != filepath.Join(dir, id+".md") {
		t.Fatalf("first draft at %s: %v", first, err)
	}
	if err := os.WriteFile(first, []byte("# edited by alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= 3; n++ {
		p, err := writeDraftFile(dir, id, "# draft again\n")
		if want := filepath.Join(dir, id+"-"+strconv.Itoa(n)+".md"); err != nil || p != want {
			t.Fatalf("draft %d at %s (%v), want %s", n, p, err, want)
		}
	}
	if b, _ := os.ReadFile(first); string(b) != "# edited by alice\n" {
		t.Errorf("the edited draft was replaced: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, _ := e.Info(); strings.HasSuffix(e.Name(), ".tmp") || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s left with mode %v", e.Name(), fi.Mode())
		}
	}
	if len(entries) != 3 {
		t.Errorf("%d files in the drafts' directory, want 3", len(entries))
	}
}

// A full disk is named as such, with the directory: the system's "no
// space left on device" does not say which disk.
func TestPostmortemSaysTheDiskIsFull(t *testing.T) {
	err := diskFull("/var/postmortems", &fs.PathError{Op: "write", Path: "/var/postmortems/.x.tmp", Err: syscall.ENOSPC})
	if !strings.Contains(err.Error(), "the disk holding /var/postmortems is full") || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("full disk: %v", err)
	}
	if err := diskFull("/d", fs.ErrPermission); err != fs.ErrPermission {
		t.Errorf("another error changed: %v", err)
	}
}
