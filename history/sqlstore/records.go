package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/history"
)

// querier is a database or a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Save merges r into the record with its ID (history.Merge) in one
// transaction holding that record's row lock, so two writers never lose
// each other's work, and returns the record as stored. Notes and
// snapshots are appended as rows of their own, never rewritten.
func (s *Store) Save(ctx context.Context, r history.Record) (history.Record, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if r.ID == "" {
		return history.Record{}, fmt.Errorf("history store %s: a record without an ID cannot be saved", s.name)
	}
	r = history.Redacted(r) // its notes and snapshots are written as given, beside Merge's redacted head
	var out history.Record
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, found, err := s.load(ctx, tx, r.ID, true)
		if err != nil {
			return err
		}
		if !found {
			// Merge with nothing puts a new record in the form every
			// stored one has: lists sorted, duplicates dropped
			out = history.Merge(history.Record{}, r)
			inserted, err := s.insertHead(ctx, tx, out)
			if err != nil {
				return err
			}
			if inserted {
				return s.writeChildren(ctx, tx, out, out)
			}
			// another writer created it since the read (PostgreSQL: its
			// insert held ours until it committed); lock it and merge
			if old, found, err = s.load(ctx, tx, r.ID, true); err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("history store %s: record %s was created and removed while being saved", s.name, r.ID)
			}
		}
		out = history.Merge(old, r)
		if err := s.updateHead(ctx, tx, out); err != nil {
			return err
		}
		return s.writeChildren(ctx, tx, out, r)
	})
	if err != nil {
		return history.Record{}, err
	}
	return out, nil
}

// Get returns the record with an ID, or history.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (history.Record, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	r, found, err := s.load(ctx, s.db, id, false)
	if err != nil {
		return history.Record{}, err
	}
	if !found {
		return history.Record{}, fmt.Errorf("history store %s: %s: %w", s.name, id, history.ErrNotFound)
	}
	// rows others wrote (by hand, an older oncall) are redacted too
	return history.Redacted(r), nil
}

// List returns the records a filter selects, newest first by detection,
// else onset; records with neither come last.
func (s *Store) List(ctx context.Context, f history.Filter) ([]history.Record, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	q := `SELECT id, body FROM incidents i WHERE 1 = 1`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !f.Since.IsZero() {
		q += ` AND i.began >= ` + arg(s.dialect.time(f.Since))
	}
	if f.Service != "" {
		n := arg(f.Service)
		q += ` AND (i.root = ` + n + ` OR EXISTS (SELECT 1 FROM incident_services v WHERE v.incident_id = i.id AND v.service = ` + n + `))`
	}
	q += ` ORDER BY i.began IS NULL, i.began DESC, i.id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("history store %s: list: %w", s.name, err)
	}
	defer rows.Close()
	var out []history.Record
	at := map[string]int{}
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("history store %s: list: %w", s.name, err)
		}
		var r history.Record
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, fmt.Errorf("history store %s: record %s: %w", s.name, id, err)
		}
		at[id] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history store %s: list: %w", s.name, err)
	}
	rows.Close()
	ids := make([]string, len(out))
	for i, r := range out {
		ids[i] = r.ID
	}
	if err := s.loadChildren(ctx, s.db, ids, func(id string, n history.Note) { out[at[id]].Notes = append(out[at[id]].Notes, n) },
		func(id string, sn history.Snapshot) { out[at[id]].Snapshots = append(out[at[id]].Snapshots, sn) }); err != nil {
		return nil, err
	}
	for i := range out {
		sortChildren(&out[i])
		out[i] = history.Redacted(out[i]) // as Get does
	}
	return out, nil
}

// load reads one record with its notes and snapshots; lock takes its row
// lock for the transaction q.
func (s *Store) load(ctx context.Context, q querier, id string, lock bool) (history.Record, bool, error) {
	stmt := `SELECT body FROM incidents WHERE id = $1`
	if lock {
		stmt += s.dialect.forUpdate
	}
	var body string
	err := q.QueryRowContext(ctx, stmt, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return history.Record{}, false, nil
	}
	if err != nil {
		return history.Record{}, false, fmt.Errorf("history store %s: record %s: %w", s.name, id, err)
	}
	var r history.Record
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return history.Record{}, false, fmt.Errorf("history store %s: record %s: %w", s.name, id, err)
	}
	if err := s.loadChildren(ctx, q, []string{id}, func(_ string, n history.Note) { r.Notes = append(r.Notes, n) },
		func(_ string, sn history.Snapshot) { r.Snapshots = append(r.Snapshots, sn) }); err != nil {
		return history.Record{}, false, err
	}
	sortChildren(&r)
	return r, true, nil
}

// childBatch is how many records' children one query reads: well under
// either database's limit on a statement's parameters.
const childBatch = 500

// loadChildren reads the notes and snapshots of records, in the order
// they were keyed, for sortChildren to put in time order.
func (s *Store) loadChildren(ctx context.Context, q querier, ids []string, note func(string, history.Note), snap func(string, history.Snapshot)) error {
	for len(ids) > 0 {
		batch := ids[:min(len(ids), childBatch)]
		ids = ids[len(batch):]
		marks := make([]string, len(batch))
		args := make([]any, len(batch))
		for i, id := range batch {
			marks[i] = "$" + strconv.Itoa(i+1)
			args[i] = id
		}
		in := ` WHERE incident_id IN (` + strings.Join(marks, ", ") + `) ORDER BY incident_id, sha256`
		if err := s.eachChild(ctx, q, `SELECT incident_id, body FROM incident_notes`+in, args, func(id string, b []byte) error {
			var n history.Note
			err := json.Unmarshal(b, &n)
			note(id, n)
			return err
		}); err != nil {
			return err
		}
		if err := s.eachChild(ctx, q, `SELECT incident_id, body FROM incident_snapshots`+in, args, func(id string, b []byte) error {
			var sn history.Snapshot
			err := json.Unmarshal(b, &sn)
			snap(id, sn)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) eachChild(ctx context.Context, q querier, stmt string, args []any, each func(id string, body []byte) error) error {
	rows, err := q.QueryContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("history store %s: %w", s.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return fmt.Errorf("history store %s: %w", s.name, err)
		}
		if err := each(id, []byte(body)); err != nil {
			return fmt.Errorf("history store %s: record %s: %w", s.name, id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("history store %s: %w", s.name, err)
	}
	return nil
}

// sortChildren orders notes and snapshots by time, as Merge does.
func sortChildren(r *history.Record) {
	slices.SortStableFunc(r.Notes, func(a, b history.Note) int { return a.T.Compare(b.T) })
	slices.SortStableFunc(r.Snapshots, func(a, b history.Snapshot) int { return a.T.Compare(b.T) })
}

// head is the record's row: the record without its notes and snapshots,
// and the columns listings filter and sort by.
func (s *Store) head(r history.Record) ([]any, error) {
	body := r
	body.Notes, body.Snapshots = nil, nil
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("history store %s: record %s: %w", s.name, r.ID, err)
	}
	d := s.dialect
	return []any{r.ID, r.Stack, string(r.Origin), d.time(r.When()), d.time(r.Detected.T), d.time(r.Onset.T),
		d.time(r.Resolved.T), r.Root, string(b), d.time(r.Updated)}, nil
}

// insertHead inserts a new record's row and reports whether it did: not
// when another writer inserted it first.
func (s *Store) insertHead(ctx context.Context, tx *sql.Tx, r history.Record) (bool, error) {
	args, err := s.head(r)
	if err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, stack, origin, began, detected, onset, resolved, root, body, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`, args...)
	if err != nil {
		return false, fmt.Errorf("history store %s: record %s: %w", s.name, r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("history store %s: record %s: %w", s.name, r.ID, err)
	}
	return n == 1, nil
}

