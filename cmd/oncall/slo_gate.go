package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/slo"
)

// sloGateOptions are the flags of `oncall slo gate`.
type sloGateOptions struct {
	sloOptions
	// minBudget is --min-budget as given; min is the share it reads as.
	minBudget string
	min       float64
	names     []string
}

// NewCmdSLOGate is `oncall slo gate`; runF, when set, runs instead of
// runSLOGate, so tests can read the options the flags gave.
func NewCmdSLOGate(f *Factory, runF func(context.Context, *sloGateOptions) error) *cobra.Command {
	o := &sloGateOptions{sloOptions: sloOptions{Factory: f}}
	cmd := &cobra.Command{
		Use:   "gate",
		Short: "Exit 1 when an SLO's error budget is under --min-budget: a deploy gate for CI/CD",
		Long: `gate reads the SLOs (all, or those named with --slo) and exits 1 with a
one-line reason when any has less than --min-budget of its error budget
left, so a pipeline can block deploys while the budget is low:

  oncall slo gate --min-budget 25% --slo payments-availability || exit 1

An SLO with no traffic in its window has nothing to judge and passes,
with a note. An SLO that cannot be read fails the gate with exit status 3,
saying why: a gate that cannot see must not say yes.`,
		Example: `  oncall slo gate --min-budget 25%
  oncall slo gate --min-budget 0.1 --slo checkout-availability --slo payments-availability`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.minBudget == "" {
				return usagef("--min-budget is required: the least share of the budget that must be left, e.g. --min-budget 25%%")
			}
			var err error
			if o.min, err = parseShare(o.minBudget); err != nil {
				return usagef("--min-budget %q: %v", o.minBudget, err)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSLOGate(cmd.Context(), o)
		},
	}
	o.flags(cmd, nil)
	cmd.Flags().StringVar(&o.minBudget, "min-budget", "", "the least share of the error budget that must be left: 25% or 0.25 (required)")
	cmd.Flags().StringArrayVar(&o.names, "slo", nil, "an SLO to judge (repeatable); default: every SLO")
	_ = cmd.RegisterFlagCompletionFunc("slo", completeSLONames(&o.sloOptions))
	return cmd
}

// parseShare reads "25%" or "0.25" as 0.25.
func parseShare(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("not a share like 25%% or 0.25")
	}
	if pct || v > 1 {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("a share is between 0%% and 100%%")
	}
	return v, nil
}

// gateResult is what `oncall slo gate -o json` prints.
type gateResult struct {
	Pass      bool         `json:"pass"`
	Reason    string       `json:"reason"`
	MinBudget float64      `json:"min_budget"`
	Budgets   []slo.Budget `json:"budgets"`
}

func runSLOGate(ctx context.Context, o *sloGateOptions) error {
	w, err := o.world(ctx)
	if err != nil {
		return err
	}
	slos, err := w.pick(o.names)
	if err != nil {
		return err
	}
	res := gateResult{Pass: true, MinBudget: o.min, Budgets: slo.LoadBudgets(ctx, w.Sources.SLIs, slos, w.Now())}
	var blocked, unread, passNotes []string
	for _, b := range res.Budgets {
		switch {
		case b.Err != "":
			unread = append(unread, fmt.Sprintf("%s cannot be read (%s)", b.SLO.Name, b.Err))
		case !b.Remaining.Defined():
			passNotes = append(passNotes, fmt.Sprintf("%s has no traffic in its window: nothing to judge", b.SLO.Name))
		case float64(b.Remaining) < o.min:
			why := fmt.Sprintf("%s has %s of its error budget left (%s of outage), under %s", b.SLO.Name, present.BudgetPercent(b), present.MinutesLeft(b), humanize.Percent(o.min))
			if p := present.Partial(b); p != "" {
				why += " (" + p + ")"
			}
			blocked = append(blocked, why)
		}
	}
	code := 0
	switch {
	case len(unread) > 0:
		res.Pass, res.Reason, code = false, "gate: "+strings.Join(unread, "; ")+": the gate cannot see, so it does not pass", 3
	case len(blocked) > 0:
		res.Pass, res.Reason, code = false, "gate: "+strings.Join(blocked, "; ")+": deploys blocked", 1
	default:
		res.Reason = fmt.Sprintf("gate: %s at or over %s of budget left: pass", humanize.Count(len(res.Budgets)-len(passNotes), "SLO"), humanize.Percent(o.min))
	}
	if o.output == "json" {
		if err := writeJSON(o.IO.Out, res); err != nil {
			return err
		}
	} else {
		for _, n := range passNotes {
			fmt.Fprintln(o.IO.ErrOut, "note: "+termsafe.Line(n))
		}
		fmt.Fprintln(o.IO.Out, termsafe.Line(res.Reason))
	}
	if code != 0 {
		return exitError{code: code}
	}
	return nil
}
