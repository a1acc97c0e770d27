package sqlstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// backends are the two databases every store test runs on: a SQLite file
// in the test's directory, and a real PostgreSQL server.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "oncall", "history.db") }},
	{"postgres", func(t *testing.T) string { return testenv.Postgres(t) }},
}

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// t0 is the data's clock in these tests.
var t0 = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestRecordLifecycle(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))

			first := history.Record{ID: "inc-00000001", Stack: "prod", Origin: history.OriginLive, Title: "checkout errors",
				Services: []string{"checkout"}, Root: "payments",
				Detected: history.Stamp{T: at(0), Source: "alert HighErrorRate (alertmanager)"},
				Onset:    history.Stamp{T: at(-3), Source: "anomaly (prometheus)"},
				Alerts: []history.AlertSpan{{Name: "HighErrorRate", Service: "checkout", Severity: "page", Start: at(0), Source: "alertmanager",
					Labels: map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "page"}}},
				Notes: []history.Note{{T: at(1), By: "ana", Text: "looking"}},
				Snapshots: []history.Snapshot{{T: at(0), Summary: "payments slow",
					Candidates: []history.Suspect{{Service: "payments", Likelihood: "likely"}}}},
				Updated: time.Date(2026, 11, 3, 14, 1, 0, 0, time.UTC)}
			got, err := s.Save(ctx, first)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Notes) != 1 || len(got.Snapshots) != 1 || got.Title != "checkout errors" {
				t.Fatalf("first save returned %+v", got)
			}
			// every field comes back as saved
			if r, err := s.Get(ctx, first.ID); err != nil || !reflect.DeepEqual(r, got) {
				t.Fatalf("Get after the first save:\n%+v, %v\nwant\n%+v", r, err, got)
			}

			// a second cockpit's view of the same incident: one more alert, a
			// note, a snapshot, and the first note again
			second := history.Record{ID: first.ID, Stack: "prod", Origin: history.OriginLive,
				Services: []string{"frontend"},
				Detected: history.Stamp{T: at(2), Source: "alert Latency (alertmanager)"},
				Alerts:   []history.AlertSpan{{Name: "Latency", Service: "frontend", Start: at(2), Source: "alertmanager"}},
				Notes:    []history.Note{{T: at(1), By: "ana", Text: "looking"}, {T: at(4), By: "bo", Text: "rolled back payments"}},
				Snapshots: []history.Snapshot{{T: at(3), Summary: "payments slow, frontend waits",
					Candidates: []history.Suspect{{Service: "payments", Likelihood: "very likely"}}}},
				Updated: time.Date(2026, 11, 3, 14, 4, 0, 0, time.UTC)}
			if _, err := s.Save(ctx, second); err != nil {
				t.Fatal(err)
			}
			r, err := s.Get(ctx, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"checkout", "frontend"}; strings.Join(r.Services, ",") != strings.Join(want, ",") {
				t.Errorf("services %v, want %v", r.Services, want)
			}
			if len(r.Alerts) != 2 || !r.Detected.T.Equal(at(0)) || r.Title != "checkout errors" || r.Root != "payments" {
				t.Errorf("merged record: alerts %d, detected %s, title %q, root %q", len(r.Alerts), r.Detected.T, r.Title, r.Root)
			}
			if len(r.Notes) != 2 || r.Notes[0].Text != "looking" || r.Notes[1].Text != "rolled back payments" {
				t.Errorf("notes %+v: want the first once, then the second", r.Notes)
			}
			if len(r.Snapshots) != 2 || r.Snapshots[1].Candidates[0].Likelihood != "very likely" {
				t.Errorf("snapshots %+v", r.Snapshots)
			}
			if !r.Open() {
				t.Error("the record resolved before anyone resolved it")
			}

			// resolve it, and add two more records to list
			if _, err := s.Save(ctx, history.Record{ID: first.ID, Origin: history.OriginLive,
				Resolved: history.Stamp{T: at(20), Source: "by hand (oncall history resolve)"}}); err != nil {
				t.Fatal(err)
			}
			if r, err = s.Get(ctx, first.ID); err != nil || r.Open() || !r.Resolved.T.Equal(at(20)) || len(r.Notes) != 2 {
				t.Fatalf("after resolving: %+v, %v", r, err)
			}
			for _, o := range []history.Record{
				{ID: "inc-00000002", Stack: "prod", Origin: history.OriginReconstructed, Services: []string{"search"},
					Detected: history.Stamp{T: at(-24 * 60)}},
				{ID: "inc-00000003", Stack: "prod", Origin: history.OriginReconstructed, Services: []string{"payments"},
					Onset: history.Stamp{T: at(60)}},
				{ID: "inc-00000004", Stack: "prod", Origin: history.OriginReconstructed, Title: "no times known"},
			} {
				if _, err := s.Save(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []struct {
				f    history.Filter
				want string
			}{
				{history.Filter{}, "inc-00000003 inc-00000001 inc-00000002 inc-00000004"},
				{history.Filter{Limit: 2}, "inc-00000003 inc-00000001"},
				{history.Filter{Since: at(-60)}, "inc-00000003 inc-00000001"},
				{history.Filter{Service: "payments"}, "inc-00000003 inc-00000001"}, // the first by its root
				{history.Filter{Service: "frontend"}, "inc-00000001"},
				{history.Filter{Service: "search", Since: at(-60)}, ""},
			} {
				rs, err := s.List(ctx, c.f)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, r := range rs {
					ids = append(ids, r.ID)
					if r.ID == first.ID && (len(r.Notes) != 2 || len(r.Snapshots) != 2) {
						t.Errorf("List %+v: %s has %d notes and %d snapshots, want 2 and 2", c.f, r.ID, len(r.Notes), len(r.Snapshots))
					}
				}
				if got := strings.Join(ids, " "); got != c.want {
					t.Errorf("List %+v = %q, want %q", c.f, got, c.want)
				}
			}

			if _, err := s.Get(ctx, "inc-ffffffff"); !errors.Is(err, history.ErrNotFound) {
				t.Errorf("Get of an unknown ID: %v, want history.ErrNotFound", err)
			}
			if _, err := s.Save(ctx, history.Record{Title: "no ID"}); err == nil {
				t.Error("a record without an ID was saved")
			}
		})
	}
}

