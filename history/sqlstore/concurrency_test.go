package sqlstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/remediate"
)

// Two Stores (two cockpits) write one database at once: alerts and notes
// saved into the same record and into their own; none is lost.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	const stores, writers, saves = 2, 4, 12
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			var wg sync.WaitGroup
			for k := range stores {
				s := open(t, dsn)
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						who := fmt.Sprintf("w%d-%d", k, w)
						// an hour apart, so Merge keeps every firing apart
						for i := range saves {
							for _, id := range []string{"inc-shared", "inc-" + who} {
								_, err := s.Save(ctx, history.Record{ID: id, Stack: "prod", Origin: history.OriginLive,
									Services: []string{who},
									Alerts:   []history.AlertSpan{{Name: "Alert-" + who, Service: who, Start: at(60 * i), Source: "test"}},
									Notes:    []history.Note{{T: at(i), By: who, Text: strconv.Itoa(i)}}})
								if err != nil {
									t.Errorf("%s saving %s: %v", who, id, err)
									return
								}
							}
						}
					}()
				}
			}
			wg.Wait()
			s := open(t, dsn)
			check := func(id string, want int) {
				t.Helper()
				r, err := s.Get(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Alerts) != want || len(r.Notes) != want {
					t.Errorf("%s has %d alerts and %d notes, want %d of each", id, len(r.Alerts), len(r.Notes), want)
				}
			}
			check("inc-shared", stores*writers*saves)
			for k := range stores {
				for w := range writers {
					check(fmt.Sprintf("inc-w%d-%d", k, w), saves)
				}
			}
		})
	}
}

// childDSN names the store a child process writes to until it is killed.
const childDSN = "ONCALL_SQLSTORE_TEST_WRITE_UNTIL_KILLED"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(childDSN); dsn != "" {
		os.Exit(writeUntilKilled(dsn))
	}
	os.Exit(m.Run())
}

// writeUntilKilled saves records, each with a note and a snapshot,
// printing each one's ID once its transaction has committed.
func writeUntilKilled(dsn string) int {
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; ; i++ {
		r := history.Record{ID: fmt.Sprintf("inc-%08x", i), Origin: history.OriginLive, Title: "written until killed",
			Detected:  history.Stamp{T: at(i)},
			Notes:     []history.Note{{T: at(i), By: "child", Text: "note " + strconv.Itoa(i)}},
			Snapshots: []history.Snapshot{{T: at(i), Summary: "snapshot " + strconv.Itoa(i)}}}
		if _, err := s.Save(ctx, r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(r.ID)
	}
}

// A process killed (SIGKILL) while writing loses no record it reported
// committed: every ID it printed is there whole.
func TestKilledWriterLosesNoCommittedRecord(t *testing.T) {
	const before = 40 // records committed before the kill
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			open(t, dsn).Close() // migrated before the child starts, so its first saves are quick
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childDSN+"="+dsn)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var ids []string
			lines := bufio.NewScanner(out)
			for len(ids) < before && lines.Scan() {
				ids = append(ids, lines.Text())
			}
			// killed between or inside transactions, wherever it is
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			for lines.Scan() { // what it printed before it died
				ids = append(ids, lines.Text())
			}
			err = cmd.Wait()
			if len(ids) < before {
				t.Fatalf("the writer printed %d IDs before it ended (%v): %s", len(ids), err, stderr.String())
			}
			if !strings.Contains(fmt.Sprint(err), "killed") {
				t.Fatalf("the writer ended with %v, not killed: %s", err, stderr.String())
			}
			s := open(t, dsn)
			for i, id := range ids {
				r, err := s.Get(context.Background(), id)
				if err != nil {
					t.Fatalf("record %s, printed as committed, is lost: %v", id, err)
				}
				if len(r.Notes) != 1 || r.Notes[0].Text != "note "+strconv.Itoa(i) || len(r.Snapshots) != 1 {
					t.Errorf("record %s lost its note or snapshot: %+v", id, r)
				}
			}
		})
	}
}

// Two guards, each on its own connection to the PostgreSQL ledger, race
// to acquire one lock: exactly one wins, every round.
func TestGuardsRacingOnPostgresLedger(t *testing.T) {
	const rounds = 100
	ctx := context.Background()
	dsn := backends[1].dsn(t)
	var guards [2]*remediate.Guard
	for i := range guards {
		l, ok := open(t, dsn).Ledger()
		if !ok {
			t.Fatal("a PostgreSQL store offered no ledger")
		}
		guards[i] = &remediate.Guard{Ledger: l, Now: time.Now}
	}
	for round := range rounds {
		k := remediate.Key{Action: "payments/restart", Target: "payments-" + strconv.Itoa(round)}
		var holds [2]*remediate.Hold
		var errs [2]error
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, g := range guards {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				holds[i], errs[i] = g.Acquire(ctx, k, remediate.Guardrail{}, "cockpit-"+strconv.Itoa(i), time.Minute, nil)
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i := range holds {
			if holds[i] != nil {
				won++
				continue
			}
			var ref *remediate.Refusal
			if !errors.As(errs[i], &ref) || ref.Rule != "lock" {
				t.Fatalf("round %d: cockpit-%d lost with %v, want a lock refusal", round, i, errs[i])
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d guards won the lock on %s, want exactly 1", round, won, k)
		}
		for _, h := range holds {
			if h != nil {
				h.Release()
			}
		}
	}
}
