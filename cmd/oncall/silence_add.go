package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/sources"
)

// silenceAddOptions are silences add's flags and matchers, and the
// factory it acts through.
type silenceAddOptions struct {
	*Factory
	// matchers are --match's, then the arguments', in Alertmanager's
	// syntax.
	matchers, args []string
	duration       time.Duration
	comment        string
	author         string
	yes            bool
	demo           DemoFlags
}

// NewCmdSilenceAdd is `oncall silences add`; runF, when set, runs instead
// of runSilenceAdd, so tests can read the options the flags gave.
func NewCmdSilenceAdd(f *Factory, runF func(context.Context, *silenceAddOptions) error) *cobra.Command {
	o := &silenceAddOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "add [MATCHER...] --comment TEXT",
		Short: "Create a silence, after showing it and asking (default no)",
		Long: `add creates an Alertmanager silence. Matchers are written as amtool and
Alertmanager write them, as arguments or with --match: name=value,
name!=value, name=~regex, name!~regex; values may be quoted
('alertname="Foo Bar"'), and several may stand in braces
('{alertname="X", team=sre}'). The silence is printed first, exactly as it
will be sent, and only "y" or "yes" creates it.`,
		Example: `  oncall silences add alertname=HighErrorRate service=checkout-api \
      --duration 30m --comment "investigating, see INC-123"
  oncall silences add -m 'alertname="Foo Bar"' -m 'team = sre' -c "known, fix deploying"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.args = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSilenceAdd(cmd.Context(), o)
		},
	}
	cmd.Flags().StringArrayVarP(&o.matchers, "match", "m", nil, "matchers in Alertmanager's syntax, e.g. 'alertname=\"Foo Bar\"' (repeatable)")
	durationFlag(cmd, &o.duration, "duration", "d", time.Hour, "how long the silence lasts (30m, 2h, 1d)")
	cmd.Flags().StringVarP(&o.comment, "comment", "c", "", "why (required)")
	cmd.Flags().StringVar(&o.author, "author", "", "created by (default $USER, else your OS user name)")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask; the request is still printed")
	o.demo.Register(cmd, 0)
	return cmd
}

func runSilenceAdd(ctx context.Context, o *silenceAddOptions) error {
	if err := refuseDemo(o.demo); err != nil {
		return err
	}
	am, err := alertmanagerToChange(o.Factory)
	if err != nil {
		return err
	}
	ms, err := parseMatchers(append(append([]string(nil), o.matchers...), o.args...))
	if err != nil {
		return err
	}
	if len(ms) == 0 || o.comment == "" {
		return usagef("a silence needs at least one matcher and a --comment")
	}
	if o.duration <= 0 {
		return usagef("--duration %s: must be positive", o.duration)
	}
	s := sources.Silence{Matchers: ms, StartsAt: o.Now(), EndsAt: o.Now().Add(o.duration), CreatedBy: o.author, Comment: o.comment}
	if s.CreatedBy == "" {
		s.CreatedBy = whoami(o.env)
	}
	if s.CreatedBy == "" {
		return usagef("--author is required: neither $USER nor the OS names you")
	}
	plan := fmt.Sprintf("POST /api/v2/silences\n  matchers:   %s\n  starts:     %s\n  ends:       %s (in %s)\n  created by: %s\n  comment:    %s",
		matchersString(s.Matchers), o.Global.timestamp(s.StartsAt), o.Global.timestamp(s.EndsAt), o.duration, s.CreatedBy, s.Comment)
	if !confirm(o.Factory, plan, "Create this silence?", o.yes) {
		return exitError{code: exitFailed}
	}
	id, err := am.CreateSilence(ctx, s)
	if err != nil {
		return actionError{err}
	}
	_, err = fmt.Fprintln(o.IO.Out, id)
	return err
}
