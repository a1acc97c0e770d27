package sqlstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// The PostgreSQL ledger times records by the database's clock: a past
// start becomes its now, a future one is kept, End ends a record now,
// IDs sort in the order records were written, and records that ended
// over 120h ago are dropped.
func TestPostgresLedger(t *testing.T) {
	ctx := context.Background()
	s := open(t, backends[1].dsn(t))
	l, _ := s.Ledger()
	k := remediate.Key{Action: "payments/restart", Target: "payments"}

	// a writer whose clock is a day behind: the database stamps its own now
	before := time.Now()
	past, err := l.Add(ctx, remediate.Record{Kind: remediate.RecordLock, Key: k, By: "ana", Start: before.Add(-24 * time.Hour), End: before.Add(time.Hour), Note: "lock"})
	if err != nil {
		t.Fatal(err)
	}
	future, err := l.Add(ctx, remediate.Record{Kind: remediate.RecordRun, Key: k, By: "bo", Start: before.Add(time.Hour), End: before.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Add(ctx, remediate.Record{Kind: remediate.RecordRun, Key: k, Start: before.Add(-time.Hour), End: before.Add(-time.Minute)}); err == nil ||
		!strings.Contains(err.Error(), "ends") {
		t.Errorf("a record that ends before the database's now was written: %v", err)
	}
	if past >= future {
		t.Errorf("IDs %s then %s do not sort in the order written", past, future)
	}
	rs, err := l.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].ID != past || rs[1].ID != future {
		t.Fatalf("records %+v, want %s and %s", rs, past, future)
	}
	// the test's machine is the database's: the stamp is between the two reads of its clock
	if p := rs[0]; !p.Active || p.Start.Before(before.Add(-time.Second)) || p.Start.After(time.Now().Add(time.Second)) || p.By != "ana" || p.Key != k || p.Note != "lock" {
		t.Errorf("the past-started record: %+v, want it active and stamped now", p)
	}
	if f := rs[1]; f.Active || !f.Start.Equal(before.Add(time.Hour).UTC().Truncate(time.Microsecond)) {
		t.Errorf("the future record: %+v, want its own start, not yet active", f)
	}

	if err := l.End(ctx, past); err != nil {
		t.Fatal(err)
	}
	if err := l.End(ctx, "pg-000000000000999"); err == nil {
		t.Error("ending an unknown record succeeded")
	}
	if rs, _ = l.Records(ctx); rs[0].Active || rs[0].End.After(time.Now()) {
		t.Errorf("after End: %+v", rs[0])
	}

	// a record that ended 121h ago goes with the next write
	if _, err := s.db.ExecContext(ctx, `INSERT INTO remediation_ledger (kind, action, target, by_name, starts, ends, note)
		VALUES ('run', 'a', 'b', 'c', $1, $2, '')`, before.Add(-122*time.Hour), before.Add(-121*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Add(ctx, remediate.Record{Kind: remediate.RecordRun, Key: k, End: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM remediation_ledger WHERE ends < $1`, before.Add(-120*time.Hour)).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d records that ended over 120h ago are kept (%v)", n, err)
	}
}
