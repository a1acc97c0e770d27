package main

import (
	"bufio"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/sources"
)

func newAlertsCmd(e *env, g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List alerts from Alertmanager (or Prometheus when no Alertmanager is configured)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.loadConfig(e)
			if err != nil {
				return err
			}
			b, err := newBackends(cfg)
			if err != nil {
				return err
			}
			var alerts []sources.Alert
			switch {
			case b.Alertmanager != nil:
				alerts, err = b.Alertmanager.Alerts(cmd.Context())
			case b.Prometheus != nil:
				alerts, err = b.Prometheus.Alerts(cmd.Context())
			default:
				return fmt.Errorf("no alertmanager or prometheus datasource configured")
			}
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(e.IO.Out, alerts)
			}
			t := newTable("ALERT", "SEVERITY", "STATE", "AGE", "LABELS")
			for _, a := range alerts {
				t.row(a.Name, a.Severity, string(a.State), age(e.Now(), a.StartsAt), labelSummary(a.Labels, "alertname", "severity"))
			}
			return t.render(e.IO.Out)
		},
	}
	outputFlag(cmd, &output, "text", "json")
	return cmd
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

func newSilencesCmd(e *env, g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "silences",
		Aliases: []string{"silence"},
		Short:   "List, add and expire Alertmanager silences",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			am, err := alertmanagerFrom(e, g)
			if err != nil {
				return err
			}
			sil, err := am.Silences(cmd.Context())
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(e.IO.Out, sil)
			}
			t := newTable("ID", "STATE", "ENDS", "BY", "MATCHERS", "COMMENT")
			for _, s := range sil {
				t.row(s.ID, string(s.State), s.EndsAt.Format(time.RFC3339), s.CreatedBy, matchersString(s.Matchers), s.Comment)
			}
			return t.render(e.IO.Out)
		},
	}
	outputFlag(cmd, &output, "text", "json")
	cmd.AddCommand(newSilenceAddCmd(e, g), newSilenceExpireCmd(e, g))
	return cmd
}

func alertmanagerFrom(e *env, g *globalOptions) (sources.Alerting, error) {
	cfg, _, err := g.loadConfig(e)
	if err != nil {
		return nil, err
	}
	b, err := newBackends(cfg)
	if err != nil {
		return nil, err
	}
	if b.Alertmanager == nil {
		return nil, fmt.Errorf("no alertmanager datasource configured")
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
		Use:   "add --match NAME=VALUE... --comment TEXT",
		Short: "Create a silence, after showing it and asking (default no)",
		Example: `  oncall silences add --match alertname=HighErrorRate --match service=checkout-api \
      --duration 30m --comment "investigating, see INC-123"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.ReadOnly {
				return fmt.Errorf("refused: --read-only is set")
			}
			if len(o.Matchers) == 0 || o.Comment == "" {
				return fmt.Errorf("--match and --comment are required")
			}
			s := sources.Silence{StartsAt: e.Now(), EndsAt: e.Now().Add(o.Duration), CreatedBy: o.Author, Comment: o.Comment}
			for _, m := range o.Matchers {
				pm, err := parseMatcher(m)
				if err != nil {
					return err
				}
				s.Matchers = append(s.Matchers, pm)
			}
			if s.CreatedBy == "" {
				s.CreatedBy = e.getenv("USER")
			}
			if s.CreatedBy == "" {
				return fmt.Errorf("--author is required when $USER is not set")
			}
			am, err := alertmanagerFrom(e, g)
			if err != nil {
				return err
			}
			plan := fmt.Sprintf("POST /api/v2/silences\n  matchers:   %s\n  ends:       %s (in %s)\n  created by: %s\n  comment:    %s",
				matchersString(s.Matchers), s.EndsAt.Format(time.RFC3339), o.Duration, s.CreatedBy, s.Comment)
			if !confirm(e, plan, "Create this silence?", o.Yes) {
				return exitError{code: 1}
			}
			id, err := am.CreateSilence(cmd.Context(), s)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.IO.Out, id)
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&o.Matchers, "match", "m", nil, "matcher: name=value, name!=value, name=~regex or name!~regex (repeatable)")
	cmd.Flags().DurationVarP(&o.Duration, "duration", "d", time.Hour, "how long the silence lasts")
	cmd.Flags().StringVarP(&o.Comment, "comment", "c", "", "why (required)")
	cmd.Flags().StringVar(&o.Author, "author", "", "created by (default $USER)")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask; the request is still printed")
	return cmd
}

func newSilenceExpireCmd(e *env, g *globalOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "expire ID",
		Short: "End a silence now, after showing it and asking (default no)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.ReadOnly {
				return fmt.Errorf("refused: --read-only is set")
			}
			am, err := alertmanagerFrom(e, g)
			if err != nil {
				return err
			}
			if !confirm(e, "DELETE /api/v2/silence/"+args[0], "Expire this silence?", yes) {
				return exitError{code: 1}
			}
			return am.ExpireSilence(cmd.Context(), args[0])
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask; the request is still printed")
	return cmd
}

// confirm prints exactly what will be sent and asks; anything but "y" or
// "yes" (including no input at all) is no.
func confirm(e *env, plan, question string, yes bool) bool {
	fmt.Fprintf(e.IO.ErrOut, "%s\n", plan)
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

func parseMatcher(s string) (sources.Matcher, error) {
	for _, op := range []struct {
		sym          string
		regex, equal bool
	}{{"!~", true, false}, {"=~", true, true}, {"!=", false, false}, {"=", false, true}} {
		if name, value, ok := strings.Cut(s, op.sym); ok && name != "" {
			return sources.Matcher{Name: name, Value: value, IsRegex: op.regex, IsEqual: op.equal}, nil
		}
	}
	return sources.Matcher{}, fmt.Errorf("--match %q: want name=value, name!=value, name=~regex or name!~regex", s)
}

func matchersString(ms []sources.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		op := "="
		switch {
		case m.IsRegex && m.IsEqual:
			op = "=~"
		case m.IsRegex:
			op = "!~"
		case !m.IsEqual:
			op = "!="
		}
		parts[i] = fmt.Sprintf("%s%s%q", m.Name, op, m.Value)
	}
	return strings.Join(parts, ", ")
}
