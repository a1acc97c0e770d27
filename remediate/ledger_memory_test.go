package remediate

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryLedger keeps records in this process only: a ledger for tests
// that move their own clock.
type MemoryLedger struct {
	Now func() time.Time
	mu  sync.Mutex
	rs  []Record
}

// Records lists the records.
func (l *MemoryLedger) Records(context.Context) ([]Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	out := make([]Record, len(l.rs))
	for i, r := range l.rs {
		r.Active = !now.Before(r.Start) && now.Before(r.End)
		out[i] = r
	}
	return out, nil
}

// Add keeps a record.
func (l *MemoryLedger) Add(_ context.Context, r Record) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.ID = fmt.Sprintf("mem-%d", len(l.rs)+1)
	if now := l.Now(); r.Start.Before(now) {
		r.Start = now
	}
	l.rs = append(l.rs, r)
	return r.ID, nil
}

// End ends a record now.
func (l *MemoryLedger) End(_ context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.rs {
		if l.rs[i].ID == id {
			l.rs[i].End = l.Now()
			return nil
		}
	}
	return fmt.Errorf("remediation ledger: no record %s", id)
}

// Shared is false: other processes do not see this one's records.
func (*MemoryLedger) Shared() bool { return false }

// Where is this process.
func (*MemoryLedger) Where() string {
	return "this process only: no Alertmanager is configured to share it"
}
