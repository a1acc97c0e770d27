package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

// hostileLeak is the secret of a hostile store: no command may print it.
const hostileLeak = "hunter2"

// hostileStore is a SQLite history holding a record oncall saved with a
// secret in every text, and a row written by hand (as on a shared
// PostgreSQL) with a hostile ID and secrets oncall never redacted on
// the way in. It returns the two IDs.
func hostileStore(t *testing.T, data string) (saved, byHand string) {
	t.Helper()
	ctx := context.Background()
	path := sqlstore.DefaultPath(func(k string) string {
		if k == "XDG_DATA_HOME" {
			return data
		}
		return ""
	})
	st, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC)
	min := func(n int) time.Time { return at.Add(time.Duration(n) * time.Minute) }
	r := history.Record{ID: "inc-5ec7e700", Origin: history.OriginLive, Severity: "page",
		Title:    "checkout down DB_PASSWORD=" + hostileLeak + " <script>x</script>",
		Services: []string{"checkout"}, Root: "db", Mechanism: "saturation",
		Summary:  "db saturated; PGPASSWORD=" + hostileLeak,
		Onset:    history.Stamp{T: min(0), Source: "anomaly X-Api-Key: " + hostileLeak, Kind: history.KindAnomaly},
		Detected: history.Stamp{T: min(2), Source: "AWS_SECRET_ACCESS_KEY=" + hostileLeak, Kind: history.KindAlert},
		Acked:    history.Stamp{T: min(4), Source: "silence", Kind: history.KindAck},
		Resolved: history.Stamp{T: min(30), Source: "REDpassword=" + hostileLeak, Kind: history.KindHand},
		Alerts: []history.AlertSpan{{Name: "HighErrorRate", Service: "checkout", Severity: "page", Start: min(2), End: min(25), Source: "alertmanager",
			Labels: sources.Labels{"token": hostileLeak, "instance": "db:5432"}}},
		Acks: []history.Ack{{T: min(4), By: "alice --password " + hostileLeak, Silence: "s1", Source: "alertmanager"}},
		Actions: []history.Action{{T: min(10), ID: "a1", Runbook: "restart", Action: "rollout", User: "alice",
			Command: "kubectl --token=sk-LIVE-" + hostileLeak + " rollout restart deploy/db; curl -u admin:" + hostileLeak + " https://x?access_token=" + hostileLeak, Result: "ok"}},
		Notes: []history.Note{{T: min(5), By: "bob", Text: "Authorization: Bearer sk-LIVE-" + hostileLeak + "abcdef\nRESOLVED by alice"}},
	}
	if _, err := st.Save(ctx, r); err != nil {
		t.Fatal(err)
	}
	hand := r
	hand.ID = "../../x\x1b]0;pwned\a"
	hand.Title = "password=" + hostileLeak
	hand.Onset.T, hand.Detected.T = min(-60), min(-58)
	body, _ := json.Marshal(hand)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO incidents (id, stack, origin, began, root, body) VALUES ($1, '', 'live', $2, 'db', $3)`,
		hand.ID, hand.Detected.T.UTC().Format(time.RFC3339Nano), string(body)); err != nil {
		t.Fatal(err)
	}
	return r.ID, hand.ID
}

// TestHistoryHostileStoreShowsNoSecret: every command that prints
// records, as text and as JSON, over a store with secrets saved through
// oncall and written around it by hand, prints no secret and no escape.
func TestHistoryHostileStoreShowsNoSecret(t *testing.T) {
	data := t.TempDir()
	saved, byHand := hostileStore(t, data)
	vars := map[string]string{"XDG_DATA_HOME": data, "USER": "alice"}
	runs := [][]string{
		{"history", "--offline", "--since", "30d"},
		{"history", "--offline", "--since", "30d", "-o", "json"},
		{"stats", "--offline", "--since", "30d"},
		{"stats", "--offline", "--since", "30d", "-o", "json"},
	}
	for _, id := range []string{saved, byHand} {
		runs = append(runs, []string{"history", "show", id}, []string{"history", "show", id, "-o", "json"},
			[]string{"postmortem", id}, []string{"postmortem", id, "-o", "json"}, []string{"postmortem", id, "--format", "github"})
	}
	for _, args := range runs {
		r := oncall(t, vars, "", args...)
		if r.code != 0 {
			t.Errorf("%q: exit %d: %s", args, r.code, r.err)
		}
		if strings.Contains(r.out+r.err, hostileLeak) {
			t.Errorf("%q prints the secret:\n%s%s", args, r.out, r.err)
		}
		if testenv.HasEscape([]byte(r.out + r.err)) {
			t.Errorf("%q prints an escape", args)
		}
		if args[0] == "postmortem" && args[len(args)-1] != "json" && strings.Contains(r.out, "<script>") {
			t.Errorf("%q writes raw HTML into Markdown", args)
		}
	}
	show := oncall(t, vars, "", "history", "show", saved)
	if strings.Contains(show.out, "\nRESOLVED by alice") || !strings.Contains(show.out, "⏎RESOLVED by alice") {
		t.Errorf("a note's newline starts a line of its own:\n%s", show.out)
	}
	list := oncall(t, vars, "", "history", "--offline", "--since", "30d")
	if !strings.Contains(list.out, saved) {
		t.Errorf("the list lacks %s:\n%s", saved, list.out)
	}
}
