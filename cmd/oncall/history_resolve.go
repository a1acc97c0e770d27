package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

// historyResolveOptions are history resolve's argument and flags.
type historyResolveOptions struct {
	*Factory
	id, note, at string
}

// NewCmdHistoryResolve is `oncall history resolve ID`; runF, when set,
// runs instead of runHistoryResolve, so tests can read the options the
// flags gave.
func NewCmdHistoryResolve(f *Factory, runF func(context.Context, *historyResolveOptions) error) *cobra.Command {
	o := &historyResolveOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "resolve ID",
		Short: "Mark a past incident resolved by hand",
		Long: `resolve marks a record resolved at --at (default now, on the wall clock;
give the demo's records a time on the simulator's clock, as history show
prints them),
its source "by hand (USER, oncall history resolve)". Records resolve on
their own when their alerts resolve and the root's anomaly ends, or when a
runbook's verification says resolved; this is for the rest. A time given
by hand wins over those; of two given by hand, the earlier is kept.
--note adds a note with it.`,
		Example: `  oncall history resolve inc-3f2a9c1e
  oncall history resolve inc-3f2a9c1e --at 2026-11-28T00:10:00Z --note "fixed by the rollback"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.id = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runHistoryResolve(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.note, "note", "", "a note to add with the resolution")
	cmd.Flags().StringVar(&o.at, "at", "now", "when it resolved: now, -10m, an RFC 3339 time or Unix seconds")
	return cmd
}

func runHistoryResolve(ctx context.Context, o *historyResolveOptions) error {
	now := o.Now()
	at, err := timeparse.Time(o.at, now)
	if err != nil {
		return usagef("--at: %v", err)
	}
	rc, r, err := o.handRecorder(ctx, o.id)
	if err != nil {
		return err
	}
	// the demo's records are on the simulator's clock, which the wall
	// clock says nothing of
	if at.After(now) && r.Stack != history.DemoStack {
		return usagef("--at %s is %s; an incident resolves now or before", o.at, inTheFuture(at, now))
	}
	by := o.user()
	if err := rc.Resolve(ctx, o.id, history.Stamp{T: at.UTC(), Source: "by hand (" + by + ", oncall history resolve)", Kind: history.KindHand}); err != nil {
		return err
	}
	if o.note != "" {
		if err := rc.Note(ctx, o.id, history.Note{T: now.UTC(), By: by, Text: o.note}); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.IO.Out, "Resolved %s at %s in %s.\n", o.id, o.Global.timestamp(at), rc.Store.Where())
	return nil
}
