package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/history"
)

// historyNoteOptions are history note's arguments.
type historyNoteOptions struct {
	*Factory
	id, text string
}

// NewCmdHistoryNote is `oncall history note ID TEXT`; runF, when set,
// runs instead of runHistoryNote, so tests can read the options the
// arguments gave.
func NewCmdHistoryNote(f *Factory, runF func(context.Context, *historyNoteOptions) error) *cobra.Command {
	o := &historyNoteOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "note ID TEXT...",
		Short: "Add a note to a past incident, as n does in the cockpit",
		Long: `note adds a line to a record, signed with your name ($USER) and dated now
on the wall clock; the words after ID are joined with spaces. Notes are
appended, never rewritten, and the postmortem's timeline shows them.

A record's times are its data's clock. A real stack's is the wall's; the
demo's is the simulator's, which no longer runs when you type the note:
a note on a demo record is dated at the record's latest data time, so it
stays on its timeline, and its source says so and when it was typed.`,
		Example: `  oncall history note inc-3f2a9c1e "pool size raised to 50 by hand"
  oncall history note inc-3f2a9c1e paged the DBA, no answer`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.id, o.text = args[0], strings.TrimSpace(strings.Join(args[1:], " "))
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runHistoryNote(cmd.Context(), o)
		},
	}
	return cmd
}

func runHistoryNote(ctx context.Context, o *historyNoteOptions) error {
	if o.text == "" {
		return usagef("the note is empty")
	}
	rc, r, err := o.handRecorder(ctx, o.id)
	if err != nil {
		return err
	}
	if err := rc.Note(ctx, o.id, handNote(r, o.Now().UTC(), o.user(), o.text)); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Out, "Noted on %s in %s.\n", o.id, rc.Store.Where())
	return nil
}

// handNote is a note typed now (the wall clock) on r. The demo's
// records are on the simulator's clock, days away from the wall's
// whatever the day: the note is dated at the record's latest data time,
// and its source says so with the wall time it was typed at.
func handNote(r history.Record, now time.Time, by, text string) history.Note {
	n := history.Note{T: now, By: by, Text: text}
	if latest := history.StackClock([]history.Record{r}, history.DemoStack); !latest.IsZero() {
		n.T = latest
		n.Source = "the demo record's latest data time, on the simulator's clock (typed at " + now.Format(time.RFC3339) + " on the wall clock)"
	}
	return n
}

// handRecorder is a recorder on the configured store for a change typed
// by hand to the record id, which must exist (an unknown ID is a usage
// error naming the near ones), and the record.
func (f *Factory) handRecorder(ctx context.Context, id string) (*history.Recorder, history.Record, error) {
	st, err := f.HistoryStore(ctx)
	if err != nil {
		return nil, history.Record{}, err
	}
	r, err := getRecord(ctx, st, id)
	if err != nil {
		return nil, r, err
	}
	return &history.Recorder{Store: st, Wall: f.Now}, r, nil
}

// user is who signs what is typed by hand: $USER, else the OS's user,
// else "oncall".
func (f *Factory) user() string {
	if u := whoami(f.env); u != "" {
		return u
	}
	return "oncall"
}
