package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/oncall-cockpit/oncall/remediate"
)

// Store keeps incident records in one SQL database. It is safe for
// concurrent use, and several Stores (in one process or many) may write
// one database at once.
type Store struct {
	db      *sql.DB
	dialect dialect
	// name says which store an error is about: the file, or the
	// PostgreSQL server and database (never the password).
	name  string
	where string
	// readOnly is a SQLite file opened read-only: it could not be
	// opened for writing.
	readOnly bool
}

// dialect is what differs between the two databases: column types, how
// a write transaction locks, and how times are written.
type dialect struct {
	postgres bool
	// types fills the {time}, {json} and {serial} placeholders of the
	// migrations.
	types *strings.Replacer
	// forUpdate locks the row read: PostgreSQL's row lock. SQLite's write
	// transactions begin IMMEDIATE (_txlock), holding the database's one
	// write lock from the start, so a read in one is already locked.
	forUpdate string
}

var (
	sqliteDialect = dialect{
		types: strings.NewReplacer("{time}", "INTEGER", "{json}", "TEXT", "{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
	}
	postgresDialect = dialect{
		postgres:  true,
		types:     strings.NewReplacer("{time}", "TIMESTAMPTZ", "{json}", "JSON", "{serial}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
		forUpdate: " FOR UPDATE",
	}
)

// time is how a time is written: Unix milliseconds in SQLite, a
// timestamptz in PostgreSQL; NULL when unknown.
func (d dialect) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if d.postgres {
		return t.UTC()
	}
	return t.UnixMilli()
}

// DefaultPath is history.db in the data directory, beside the audit log:
// $XDG_DATA_HOME/oncall/history.db.
func DefaultPath(getenv func(string) string) string {
	return filepath.Join(remediate.DataDir(getenv), "history.db")
}

// openTimeout bounds Open when the caller gives no deadline: connecting,
// reading the schema and migrating take milliseconds on a healthy
// database, so a store that has not answered by then will not.
const openTimeout = 30 * time.Second

// defaultConnectTimeout is PostgreSQL's connect_timeout when the DSN sets
// none: a server that accepts and never answers would otherwise hold a
// command (or the cockpit's start) until it is killed.
const defaultConnectTimeout = 10 * time.Second

// callTimeout bounds one Save, Get or List whose caller set no deadline:
// a server that took the connection and then stopped answering fails the
// call instead of hanging the command (pgx stops a call at its deadline).
const callTimeout = 30 * time.Second

// bounded is ctx with callTimeout when it has no deadline of its own.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, callTimeout)
}

// Open opens the store a DSN names, creating its schema or bringing it up
// to date: a "postgres://" or "postgresql://" URL is a PostgreSQL
// database, and a path a SQLite file; any other "scheme:" is refused. A
// SQLite file that cannot be opened for writing is opened read-only: its
// records can be read, and saving one is an error.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openTimeout)
		defer cancel()
	}
	var s *Store
	var err error
	postgres := strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
	if scheme, ok := urlScheme(dsn); ok && !postgres {
		// SQLite would take "file:/x" as a relative file named "file:/x";
		// only the scheme is shown, as the rest may hold a password
		return nil, fmt.Errorf("history store: a DSN beginning %q is neither a SQLite file's path nor a postgres:// URL: write the path itself (./NAME for a file whose name has a colon)", scheme+":")
	}
	if postgres {
		s, err = openPostgres(ctx, dsn)
	} else {
		s, err = openSQLite(ctx, dsn, false)
	}
	if err != nil {
		return nil, err
	}
	if s.readOnly {
		err = s.schemaCurrent(ctx)
	} else {
		err = s.migrate(ctx)
	}
	if err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteBusyTimeout is how long a write waits for another writer's
// transaction before failing: writes are a few milliseconds each, so
// this only runs out when something holds the file far longer.
const sqliteBusyTimeout = 10 * time.Second

// applicationID marks a SQLite file as oncall's history (PRAGMA
// application_id, set by the first migration): "onca".
const applicationID = 0x6f6e6361

