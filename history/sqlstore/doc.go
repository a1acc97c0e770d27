// Package sqlstore keeps incident records in SQL: a SQLite file on this
// machine by default (modernc.org/sqlite, pure Go), or a PostgreSQL
// database that every cockpit configured with it shares (pgx). Both run
// the same numbered migrations and the same statements; they differ only
// in column types and in how a write locks.
//
// On PostgreSQL it also keeps the remediation ledger, whose lock makes
// the order of claims the order of commits (see Store.Ledger).
//
// It imports history and remediate only: cmd wires it in.
package sqlstore
