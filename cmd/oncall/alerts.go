package main

import (
	"bufio"
	"context"
	"fmt"
	"os/user"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

type alertsOptions struct {
	output                      string
	active, silenced, inhibited bool
	watch                       watchOptions
}

func newAlertsCmd(e *env, g *globalOptions) *cobra.Command {
	o := &alertsOptions{}
	cmd := &cobra.Command{
		Use:   "alerts [MATCHER...]",
		Short: "List alerts from Alertmanager (or Prometheus when no Alertmanager is configured)",
		Long: `alerts lists the alerts Alertmanager holds, filtered as amtool filters them:
matchers in Alertmanager's syntax (name=value, name!=value, name=~regex,
name!~regex, quoted values, braces), all of which must match. A first
argument without an operator is an alert name. With none of --active,
--silenced and --inhibited, only active alerts are listed.`,
		Example: `  oncall alerts
  oncall alerts HighErrorRate
  oncall alerts 'service=~"checkout.*"' severity=page --silenced
  oncall alerts --watch`,
		ValidArgsFunction: completeAlertNames(e, g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ms, err := argMatchers(args)
			if err != nil {
				return err
			}
			if !o.active && !o.silenced && !o.inhibited {
				o.active = true
			}
			cfg, _, err := g.loadConfig(e)
			if err != nil {
				return err
			}
			b, err := newBackends(cfg)
			if err != nil {
				return err
			}
			list := func(ctx context.Context) ([]sources.Alert, error) {
				switch {
				case b.Alertmanager != nil:
					return b.Alertmanager.Alerts(ctx)
				case b.Prometheus != nil:
					return b.Prometheus.Alerts(ctx)
				}
				return nil, usagef("no alertmanager or prometheus datasource configured")
			}
			return o.watch.run(cmd.Context(), e, g, func(ctx context.Context) (func() error, error) {
				alerts, err := list(ctx)
				if err != nil {
					return nil, err
				}
				alerts = filterAlerts(alerts, ms, o.active, o.silenced, o.inhibited)
				return func() error {
					if o.output == "json" {
						return writeJSONFor(e.IO.Out, alerts, o.watch.on)
					}
					t := newTable("ALERT", "SEVERITY", "STATE", "SINCE", "AGE", "LABELS")
					for _, a := range alerts {
						t.row(a.Name, a.Severity, alertState(a), g.clock(a.StartsAt), age(e.Now(), a.StartsAt), labelSummary(a.Labels, "alertname", "severity"))
					}
					return t.render(e.IO.Out)
				}, nil
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.active, "active", "a", false, "list active alerts (the default when no state is given)")
	f.BoolVarP(&o.silenced, "silenced", "s", false, "list silenced alerts")
	f.BoolVarP(&o.inhibited, "inhibited", "i", false, "list inhibited alerts")
	outputFlag(cmd, &o.output, "text", "json")
	o.watch.flags(cmd)
	return cmd
}

// argMatchers reads matchers given as arguments, amtool's way: a first
// argument without an operator is an alert name.
func argMatchers(args []string) ([]sources.Matcher, error) {
	var out []sources.Matcher
	for i, a := range args {
		ms, err := sources.ParseMatchers(a)
		if err != nil && i == 0 && !strings.ContainsAny(a, "=~!{") {
			ms, err = []sources.Matcher{{Name: "alertname", Value: a, IsEqual: true}}, nil
		}
		if err != nil {
			return nil, usageError{err}
		}
		out = append(out, ms...)
	}
	return out, nil
}

// filterAlerts keeps the alerts every matcher selects, in the states asked.
func filterAlerts(alerts []sources.Alert, ms []sources.Matcher, active, silenced, inhibited bool) []sources.Alert {
	var out []sources.Alert
	for _, a := range alerts {
		keep := (active && a.State == sources.AlertFiring) || (silenced && len(a.SilencedBy) > 0) || (inhibited && len(a.InhibitedBy) > 0)
		labels := a.Labels
		if labels["alertname"] == "" {
			labels = sources.Labels{"alertname": a.Name}
			for k, v := range a.Labels {
				labels[k] = v
			}
		}
		for _, m := range ms {
			keep = keep && m.Matches(labels)
		}
		if keep {
			out = append(out, a)
		}
	}
	return out
}

// alertState says why an alert does not page: who silenced it, or that it
// is inhibited.
func alertState(a sources.Alert) string {
	switch {
	case len(a.SilencedBy) > 0:
		return "silenced"
	case len(a.InhibitedBy) > 0:
		return "inhibited"
	}
	return string(a.State)
}

func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now.Sub(t).Truncate(time.Second).String()
}

func labelSummary(l sources.Labels, skip ...string) string {
	var parts []string
	for k, v := range l {
		if !slices.Contains(skip, k) {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

type silencesOptions struct {
	output  string
	expired bool
	ledger  bool
	watch   watchOptions
}

func newSilencesCmd(e *env, g *globalOptions) *cobra.Command {
	o := &silencesOptions{}
	cmd := &cobra.Command{
		Use:     "silences",
		Aliases: []string{"silence"},
		Short:   "List, add and expire Alertmanager silences",
		Long: `silences lists the active and pending silences, as amtool does; --expired
lists the expired ones too. Its subcommands add and expire silences, each
after showing exactly what it will send and asking (the default is no).
The remediation ledger's records (silences on oncall_remediation, which
match no alert: locks, runs and proposals) are left out unless --ledger.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			am, err := alertmanagerFrom(e, g)
			if err != nil {
				return err
			}
			return o.watch.run(cmd.Context(), e, g, func(ctx context.Context) (func() error, error) {
				all, err := am.Silences(ctx)
				if err != nil {
					return nil, err
				}
				var sil []sources.Silence
				for _, s := range all {
					if (o.expired || s.State != sources.SilenceExpired) && (o.ledger || !remediate.IsRecord(s)) {
						sil = append(sil, s)
					}
				}
				return func() error {
					if o.output == "json" {
						return writeJSONFor(e.IO.Out, sil, o.watch.on)
					}
					t := newTable("ID", "STATE", "ENDS", "BY", "MATCHERS", "COMMENT")
					for _, s := range sil {
						t.row(s.ID, string(s.State), g.timestamp(s.EndsAt), s.CreatedBy, matchersString(s.Matchers), s.Comment)
					}
					return t.render(e.IO.Out)
				}, nil
			})
		},
	}
	cmd.Flags().BoolVar(&o.expired, "expired", false, "list expired silences too")
	cmd.Flags().BoolVar(&o.ledger, "ledger", false, "list the remediation ledger's records too (locks, runs, proposals)")
	outputFlag(cmd, &o.output, "text", "json")
	o.watch.flags(cmd)
	cmd.AddCommand(showData(newSilenceAddCmd(e, g)), showData(newSilenceExpireCmd(e, g)))
	return cmd
}

func alertmanagerFrom(e *env, g *globalOptions) (sources.Alerting, error) {
	cfg, path, err := g.loadConfig(e)
	if err != nil {
		return nil, err
	}
	b, err := newBackends(cfg)
	if err != nil {
		return nil, err
	}
	if b.Alertmanager == nil {
		return nil, usagef("no alertmanager datasource configured in %s", path)
	}
	return b.Alertmanager, nil
}

type silenceAddOptions struct {
	Matchers []string
	Duration time.Duration
	Comment  string
	Author   string
	Yes      bool
}

func newSilenceAddCmd(e *env, g *globalOptions) *cobra.Command {
	o := &silenceAddOptions{}
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
			if g.ReadOnly {
				return refused("read-only (--read-only, or the context's read_only)")
			}
			am, err := alertmanagerFrom(e, g)
			if err != nil {
				return err
			}
			var ms []sources.Matcher
			for _, m := range append(append([]string(nil), o.Matchers...), args...) {
				pm, err := sources.ParseMatchers(m)
				if err != nil {
					return usageError{err}
				}
				ms = append(ms, pm...)
			}
			if len(ms) == 0 || o.Comment == "" {
				return usagef("a silence needs at least one matcher and a --comment")
			}
			if o.Duration <= 0 {
				return usagef("--duration %s: must be positive", o.Duration)
			}
			s := sources.Silence{Matchers: ms, StartsAt: e.Now(), EndsAt: e.Now().Add(o.Duration), CreatedBy: o.Author, Comment: o.Comment}
			if s.CreatedBy == "" {
				s.CreatedBy = whoami(e)
			}
			if s.CreatedBy == "" {
				return usagef("--author is required: neither $USER nor the OS names you")
			}
			plan := fmt.Sprintf("POST /api/v2/silences\n  matchers:   %s\n  starts:     %s\n  ends:       %s (in %s)\n  created by: %s\n  comment:    %s",
				matchersString(s.Matchers), g.timestamp(s.StartsAt), g.timestamp(s.EndsAt), o.Duration, s.CreatedBy, s.Comment)
			if !confirm(e, g, plan, "Create this silence?", o.Yes) {
				return exitError{code: exitFailed}
			}
			id, err := am.CreateSilence(cmd.Context(), s)
			if err != nil {
				return actionError{err}
			}
			_, err = fmt.Fprintln(e.IO.Out, id)
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&o.Matchers, "match", "m", nil, "matchers in Alertmanager's syntax, e.g. 'alertname=\"Foo Bar\"' (repeatable)")
	durationFlag(cmd, &o.Duration, "duration", "d", time.Hour, "how long the silence lasts (30m, 2h, 1d)")
	cmd.Flags().StringVarP(&o.Comment, "comment", "c", "", "why (required)")
	cmd.Flags().StringVar(&o.Author, "author", "", "created by (default $USER, else your OS user name)")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask; the request is still printed")
	return cmd
}

func newSilenceExpireCmd(e *env, g *globalOptions) *cobra.Command {
	var yes bool
	var matching []string
	cmd := &cobra.Command{
		Use:   "expire [ID...] [--matching MATCHERS]",
		Short: "End silences now, after showing them and asking (default no)",
		Long: `expire ends the silences named by ID, or every active or pending silence
whose matchers include all the --matching ones (written as for add). Each
silence is shown first, with its matchers, end and author, and only "y"
or "yes" expires them.`,
		Example: `  oncall silences expire 7c2e0d1a-3b4f-4c1e-9a53-2f0e8d6b1c44
  oncall silences expire --matching 'alertname="Foo Bar"'`,
		ValidArgsFunction: completeSilenceIDs(e, g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.ReadOnly {
				return refused("read-only (--read-only, or the context's read_only)")
			}
			am, err := alertmanagerFrom(e, g)
			if err != nil {
				return err
			}
			var want []sources.Matcher
			for _, m := range matching {
				ms, err := sources.ParseMatchers(m)
				if err != nil {
					return usageError{err}
				}
				want = append(want, ms...)
			}
			if len(args) == 0 && len(want) == 0 {
				return usagef("name silence IDs, or select them with --matching")
			}
			all, err := am.Silences(cmd.Context())
			if err != nil {
				return err
			}
			chosen, err := chooseSilences(all, args, want)
			if err != nil {
				return err
			}
			var plan strings.Builder
			for _, s := range chosen {
				fmt.Fprintf(&plan, "DELETE /api/v2/silence/%s\n  matchers:   %s\n  state:      %s, ends %s\n  created by: %s\n  comment:    %s\n",
					s.ID, matchersString(s.Matchers), s.State, g.timestamp(s.EndsAt), s.CreatedBy, s.Comment)
			}
			q := "Expire this silence?"
			if len(chosen) > 1 {
				q = fmt.Sprintf("Expire these %d silences?", len(chosen))
			}
			if !confirm(e, g, strings.TrimRight(plan.String(), "\n"), q, yes) {
				return exitError{code: exitFailed}
			}
			for _, s := range chosen {
				if err := am.ExpireSilence(cmd.Context(), s.ID); err != nil {
					return actionError{fmt.Errorf("silence %s: %w", s.ID, err)}
				}
				fmt.Fprintln(e.IO.Out, s.ID)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&matching, "matching", nil, "expire the silences whose matchers include these (repeatable)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask; the requests are still printed")
	return cmd
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

// confirm prints exactly what will be sent and asks; anything but "y" or
// "yes" (including no input at all) is no. In a context that wants its
// name typed, only the name goes ahead, and --yes is refused: a script
// must not act on production by mistake.
func confirm(e *env, g *globalOptions, plan, question string, yes bool) bool {
	fmt.Fprintf(e.IO.ErrOut, "%s\n", plan)
	if g.typed != "" {
		if yes {
			fmt.Fprintf(e.IO.ErrOut, "context %s asks for its name to be typed: --yes is refused; not done\n", g.typed)
			return false
		}
		fmt.Fprintf(e.IO.ErrOut, "%s This is context %s: type %s to go ahead: ", question, g.typed, g.typed)
		line, _ := bufio.NewReader(e.IO.In).ReadString('\n')
		if strings.TrimSpace(line) == g.typed {
			return true
		}
		fmt.Fprintln(e.IO.ErrOut, "not done")
		return false
	}
	if yes {
		return true
	}
	fmt.Fprintf(e.IO.ErrOut, "%s [y/N] ", question)
	line, _ := bufio.NewReader(e.IO.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	fmt.Fprintln(e.IO.ErrOut, "not done")
	return false
}

// refused is an action oncall will not take: exit 1, with the reason.
func refused(why string) error { return fmt.Errorf("refused: %s", why) }

func matchersString(ms []sources.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

// whoami names the person at the keyboard for silences and audit: $USER,
// else the OS user (under some SSH and tmux setups $USER is unset).
func whoami(e *env) string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	if e.osUser != nil {
		return e.osUser()
	}
	return ""
}

// osUserName is the OS's name for the user running oncall.
func osUserName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