// urlScheme is the scheme a DSN begins with ("file" of "file:/x"), if
// it begins with one: letters, then letters, digits, '+', '-' or '.'.
// One letter is a Windows drive (C:), not a scheme.
func urlScheme(dsn string) (string, bool) {
	scheme, _, ok := strings.Cut(dsn, ":")
	if !ok || len(scheme) < 2 || !isLetter(scheme[0]) {
		return "", false
	}
	for i := 1; i < len(scheme); i++ {
		if c := scheme[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return "", false
		}
	}
	return scheme, true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// openSQLite opens the file at path, read-only when readOnly is set or
// when the file cannot be opened for writing.
func openSQLite(ctx context.Context, path string, readOnly bool) (*Store, error) {
	if path == "" {
		return nil, errors.New("history store: no SQLite file named")
	}
	if strings.ContainsRune(path, '?') {
		// the driver reads what follows a '?' as its options
		return nil, fmt.Errorf("history store SQLite file %s: its path may not contain '?'", path)
	}
	name := "SQLite file " + path
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("history store %s: not a file (%s): name a file for history.dsn", name, fileKind(fi.Mode()))
	}
	s := &Store{dialect: sqliteDialect, name: name, readOnly: readOnly}
	if err := s.ownSQLite(ctx, path); err != nil {
		return nil, err
	}
	if err := s.openSQLite(ctx, path); err != nil {
		return nil, err
	}
	return s, nil
}

// openSQLite opens s's file at path, read-only when s.readOnly is set
// or when the file cannot be opened for writing.
func (s *Store) openSQLite(ctx context.Context, path string) error {
	if !s.readOnly {
		// records say who was paged for what: only their owner reads them
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("history store %s: %w", s.name, err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		switch {
		case err == nil:
			f.Close()
		case cannotWrite(err) && fileExists(path):
			// a read-only file or filesystem: its records can still be read
			s.readOnly = true
		default:
			return fmt.Errorf("history store %s: %w", s.name, err)
		}
	}
	var dsn string
	if s.readOnly {
		var err error
		if dsn, err = readOnlyDSN(path); err != nil {
			return fmt.Errorf("history store %s: %w", s.name, err)
		}
		s.where = "the SQLite file " + path + " (read-only), on this machine only"
	} else {
		// WAL lets readers read while one writes; synchronous=FULL syncs
		// the WAL at every commit, so a killed process loses no committed
		// record.
		dsn = path + "?_txlock=immediate&" + sqliteBusy + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
		s.where = "the SQLite file " + path + ", on this machine only"
	}
	db, err := connectSQLite(ctx, dsn)
	cantWrite := cannotOpen(err)
	if !s.readOnly && cantWrite && fileExists(path) {
		// a writable file in a directory that cannot hold its WAL
		s.readOnly = true
		return s.openSQLite(ctx, path)
	}
	if s.readOnly && cantWrite {
		// a WAL file read-only needs its -shm beside it, which a
		// read-only directory or filesystem cannot hold; there no one can
		// write the file either, so it can be read as unchanging
		db, err = connectSQLite(ctx, dsn+"&immutable=1")
	}
	if err != nil {
		return s.fail("", err)
	}
	s.db = db
	return nil
}

// sqliteBusy is the DSN option that makes a connection wait out another
// writer's transaction.
var sqliteBusy = fmt.Sprintf("_pragma=busy_timeout(%d)", sqliteBusyTimeout.Milliseconds())

// readOnlyDSN opens path read-only: a file: URL, which needs the path
// absolute.
func readOnlyDSN(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: abs}).String() + "?mode=ro&" + sqliteBusy, nil
}

// cannotOpen is whether SQLite could not open a file, or could not open
// it for writing.
func cannotOpen(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_CANTOPEN || e.Code()&0xff == sqlite3.SQLITE_READONLY)
}

