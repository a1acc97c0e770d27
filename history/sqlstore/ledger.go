package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// Ledger is the remediation ledger kept in the store's database: on
// PostgreSQL, shared by every cockpit and autopilot using it, and false on
// SQLite, whose file one machine sees (the file ledger does that already).
func (s *Store) Ledger() (remediate.Ledger, bool) {
	if !s.dialect.postgres {
		return nil, false
	}
	return &pgLedger{s: s}, true
}

// pgLedger keeps remediation records in PostgreSQL. Every start, end and
// Active is by the database's clock (clock_timestamp), one clock for every
// machine whatever theirs say. Add holds one advisory lock while it stamps
// and commits, so records are stamped in the order they commit: a record
// listed is never preceded by one committed later, and the guard's
// earliest-claim rule reads one order on every machine.
type pgLedger struct{ s *Store }

// ledgerLock is the advisory lock every Add takes, for the transaction.
const ledgerLock = 0x6f6e63616c6c01 // "oncall" and 1

// ledgerRetention is how long a record is kept after it ended: as long as
// Alertmanager keeps an expired silence by default and the file ledger
// keeps a record, far longer than any rate window.
const ledgerRetention = "120 hours"

// ledgerIDPrefix marks the ledger's IDs; the numbers are zero-padded so
// IDs sort as the sequence does, as the guard's tie-break expects.
const ledgerIDPrefix = "pg-"

func ledgerID(n int64) string { return fmt.Sprintf("%s%015d", ledgerIDPrefix, n) }

// Records lists the records kept, active or not by the database's clock.
func (l *pgLedger) Records(ctx context.Context) ([]remediate.Record, error) {
	rows, err := l.s.db.QueryContext(ctx, `SELECT id, kind, action, target, by_name, starts, ends, note, n.now >= starts AND n.now < ends
		FROM remediation_ledger, (SELECT clock_timestamp() AS now) n
		WHERE ends > n.now - interval '`+ledgerRetention+`' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("remediation ledger %s: %w", l.s.name, err)
	}
	defer rows.Close()
	var out []remediate.Record
	for rows.Next() {
		var r remediate.Record
		var id int64
		if err := rows.Scan(&id, &r.Kind, &r.Key.Action, &r.Key.Target, &r.By, &r.Start, &r.End, &r.Note, &r.Active); err != nil {
			return nil, fmt.Errorf("remediation ledger %s: %w", l.s.name, err)
		}
		r.ID, r.Start, r.End = ledgerID(id), r.Start.UTC(), r.End.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("remediation ledger %s: %w", l.s.name, err)
	}
	return out, nil
}

// Add writes a record, its start stamped by the database's clock when
// the start given is past, and drops those that ended over
// ledgerRetention ago.
func (l *pgLedger) Add(ctx context.Context, r remediate.Record) (string, error) {
	var id int64
	err := l.s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, ledgerLock); err != nil {
			return fmt.Errorf("remediation ledger %s: lock: %w", l.s.name, err)
		}
		var start, end time.Time
		if err := tx.QueryRowContext(ctx, `INSERT INTO remediation_ledger (kind, action, target, by_name, starts, ends, note)
			VALUES ($1, $2, $3, $4, GREATEST($5::timestamptz, clock_timestamp()), $6, $7) RETURNING id, starts, ends`,
			r.Kind, r.Key.Action, r.Key.Target, r.By, r.Start.UTC(), r.End.UTC(), r.Note).Scan(&id, &start, &end); err != nil {
			return fmt.Errorf("remediation ledger %s: %w", l.s.name, err)
		}
		if !end.After(start) {
			return fmt.Errorf("remediation ledger %s: the record ends (%s) before it starts (%s)", l.s.name,
				end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339Nano))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM remediation_ledger WHERE ends < clock_timestamp() - interval '`+ledgerRetention+`'`); err != nil {
			return fmt.Errorf("remediation ledger %s: %w", l.s.name, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return ledgerID(id), nil
}

// End ends a record now, by the database's clock.
func (l *pgLedger) End(ctx context.Context, id string) error {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, ledgerIDPrefix), 10, 64)
	if err != nil || !strings.HasPrefix(id, ledgerIDPrefix) {
		return fmt.Errorf("remediation ledger %s: no record %s", l.s.name, id)
	}
	res, err := l.s.db.ExecContext(ctx, `UPDATE remediation_ledger SET ends = LEAST(ends, clock_timestamp()) WHERE id = $1`, n)
	if err != nil {
		return fmt.Errorf("remediation ledger %s: %w", l.s.name, err)
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return fmt.Errorf("remediation ledger %s: no record %s", l.s.name, id)
	}
	return nil
}

// Shared is true: every cockpit using the database sees the records.
func (*pgLedger) Shared() bool { return true }

// Where is the database, without its password, as the store says it:
// a phrase that reads after "in" or "reach", or in parentheses.
func (l *pgLedger) Where() string { return l.s.Where() }
