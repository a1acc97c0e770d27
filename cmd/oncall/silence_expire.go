package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/sources"
)

// silenceExpireOptions are silences expire's flags and IDs, and the
// factory it acts through.
type silenceExpireOptions struct {
	*Factory
	ids      []string
	matching []string
	yes      bool
	demo     DemoFlags
}

// NewCmdSilenceExpire is `oncall silences expire`; runF, when set, runs
// instead of runSilenceExpire, so tests can read the options the flags
// gave.
func NewCmdSilenceExpire(f *Factory, runF func(context.Context, *silenceExpireOptions) error) *cobra.Command {
	o := &silenceExpireOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "expire [ID...] [--matching MATCHERS]",
		Short: "End silences now, after showing them and asking (default no)",
		Long: `expire ends the silences named by ID, or every active or pending silence
whose matchers include all the --matching ones (written as for add). Each
silence is shown first, with its matchers, end and author, and only "y"
or "yes" expires them.`,
		Example: `  oncall silences expire 7c2e0d1a-3b4f-4c1e-9a53-2f0e8d6b1c44
  oncall silences expire --matching 'alertname="Foo Bar"'`,
		ValidArgsFunction: completeSilenceIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ids = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSilenceExpire(cmd.Context(), o)
		},
	}
	cmd.Flags().StringArrayVar(&o.matching, "matching", nil, "expire the silences whose matchers include these (repeatable)")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask; the requests are still printed")
	o.demo.Register(cmd, 0)
	return cmd
}

func runSilenceExpire(ctx context.Context, o *silenceExpireOptions) error {
	if err := refuseDemo(o.demo); err != nil {
		return err
	}
	am, err := alertmanagerToChange(o.Factory)
	if err != nil {
		return err
	}
	want, err := parseMatchers(o.matching)
	if err != nil {
		return err
	}
	if len(o.ids) == 0 && len(want) == 0 {
		return usagef("name silence IDs, or select them with --matching")
	}
	all, err := am.Silences(ctx)
	if err != nil {
		return err
	}
	chosen, err := chooseSilences(all, o.ids, want)
	if err != nil {
		return err
	}
	var plan strings.Builder
	for _, s := range chosen {
		fmt.Fprintf(&plan, "DELETE /api/v2/silence/%s\n  matchers:   %s\n  state:      %s, ends %s\n  created by: %s\n  comment:    %s\n",
			s.ID, matchersString(s.Matchers), s.State, o.Global.timestamp(s.EndsAt), s.CreatedBy, s.Comment)
	}
	q := "Expire this silence?"
	if len(chosen) > 1 {
		q = fmt.Sprintf("Expire these %d silences?", len(chosen))
	}
	if !confirm(o.Factory, strings.TrimRight(plan.String(), "\n"), q, o.yes) {
		return exitError{code: exitFailed}
	}
	for _, s := range chosen {
		if err := am.ExpireSilence(ctx, s.ID); err != nil {
			return actionError{fmt.Errorf("silence %s: %w", s.ID, err)}
		}
		fmt.Fprintln(o.IO.Out, s.ID)
	}
	return nil
}

// chooseSilences finds the silences by ID, and the unexpired ones whose
// matchers include every wanted one.
func chooseSilences(all []sources.Silence, ids []string, want []sources.Matcher) ([]sources.Silence, error) {
	var out []sources.Silence
	for _, id := range ids {
		i := slices.IndexFunc(all, func(s sources.Silence) bool { return s.ID == id })
		if i < 0 {
			return nil, usagef("no silence %s", id)
		}
		if all[i].State == sources.SilenceExpired {
			return nil, usagef("silence %s has already expired", id)
		}
		out = append(out, all[i])
	}
	if len(want) > 0 {
		n := 0
		for _, s := range all {
			if s.State == sources.SilenceExpired || slices.ContainsFunc(out, func(o sources.Silence) bool { return o.ID == s.ID }) {
				continue
			}
			if !slices.ContainsFunc(want, func(m sources.Matcher) bool { return !slices.Contains(s.Matchers, m) }) {
				out = append(out, s)
				n++
			}
		}
		if n == 0 {
			return nil, usagef("no active or pending silence has the matchers %s", matchersString(want))
		}
	}
	return out, nil
}
