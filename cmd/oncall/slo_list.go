package main

import (
	"cmp"
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/slo"
)

// sloListOptions are the flags of `oncall slo` and `oncall slo list`.
type sloListOptions struct {
	sloOptions
	watch watchOptions
}

// NewCmdSLOList is `oncall slo list`; runF, when set, runs instead of
// runSLOList, so tests can read the options the flags gave.
func NewCmdSLOList(f *Factory, runF func(context.Context, *sloListOptions) error) *cobra.Command {
	o := &sloListOptions{sloOptions: sloOptions{Factory: f}}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Every SLO's budget, one line each (what plain oncall slo prints)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSLOList(cmd.Context(), o)
		},
	}
	o.flags(cmd, &o.watch)
	return cmd
}

// sloReport is what `oncall slo -o json` prints.
type sloReport struct {
	At      time.Time    `json:"at"`
	Source  string       `json:"source"`
	Budgets []slo.Budget `json:"budgets"`
}

func runSLOList(ctx context.Context, o *sloListOptions) error {
	w, err := o.world(ctx)
	if err != nil {
		return err
	}
	return o.watch.run(ctx, o.Factory, func(ctx context.Context) (func() error, error) {
		at := w.Now()
		bs, unread := loadWithForecasts(ctx, w, w.SLOs, at, o.horizon)
		rep := sloReport{At: at, Source: w.Label, Budgets: bs}
		slo.WorstFirst(rep.Budgets)
		return func() error {
			status := incomplete(o.Factory, o.watch.on, unread)
			var err error
			if o.output == "json" {
				err = writeJSONFor(o.IO.Out, rep, o.watch.on)
			} else {
				err = present.SLOListText(o.StyledOut(), present.NewSLOList(rep.Budgets, rep.At, rep.Source))
			}
			return cmp.Or(err, status)
		}, nil
	})
}
