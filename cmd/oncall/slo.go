package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/internal/suggest"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// sloOptions are the flags every slo subcommand that reads budgets shares.
type sloOptions struct {
	output, demo string
	seed         uint64
	after        time.Duration
	horizon      time.Duration
	watch        watchOptions
}

func (o *sloOptions) flags(cmd *cobra.Command, watch bool) {
	f := cmd.Flags()
	f.StringVar(&o.demo, "demo", "", "run on the simulator with this scenario (see oncall demo --list)")
	f.Uint64Var(&o.seed, "seed", 1, "with --demo: the simulator's seed")
	durationFlag(cmd, &o.after, "after", "", 10*time.Minute, "with --demo: how long after the scenario's onset to look")
	durationFlag(cmd, &o.horizon, "horizon", "", correlate.ForecastHorizon, "how far ahead to forecast the budget's exhaustion")
	_ = cmd.RegisterFlagCompletionFunc("demo", completeScenarios)
	outputFlag(cmd, &o.output, "text", "json")
	if watch {
		o.watch.flags(cmd)
	}
}

// sloEnv is where budgets are read from: the indicators' backend, the
// SLOs, the data's clock and the currency of values.
type sloEnv struct {
	slis     sources.SLIs
	slos     []correlate.SLO
	now      func() time.Time
	currency string
	label    string
}

func (o *sloOptions) env(e *env, g *globalOptions) (sloEnv, error) {
	if o.demo != "" {
		f, err := simFleetAt(o.demo, o.seed, o.after)
		if err != nil {
			return sloEnv{}, usageError{err}
		}
		src := simSources(f)
		return sloEnv{slis: src.SLIs, slos: simSLOs(f.Topology()), now: f.Now, currency: f.Topology().Currency,
			label: fmt.Sprintf("simulator, %s seed %d", o.demo, o.seed)}, nil
	}
	cfg, path, err := g.loadConfig(e)
	if err != nil {
		return sloEnv{}, err
	}
	if len(cfg.SLOs) == 0 {
		return sloEnv{}, usagef("no slos in %s: add them under the slos key, or import Sloth, Pyrra or OpenSLO files with slo_files (see oncall slo import --help)", path)
	}
	b, err := newBackends(cfg)
	if err != nil {
		return sloEnv{}, err
	}
	if b.Prometheus == nil {
		return sloEnv{}, usagef("slo needs a prometheus datasource (config %s), or try --demo retry-storm", path)
	}
	return sloEnv{slis: b.Prometheus, slos: configSLOs(cfg), now: e.Now, currency: cfg.Currency, label: "config " + path}, nil
}

// configSLOs turns the config's SLOs (objectives in percent) into
// correlate's.
func configSLOs(cfg *config.Config) []correlate.SLO {
	out := make([]correlate.SLO, 0, len(cfg.SLOs))
	for _, s := range cfg.SLOs {
		c := correlate.SLO{Name: s.Name, Service: s.Service, Objective: s.Objective / 100, Window: time.Duration(s.Window),
			Indicator: config.SLOIndicator(s), ValuePerMinuteDown: s.ValuePerMinuteDown, Origin: s.Origin}
		for _, a := range s.Alerting {
			c.Policy = append(c.Policy, correlate.BurnAlert{Severity: correlate.Severity(a.Severity), Long: time.Duration(a.Long), Short: time.Duration(a.Short), Factor: a.Factor})
		}
		out = append(out, c)
	}
	return out
}