func (s *Store) updateHead(ctx context.Context, tx *sql.Tx, r history.Record) error {
	args, err := s.head(r)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET stack = $2, origin = $3, began = $4, detected = $5, onset = $6,
		resolved = $7, root = $8, body = $9, updated = $10 WHERE id = $1`, args...); err != nil {
		return fmt.Errorf("history store %s: record %s: %w", s.name, r.ID, err)
	}
	return nil
}

// writeChildren adds the merged record's services (Merge only ever adds
// to them) and the notes and snapshots of added, the record being saved:
// those already stored are kept as they are.
func (s *Store) writeChildren(ctx context.Context, tx *sql.Tx, merged, added history.Record) error {
	for _, svc := range merged.Services {
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_services (incident_id, service) VALUES ($1, $2) ON CONFLICT DO NOTHING`, merged.ID, svc); err != nil {
			return fmt.Errorf("history store %s: record %s: %w", s.name, merged.ID, err)
		}
	}
	for _, n := range added.Notes {
		if err := s.insertChild(ctx, tx, "incident_notes", merged.ID, childKey(history.NoteKey(n)), n.T, n); err != nil {
			return err
		}
	}
	for _, sn := range added.Snapshots {
		if err := s.insertChild(ctx, tx, "incident_snapshots", merged.ID, childKey(history.SnapshotKey(sn)), sn.T, sn); err != nil {
			return err
		}
	}
	return nil
}

// insertChild appends a note or snapshot unless one with its key is
// there: the first written is kept, as Merge keeps the first.
func (s *Store) insertChild(ctx context.Context, tx *sql.Tx, table, id, key string, t time.Time, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("history store %s: record %s: %w", s.name, id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (incident_id, sha256, t, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		id, key, s.dialect.time(t), string(b)); err != nil {
		return fmt.Errorf("history store %s: record %s: %w", s.name, id, err)
	}
	return nil
}

// childKey is a note's or snapshot's row key: the sha256 of its
// identity as Merge keys it (history.NoteKey, history.SnapshotKey), so
// the store and Merge keep the same one.
func childKey(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return hex.EncodeToString(sum[:])
}

var _ history.Store = (*Store)(nil)