func TestMigrationsIdempotentAndNewerSchemaRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			s := open(t, dsn)
			if _, err := s.Save(ctx, history.Record{ID: "inc-00000001", Origin: history.OriginLive, Title: "kept"}); err != nil {
				t.Fatal(err)
			}
			s.Close()

			s = open(t, dsn) // applies nothing twice
			var n, max int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
				t.Fatal(err)
			}
			if n != len(migrations) || max != len(migrations) {
				t.Errorf("schema_migrations holds %d versions up to %d, want %d", n, max, len(migrations))
			}
			if r, err := s.Get(ctx, "inc-00000001"); err != nil || r.Title != "kept" {
				t.Errorf("after reopening: %+v, %v", r, err)
			}

			// a newer oncall's migration
			if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`, len(migrations)+1); err != nil {
				t.Fatal(err)
			}
			name := s.name
			s.Close()
			_, err := Open(ctx, dsn)
			if err == nil || !strings.Contains(err.Error(), "newer than this oncall knows") || !strings.Contains(err.Error(), name) {
				t.Errorf("opening a newer schema: %v, want an error naming %s and the newer schema", err, name)
			}
		})
	}
}

func TestSQLiteFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "oncall")
	path := filepath.Join(dir, "history.db")
	s := open(t, path)
	if _, err := s.Save(ctx, history.Record{ID: "inc-00000001", Origin: history.OriginLive}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %o", p, fi.Mode(), err, want)
		}
	}
	if w := s.Where(); !strings.Contains(w, path) || !strings.Contains(w, "this machine only") {
		t.Errorf("Where() = %q", w)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q, %v; want wal", mode, err)
	}
	if l, ok := s.Ledger(); ok || l != nil {
		t.Error("a SQLite store offered a ledger: its file is one machine's, as the file ledger's is")
	}

	bad := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(bad, []byte(strings.Repeat("not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("opening a corrupt file: %v, want an error naming %s", err, bad)
	}
	if _, err := Open(ctx, t.TempDir()); err == nil {
		t.Error("a directory opened as a SQLite file")
	}
}

func TestDefaultPath(t *testing.T) {
	env := map[string]string{"XDG_DATA_HOME": "/data", "HOME": "/home/ana"}
	if got := DefaultPath(func(k string) string { return env[k] }); got != "/data/oncall/history.db" {
		t.Errorf("DefaultPath = %q", got)
	}
	delete(env, "XDG_DATA_HOME")
	if got := DefaultPath(func(k string) string { return env[k] }); got != "/home/ana/.local/share/oncall/history.db" {
		t.Errorf("DefaultPath without XDG_DATA_HOME = %q", got)
	}
}

// The password in a PostgreSQL DSN never shows: not in Where, not in an
// error.
func TestPostgresHidesPassword(t *testing.T) {
	ctx := context.Background()
	const secret = "s3cret-Pa55"
	dsn := testenv.Postgres(t)
	// the test server trusts every connection, so any password is accepted
	withPassword := strings.Replace(dsn, "postgres://oncall@", "postgres://oncall:"+secret+"@", 1)
	s := open(t, withPassword)
	l, ok := s.Ledger()
	if !ok || !l.Shared() {
		t.Fatal("a PostgreSQL store offered no shared ledger")
	}
	for _, w := range []string{s.Where(), l.Where()} {
		if strings.Contains(w, secret) || !strings.Contains(w, "PostgreSQL database postgres on 127.0.0.1:") {
			t.Errorf("Where() = %q", w)
		}
	}
	for _, bad := range []string{
		"postgres://oncall:" + secret + "@" + testenv.FreeAddr(t) + "/postgres?sslmode=disable&connect_timeout=5", // nothing listens
		"postgres://oncall:" + secret + "@127.0.0.1:notaport/postgres",
		"postgres://oncall@127.0.0.1:1/postgres?password=" + secret + "&sslmode=bogus",
	} {
		_, err := Open(ctx, bad)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Open(%q): %v; want an error without the password", strings.ReplaceAll(bad, secret, "‹secret›"), err)
		}
	}
}
