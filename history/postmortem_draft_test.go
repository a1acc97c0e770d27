package history_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/slo"
)

// draftStore is a SQLite store holding an incident of stack "prod", an
// older one with the same root, and a newer one of the demo.
func draftStore(t *testing.T) history.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	at := func(h int) history.Stamp {
		return history.Stamp{T: time.Date(2026, 12, 7, h, 0, 0, 0, time.UTC), Source: "ALERTS (prometheus)", Kind: history.KindAlert}
	}
	for _, r := range []history.Record{
		{ID: "inc-00000001", Stack: "prod", Origin: history.OriginLive, Title: "older", Root: "db", Mechanism: "saturation", Detected: at(1), Resolved: at(2)},
		{ID: "inc-00000002", Stack: "prod", Origin: history.OriginLive, Title: "this one", Root: "db", Mechanism: "saturation", Services: []string{"api"}, Detected: at(5), Resolved: at(6),
			Alerts: []history.AlertSpan{{Name: "HighErrorRate", Service: "api", Severity: "page", Start: at(5).T, Source: "prometheus"}}},
		{ID: "inc-00000003", Stack: history.DemoStack, Origin: history.OriginLive, Title: "the demo's", Root: "cache", Detected: at(9), Resolved: at(10)},
	} {
		if _, err := st.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// One draft builder: the record by ID or "last", its similar past, and
// the budgets the caller's reader reads, for the writer's own stack only.
func TestPostmortemDraftFrom(t *testing.T) {
	ctx := context.Background()
	st := draftStore(t)
	var asked []string
	o := history.PostmortemOptions{Now: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC), Stack: "prod",
		Explore: &grafana.Explore{URL: "https://grafana.example"},
		ReadBudgets: func(_ context.Context, r history.Record) ([]history.SLOAccount, error) {
			asked = append(asked, r.ID)
			return []history.SLOAccount{{Objective: slo.Objective{Name: "api-availability"}}}, errors.New("db-latency budget: connection refused")
		}}
	d, err := history.DraftFrom(ctx, st, "inc-00000002", o)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "inc-00000002" || len(d.Similar) != 1 || d.Similar[0].ID != "inc-00000001" {
		t.Errorf("draft %s, similar %+v", d.ID, d.Similar)
	}
	if len(asked) != 1 || asked[0] != "inc-00000002" {
		t.Errorf("budgets read for %v", asked)
	}
	// one SLO read, one not: the draft counts the one and names the other
	if !strings.HasPrefix(d.Impact.BudgetUnknown, "none notable: no SLO of 1 SLO") || !strings.Contains(d.Impact.BudgetUnread, "db-latency budget: connection refused") {
		t.Errorf("budget %q, unread %q", d.Impact.BudgetUnknown, d.Impact.BudgetUnread)
	}
	if !strings.Contains(d.Markdown(), "| SLO budget not read | db-latency budget: connection refused |") {
		t.Errorf("the draft does not say which budget it could not read:\n%s", d.Markdown())
	}

	// last is the newest, of any stack: the demo's, which the prod
	// writer's Grafana and SLOs know nothing of
	asked = nil
	d, err = history.DraftFrom(ctx, st, history.LastID, o)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "inc-00000003" || len(asked) != 0 {
		t.Errorf("last drafted %s, budgets read for %v", d.ID, asked)
	}
	if !strings.Contains(d.Impact.BudgetUnknown, "the record is of stack demo, and this draft was written from prod") {
		t.Errorf("another stack's budget: %q", d.Impact.BudgetUnknown)
	}

	// nothing read at all is not known, not none spent
	o.ReadBudgets = func(context.Context, history.Record) ([]history.SLOAccount, error) {
		return nil, errors.New("api-availability budget: timeout")
	}
	d, _ = history.DraftFrom(ctx, st, "inc-00000002", o)
	if d.Impact.BudgetUnknown != "not known: no SLO budget could be read: api-availability budget: timeout" {
		t.Errorf("no budget read: %q", d.Impact.BudgetUnknown)
	}

	if _, err := history.DraftFrom(ctx, st, "inc-0000dead", o); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("an unknown ID: %v", err)
	}
	empty, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if _, err := history.DraftFrom(ctx, empty, history.LastID, o); !errors.Is(err, history.ErrNoRecords) {
		t.Errorf("last of an empty store: %v", err)
	}
}