func newSLOCmd(e *env, g *globalOptions) *cobra.Command {
	o := &sloOptions{}
	cmd := &cobra.Command{
		Use:     "slo",
		Aliases: []string{"slos"},
		Short:   "Error budgets: SLI, budget and minutes left, burn rates, alerts and forecasts",
		Long: `slo reads every SLO's indicator on the server (one query per window, so a
short history or a coarse scrape still gives exact counts) and shows, per
SLO:

  - the SLI: good events over all events (undefined with no traffic);
  - the error budget left, as a share and as minutes of full outage the
    rest of the window can absorb;
  - the burn rates, and the multiwindow burn-rate alerts of its policy
    (the SRE Workbook's by default: page at 14.4x over 1h and 5m or 6x over
    6h and 30m, ticket at 1x over 3d and 6h);
  - when the budget runs out: at the current (5m) burn, and as forecast.

A window longer than the data says "partial: 9 of 28 days": the budget is
that of the covered part. One SLO that cannot be read is reported alone;
the others are still computed. Where Sloth or Pyrra recording rules run,
they are read instead, and the path each SLO took is said (-o json, or
oncall slo show NAME).

SLOs come from the config's slos key and the Sloth, Pyrra and OpenSLO files
its slo_files names. --demo computes them on the simulator.`,
		Example: `  oncall slo
  oncall slo show payments-availability
  oncall slo gate --min-budget 25% --slo payments-availability
  oncall slo import sloth/checkout.yaml
  oncall slo --demo retry-storm --after 20m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSLOList(cmd.Context(), e, g, o) },
	}
	o.flags(cmd, true)
	list := &cobra.Command{
		Use:   "list",
		Short: "Every SLO's budget, one line each (what plain oncall slo prints)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runSLOList(cmd.Context(), e, g, o) },
	}
	o2 := &sloOptions{}
	o2.flags(list, true)
	list.RunE = func(cmd *cobra.Command, _ []string) error { return runSLOList(cmd.Context(), e, g, o2) }
	cmd.AddCommand(list, newSLOShowCmd(e, g), newSLOGateCmd(e, g), newSLOImportCmd(e, g), newSLOValidateCmd(e, g))
	return cmd
}

// sloReport is what `oncall slo -o json` prints.
type sloReport struct {
	At      time.Time          `json:"at"`
	Source  string             `json:"source"`
	Budgets []correlate.Budget `json:"budgets"`
}

// loadWithForecasts reads every budget and, for those with budget left,
// forecasts its exhaustion.
func loadWithForecasts(ctx context.Context, se sloEnv, slos []correlate.SLO, at time.Time, horizon time.Duration) []correlate.Budget {
	bs := correlate.LoadBudgets(ctx, se.slis, slos, at)
	done := make(chan struct{})
	n := 0
	for i := range bs {
		if bs[i].Err != "" || !bs[i].Remaining.Defined() || bs[i].Remaining <= 0 {
			continue
		}
		n++
		go func() {
			if f, err := correlate.LoadForecast(ctx, se.slis, bs[i], horizon); err == nil {
				bs[i].Forecast = &f
			}
			done <- struct{}{}
		}()
	}
	for range n {
		<-done
	}
	return bs
}

func runSLOList(ctx context.Context, e *env, g *globalOptions, o *sloOptions) error {
	se, err := o.env(e, g)
	if err != nil {
		return err
	}
	return o.watch.run(ctx, e, g, func(ctx context.Context) (func() error, error) {
		at := se.now()
		rep := sloReport{At: at, Source: se.label, Budgets: loadWithForecasts(ctx, se, se.slos, at, o.horizon)}
		correlate.WorstFirst(rep.Budgets)
		return func() error {
			if o.output == "json" {
				return writeJSONFor(e.IO.Out, rep, o.watch.on)
			}
			return renderSLOList(g.styledOut(e), rep)
		}, nil
	})
}

func renderSLOList(w io.Writer, rep sloReport) error {
	t := newTable("SLO", "SERVICE", "OBJECTIVE", "SLI", "LEFT", "", "MINUTES LEFT", "BURN 5m", "1h", "", "STATUS", "RUNS OUT")
	var notes []string
	for _, b := range rep.Budgets {
		name := termsafe.Line(b.SLO.Name)
		sym, word, _ := present.BudgetState(b)
		if b.Err != "" {
			t.row(name, termsafe.Line(b.SLO.Service), objective(b.SLO), "—", "—", present.Gauge(b, 10), "—", "—", "—", "", sym+" "+word, "")
			notes = append(notes, fmt.Sprintf("%s: %s", name, termsafe.Line(b.Err)))
			continue
		}
		sli := "—"
		if b.SLI.Defined() {
			sli = fmt.Sprintf("%.3f%%", 100*float64(b.SLI))
		}
		runsOut := ""
		if b.Forecast != nil && b.Forecast.Within() {
			runsOut = "~" + b.Forecast.Describe()
		} else if b.Exhaustion > 0 {
			runsOut = "in " + correlate.FormatSpan(b.Exhaustion) + " at 5m burn"
		}
		t.row(name, termsafe.Line(b.SLO.Service), objective(b.SLO), sli, present.BudgetPercent(b), present.Gauge(b, 10), present.MinutesLeft(b),
			present.Burn(float64(b.BurnOver(5*time.Minute))), present.Burn(float64(b.BurnOver(time.Hour))), present.BurnArrow(b), sym+" "+word, runsOut)
		if p := present.Partial(b); p != "" {
			notes = append(notes, fmt.Sprintf("%s: %s; the budget is that of the covered part", name, p))
		}
	}
	if err := t.render(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nat %s from %s. minutes left: the budget as minutes of full outage; burn: error ratio ÷ (1 - objective); runs out: ~ forecast (80%% interval), else at the 5m burn. Queries: oncall slo show NAME, or -o json.\n", rep.At.UTC().Format(time.RFC3339), rep.Source)
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, "note: "+n); err != nil {
			return err
		}
	}
	return nil
}

func objective(s correlate.SLO) string {
	return fmt.Sprintf("%s%% / %s", strconv.FormatFloat(100*s.Objective, 'f', -1, 64), correlate.WindowName(s.Window))
}

// sloDetail is what `oncall slo show -o json` prints.
type sloDetail struct {
	Source  string                   `json:"source"`
	Budget  correlate.Budget         `json:"budget"`
	Account *correlate.BudgetHistory `json:"account,omitempty"`
	// Errors are the parts that could not be read, by part.
	Errors map[string]string `json:"errors,omitempty"`
}

func newSLOShowCmd(e *env, g *globalOptions) *cobra.Command {
	o := &sloOptions{}
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
		ValidArgsFunction: completeSLONames(e, g, o),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSLOShow(cmd.Context(), e, g, o, args[0])
		},
	}
	o.flags(cmd, true)
	return cmd
}

// pick finds the named SLOs, or a usage error with suggestions.
func (se sloEnv) pick(names []string) ([]correlate.SLO, error) {
	if len(names) == 0 {
		return se.slos, nil
	}
	var out []correlate.SLO
	var all []string
	for _, s := range se.slos {
		all = append(all, s.Name)
	}
	for _, n := range names {
		found := false
		for _, s := range se.slos {
			if s.Name == n {
				out, found = append(out, s), true
			}
		}
		if !found {
			return nil, usagef("no SLO named %q in the %s%s", n, se.label, suggest.DidYouMean(n, all))
		}
	}
	return out, nil
}

func runSLOShow(ctx context.Context, e *env, g *globalOptions, o *sloOptions, name string) error {
	se, err := o.env(e, g)
	if err != nil {
		return err
	}
	slos, err := se.pick([]string{name})
	if err != nil {
		return err
	}
	s := slos[0]
	return o.watch.run(ctx, e, g, func(ctx context.Context) (func() error, error) {
		at := se.now()
		d := sloDetail{Source: se.label, Budget: loadWithForecasts(ctx, se, []correlate.SLO{s}, at, o.horizon)[0], Errors: map[string]string{}}
		if d.Budget.Err == "" {
			if a, err := correlate.LoadAccount(ctx, se.slis, d.Budget); err != nil {
				d.Errors["account"] = err.Error()
			} else {
				d.Account = &a
			}
		}
		return func() error {
			if o.output == "json" {
				return writeJSONFor(e.IO.Out, d, o.watch.on)
			}
			return renderSLOShow(g.styledOut(e), d, se.currency, g.zone())
		}, nil
	})
}

func renderSLOShow(w io.Writer, d sloDetail, currency string, zone *time.Location) error {
	b := d.Budget
	var sb strings.Builder
	line := func(label, format string, a ...any) {
		fmt.Fprintf(&sb, "  %-10s %s\n", label, fmt.Sprintf(format, a...))
	}
	fmt.Fprintf(&sb, "%s  %s  %s\n", termsafe.Line(b.SLO.Name), termsafe.Line(b.SLO.Service), objective(b.SLO))
	if b.SLO.Origin != "" {
		line("defined", "%s", b.SLO.Origin)
	}
	sym, word, _ := present.BudgetState(b)
	if b.Err != "" {
		line("status", "%s %s: %s", sym, word, termsafe.Line(b.Err))
		_, err := io.WriteString(w, sb.String())
		return err
	}
	line("status", "%s %s", sym, word)
	if b.SLI.Defined() {
		events := ""
		if b.Total.Defined() {
			events = fmt.Sprintf(" (%s events, %s bad)", humanize.Commas(float64(b.Total)), humanize.Commas(float64(b.Bad)))
		}
		line("SLI", "%.4f%%%s", 100*float64(b.SLI), events)
	} else {
		line("SLI", "undefined: no traffic in the window")
	}
	if b.Threshold > 0 {
		line("threshold", "%s (the histogram boundary nearest %s)", b.Threshold, b.SLO.Indicator.Threshold)
	}
	money := ""
	if m := present.Money(b, currency); m != "" {
		money = " · worth " + m
	}
	line("budget", "%s left %s · %s of full outage%s", present.BudgetPercent(b), present.Gauge(b, 20), present.MinutesLeft(b), money)
	if p := present.Partial(b); p != "" {
		line("", "%s: the budget is that of the covered part", p)
	}
	if b.Exhaustion > 0 {
		line("runs out", "in %s at the current (%s) burn", correlate.FormatSpan(b.Exhaustion), correlate.WindowName(correlate.CurrentBurnWindow))
	}
	if fl := present.ForecastLine(b.Forecast); fl != "" {
		line("forecast", "%s", fl)
		line("", "%s, on %d points", b.Forecast.Method, b.Forecast.Points)
	}
	sb.WriteString("\n  BURN RATES\n")
	for _, br := range b.Burns {
		src := "counted"
		if br.Recorded {
			src = "recording rule"
		}
		fmt.Fprintf(&sb, "    %-5s %8s   %s\n", correlate.WindowName(br.Window), present.Burn(float64(br.Rate)), src)
	}
	sb.WriteString("\n  ALERTS (multiwindow, multi-burn-rate)\n")
	for _, a := range b.Alerts {
		state := "✓ quiet"
		if a.Firing {
			state = "✗ FIRING"
		}
		fmt.Fprintf(&sb, "    %-6s over %s and %s > %g×: %s and %s   %s\n", a.Severity, correlate.WindowName(a.Long), correlate.WindowName(a.Short), a.Factor,
			present.Burn(float64(a.LongRate)), present.Burn(float64(a.ShortRate)), state)
	}
	if a := d.Account; a != nil {
		fmt.Fprintf(&sb, "\n  BURN-DOWN over %s (0 to 100%% of the budget), a point per %s\n    %s\n", present.AccountSpan(a.Span), correlate.WindowName(a.Step), present.SparklineBetween(present.Resample(floats(a.BurnDown.Remaining), 60), 60, 0, 1))
		if len(a.Spends) == 0 {
			sb.WriteString("\n  SPENT BY  nothing over twice the sustainable burn\n")
		} else {
			sb.WriteString("\n  SPENT BY\n")
			for _, sp := range a.Spends {
				fmt.Fprintf(&sb, "    %s – %s  %5.1f%% of the budget, peak %s\n", sp.Start.In(zone).Format("2006-01-02 15:04"), sp.End.In(zone).Format("15:04 MST"), 100*sp.Share, present.Burn(sp.PeakBurn))
			}
		}
	}
	for part, msg := range d.Errors {
		fmt.Fprintf(&sb, "\n  ✗ %s: %s\n", part, termsafe.Line(msg))
	}
	fmt.Fprintf(&sb, "\n  FROM %s: %s\n", d.Source, b.Path)
	for _, q := range b.Queries {
		fmt.Fprintf(&sb, "    %s\n", termsafe.Line(q))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func newSLOGateCmd(e *env, g *globalOptions) *cobra.Command {
	o := &sloOptions{}
	var minBudget string
	var names []string
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
			if minBudget == "" {
				return usagef("--min-budget is required: the least share of the budget that must be left, e.g. --min-budget 25%%")
			}
			min, err := parseShare(minBudget)
			if err != nil {
				return usagef("--min-budget %q: %v", minBudget, err)
			}
			return runSLOGate(cmd.Context(), e, g, o, names, min)
		},
	}
	o.flags(cmd, false)
	cmd.Flags().StringVar(&minBudget, "min-budget", "", "the least share of the error budget that must be left: 25% or 0.25 (required)")
	cmd.Flags().StringArrayVar(&names, "slo", nil, "an SLO to judge (repeatable); default: every SLO")
	_ = cmd.RegisterFlagCompletionFunc("slo", completeSLONames(e, g, o))
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
	Pass      bool               `json:"pass"`
	Reason    string             `json:"reason"`
	MinBudget float64            `json:"min_budget"`
	Budgets   []correlate.Budget `json:"budgets"`
}

func runSLOGate(ctx context.Context, e *env, g *globalOptions, o *sloOptions, names []string, min float64) error {
	se, err := o.env(e, g)
	if err != nil {
		return err
	}
	slos, err := se.pick(names)
	if err != nil {
		return err
	}
	res := gateResult{Pass: true, MinBudget: min, Budgets: correlate.LoadBudgets(ctx, se.slis, slos, se.now())}
	var blocked, unread, passNotes []string
	for _, b := range res.Budgets {
		switch {
		case b.Err != "":
			unread = append(unread, fmt.Sprintf("%s cannot be read (%s)", b.SLO.Name, b.Err))
		case !b.Remaining.Defined():
			passNotes = append(passNotes, fmt.Sprintf("%s has no traffic in its window: nothing to judge", b.SLO.Name))
		case float64(b.Remaining) < min:
			why := fmt.Sprintf("%s has %s of its error budget left (%s of outage), under %s", b.SLO.Name, present.BudgetPercent(b), present.MinutesLeft(b), humanize.Percent(min))
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
		res.Reason = fmt.Sprintf("gate: %s at or over %s of budget left: pass", humanize.Count(len(res.Budgets)-len(passNotes), "SLO"), humanize.Percent(min))
	}
	if o.output == "json" {
		if err := writeJSON(e.IO.Out, res); err != nil {
			return err
		}
	} else {
		for _, n := range passNotes {
			fmt.Fprintln(e.IO.ErrOut, "note: "+termsafe.Line(n))
		}
		fmt.Fprintln(e.IO.Out, termsafe.Line(res.Reason))
	}
	if code != 0 {
		return exitError{code: code}
	}
	return nil
}

func newSLOImportCmd(e *env, _ *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Read Sloth, Pyrra or OpenSLO SLO files and print them as oncall SLOs",
		Long: `import reads SLO files as they are and prints their SLOs in the config's
slos format, to paste into the config, or to check what oncall makes of
them. To use the files as they are instead, list them under slo_files.

  - Sloth prometheus/v1 specs (and PrometheusServiceLevel resources): event
    or raw queries, Sloth's 30-day period and its page and ticket alerts;
    Sloth's recording rules (slo:sli_error:ratio_rate*) are read where
    they run.
  - Pyrra ServiceLevelObjective resources: ratio and latency indicators,
    target, window, Pyrra's burn-rate alerts; its recording rules are read
    where they run.
  - OpenSLO v1 SLO documents with ratioMetric indicators over Prometheus,
    inline or referencing an SLI document in the same file.

Every problem names its file and line.`,
		Example: `  oncall slo import sloth/checkout.yaml
  oncall slo import pyrra/*.yaml >> slos.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			slos, err := importFiles(args)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(e.IO.Out, slos)
			}
			return writeSLOYAML(e.IO.Out, slos)
		},
	}
	outputFlag(cmd, &output, "yaml", "json")
	return cmd
}

// importFiles reads every file; the error holds every problem of all.
func importFiles(paths []string) ([]config.SLO, error) {
	var all []config.SLO
	var problems config.Problems
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usageError{err}
		}
		slos, err := config.ImportSLOs(p, b)
		var ps config.Problems
		if errors.As(err, &ps) {
			problems = append(problems, ps...)
			continue
		}
		all = append(all, slos...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return all, nil
}

// writeSLOYAML prints SLOs as the config's slos key, each after a comment
// saying where it came from.
func writeSLOYAML(w io.Writer, slos []config.SLO) error {
	var sb strings.Builder
	sb.WriteString("slos:\n")
	for _, s := range slos {
		out, err := yaml.Marshal([]config.SLO{s})
		if err != nil {
			return err
		}
		fmt.Fprintf(&sb, "  # from %s\n", s.Origin)
		for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			sb.WriteString("  " + l + "\n")
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func newSLOValidateCmd(e *env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE...]",
		Short: "Check SLO files, or the config's SLOs; every error names its file and line",
		Long: `validate checks SLO files (Sloth, Pyrra, OpenSLO or oncall's), or with no
FILE the config's slos and the files its slo_files lists. Each problem
names its file and line. Exit status 1 when anything is wrong.`,
		Example: `  oncall slo validate
  oncall slo validate sloth/*.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				cfg, path, err := g.loadConfig(e)
				if err != nil {
					return asCheck(err)
				}
				_, err = fmt.Fprintf(e.IO.Out, "%s: ok (%s%s)\n", path, humanize.Count(len(cfg.SLOs), "SLO"), byFormat(cfg.SLOs))
				return err
			}
			slos, err := importFiles(args)
			if err != nil {
				return asCheck(err)
			}
			_, err = fmt.Fprintf(e.IO.Out, "ok: %s%s\n", humanize.Count(len(slos), "SLO"), byFormat(slos))
			return err
		},
	}
}

// byFormat says how many SLOs came from each imported format: ", 2 sloth".
func byFormat(slos []config.SLO) string {
	n := map[string]int{}
	for _, s := range slos {
		if i := strings.LastIndex(s.Origin, "("); i >= 0 && strings.HasSuffix(s.Origin, ")") {
			n[s.Origin[i+1:len(s.Origin)-1]]++
		}
	}
	var parts []string
	for f, c := range n {
		parts = append(parts, fmt.Sprintf("%d %s", c, f))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

// completeSLONames offers the SLOs of the config, or of the simulator
// with --demo.
func completeSLONames(e *env, g *globalOptions, o *sloOptions) cobra.CompletionFunc {
	return complete(func(context.Context) ([]cobra.Completion, error) {
		var names []cobra.Completion
		if o.demo != "" {
			for _, s := range simSLOs(sim.DefaultTopology()) {
				names = append(names, s.Name)
			}
			return names, nil
		}
		cfg, _, err := g.loadConfig(e)
		if err != nil {
			return nil, err
		}
		for _, s := range cfg.SLOs {
			names = append(names, cobra.CompletionWithDesc(s.Name, s.Service))
		}
		return names, nil
	})
}

// floats turns possibly-undefined numbers into plain ones, dropping the
// undefined.
func floats(v []sources.Float) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if x.Defined() {
			out = append(out, float64(x))
		}
	}
	return out
}
