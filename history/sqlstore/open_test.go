package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// A PostgreSQL server that accepts and never answers fails Open within
// its bound, naming the database and not the password: with the DSN's
// connect_timeout, with a caller's deadline, and with neither (the
// default connect timeout).
func TestOpenPostgresThatNeverAnswers(t *testing.T) {
	const secret = "s3cret-Pa55"
	addr := testenv.SilentServer(t)
	for _, c := range []struct {
		name, query string
		ctx         time.Duration
		within      time.Duration
	}{
		{"connect_timeout", "?sslmode=disable&connect_timeout=1", 0, 3 * time.Second},
		{"caller's deadline", "?sslmode=disable", time.Second, 3 * time.Second},
		{"default", "", 0, defaultConnectTimeout + 3*time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if c.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctx)
				defer cancel()
			}
			start := time.Now()
			s, err := Open(ctx, "postgres://oncall:"+secret+"@"+addr+"/oncall"+c.query)
			took := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatal("opened a server that never answers")
			}
			if took > c.within {
				t.Errorf("Open took %s, want under %s", took, c.within)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || !strings.Contains(msg, "history store PostgreSQL database oncall on "+addr+": no answer within") ||
				strings.Count(msg, "history store") != 1 {
				t.Errorf("Open: %v", err)
			}
		})
	}
}

// tables lists a SQLite file's tables.
func tables(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// fileState is a directory's files and their sha256s: what opening a
// file in it might change. A -shm file's bytes are left out: it is the
// WAL's shared memory, where every reader, the owner's own included,
// marks what it reads.
func fileState(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var state []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-shm") {
			state = append(state, e.Name())
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		state = append(state, fmt.Sprintf("%s %x", e.Name(), sha256.Sum256(b)))
	}
	return strings.Join(state, "\n")
}

// Another program's SQLite database is refused, untouched: not a byte
// of it changes (opening it for writing would switch it to WAL, header
// bytes 18 and 19), no file is made beside it, oncall's tables are not
// added to it, and a table of the same name is not taken for oncall's.
// That program may keep it in WAL mode, and may be writing it as oncall
// looks.
func TestOpenRefusesAnotherProgramsDatabase(t *testing.T) {
	for _, c := range []struct {
		name   string
		stmts  []string
		tables string
		// running keeps the other program's connection open, its tables
		// in its -wal file
		running bool
	}{
		{"firefox", []string{`CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)`}, "moz_places", false},
		{"same table name", []string{`CREATE TABLE incidents (id INTEGER PRIMARY KEY, title TEXT)`}, "incidents", false},
		{"in WAL mode", []string{`PRAGMA journal_mode = WAL`, `CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)`}, "moz_places", false},
		{"in WAL mode, running", []string{`PRAGMA journal_mode = WAL`, `CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)`}, "moz_places", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "places.sqlite")
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			for _, stmt := range c.stmts {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			if !c.running {
				db.Close()
			}
			before := fileState(t, filepath.Dir(path))
			s, err := Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("opened another program's database")
			}
			want := "history store SQLite file " + path + ": not an oncall history (it holds the tables " + c.tables + "): choose another history.dsn"
			if err.Error() != want {
				t.Errorf("Open: %v\nwant %s", err, want)
			}
			if after := fileState(t, filepath.Dir(path)); after != before {
				t.Errorf("refusing the file changed it:\n%s\nwas\n%s", after, before)
			}
			db.Close()
			if got := tables(t, path); got != c.tables {
				t.Errorf("the file's tables are now %s, want %s alone", got, c.tables)
			}
		})
	}
	// oncall's own file, in use by another cockpit and not; an empty
	// file; one that does not exist yet, in a directory that does not
	// either
	dir := t.TempDir()
	path := filepath.Join(dir, "history.db")
	open(t, path).Close()
	open(t, path)
	open(t, path)
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	open(t, empty)
	open(t, filepath.Join(dir, "new", "history.db"))
}

// A DSN with a scheme that is not PostgreSQL's is refused: SQLite would
// take "file:/tmp/x.sqlite" as a relative path and make that file
// beside the working directory. Only the scheme is shown, as the rest
// may hold a password.
func TestOpenRefusesOtherSchemes(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, dsn := range []string{"file:/tmp/x.sqlite", "sqlite:/x", "sqlite3:history.db", "mysql://oncall:s3cret@db/oncall", "postgres:db"} {
		s, err := Open(context.Background(), dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) opened", dsn)
			continue
		}
		scheme, _, _ := strings.Cut(dsn, ":")
		want := `history store: a DSN beginning "` + scheme + `:" is neither a SQLite file's path nor a postgres:// URL: write the path itself`
		if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): %v\nwant %s", dsn, err, want)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("refusing made %v", entries)
	}
	// a colon later in a path, or after ./, is a file's name
	for _, path := range []string{"./history:v2.db", "dir/a:b.db"} {
		open(t, path)
	}
}

