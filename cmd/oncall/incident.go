package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

type incidentOptions struct {
	service, alert, trace, at, output string
	window, baseline, deadline, after time.Duration
	demo                              string
	seed                              uint64
}

func newIncidentCmd(e *env, g *globalOptions) *cobra.Command {
	o := &incidentOptions{}
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "Assemble one incident: what broke first, why, the dependency tree and the blast radius",
		Long: `incident gathers metrics, logs, traces, alerts and changes for a window,
joins them by trace ID, and reports:

  - the explanation chain, from the symptom to the cause, each link with evidence;
  - the top 3 root-cause candidates with their confidence and evidence;
  - the mechanisms that spread it (retry amplification, saturation, timeouts);
  - the dependency tree around the root cause and the blast radius: services,
    entry points, failing and at-risk requests per minute, money per minute;
  - the timeline of onsets, alerts and changes.

It starts from --service, --alert or --trace, or from the whole fleet when
none is given. --demo runs it on the built-in simulator instead of the
configured datasources. The JSON form (-o json) is documented in
docs/incident-json.md.`,
		Example: `  oncall incident --demo retry-storm
  oncall incident --service checkout-api --window 30m
  oncall incident --alert ErrorBudgetBurn -o markdown > incident.md
  oncall incident --trace 4bf92f3577b34da6a3ce929d0e0e4736 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runIncident(cmd.Context(), e, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.service, "service", "", "start from this service")
	f.StringVar(&o.alert, "alert", "", "start from this firing alert (by name)")
	f.StringVar(&o.trace, "trace", "", "start from this trace ID")
	f.StringVar(&o.at, "at", "", "end of the window: RFC 3339 time, or an offset like -10m (default now)")
	f.DurationVar(&o.window, "window", 15*time.Minute, "how far back from --at to look for the incident")
	f.DurationVar(&o.baseline, "baseline", 30*time.Minute, "healthy history before the window to compare with")
	f.DurationVar(&o.deadline, "deadline", 10*time.Second, "how long to wait for evidence; what has not arrived is named as missing")
	f.StringVar(&o.demo, "demo", "", "run on the simulator with this scenario (see oncall demo --list)")
	f.Uint64Var(&o.seed, "seed", 1, "with --demo: the simulator's seed")
	f.DurationVar(&o.after, "after", 10*time.Minute, "with --demo: how long after the scenario's onset to look")
	outputFlag(cmd, &o.output, "text", "json", "markdown")
	return cmd
}

func runIncident(ctx context.Context, e *env, g *globalOptions, o *incidentOptions) error {
	n := 0
	for _, s := range []string{o.service, o.alert, o.trace} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return errors.New("give at most one of --service, --alert and --trace")
	}
	if o.window <= 0 || o.baseline <= 0 {
		return errors.New("--window and --baseline must be positive")
	}
	var src correlate.Sources
	var meta correlate.Meta
	now := e.Now()
	label := ""
	if o.demo != "" {
		f, err := simFleetAt(o.demo, o.seed, o.after)
		if err != nil {
			return err
		}
		now, src, meta = f.Now(), simSources(f), simMeta(f.Topology())
		label = fmt.Sprintf("simulator: %s, seed %d, onset %+v", o.demo, o.seed, o.after)
	} else {
		cfg, path, err := g.loadConfig(e)
		if err != nil {
			return err
		}
		b, err := newBackends(cfg)
		if err != nil {
			return err
		}
		src = b.correlateSources()
		if src == (correlate.Sources{}) {
			return fmt.Errorf("no datasources configured in %s: add them (oncall config import-grafana helps), or try --demo retry-storm", path)
		}
		meta = configMeta(cfg)
		label = "config " + path
	}
	at, err := parseAt(o.at, now)
	if err != nil {
		return err
	}
	t := correlate.Trigger{Service: o.service, Alert: o.alert, TraceID: o.trace, At: at, Window: o.window}
	if o.trace != "" {
		if t.TraceID, err = sources.NormalizeTraceID(o.trace); err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
	}
	if o.alert != "" {
		if src.Alerts == nil {
			return errors.New("--alert needs an alertmanager datasource")
		}
		alerts, err := src.Alerts.Alerts(ctx)
		if err != nil {
			return fmt.Errorf("--alert %s: %w", o.alert, err)
		}
		found := false
		for _, a := range alerts {
			if a.Name == o.alert {
				found = true
				if t.Service == "" {
					t.Service = a.Service
				}
			}
		}
		if !found {
			return fmt.Errorf("--alert %s: no such alert is firing", o.alert)
		}
	}
	ev := correlate.Gather(ctx, src, t, correlate.GatherOptions{Baseline: o.baseline, Deadline: o.deadline})
	inc := correlate.Analyze(ev, meta)
	switch o.output {
	case "json":
		return writeJSON(e.IO.Out, inc)
	case "markdown":
		return present.Markdown(e.IO.Out, present.NewIncident(inc, label, nil))
	default:
		return present.Text(g.styledOut(e), present.NewIncident(inc, label, nil))
	}
}

// parseAt reads --at: empty for now, an RFC 3339 time, or an offset.
func parseAt(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("--at %q: want an RFC 3339 time like 2026-11-27T23:30:00Z or an offset like -10m", s)
}

func (b *backends) correlateSources() correlate.Sources {
	var s correlate.Sources
	// only non-nil clients: a nil pointer in an interface is not a nil interface
	if b.Prometheus != nil {
		s.Metrics = b.Prometheus
	}
	if b.Loki != nil {
		s.Logs = b.Loki
	}
	if b.Tempo != nil {
		s.Traces = b.Tempo
	}
	if b.Alertmanager != nil {
		s.Alerts = b.Alertmanager
	}
	return s
}
