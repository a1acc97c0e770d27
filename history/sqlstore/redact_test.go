package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/sources"
)

// leak is the secret of these tests: nothing read may hold it.
const leak = "hunter2"

// TestSecretsNeverComeBack: a record full of secrets is stored redacted,
// and a row someone wrote by hand (a shared PostgreSQL, an edited
// history.db) is redacted when read, by Get and List alike.
func TestSecretsNeverComeBack(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			r := history.Record{ID: "inc-5ec7e700", Stack: "prod", Origin: history.OriginLive,
				Title:    "checkout down DB_PASSWORD=" + leak,
				Services: []string{"checkout"},
				Detected: history.Stamp{T: at(1), Source: "X-Api-Key: " + leak},
				Alerts: []history.AlertSpan{{Name: "HighErrorRate", Service: "checkout", Start: at(1), Source: "alertmanager",
					Labels: sources.Labels{"token": leak, "instance": "db:5432"}}},
				Acks:    []history.Ack{{T: at(2), By: "alice PGPASSWORD=" + leak, Source: "silence"}},
				Actions: []history.Action{{T: at(3), ID: "a1", Command: "kubectl --token=sk-LIVE-" + leak + " get pods"}},
				Notes:   []history.Note{{T: at(4), By: "bob", Text: "curl -u admin:" + leak + " https://x"}},
			}
			if _, err := s.Save(ctx, r); err != nil {
				t.Fatal(err)
			}
			// a note added later is a row of its own
			if _, err := s.Save(ctx, history.Record{ID: r.ID, Notes: []history.Note{{T: at(6), By: "carol", Text: "PGPASSWORD=" + leak}},
				Snapshots: []history.Snapshot{{T: at(6), Summary: "token: " + leak}}}); err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"incidents WHERE id = $1", "incident_notes WHERE incident_id = $1", "incident_snapshots WHERE incident_id = $1"} {
				rows, err := s.db.QueryContext(ctx, `SELECT body FROM `+table, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var body string
					if err := rows.Scan(&body); err != nil {
						t.Fatal(err)
					}
					if strings.Contains(body, leak) {
						t.Errorf("a stored row holds the secret: %s", body)
					}
				}
				rows.Close()
			}

			// a row written by hand, around oncall
			hand := history.Record{ID: "../../x", Stack: "prod", Origin: history.OriginLive, Title: "password=" + leak,
				Summary: "Authorization: Bearer sk-LIVE-" + leak + "abcdef", Services: []string{"checkout"},
				Onset: history.Stamp{T: at(0), Source: "?access_token=" + leak}}
			hb, _ := json.Marshal(hand)
			nb, _ := json.Marshal(history.Note{T: at(5), By: "eve", Text: "--password " + leak})
			for _, q := range []struct {
				stmt string
				args []any
			}{
				{`INSERT INTO incidents (id, stack, origin, root, body) VALUES ($1, $2, $3, $4, $5)`, []any{hand.ID, "prod", "live", "", string(hb)}},
				{`INSERT INTO incident_notes (incident_id, sha256, body) VALUES ($1, $2, $3)`, []any{hand.ID, "by-hand", string(nb)}},
			} {
				if _, err := s.db.ExecContext(ctx, q.stmt, q.args...); err != nil {
					t.Fatal(err)
				}
			}

			var read []history.Record
			for _, id := range []string{r.ID, hand.ID} {
				got, err := s.Get(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				read = append(read, got)
			}
			all, err := s.List(ctx, history.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 {
				t.Fatalf("listed %d records, want 2", len(all))
			}
			js, _ := json.Marshal(append(read, all...))
			if strings.Contains(string(js), leak) {
				t.Errorf("a record read holds the secret: %s", js)
			}
			if len(read[1].Notes) != 1 || read[1].ID != hand.ID || !strings.Contains(read[1].Notes[0].Text, "--password ‹redacted›") {
				t.Errorf("the hand-written row read back as %+v", read[1])
			}
		})
	}
}