// connectSQLite opens the database at dsn, and reads it once.
func connectSQLite(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// sqliteHeader is the start of every SQLite file's 100-byte header.
const sqliteHeader = "SQLite format 3\x00"

// ownSQLite refuses a file another program keeps: one with tables and
// without oncall's application_id. Migrating it would add oncall's
// tables to that program's database, or fail on a table of the same
// name. It runs before the file is opened for writing, and changes
// nothing: opening with journal_mode(WAL) would rewrite a refused
// file's header, and a read-only connection to a WAL file would leave
// -wal and -shm files beside it.
func (s *Store) ownSQLite(ctx context.Context, path string) error {
	header, err := readHeader(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && len(header) == 0:
		return nil // a new file
	case errors.Is(err, fs.ErrPermission):
		return nil // unreadable: opening it says so, with what to do
	case err != nil:
		return fmt.Errorf("history store %s: %w", s.name, err)
	}
	isSQLite := len(header) == 100 && string(header[:16]) == sqliteHeader
	if isSQLite && binary.BigEndian.Uint32(header[68:72]) == applicationID {
		return nil
	}
	dsn, err := readOnlyDSN(path)
	if err != nil {
		return fmt.Errorf("history store %s: %w", s.name, err)
	}
	// header bytes 18 and 19 are 2 in WAL mode; without a -wal file the
	// file alone is the whole database, so it can be read as unchanging,
	// which makes no -wal or -shm
	if isSQLite && header[18] == 2 && !fileExists(path+"-wal") {
		dsn += "&immutable=1"
	}
	db, err := connectSQLite(ctx, dsn)
	if cannotOpen(err) {
		// a WAL file in a read-only directory, whose -shm cannot be made
		db, err = connectSQLite(ctx, dsn+"&immutable=1")
	}
	if err != nil {
		return s.fail("", err)
	}
	defer db.Close()
	var app int64
	if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return s.fail("", err)
	}
	if app == applicationID {
		return nil
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return s.fail("", err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return s.fail("", err)
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return s.fail("", err)
	}
	if len(tables) == 0 {
		return nil // a new file
	}
	const shown = 5
	list := strings.Join(tables[:min(len(tables), shown)], ", ")
	if len(tables) > shown {
		list += fmt.Sprintf(" and %d more", len(tables)-shown)
	}
	return fmt.Errorf("history store %s: not an oncall history (it holds the tables %s): choose another history.dsn", s.name, list)
}

// sqliteAdvice is what to do about a SQLite result code (extended codes
// included), or "" when the error says enough itself.
func sqliteAdvice(code int) string {
	switch code & 0xff { // the primary code
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return "cannot read it as a SQLite database (move it aside to start a new one)"
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
		return "the disk is full or failing: nothing was lost; free space and retry"
	case sqlite3.SQLITE_READONLY:
		return "it is read-only: records can be read, not saved"
	}
	return ""
}

// readHeader reads the first 100 bytes of the file at path: a SQLite
// file's header, or fewer bytes when the file is shorter.
func readHeader(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header := make([]byte, 100)
	n, err := io.ReadFull(f, header)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return header[:n], err
}

// fileKind names what a path that is no regular file is.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// cannotWrite is whether opening a file failed because it, or its
// filesystem, is read-only.
func cannotWrite(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors show the DSN with its password redacted
		return nil, fmt.Errorf("history store: the PostgreSQL DSN: %w", err)
	}
	name := "PostgreSQL database " + cfg.Database + " on " + hostPort(cfg.Host, cfg.Port)
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	start := time.Now()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("history store %s: no answer within %s (the DSN's connect_timeout, %s unless set, bounds the wait): %w",
				name, time.Since(start).Round(100*time.Millisecond), defaultConnectTimeout, err)
		}
		return nil, fmt.Errorf("history store %s: %w", name, err)
	}
	return &Store{db: db, dialect: postgresDialect, name: name,
		where: "the " + name + ", shared with every cockpit using it"}, nil
}

func hostPort(host string, port uint16) string {
	if strings.HasPrefix(host, "/") {
		return host // a Unix socket's directory
	}
	return host + ":" + strconv.Itoa(int(port))
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Where says where the records are kept and who sees them, as a phrase
// that reads after "in"; it never shows a password.
func (s *Store) Where() string { return s.where }

// inTx runs fn in one write transaction, committed if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("history store %s: it could not be opened for writing: records can be read, not saved", s.name)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.fail("commit: ", err)
	}
	return nil
}

// fail names the store in err and says what a SQLite error means for the
// file's owner: a file that is no database may be moved aside, but a full
// or failing disk loses nothing, and moving a healthy database aside would.
func (s *Store) fail(what string, err error) error {
	if !s.dialect.postgres {
		var e *sqlite.Error
		if errors.As(err, &e) {
			if advice := sqliteAdvice(e.Code()); advice != "" {
				return fmt.Errorf("history store %s: %s%s: %w", s.name, what, advice, err)
			}
		}
	}
	return fmt.Errorf("history store %s: %s%w", s.name, what, err)
}
