package main

import (
	"cmp"
	"context"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/slo"
)

// sloShowOptions are the flags of `oncall slo show`, and the SLO it
// names.
type sloShowOptions struct {
	sloOptions
	watch watchOptions
	name  string
}

// NewCmdSLOShow is `oncall slo show NAME`; runF, when set, runs instead
// of runSLOShow, so tests can read the options the flags gave.
func NewCmdSLOShow(f *Factory, runF func(context.Context, *sloShowOptions) error) *cobra.Command {
	o := &sloShowOptions{sloOptions: sloOptions{Factory: f}}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "One SLO in full: budget, burn rates per alert window, forecast, burn-down and what spent it",
		Long: `show reads one SLO and prints everything the cockpit's SLO view shows:

  - the SLI and the events it was computed from, and how (the path: the
    server's increase(), or Sloth or Pyrra recording rules);
  - the budget left, as a share, minutes of full outage and, with
    value_per_minute_down, money;
  - the burn rate over every window, and each alert of the policy with its
    page or ticket status;
  - the forecast of the budget's exhaustion, with its interval and method;
  - the burn-down over the window and the incidents that spent the budget;
  - every query, so each number can be checked.`,
		Example: `  oncall slo show payments-availability
  oncall slo show payments-availability -o json
  oncall slo show payments-availability --demo retry-storm --after 30m`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeSLONames(&o.sloOptions),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSLOShow(cmd.Context(), o)
		},
	}
	o.flags(cmd, &o.watch)
	return cmd
}

// sloDetail is what `oncall slo show -o json` prints.
type sloDetail struct {
	Source  string             `json:"source"`
	Budget  slo.Budget         `json:"budget"`
	Account *slo.BudgetHistory `json:"account,omitempty"`
	// Errors are the parts that could not be read, by part.
	Errors map[string]string `json:"errors,omitempty"`
}

func runSLOShow(ctx context.Context, o *sloShowOptions) error {
	w, err := o.world(ctx)
	if err != nil {
		return err
	}
	slos, err := w.pick([]string{o.name})
	if err != nil {
		return err
	}
	s := slos[0]
	return o.watch.run(ctx, o.Factory, func(ctx context.Context) (func() error, error) {
		at := w.Now()
		bs, unread := loadWithForecasts(ctx, w, []slo.Objective{s}, at, o.horizon)
		d := sloDetail{Source: w.Label, Budget: bs[0], Errors: map[string]string{}}
		var accountErr error
		if d.Budget.Err == "" {
			if a, err := slo.LoadAccount(ctx, w.Sources.SLIs, d.Budget); err != nil {
				d.Errors["account"], accountErr = err.Error(), err
				unread = append(unread, unreadOf(s.Name+" account", err))
			} else {
				d.Account = &a
			}
		}
		return func() error {
			status := incomplete(o.Factory, o.watch.on, unread)
			var err error
			if o.output == "json" {
				err = writeJSONFor(o.IO.Out, d, o.watch.on)
			} else {
				p := present.NewSLODetail(d.Budget, d.Account, accountErr, present.SLODetailOptions{Source: d.Source, Currency: w.Currency, Zone: o.Global.zone()})
				err = present.SLODetailText(o.StyledOut(), p)
			}
			return cmp.Or(err, status)
		}, nil
	})
}
