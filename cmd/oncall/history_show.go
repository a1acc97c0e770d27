package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
)

// historyShowOptions are history show's argument and flags.
type historyShowOptions struct {
	*Factory
	id, output string
}

// NewCmdHistoryShow is `oncall history show ID`; runF, when set, runs
// instead of runHistoryShow, so tests can read the options the flags gave.
func NewCmdHistoryShow(f *Factory, runF func(context.Context, *historyShowOptions) error) *cobra.Command {
	o := &historyShowOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "One past incident in full: every time with its source, alerts, acknowledgements, actions, notes",
		Long: `show prints one record as the store keeps it, laid out as the cockpit's
record view lays it out: its ID, stack, origin (live or reconstructed) and
state, its root cause and mechanism, then each time, in --timezone, with the
signal and backend it was read from:

  onset         the root's anomaly began (the incident view's detection,
                searching back from the first alert)
  first alert   the first alert fired (Prometheus's ALERTS series, or the
                alert as Alertmanager reported it live)
  acknowledged  the first silence oncall signed for one of its alerts
  resolved      its alerts resolved and the root's anomaly ended, or a
                runbook's verification said resolved, or by hand

and its own MTTD, MTTA and MTTR as oncall stats counts them; then its
alerts (an alert with no end is still firing on an open record, and its
end was not seen on a resolved one), acknowledgements, actions (from the
audit log), notes, and the snapshots of what oncall knew as it went.
-o json is the record whole.`,
		Example: `  oncall history show inc-3f2a9c1e
  oncall history show inc-3f2a9c1e -o json | jq '.alerts[].name'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.id = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runHistoryShow(cmd.Context(), o)
		},
	}
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func runHistoryShow(ctx context.Context, o *historyShowOptions) error {
	st, err := o.HistoryStore(ctx)
	if err != nil {
		return err
	}
	r, err := getRecord(ctx, st, o.id)
	if err != nil {
		return err
	}
	if o.output == "json" {
		return writeJSON(o.IO.Out, r)
	}
	return present.RecordText(o.IO.Out, present.NewRecord(r, present.RecordOptions{Zone: o.Global.zone()}))
}