// Each way a SQLite file cannot be used says what to do about it, and
// only a file that is no database is advised to be moved aside.
func TestOpenSQLiteTroubleSaysWhatToDo(t *testing.T) {
	ctx := context.Background()
	garbage := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		garbage:     "history store SQLite file " + garbage + ": cannot read it as a SQLite database (move it aside to start a new one): ",
		os.DevNull:  "history store SQLite file " + os.DevNull + ": not a file (a device): name a file for history.dsn",
		t.TempDir(): ": not a file (a directory): name a file for history.dsn",
	} {
		s, err := Open(ctx, path)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) opened", path)
			continue
		}
		if !strings.Contains(err.Error(), want) || strings.Count(err.Error(), "history store") != 1 {
			t.Errorf("Open(%s): %v\nwant %q", path, err, want)
		}
	}

	// a full database, as the driver reports it: PRAGMA max_page_count
	// caps the file where it is, as a full disk would
	s := open(t, filepath.Join(t.TempDir(), "history.db"))
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA max_page_count = 1`); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, `INSERT INTO incident_notes (incident_id, sha256, body) VALUES ('inc-1', 'x', ?)`, strings.Repeat("x", 1<<16))
	full := s.fail("", err).Error()
	if !strings.Contains(full, "the disk is full or failing: nothing was lost; free space and retry") || strings.Contains(full, "move it aside") {
		t.Errorf("a full database: %s", full)
	}

	// what the driver reports for the errors that cannot be caused here
	for code, want := range map[int]string{
		sqlite3.SQLITE_IOERR:            "the disk is full or failing",
		sqlite3.SQLITE_IOERR_WRITE:      "the disk is full or failing",
		sqlite3.SQLITE_IOERR_SHORT_READ: "the disk is full or failing",
		sqlite3.SQLITE_IOERR_FSYNC:      "the disk is full or failing",
		sqlite3.SQLITE_FULL:             "the disk is full or failing",
		sqlite3.SQLITE_NOTADB:           "move it aside",
		sqlite3.SQLITE_CORRUPT:          "move it aside",
		sqlite3.SQLITE_READONLY:         "records can be read, not saved",
		sqlite3.SQLITE_BUSY:             "",
	} {
		if got := sqliteAdvice(code); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("sqliteAdvice(%d) = %q, want %q", code, got, want)
		}
	}
}

// readOnly makes path impossible to open for writing (when file is set)
// and its directory impossible to add a file to: immutable as root, whom
// permission bits do not stop, else mode 0400 in a 0500 directory. It
// says which it did.
func readOnly(t *testing.T, path string, file bool) string {
	t.Helper()
	dir := filepath.Dir(path)
	paths, how := []string{dir}, "in a directory"
	if file {
		paths, how = append(paths, path), "a file, in a directory,"
	}
	if os.Getuid() == 0 {
		chattr, err := exec.LookPath("chattr")
		if err != nil {
			t.Fatalf("as root, chattr is needed to make a file read-only: %v", err)
		}
		for _, p := range paths {
			if out, err := exec.Command(chattr, "+i", p).CombinedOutput(); err != nil {
				t.Fatalf("chattr +i %s: %v\n%s", p, err, out)
			}
			t.Cleanup(func() { _ = exec.Command(chattr, "-i", p).Run() })
		}
		return how + " made immutable"
	}
	if file {
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	return how + " made read-only (0400, 0500)"
}

// A history file that cannot be written, or whose directory cannot hold
// its write-ahead log, is read (history, stats and postmortems only
// read), and saving in it says why not.
func TestOpenReadOnlySQLite(t *testing.T) {
	for _, file := range []bool{true, false} {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "oncall", "history.db")
		s := open(t, path)
		if _, err := s.Save(ctx, history.Record{ID: "inc-00000001", Origin: history.OriginLive, Stack: "prod"}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		how := readOnly(t, path, file)

		ro, err := Open(ctx, path)
		if err != nil {
			t.Errorf("opening a history file %s: %v", how, err)
			continue
		}
		defer ro.Close()
		if recs, err := ro.List(ctx, history.Filter{}); err != nil || len(recs) != 1 || recs[0].ID != "inc-00000001" {
			t.Errorf("%s: List: %v, %v", how, recs, err)
		}
		if !strings.Contains(ro.Where(), "(read-only)") {
			t.Errorf("%s: Where() = %q, want it to say read-only", how, ro.Where())
		}
		_, err = ro.Save(ctx, history.Record{ID: "inc-00000002", Origin: history.OriginLive})
		if err == nil || !strings.Contains(err.Error(), "history store SQLite file "+path+": it could not be opened for writing: records can be read, not saved") {
			t.Errorf("%s: Save: %v", how, err)
		}
	}
}

// A file opened read-only (as a reading command opens one it cannot
// write) is not migrated: an older schema is a clear error.
func TestOpenReadOnlyOlderSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path)
	for _, stmt := range []string{`DELETE FROM schema_migrations WHERE version = 2`, `DROP TABLE remediation_ledger`} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	ro, err := openSQLite(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	err = ro.schemaCurrent(ctx)
	if err == nil || !strings.Contains(err.Error(), "history store SQLite file "+path+": it could not be opened for writing, and its schema (version 1) needs upgrading to version 2 first") {
		t.Errorf("a read-only file at an older schema: %v", err)
	}
	// opened for writing, it is brought up to date
	open(t, path)
}

// TestACallWithoutADeadlineIsBounded: Save, Get and List give a call
// with no deadline callTimeout, and leave a caller's own deadline alone.
func TestACallWithoutADeadlineIsBounded(t *testing.T) {
	ctx, cancel := bounded(context.Background())
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > callTimeout {
		t.Errorf("no deadline given: got %v %v, want within %s", d, ok, callTimeout)
	}
	own, stop := context.WithTimeout(context.Background(), time.Hour)
	defer stop()
	ctx, cancel = bounded(own)
	defer cancel()
	if d, _ := ctx.Deadline(); time.Until(d) < 59*time.Minute {
		t.Errorf("the caller's hour became %s", time.Until(d))
	}
}
