package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/tui"
)

// defaultStack is a stack's name when the config has no contexts.
const defaultStack = "default"

// historyStores are the history stores a command opened, by DSN, each
// opened once and closed when the command ends (closeHistory); and those
// that could not be opened, with why, so that a store that does not
// answer is waited for once per command, not once per use.
type historyStores struct {
	open   map[string]*sqlstore.Store
	failed map[string]error
}

// openHistory opens the store at dsn once per command. An error names
// the store (sqlstore says which, without a password) and never holds
// the password, whatever the driver's message says.
func (f *Factory) openHistory(ctx context.Context, dsn config.DSN) (*sqlstore.Store, error) {
	if st, ok := f.stores.open[dsn.Reveal()]; ok {
		return st, nil
	}
	if err, ok := f.stores.failed[dsn.Reveal()]; ok {
		return nil, err
	}
	st, err := sqlstore.Open(ctx, dsn.Reveal())
	if err != nil {
		if pw := dsn.Password(); pw != "" && strings.Contains(err.Error(), pw) {
			err = errors.New(strings.ReplaceAll(err.Error(), pw, "<redacted>"))
		}
		if f.stores.failed == nil {
			f.stores.failed = map[string]error{}
		}
		f.stores.failed[dsn.Reveal()] = err
		return nil, err
	}
	if f.stores.open == nil {
		f.stores.open = map[string]*sqlstore.Store{}
	}
	f.stores.open[dsn.Reveal()] = st
	return st, nil
}

// closeHistory closes every store the command opened.
func (f *Factory) closeHistory() {
	for dsn, st := range f.stores.open {
		if err := st.Close(); err != nil {
			fmt.Fprintf(f.IO.ErrOut, "oncall: closing the history store: %v\n", err)
		}
		delete(f.stores.open, dsn)
	}
}

// localHistoryDSN is the SQLite file on this host, where the demo always
// writes and where every stack's records go unless history.dsn names
// another store.
func (f *Factory) localHistoryDSN() config.DSN {
	return config.DSN(sqlstore.DefaultPath(f.getenv))
}

// HistoryStore is the store the config names (history.dsn), else the
// local SQLite file.
func (f *Factory) HistoryStore(ctx context.Context) (*sqlstore.Store, error) {
	cfg, _, err := f.Config()
	if err != nil {
		return nil, err
	}
	dsn := cfg.History.DSN
	if dsn == "" {
		dsn = f.localHistoryDSN()
	}
	return f.openHistory(ctx, dsn)
}

// Recorder keeps the records of what happens in w: the simulator's in
// the local store as stack "demo" (a shared store never holds a demo's
// incidents), the config's in its store as its context.
func (f *Factory) Recorder(ctx context.Context, w *World) (*history.Recorder, error) {
	if w.Simulated() {
		st, err := f.openHistory(ctx, f.localHistoryDSN())
		if err != nil {
			return nil, err
		}
		return &history.Recorder{Store: st, Stack: history.DemoStack, Wall: time.Now, AlertSource: "simulator"}, nil
	}
	st, err := f.HistoryStore(ctx)
	if err != nil {
		return nil, err
	}
	return &history.Recorder{Store: st, Stack: stackName(w.Config), Wall: time.Now, AlertSource: alertSourceName(w)}, nil
}

// alertSourceName names where w's alerts are read, as records say it:
// Alertmanager, else the alerts Prometheus's rules fire.
func alertSourceName(w *World) string {
	if w.Sources.Alerts != nil {
		return "alertmanager"
	}
	return "prometheus"
}

// stackName is the config's context, which a record carries as its stack.
func stackName(cfg *config.Config) string {
	if cfg == nil || cfg.Context == "" {
		return defaultStack
	}
	return cfg.Context
}

// sharedLedger makes the config's PostgreSQL history the world's
// remediation ledger: its advisory lock orders claims by commit, the
// strongest lock oncall has. A configured store that cannot be opened is
// an error, not a fall back to a weaker lock.
func (f *Factory) sharedLedger(ctx context.Context, w *World) error {
	if w.Config == nil || !w.Config.History.DSN.Postgres() {
		return nil
	}
	st, err := f.openHistory(ctx, w.Config.History.DSN)
	if err != nil {
		return err
	}
	if l, ok := st.Ledger(); ok {
		w.remediation.ledger = l
	}
	return nil
}

// postmortemDir is where the cockpit writes postmortem drafts (P):
// $XDG_DATA_HOME/oncall/postmortems.
func (f *Factory) postmortemDir() string {
	return filepath.Join(remediate.DataDir(f.getenv), "postmortems")
}

// cockpitStoreWait bounds how long the cockpit's first frame waits for
// the history store (and, on PostgreSQL, the ledger in it): a healthy
// server answers in milliseconds, even across regions, and on call the
// cockpit matters more than its record.
const cockpitStoreWait = 3 * time.Second

// cockpitStoreContext is ctx bounded by cockpitStoreWait, for opening the
// cockpit's stores before it draws.
func cockpitStoreContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, cockpitStoreWait)
}

// cockpitHistory gives the cockpit its history: the recorder of the
// incidents opened in it, whose store its history and stats views read,
// where P writes drafts, and the SLO budgets they read, as oncall
// postmortem's. A store that cannot be opened within cockpitStoreWait
// is said on stderr and in the cockpit's status line, and the cockpit
// opens without history.
func (f *Factory) cockpitHistory(ctx context.Context, w *World, d *tui.Deps) {
	ctx, cancel := cockpitStoreContext(ctx)
	defer cancel()
	rc, err := f.Recorder(ctx, w)
	if err != nil {
		msg := fmt.Sprintf("history unavailable: %v: the cockpit opens without history", err)
		fmt.Fprintf(f.IO.ErrOut, "oncall: %s\n", msg)
		d.HistoryUnavailable = fmt.Sprintf("history unavailable: %v", err)
		if d.Notices == nil {
			notices := make(chan string, 1)
			notices <- msg
			close(notices)
			d.Notices = notices
		}
		return
	}
	d.History, d.PostmortemDir, d.Budgets = rc, f.postmortemDir(), budgetReader(w, d.Now, nil)
}
