package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/sim"
)

// statsOptions are stats' flags.
type statsOptions struct {
	historyOptions
	stack string
}

// NewCmdStats is `oncall stats`; runF, when set, runs instead of
// runStats, so tests can read the options the flags gave.
func NewCmdStats(f *Factory, runF func(context.Context, *statsOptions) error) *cobra.Command {
	o := &statsOptions{historyOptions: historyOptions{Factory: f}}
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "On-call figures: MTTD, MTTA, MTTR, severities, autopilot share, pages per week and out of hours",
		Long: `stats counts the incidents of the last --since, for the fleet and per
service, after reconstructing them from the stack as oncall history does
(unless --offline):

  MTTD   onset to the first alert: the onset from the incident view's
         anomaly detection (searching back from the first alert), the alert
         from Prometheus's ALERTS series or Alertmanager
  MTTA   the first alert to the first acknowledgement: a silence oncall
         signed (Alertmanager keeps expired silences 120h by default, so
         older acknowledgements come only from live records)
  MTTR   onset to resolution: the alerts' end and the root's recovery, a
         runbook's verification (the audit log), or by hand
  severities, the share resolved by the autopilot (the audit log), pages
  per week (over a --since shorter than a week, the count over the span),
  and pages out of --timezone's working hours (history.working_hours,
  default 09:00-18:00 Mon-Fri)

Each figure gives its mean and median, how many incidents it stands on,
and where the times of each of its ends came from. When Alertmanager's
silences cannot be read, MTTA is unknown and says so. The text gives the
fleet, then the ` + strconv.Itoa(history.ServicesWritten) + ` services with the most incidents; -o json gives every
service.

The header says whose records are counted: by default every stack's but
the demo's. The demo's records are dated on the simulator's clock, so
they are counted alone, over --since back from the newest of them: with
--stack demo, or by default when --since holds no other stack's incident.`,
		Example: `  oncall stats
  oncall stats --since 7d --service checkout-api
  oncall stats --stack demo -o json | jq .fleet.mttr
  oncall --timezone Europe/Berlin stats --since 90d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runStats(cmd.Context(), o)
		},
	}
	o.flags(cmd)
	cmd.Flags().StringVar(&o.stack, "stack", "", `only this stack's incidents (a context's name, or "demo"); default every stack's but the demo's, or the demo's when --since holds no other`)
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func runStats(ctx context.Context, o *statsOptions) error {
	sel, unread, err := o.load(ctx)
	if err != nil {
		return err
	}
	cfg, _, err := o.Config()
	if err != nil {
		return err
	}
	hours := cfg.History.Hours()
	opts, left := history.StatsOptions{Since: sel.Since, Now: sel.Now, Service: o.service, Stack: o.stack, Zone: o.Global.zone(),
		WorkStart: hours.Start, WorkEnd: hours.End, Workdays: hours.Days, AcksUnread: acksUnread(unread, cfg.Datasources.Alertmanager != nil)}.Scope(sel.Records)
	if opts.Stack == history.DemoStack {
		opts.AcksUnread = acksUnread(unread, true) // the simulator keeps silences of its own
	}
	if left > 0 {
		fmt.Fprintf(o.IO.ErrOut, "oncall stats: the demo's %s left out: they are dated on the simulator's clock (oncall stats --stack demo counts them)\n", humanize.Count(left, "incident"))
	}
	s := history.Figures(sel.Records, opts)
	exit := incomplete(o.Factory, false, unread)
	if o.output == "json" {
		if err := writeJSON(o.IO.Out, s); err != nil {
			return err
		}
		return exit
	}
	if err := history.WriteStats(o.IO.Out, s, o.Global.zone()); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Out, "\nFrom %s in %s.\n", humanize.Count(s.Fleet.Incidents, "incident"), sel.Where)
	return exit
}

// acksUnread is MTTA's reason to be unknown when the reconstruction
// could not read the silences, or there is no Alertmanager to keep them:
// with none read, "0 of N acknowledged" would be a figure nobody
// measured.
func acksUnread(unread []unreadPart, alertmanager bool) string {
	if !alertmanager {
		return "no Alertmanager is configured (acks are read from its silences)"
	}
	for _, u := range unread {
		if u.What == silencesPart {
			return "Alertmanager did not answer (acks are read from its silences)"
		}
	}
	return ""
}

// cockpitStats is what the cockpit's S counts in w, as oncall stats
// would: the demo's records in the demo, else the stack history's rule
// settles (history.StatsOptions.Scope), against the config's working
// hours. The demo reads the config's hours when there is one.
func (f *Factory) cockpitStats(w *World) (history.StatsOptions, time.Time) {
	var o history.StatsOptions
	cfg := w.Config
	if w.Simulated() {
		o.Stack = history.DemoStack
		if c, _, err := f.Config(); err == nil {
			cfg = c
		}
	}
	var h config.History
	if cfg != nil {
		h = cfg.History
	}
	hours := h.Hours()
	o.WorkStart, o.WorkEnd, o.Workdays = hours.Start, hours.End, hours.Days
	return o, sim.Epoch
}
