package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// The daily traffic cycles a served fleet can follow (--traffic-cycle).
const (
	// cycleScenario gives the served fleet the replay's hour of the day, so
	// that its scenario is as strong whatever the wall clock reads.
	cycleScenario = "scenario"
	// cycleWall follows the wall clock's hour, for a stack whose dashboards
	// should show the day's shape: a scenario is then milder in the morning.
	cycleWall = "wall"
)

type demoOptions struct {
	scenario, speed, topology, output string
	seed                              uint64
	list                              bool
	forDur, pushEvery                 time.Duration
	serve, otlp, loki, trafficCycle   string
	text                              bool
	cockpit                           cockpitOptions
	autopilot                         bool
	autopilotEvery                    time.Duration
}

func newDemoCmd(e *env, g *globalOptions) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the built-in simulated fleet and watch an incident unfold",
		Long: `demo runs a simulated e-commerce fleet of 47 services in process: metrics,
logs, traces, deploys and SLO burn-rate alerts, all from one model of how
requests, timeouts, retries, pools and breakers behave. Nothing to install.

The simulation starts thirty simulated minutes before the scenario's onset
and fast-forwards to two minutes before it, then runs at --speed, in the
cockpit: SLO budgets, firing alerts and services by health; enter on an
SLO opens its budget, on an alert or a service its incident, ? lists the keys. With --text, -o
json, --for, or when the output is not a terminal, demo prints a live text
summary instead: the services with the most errors, firing alerts and
recent changes.

With --serve the simulator runs headless instead: it serves Prometheus
exposition at /metrics (point a real Prometheus at it), accepts actions at
POST /api/v1/actions, and pushes traces over OTLP/HTTP and logs to Loki when
--otlp-endpoint and --loki-url are given. Its clock then follows the wall
clock, so the timestamps it pushes are current, but its traffic keeps the
replay's hour of the day (--traffic-cycle scenario): the incident is the
same whenever it is served.`,
		Example: `  oncall demo
  oncall demo --scenario retry-storm --speed 10
  oncall demo --list
  oncall demo --scenario db-pool-exhaustion --speed max --for 10m -o json
  oncall demo --serve 127.0.0.1:9464 --otlp-endpoint http://localhost:4318 --loki-url http://localhost:3100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), e, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "retry-storm", "scenario to run (see --list)")
	_ = cmd.RegisterFlagCompletionFunc("scenario", completeScenarios)
	f.StringVar(&o.speed, "speed", "1", `simulated seconds per wall second, or "max"`)
	f.Uint64Var(&o.seed, "seed", 1, "random seed: the same seed replays the same incident")
	f.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	f.StringVar(&o.topology, "topology", "", "fleet topology YAML (default: the embedded 47-service shop)")
	f.DurationVar(&o.forDur, "for", 0, "stop after this much simulated time (default: run until interrupted)")
	f.StringVar(&o.serve, "serve", "", "run headless and serve /metrics and actions on this address, e.g. 127.0.0.1:9464")
	f.StringVar(&o.otlp, "otlp-endpoint", "", "with --serve: push traces over OTLP/HTTP to this base URL (…/v1/traces)")
	f.StringVar(&o.loki, "loki-url", "", "with --serve: push logs to this Loki base URL (…/loki/api/v1/push)")
	f.StringVar(&o.trafficCycle, "traffic-cycle", cycleScenario, `with --serve: "scenario" keeps the daily traffic cycle at the replay's hour (onset 23:23 UTC), so the incident is the same at any hour; "wall" follows the wall clock's hour (the default fleet peaks at 20:00 UTC), so it is milder in the morning`)
	_ = cmd.RegisterFlagCompletionFunc("traffic-cycle", cobra.FixedCompletions([]string{cycleScenario, cycleWall}, cobra.ShellCompDirectiveNoFileComp))
	f.DurationVar(&o.pushEvery, "push-interval", 5*time.Second, "with --serve: how often traces and logs are pushed")
	f.BoolVar(&o.text, "text", false, "print the live text summary instead of opening the cockpit")
	f.BoolVar(&o.autopilot, "autopilot", false, "run the autopilot beside the cockpit: it fixes what its runbooks may, and its proposals wait in the overview for A (approve) or X (reject)")
	f.DurationVar(&o.autopilotEvery, "autopilot-interval", 20*time.Second, "with --autopilot: how often it looks (wall clock)")
	cockpitFlags(cmd, &o.cockpit)
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

// parseSpeed reads --speed: a positive number or "max" (0).
func parseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v > 1e6 {
		return 0, fmt.Errorf(`--speed %q: want a number of simulated seconds per second (1 to 1000000) or "max"`, s)
	}
	return v, nil
}

func runDemo(ctx context.Context, e *env, g *globalOptions, o *demoOptions) error {
	if o.list {
		if o.output == "json" {
			type row struct{ Name, Description string }
			var rows []row
			for _, s := range sim.Scenarios() {
				rows = append(rows, row{s.Name, s.Description})
			}
			return writeJSON(e.IO.Out, rows)
		}
		t := newTable("SCENARIO", "WHAT HAPPENS")
		for _, s := range sim.Scenarios() {
			t.row(s.Name, s.Description)
		}
		return t.render(e.IO.Out)
	}
	speed, err := parseSpeed(o.speed)
	if err != nil {
		return usageError{err}
	}
	if o.serve == "" && (o.otlp != "" || o.loki != "") {
		return usagef("--otlp-endpoint and --loki-url need --serve")
	}
	switch {
	case o.trafficCycle != cycleScenario && o.trafficCycle != cycleWall:
		return usagef("--traffic-cycle %q: want %s or %s", o.trafficCycle, cycleScenario, cycleWall)
	case o.trafficCycle == cycleWall && o.serve == "":
		return usagef("--traffic-cycle %s needs --serve: the replay has no wall clock", cycleWall)
	}
	opts, err := demoSimOptions(o, e.Now())
	if err != nil {
		return usageError{err}
	}
	fleet, err := sim.New(opts)
	if err != nil {
		return usageError{err}
	}
	warmUp := fleet.Onset().Add(-2 * time.Minute)
	if o.serve != "" || o.text || o.output == "json" || o.forDur > 0 || !isTerminal(e.IO.Out) {
		if o.autopilot {
			return usagef("--autopilot runs beside the cockpit; headless, use oncall autopilot --demo %s", o.scenario)
		}
		fleet.AdvanceTo(warmUp)
		if o.serve != "" {
			return serveDemo(ctx, e, fleet, o, speed)
		}
		return watchDemo(ctx, e, g, fleet, o, speed)
	}
	// the cockpit draws at once; the history is simulated behind it (about
	// 0.3 s) and the panels fill in as it arrives
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		fleet.AdvanceTo(warmUp)
		fleet.Run(runCtx, speed)
	}()
	title := fmt.Sprintf("demo: %s, seed %d, speed %s", fleet.Scenario().Name, o.seed, o.speed)
	d := simDeps(fleet, title)
	d.Kit = demoKit(e, g, fleet)
	if o.autopilot {
		if g.ReadOnly {
			return usagef("--autopilot acts: it cannot run --read-only")
		}
		title += ", autopilot"
		d.Title = title
		d.Notices = demoAutopilot(runCtx, d.Kit, fleet, warmUp, o.autopilotEvery)
	}
	return runCockpit(ctx, e, g, &o.cockpit, d, "")
}

// demoSimOptions are the simulator's options for o, when the wall clock
// reads now.
func demoSimOptions(o *demoOptions, now time.Time) (sim.Options, error) {
	opts := sim.Options{Scenario: o.scenario, Seed: o.seed}
	if o.topology != "" {
		t, err := sim.LoadTopology(o.topology)
		if err != nil {
			return opts, err
		}
		opts.Topology = t
	}
	if o.serve != "" {
		// follow the wall clock: the onset comes two minutes from now. The
		// start is on the Step grid, as the replay's is, so that the ticks
		// that record metrics and evaluate alerts fall as in the replay;
		// the simulated clock then trails the wall clock by under a Step
		opts.Start = now.Add(-28 * time.Minute).Truncate(sim.Step)
		if o.trafficCycle == cycleScenario {
			opts.CycleStart = sim.Epoch
		}
	}
	return opts, nil
}

// watchDemo runs the fleet and prints a summary every refresh.
func watchDemo(ctx context.Context, e *env, g *globalOptions, fleet *sim.Fleet, o *demoOptions, speed float64) error {
	end := time.Time{}
	if o.forDur > 0 {
		end = fleet.Now().Add(o.forDur)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if end.IsZero() {
			fleet.Run(runCtx, speed)
			return
		}
		runUntil(runCtx, fleet, speed, end)
		cancel()
	}()
	out := g.styledOut(e)
	clear := o.output == "text" && isTerminal(e.IO.Out)
	tick := time.NewTicker(o.cockpit.refresh)
	defer tick.Stop()
	for {
		select {
		case <-runCtx.Done():
			<-done
			return printSnapshot(out, fleet, o.output, false)
		case <-tick.C:
			if err := printSnapshot(out, fleet, o.output, clear); err != nil {
				return err
			}
		}
	}
}

// runUntil advances the fleet at speed until end or ctx ends.
func runUntil(ctx context.Context, fleet *sim.Fleet, speed float64, end time.Time) {
	if speed == 0 {
		for ctx.Err() == nil && fleet.Now().Before(end) {
			fleet.Advance(min(time.Minute, end.Sub(fleet.Now())))
		}
		return
	}
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for c.Err() == nil && fleet.Now().Before(end) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	fleet.Run(c, speed)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// demoSnapshot is one refresh of the summary.
type demoSnapshot struct {
	SimTime  time.Time        `json:"sim_time"`
	Scenario string           `json:"scenario"`
	Onset    time.Time        `json:"onset"`
	Services []demoService    `json:"services"`
	Alerts   []sources.Alert  `json:"alerts"`
	Changes  []sources.Change `json:"changes"`
}

type demoService struct {
	Service    string  `json:"service"`
	RPS        float64 `json:"rps"`
	ErrorRatio float64 `json:"error_ratio"`
	P99Seconds float64 `json:"p99_seconds"`
	Source     string  `json:"source"`
}

func snapshot(fleet *sim.Fleet) (demoSnapshot, error) {
	ctx := context.Background()
	now := fleet.Now()
	s := demoSnapshot{SimTime: now, Scenario: fleet.Scenario().Name, Onset: fleet.Onset()}
	b := simsrc.New(fleet)
	reds, err := b.RED(ctx, nil, sources.TimeRange{Start: now.Add(-time.Minute), End: now}, time.Minute)
	if err != nil {
		return s, err
	}
	for _, r := range reds {
		n := len(r.Requests.Samples)
		if n == 0 {
			continue
		}
		req, errs := r.Requests.Samples[n-1].V, r.Errors.Samples[n-1].V
		ratio := 0.0
		if req > 0 {
			ratio = errs / req
		}
		s.Services = append(s.Services, demoService{r.Service, req, ratio, r.P99.Samples[n-1].V, r.Errors.Query})
	}
	sort.SliceStable(s.Services, func(i, j int) bool { return s.Services[i].ErrorRatio > s.Services[j].ErrorRatio })
	if s.Alerts, err = b.Alerts(ctx); err != nil {
		return s, err
	}
	s.Changes, err = b.Changes(ctx, sources.TimeRange{Start: now.Add(-30 * time.Minute), End: now})
	return s, err
}

func printSnapshot(w io.Writer, fleet *sim.Fleet, output string, clear bool) error {
	s, err := snapshot(fleet)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSONFor(w, s, true) // one line per summary: NDJSON
	}
	var b strings.Builder
	if clear {
		b.WriteString("\x1b[H\x1b[2J")
	}
	rel := s.SimTime.Sub(s.Onset).Truncate(time.Second)
	sign := "+"
	if rel < 0 {
		sign, rel = "-", -rel
	}
	fmt.Fprintf(&b, "oncall demo · %s · simulated %s (onset %s%s)\n\n", s.Scenario, s.SimTime.UTC().Format("2006-01-02 15:04:05 MST"), sign, rel)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	t := newTable("SERVICE", "REQ/S", "ERRORS", "P99")
	for i, sv := range s.Services {
		if i == 10 {
			break
		}
		t.row(sv.Service, fmt.Sprintf("%.0f", sv.RPS), fmt.Sprintf("%.2f%%", 100*sv.ErrorRatio), humanize.SecondsShort(sv.P99Seconds))
	}
	if err := t.render(w); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nsource: simulator span metrics over the last minute, worst error ratio first")
	if len(s.Alerts) > 0 {
		fmt.Fprintln(w)
		at := newTable("FIRING", "SEVERITY", "SINCE", "SUMMARY")
		for _, a := range s.Alerts {
			at.row(a.Name, a.Severity, a.StartsAt.UTC().Format("15:04:05"), a.Annotations["summary"])
		}
		if err := at.render(w); err != nil {
			return err
		}
	}
	if len(s.Changes) > 0 {
		fmt.Fprintln(w)
		ct := newTable("CHANGE", "AT", "SERVICE", "DETAIL")
		for _, c := range s.Changes {
			ct.row(string(c.Kind), c.T.UTC().Format("15:04:05"), c.Service, c.Detail)
		}
		if err := ct.render(w); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(w)
	return err
}

// serveDemo runs the fleet headless, serving /metrics and pushing
// signals, until ctx ends.
func serveDemo(ctx context.Context, e *env, fleet *sim.Fleet, o *demoOptions, speed float64) error {
	ln, err := net.Listen("tcp", o.serve)
	if err != nil {
		return fmt.Errorf("--serve %s: %w", o.serve, err)
	}
	srv := &http.Server{Handler: fleet.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Fprintf(e.IO.Out, "simulating %s (seed %d); serving http://%s/metrics; onset at %s\n",
		fleet.Scenario().Name, o.seed, ln.Addr(), fleet.Onset().Format(time.RFC3339))
	go fleet.Run(ctx, speed)
	if o.otlp == "" && o.loki == "" {
		<-ctx.Done()
		return nil
	}
	p := &sim.Pusher{Fleet: fleet, OTLPEndpoint: o.otlp, LokiURL: o.loki}
	t := time.NewTicker(o.pushEvery)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			pc, cancel := context.WithTimeout(ctx, o.pushEvery)
			_, _, err := p.Push(pc)
			cancel()
			// report a failing backend once per change of error, not every tick
			if msg := fmt.Sprint(err); err != nil && msg != lastErr {
				fmt.Fprintln(e.IO.ErrOut, "oncall demo: push:", msg)
				lastErr = msg
			} else if err == nil && lastErr != "" {
				fmt.Fprintln(e.IO.ErrOut, "oncall demo: push: recovered")
				lastErr = ""
			}
		}
	}
}

// demoAutopilot runs the autopilot on the demo's fleet once the history
// is simulated, and says what it did in the cockpit's status line.
func demoAutopilot(ctx context.Context, k *remediate.Kit, fleet *sim.Fleet, from time.Time, every time.Duration) <-chan string {
	out := make(chan string, 16)
	ap := autopilot(k, "autopilot@demo")
	go func() {
		defer close(out)
		for fleet.Now().Before(from) {
			if remediate.SleepWait(ctx, 100*time.Millisecond) != nil {
				return
			}
		}
		for {
			if remediate.SleepWait(ctx, every) != nil {
				return
			}
			ds, err := ap.Round(ctx)
			if err != nil {
				out <- "autopilot: " + err.Error()
			}
			for _, d := range ds {
				if d.Did == "waiting" {
					continue
				}
				line := fmt.Sprintf("autopilot %s %s on %s", d.Did, d.Runbook, d.Target)
				if d.Outcome != nil {
					line += ": " + d.Outcome.Result
				}
				select {
				case out <- line:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
