package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one numbered step of the schema; its version is its
// place in migrations, from 1. Steps are only ever appended: a released
// step never changes, so every database at version N has one schema.
type migration struct {
	name  string
	stmts []string // with {time}, {json} and {serial} for the dialect's types
}

var migrations = []migration{
	{name: "incident records, their services, notes and snapshots", stmts: []string{
		// body is the record as JSON without its notes and snapshots,
		// which are child rows appended on their own; the other columns
		// are what listings filter and sort by. began is the detection,
		// else the onset.
		`CREATE TABLE incidents (
			id TEXT PRIMARY KEY,
			stack TEXT NOT NULL,
			origin TEXT NOT NULL,
			began {time},
			detected {time},
			onset {time},
			resolved {time},
			root TEXT NOT NULL,
			body {json} NOT NULL,
			updated {time})`,
		`CREATE INDEX incidents_began ON incidents (began)`,
		`CREATE TABLE incident_services (
			incident_id TEXT NOT NULL REFERENCES incidents (id),
			service TEXT NOT NULL,
			PRIMARY KEY (incident_id, service))`,
		`CREATE INDEX incident_services_service ON incident_services (service)`,
		// sha256 is of the child's identity as history.Merge keys it, so
		// a child written twice, by one cockpit or two, is kept once
		`CREATE TABLE incident_notes (
			incident_id TEXT NOT NULL REFERENCES incidents (id),
			sha256 TEXT NOT NULL,
			t {time},
			body {json} NOT NULL,
			PRIMARY KEY (incident_id, sha256))`,
		`CREATE TABLE incident_snapshots (
			incident_id TEXT NOT NULL REFERENCES incidents (id),
			sha256 TEXT NOT NULL,
			t {time},
			body {json} NOT NULL,
			PRIMARY KEY (incident_id, sha256))`,
	}},
	{name: "the remediation ledger (kept on PostgreSQL)", stmts: []string{
		`CREATE TABLE remediation_ledger (
			id {serial},
			kind TEXT NOT NULL,
			action TEXT NOT NULL,
			target TEXT NOT NULL,
			by_name TEXT NOT NULL,
			starts {time} NOT NULL,
			ends {time} NOT NULL,
			note TEXT NOT NULL)`,
		`CREATE INDEX remediation_ledger_ends ON remediation_ledger (ends)`,
	}},
}

// migrationLock is the PostgreSQL advisory lock that one migrating
// process holds, so two cockpits starting at once do not both create a
// table. SQLite's IMMEDIATE transactions already hold its one write lock.
const migrationLock = 0x6f6e63616c6c00 // "oncall" and 0

// migrate applies the migrations the database has not had, each in its
// own transaction with its version, and refuses a database whose schema
// is newer than this binary knows.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, if any, and reports whether the
// schema is up to date.
func (s *Store) migrateOne(ctx context.Context) (done bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect.postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
				return fmt.Errorf("history store %s: migration lock: %w", s.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			return fmt.Errorf("history store %s: %w", s.name, err)
		}
		var version int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return fmt.Errorf("history store %s: schema version: %w", s.name, err)
		}
		if version > len(migrations) {
			return fmt.Errorf("history store %s: its schema is at version %d, newer than this oncall knows (%d): a newer oncall wrote it; upgrade oncall to use it", s.name, version, len(migrations))
		}
		if version == len(migrations) {
			done = true
			return nil
		}
		m := migrations[version]
		if version == 0 && !s.dialect.postgres {
			// marks the file as oncall's, in the transaction that makes it so
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, applicationID)); err != nil {
				return s.fail("migration 1: ", err)
			}
		}
		for _, stmt := range m.stmts {
			if _, err := tx.ExecContext(ctx, s.dialect.types.Replace(stmt)); err != nil {
				return fmt.Errorf("history store %s: migration %d (%s): %w", s.name, version+1, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, version+1, m.name); err != nil {
			return fmt.Errorf("history store %s: migration %d (%s): %w", s.name, version+1, m.name, err)
		}
		return nil
	})
	return done, err
}

// schemaCurrent checks a SQLite file opened read-only, which cannot be
// migrated: its schema must be the one this binary knows.
func (s *Store) schemaCurrent(ctx context.Context) error {
	var version, tables int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return s.fail("schema version: ", err)
	}
	if tables > 0 {
		if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return s.fail("schema version: ", err)
		}
	}
	switch {
	case version > len(migrations):
		return fmt.Errorf("history store %s: its schema is at version %d, newer than this oncall knows (%d): a newer oncall wrote it; upgrade oncall to use it", s.name, version, len(migrations))
	case version < len(migrations):
		return fmt.Errorf("history store %s: it could not be opened for writing, and its schema (version %d) needs upgrading to version %d first: make it writable and run oncall history once", s.name, version, len(migrations))
	}
	return nil
}
