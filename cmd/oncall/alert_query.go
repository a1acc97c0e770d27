package main

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

// alertsOptions are alerts' flags and matchers, and the factory it reads
// through.
type alertsOptions struct {
	*Factory
	// matchers are the arguments, in Alertmanager's syntax.
	matchers                    []string
	output                      string
	active, silenced, inhibited bool
	watch                       watchOptions
	demo                        DemoFlags
}

// NewCmdAlerts is `oncall alerts`; runF, when set, runs instead of
// runAlerts, so tests can read the options the flags gave.
func NewCmdAlerts(f *Factory, runF func(context.Context, *alertsOptions) error) *cobra.Command {
	o := &alertsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:     "alerts [MATCHER...]",
		Aliases: []string{"alert"},
		Short:   "List alerts from Alertmanager (or Prometheus when no Alertmanager is configured)",
		Long: `alerts lists the alerts Alertmanager holds (with no Alertmanager configured,
the ones Prometheus's rules fire: firing only, never silenced), filtered
as amtool filters them: matchers in Alertmanager's syntax (name=value,
name!=value, name=~regex, name!~regex, quoted values, braces), all of
which must match. A first argument without an operator is an alert
name. With none of --active, --silenced and --inhibited, only active
alerts are listed. --demo lists the simulator's alerts instead; with
--watch its fleet runs on at the wall clock's pace.`,
		Example: `  oncall alerts
  oncall alerts HighErrorRate
  oncall alerts 'service=~"checkout.*"' severity=page --silenced
  oncall alerts --watch
  oncall alerts --demo db-pool-exhaustion -o json`,
		ValidArgsFunction: completeAlertNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.matchers = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runAlerts(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.active, "active", "a", false, "list active alerts (the default when no state is given)")
	fl.BoolVarP(&o.silenced, "silenced", "s", false, "list silenced alerts")
	fl.BoolVarP(&o.inhibited, "inhibited", "i", false, "list inhibited alerts")
	outputFlag(cmd, &o.output, "text", "json")
	o.watch.flags(cmd)
	o.demo.Register(cmd, 10*time.Minute)
	return cmd
}

func runAlerts(ctx context.Context, o *alertsOptions) error {
	ms, err := argMatchers(o.matchers)
	if err != nil {
		return err
	}
	if !o.active && !o.silenced && !o.inhibited {
		o.active = true
	}
	w, err := o.World(ctx, o.demo)
	if err != nil {
		return err
	}
	src := w.Sources.AlertSource()
	if o.watch.on {
		w.runOn(ctx)
	}
	return o.watch.run(ctx, o.Factory, func(ctx context.Context) (func() error, error) {
		if src == nil {
			// inside the fetch: a watch shows it in place and goes on
			return nil, usagef("no alertmanager or prometheus datasource configured")
		}
		alerts, err := src.Alerts(ctx)
		if err != nil {
			return nil, err
		}
		alerts = filterAlerts(alerts, ms, o.active, o.silenced, o.inhibited)
		return func() error {
			if o.output == "json" {
				return writeJSONFor(o.IO.Out, alerts, o.watch.on)
			}
			t := present.NewTable("ALERT", "SEVERITY", "STATE", "SINCE", "AGE", "LABELS")
			now := w.Now()
			for _, a := range alerts {
				t.Row(a.Name, a.Severity, alertState(a), since(now, a.StartsAt, o.Global.zone()), age(now, a.StartsAt), labelSummary(a.Labels, "alertname", "severity"))
			}
			return t.Render(o.IO.Out)
		}, nil
	})
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
	out := []sources.Alert{} // none is [] in JSON, not null
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

// clockSkew is how far in the future an alert's start may be and still
// read as just begun: Prometheus's clock and this host's differ a little.
const clockSkew = time.Minute

// age is how long ago an alert started, or "-" when its start is unknown
// or absurd (in the future, or before 1970): a backend's bad clock must
// not show as "-2562047h47m16s" or a saturated duration.
func age(now, t time.Time) string {
	if t.IsZero() || t.Before(time.Unix(0, 0)) || t.After(now.Add(clockSkew)) {
		return "-"
	}
	return max(now.Sub(t), 0).Truncate(time.Second).String()
}

// since writes when an alert started in zone: the time of day when that
// is today there, else the date too, so that yesterday's 23:00 does not
// read as tonight's.
func since(now, t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	t, now = t.In(zone), now.In(zone)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05 MST")
	}
	return t.Format("2006-01-02 15:04 MST")
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
