package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

// incidentOptions are incident's flags, and the factory it reads through.
type incidentOptions struct {
	*Factory
	service, alert, trace, at, output string
	window, baseline, deadline        time.Duration
	demo                              DemoFlags
	// record keeps the assembled incident in the history (--record).
	record bool
}

// NewCmdIncident is `oncall incident`; runF, when set, runs instead of
// runIncident, so tests can read the options the flags gave.
func NewCmdIncident(f *Factory, runF func(context.Context, *incidentOptions) error) *cobra.Command {
	o := &incidentOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "Assemble one incident: what broke first, why, the dependency tree and the blast radius",
		Long: `incident gathers metrics, logs, traces, alerts and changes for a window,
joins them by trace ID, and reports:

  - the explanation chain, from the symptom to the cause, each link with
    evidence;
  - the top 3 root-cause candidates with their confidence and evidence;
  - the mechanisms that spread it (retry amplification, saturation, timeouts);
  - the dependency tree around the root cause and the blast radius: services,
    entry points, failing and at-risk requests per minute, money per minute;
  - the timeline of onsets, alerts and changes.

It starts from --service, --alert or --trace, or from the whole fleet when
none is given. Alerts are Alertmanager's, or, where none is configured,
the ones Prometheus's rules fire. --demo runs it on the built-in
simulator instead of the configured datasources. The JSON form (-o json)
is documented in docs/incident-json.md.

When the first anomaly starts at the start of --window, the incident began
before it: the window is widened backwards until the onset has a start
(taking it from the baseline), and NOTES says so. A service with no data
for minutes while the rest of the fleet reports is shown as "stopped
reporting since 09:50" and ranked after the services still reporting: its
last data is not what fails now.`,
		Example: `  oncall incident --demo retry-storm
  oncall incident --service checkout-api --window 30m
  oncall incident --alert ErrorBudgetBurn -o markdown > incident.md
  oncall incident --trace 4bf92f3577b34da6a3ce929d0e0e4736 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runIncident(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.service, "service", "", "start from this service: candidates come from what it calls, the blast radius from its callers")
	fl.StringVar(&o.alert, "alert", "", "start from this firing alert (by name)")
	fl.StringVar(&o.trace, "trace", "", "start from this trace ID")
	fl.StringVar(&o.at, "at", "now", "end of the window: now, -10m, now-1h, an RFC 3339 time or Unix seconds")
	durationFlag(cmd, &o.window, "window", "", 15*time.Minute, "how far back from --at to look for the incident (15m, 1h, 1d)")
	durationFlag(cmd, &o.baseline, "baseline", "", 30*time.Minute, "healthy history before the window to compare with")
	durationFlag(cmd, &o.deadline, "deadline", "", 0, "how long to wait for evidence; what has not arrived is named as missing (default: incident.deadline in the config, else the longest datasource timeout plus "+timeparse.FormatDuration(config.DeadlineMargin)+")")
	fl.BoolVar(&o.record, "record", false, "keep the assembled incident in the history (a new record, or the one it belongs to): see oncall history --help")
	o.demo.Register(cmd, 10*time.Minute)
	outputFlag(cmd, &o.output, "text", "json", "markdown")
	_ = cmd.RegisterFlagCompletionFunc("service", completeServices(f))
	_ = cmd.RegisterFlagCompletionFunc("alert", completeAlertNames(f))
	return cmd
}

func runIncident(ctx context.Context, o *incidentOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	w, err := o.World(ctx, o.demo)
	if err != nil {
		return err
	}
	if err := w.needSources("--demo retry-storm"); err != nil {
		return err
	}
	t, err := o.trigger(ctx, w)
	if err != nil {
		return err
	}
	ev := correlate.Gather(ctx, w.Sources, t, o.gatherOptions(w))
	inc := correlate.Analyze(ev, w.Meta)
	if !w.Simulated() {
		// the actions taken, from the audit log, join the timeline
		if rows, _, err := (&remediate.Audit{Path: w.AuditLog()}).Read(); err == nil {
			remediate.Timeline(inc, rows)
		}
	}
	if err := o.write(inc, w); err != nil {
		return err
	}
	if o.record {
		if err := o.keep(ctx, w, inc, t); err != nil {
			return err
		}
	}
	if down := inc.Down(); len(down) > 0 {
		// printed in full above; the exit status says the verdict lacks evidence
		fmt.Fprintf(o.IO.ErrOut, "oncall: evidence incomplete: %d part(s) did not arrive (%s)\n", len(down), down[0].What+": "+down[0].Why)
		return exitError{code: exitIncomplete}
	}
	return nil
}

// check refuses flags that contradict each other, before anything is read.
func (o *incidentOptions) check() error {
	n := 0
	for _, s := range []string{o.service, o.alert, o.trace} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return usagef("give at most one of --service, --alert and --trace")
	}
	if o.window <= 0 || o.baseline <= 0 {
		return usagef("--window and --baseline must be positive")
	}
	if o.deadline != 0 && o.deadline < config.MinDeadline {
		return usagef("--deadline %s is too short: at least %s", timeparse.FormatDuration(o.deadline), timeparse.FormatDuration(config.MinDeadline))
	}
	return nil
}

// gatherOptions bound the evidence: --deadline when given, else the
// world's deadline, which the cockpit and the runbooks' looks use too.
func (o *incidentOptions) gatherOptions(w *World) correlate.GatherOptions {
	return correlate.GatherOptions{Baseline: o.baseline, Deadline: cmp.Or(o.deadline, w.Deadline)}
}

// trigger is where the incident starts, checked against the world: the
// window's end, and the service, firing alert or trace named.
func (o *incidentOptions) trigger(ctx context.Context, w *World) (correlate.Trigger, error) {
	now := w.Now()
	at, err := timeparse.Time(o.at, now)
	if err != nil {
		return correlate.Trigger{}, usagef("--at: %v", err)
	}
	if at.After(now.Add(time.Minute)) {
		return correlate.Trigger{}, usagef("--at %s is %s; an incident window ends now or before", o.at, inTheFuture(at, now))
	}
	t := correlate.Trigger{Service: o.service, Alert: o.alert, TraceID: o.trace, At: at, Window: o.window}
	switch {
	case o.trace != "":
		if t.TraceID, err = sources.NormalizeTraceID(o.trace); err != nil {
			return t, usagef("--trace: %v", err)
		}
	case o.service != "":
		err = checkServiceAt(ctx, w.Sources.Metrics, o.IO.ErrOut, o.service, at, now)
	case o.alert != "":
		t.Service, err = firingAlert(ctx, w.Sources.AlertSource(), o.alert)
	}
	return t, err
}

// firingAlert is the service of the firing alert named, or why there is
// none, with the names close to it.
func firingAlert(ctx context.Context, am sources.AlertReader, name string) (string, error) {
	if am == nil {
		return "", usagef("--alert needs an alertmanager or prometheus datasource")
	}
	alerts, err := am.Alerts(ctx)
	if err != nil {
		return "", fmt.Errorf("--alert %s: %w", name, err)
	}
	var names []string
	for _, a := range alerts {
		if a.Name == name {
			return a.Service, nil
		}
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	slices.Sort(names)
	return "", unknownName("firing alert", name, names)
}

// inTheFuture says how far ahead of now at is: "5m in the future", or,
// a day or more ahead (where the figure stops meaning anything, and a
// time.Duration saturates), "in the future (now is 2026-03-01 09:00 UTC)".
func inTheFuture(at, now time.Time) string {
	if d := at.Sub(now); d < 24*time.Hour {
		return timeparse.FormatDuration(d.Round(time.Second)) + " in the future"
	}
	return "in the future (now is " + now.UTC().Format("2006-01-02 15:04 MST") + ")"
}

// write prints the incident, read from w, in the chosen form.
func (o *incidentOptions) write(inc *correlate.Incident, w *World) error {
	opts := present.Options{Label: w.Label, Zone: o.Global.zone(), TraceFields: w.TraceFields(), Now: w.Now()}
	switch o.output {
	case "json":
		return writeJSON(o.IO.Out, inc)
	case "markdown":
		return present.Markdown(o.IO.Out, present.NewIncident(inc, opts))
	}
	return present.Text(o.StyledOut(), present.NewIncident(inc, opts), isTerminal(o.IO.Out))
}

// keep records the incident in the history. The alerts firing now tell
// which of the record's alerts resolved; for a window that ended before
// now they would not, and none is taken to have resolved.
func (o *incidentOptions) keep(ctx context.Context, w *World, inc *correlate.Incident, t correlate.Trigger) error {
	rc, err := o.Recorder(ctx, w)
	if err != nil {
		return err
	}
	var alerts []sources.Alert
	if w.Now().Sub(t.At) < time.Minute {
		alerts = currentAlerts(ctx, w)
	}
	rec, err := rc.Observe(ctx, inc, alerts)
	if err != nil {
		return err
	}
	o.recorded(rec.ID, rc.Store.Where())
	return nil
}
