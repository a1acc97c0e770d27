package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// fileRetention is how long the file ledger keeps a record after it
// ended: as long as Alertmanager keeps an expired silence by default, far
// longer than any rate window.
const fileRetention = 120 * time.Hour

// FileLedger keeps records in one JSON file that every process on the
// host shares: what guardrails have without an Alertmanager. Each change
// is a read-modify-write under an exclusive flock of Path+".lock", written
// to a temporary file and renamed over Path, so a reader sees the records
// before or after a change, never half of one.
type FileLedger struct {
	Path string
	// Now is the host's clock: it stamps the records, one clock for every
	// process on the host, whatever a caller's clock says.
	Now func() time.Time
}

// DefaultLedgerPath is ledger.json in the data directory, beside the
// audit log.
func DefaultLedgerPath(getenv func(string) string) string {
	return filepath.Join(DataDir(getenv), "ledger.json")
}

// fileLedger is the file's content.
type fileLedger struct {
	// Next numbers the records: IDs sort in the order they were written.
	Next    int      `json:"next"`
	Records []Record `json:"records"`
}

// Records lists the records, active or not by the host's clock.
func (l *FileLedger) Records(context.Context) ([]Record, error) {
	d, err := l.read()
	if err != nil {
		return nil, err
	}
	now := l.Now()
	for i := range d.Records {
		r := &d.Records[i]
		r.Active = !now.Before(r.Start) && now.Before(r.End)
	}
	return d.Records, nil
}

// Add writes a record, its start stamped by the host's clock when past.
func (l *FileLedger) Add(_ context.Context, r Record) (string, error) {
	err := l.update(func(d *fileLedger, now time.Time) error {
		d.Next++
		r.ID = fmt.Sprintf("file-%09d", d.Next)
		if r.Start.Before(now) {
			r.Start = now
		}
		if !r.End.After(r.Start) {
			return fmt.Errorf("the record ends (%s) before it starts (%s)", r.End.UTC().Format(time.RFC3339), r.Start.UTC().Format(time.RFC3339))
		}
		r.Active = false // computed when read
		d.Records = append(d.Records, r)
		return nil
	})
	return r.ID, err
}

// End ends a record now.
func (l *FileLedger) End(_ context.Context, id string) error {
	return l.update(func(d *fileLedger, now time.Time) error {
		for i := range d.Records {
			if d.Records[i].ID == id {
				if d.Records[i].End.After(now) {
					d.Records[i].End = now
				}
				return nil
			}
		}
		return fmt.Errorf("no record %s", id)
	})
}

// Shared is false: other machines do not see the file.
func (*FileLedger) Shared() bool { return false }

// Where is this host's file.
func (l *FileLedger) Where() string {
	return "this host only (file " + l.Path + "): no Alertmanager is configured to share it"
}

func (l *FileLedger) read() (fileLedger, error) {
	var d fileLedger
	b, err := os.ReadFile(l.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("remediation ledger: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("remediation ledger %s: %w", l.Path, err)
	}
	return d, nil
}

// update changes the records under the host-wide lock and writes them
// back whole, dropping those that ended more than fileRetention ago.
func (l *FileLedger) update(change func(d *fileLedger, now time.Time) error) error {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return fmt.Errorf("remediation ledger: %w", err)
	}
	lock, err := os.OpenFile(l.Path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("remediation ledger: %w", err)
	}
	defer lock.Close() // closing releases the flock
	if err := flockExclusive(lock); err != nil {
		return fmt.Errorf("remediation ledger %s: lock: %w", l.Path, err)
	}
	d, err := l.read()
	if err != nil {
		return err
	}
	now := l.Now()
	if err := change(&d, now); err != nil {
		return fmt.Errorf("remediation ledger %s: %w", l.Path, err)
	}
	kept := d.Records[:0]
	for _, r := range d.Records {
		if now.Sub(r.End) < fileRetention {
			kept = append(kept, r)
		}
	}
	d.Records = kept
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("remediation ledger: %w", err)
	}
	return writeAtomic(l.Path, b)
}

// writeAtomic writes b to a temporary file beside path, syncs it and
// renames it over path.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("remediation ledger: %w", err)
	}
	defer os.Remove(f.Name()) // once renamed, there is nothing to remove
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("remediation ledger %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("remediation ledger %s: fsync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("remediation ledger %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("remediation ledger: %w", err)
	}
	return nil
}
