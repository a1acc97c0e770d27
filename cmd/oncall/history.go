package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/suggest"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sim"
)

// defaultSince is how far back history, postmortem last and stats look
// unless --since says otherwise: a month of on-call.
const defaultSince = 30 * 24 * time.Hour

// historyOptions are the flags the commands that read records share,
// and the factory they read through.
type historyOptions struct {
	*Factory
	output  string
	since   time.Duration
	service string
	// offline reads the store alone: no reconstruction from the stack.
	offline bool
}

// flags registers --since, --service and --offline.
func (o *historyOptions) flags(cmd *cobra.Command) {
	durationFlag(cmd, &o.since, "since", "", defaultSince, "how far back to look (7d, 30d, 12w)")
	cmd.Flags().StringVar(&o.service, "service", "", "only the incidents whose alerts or root cause name this service")
	cmd.Flags().BoolVar(&o.offline, "offline", false, "read the history store alone: do not reconstruct from the stack's Prometheus, Alertmanager and audit log first")
	_ = cmd.RegisterFlagCompletionFunc("service", completeServices(o.Factory))
}

// filter is the records --since and --service select, now being the
// stack's clock.
func (o *historyOptions) filter(now time.Time) (history.Filter, error) {
	if o.since <= 0 {
		return history.Filter{}, usagef("--since %s: must be positive", timeparse.FormatDuration(o.since))
	}
	return history.Filter{Since: now.Add(-o.since), Service: o.service}, nil
}

// NewCmdHistory is the `oncall history` group: by itself it lists the
// incidents, as `oncall history list` does.
func NewCmdHistory(f *Factory) *cobra.Command {
	o := &historyListOptions{historyOptions: historyOptions{Factory: f}}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Past incidents: kept live, and reconstructed from the stack's own history",
		Long: historyLong + `

By itself, history lists the incidents, as history list does.`,
		Example: historyListExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runHistoryList(cmd.Context(), o) },
	}
	o.flags(cmd)
	outputFlag(cmd, &o.output, "text", "json")
	cmd.AddCommand(
		showData(NewCmdHistoryList(f, nil)),
		showData(NewCmdHistoryShow(f, nil)),
		showData(NewCmdHistoryResolve(f, nil)),
		showData(NewCmdHistoryNote(f, nil)),
	)
	return cmd
}

// historyLong says what a record is and where each of its parts comes
// from, for history and its verbs.
const historyLong = `history remembers incidents. A record is kept live when the cockpit opens
an incident, when oncall incident --record runs, when a runbook runs and
when the autopilot acts or proposes; and it is reconstructed from what the
stack already keeps, so that the history starts on day one:

  - fire and resolve times from Prometheus's ALERTS{alertstate="firing"}
    series, at its rule evaluation steps;
  - acknowledgements from the silences oncall signed in Alertmanager
    (which keeps expired silences 120h by default: older ones come only
    from live records);
  - actions, approvals and escalations from oncall's audit log;
  - the onset, root cause and mechanism from the same anomaly detection the
    incident view uses, searching back from the first alert.

Alerts that fire within 5 minutes of each other on one service or on
services that call each other are one incident; an alert with no service
label joins only firings of its own alert.
Records are kept in SQLite ($XDG_DATA_HOME/oncall/history.db), or in the
PostgreSQL that history.dsn names. Every time says its source. See
docs/history.md.`

// knownIDs is how many of the newest records an unknown ID is compared
// with for a "did you mean": a typo is of a recent one.
const knownIDs = 200

// getRecord is the record id names, or a usage error (exit 2) with the
// IDs near it among the newest, else the newest few.
func getRecord(ctx context.Context, st history.Store, id string) (history.Record, error) {
	r, err := st.Get(ctx, id)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, history.ErrNotFound) {
		return r, fmt.Errorf("incident %s: %w", id, err)
	}
	recent, lerr := st.List(ctx, history.Filter{Limit: knownIDs})
	if lerr != nil {
		return r, fmt.Errorf("incident %s: %w", id, lerr)
	}
	ids := make([]string, len(recent))
	for i, rec := range recent {
		ids[i] = rec.ID
	}
	msg := fmt.Sprintf("no incident %q in %s", id, st.Where())
	switch near := suggest.Near(id, ids); {
	case len(near) > 0:
		msg += "; did you mean " + typeable(near, " or ") + "?"
	case len(ids) == 0:
		msg += "; it holds none yet"
	default:
		msg += "; the newest are " + typeable(ids[:min(len(ids), maxKnownListed)], ", ") + " (oncall history lists them)"
	}
	return r, usageError{errors.New(msg)}
}

// selection is the records a history command counts: each stack's over
// --since back from its own now (see stackNow), and the window that says.
type selection struct {
	Records []history.Record
	// Where is the store they were read from, as it says it.
	Where string
	// Since and Now bound the window on the wall clock; DemoSince and
	// DemoNow on the simulator's, when the demo's records are among them.
	Since, Now         time.Time
	DemoSince, DemoNow time.Time
}

// load opens the configured store, reconstructs the stack's last --since
// into it unless --offline, and selects the records: the parts of the
// stack that could not be read are returned, the rest is still used.
func (o *historyOptions) load(ctx context.Context) (selection, []unreadPart, error) {
	now := o.Now()
	if _, err := o.filter(now); err != nil {
		return selection{}, nil, err
	}
	st, err := o.HistoryStore(ctx)
	if err != nil {
		return selection{}, nil, err
	}
	var unread []unreadPart
	if !o.offline {
		if unread, err = o.reconstruct(ctx, st, now); err != nil {
			return selection{}, nil, err
		}
	}
	sel, err := o.selectRecords(ctx, st, now)
	return sel, unread, err
}

// selectRecords lists the records --since and --service select. A
// stack's records are dated on its own clock: the demo's on the
// simulator's, which starts on sim.Epoch (27 November 2026) whatever the
// day, so its window ends at its newest record rather than now.
func (o *historyOptions) selectRecords(ctx context.Context, st history.Store, now time.Time) (selection, error) {
	f, err := o.filter(now)
	if err != nil {
		return selection{}, err
	}
	s := selection{Since: f.Since, Now: now, Where: st.Where()}
	// the demo's records lie around sim.Epoch: read from the earlier of
	// the two windows, and keep each record by its own
	f.Since = minTime(f.Since, sim.Epoch.Add(-o.since))
	rs, err := st.List(ctx, f)
	if err != nil {
		return s, fmt.Errorf("history in %s: %w", st.Where(), err)
	}
	s.DemoNow = history.StackClock(rs, history.DemoStack)
	s.DemoSince = s.DemoNow.Add(-o.since)
	for _, r := range rs {
		from := s.Since
		if r.Stack == history.DemoStack {
			from = s.DemoSince
		}
		if !r.When().Before(from) {
			s.Records = append(s.Records, r)
		}
	}
	return s, nil
}
