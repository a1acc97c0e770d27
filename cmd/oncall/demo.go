package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
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

// demoOptions are demo's flags, and the factory it reads through.
type demoOptions struct {
	*Factory
	scenario, speed, topology, output string
	seed                              uint64
	services                          int
	list                              bool
	forDur, pushEvery                 time.Duration
	serve, otlp, loki, trafficCycle   string
	text                              bool
	cockpit                           cockpitOptions
	autopilot                         bool
	autopilotEvery                    time.Duration
}

// NewCmdDemo is `oncall demo`; runF, when set, runs instead of runDemo,
// so tests can read the options the flags gave.
func NewCmdDemo(f *Factory, runF func(context.Context, *demoOptions) error) *cobra.Command {
	o := &demoOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the built-in simulated fleet and watch an incident unfold",
		Long: `demo runs a simulated e-commerce fleet of 47 services in process: metrics,
logs, traces, deploys and SLO burn-rate alerts, all from one model of how
requests, timeouts, retries, pools and breakers behave. Nothing to install.

The simulation starts thirty simulated minutes before the scenario's onset
and fast-forwards to two minutes before it, then runs at --speed, in the
cockpit: SLO budgets, firing alerts and services by health; enter on an
SLO opens its budget, on an alert or a service its incident, ? lists the
keys. With --text, -o json, --for, or when the output is not a terminal,
demo prints a live text summary instead: the services with the most
errors, firing alerts and recent changes.

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
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runDemo(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.scenario, "scenario", "retry-storm", "scenario to run (see --list)")
	_ = cmd.RegisterFlagCompletionFunc("scenario", completeScenarios)
	fl.StringVar(&o.speed, "speed", "1", `simulated seconds per wall second, or "max"`)
	fl.Uint64Var(&o.seed, "seed", 1, "random seed: the same seed replays the same incident")
	fl.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	fl.StringVar(&o.topology, "topology", "", "fleet topology YAML (default: the embedded 47-service shop)")
	fl.IntVar(&o.services, "services", 0, "grow the fleet to this many services with generated apps, about half of them idle (e.g. 2000); the scenarios stay the same")
	durationFlag(cmd, &o.forDur, "for", "", 0, "stop after this much simulated time (default: run until interrupted)")
	fl.StringVar(&o.serve, "serve", "", "run headless and serve /metrics and actions on this address, e.g. 127.0.0.1:9464")
	fl.StringVar(&o.otlp, "otlp-endpoint", "", "with --serve: push traces over OTLP/HTTP to this base URL (…/v1/traces)")
	fl.StringVar(&o.loki, "loki-url", "", "with --serve: push logs to this Loki base URL (…/loki/api/v1/push)")
	fl.StringVar(&o.trafficCycle, "traffic-cycle", cycleScenario, `with --serve: "scenario" keeps the daily traffic cycle at the replay's hour (onset 23:23 UTC), so the incident is the same at any hour; "wall" follows the wall clock's hour (the default fleet peaks at 20:00 UTC), so it is milder in the morning`)
	_ = cmd.RegisterFlagCompletionFunc("traffic-cycle", cobra.FixedCompletions([]string{cycleScenario, cycleWall}, cobra.ShellCompDirectiveNoFileComp))
	durationFlag(cmd, &o.pushEvery, "push-interval", "", 5*time.Second, "with --serve: how often traces and logs are pushed")
	fl.BoolVar(&o.text, "text", false, "print the live text summary instead of opening the cockpit")
	fl.BoolVar(&o.autopilot, "autopilot", false, "run the autopilot beside the cockpit: it fixes what its runbooks may, and its proposals wait in the overview for A (approve) or X (reject)")
	durationFlag(cmd, &o.autopilotEvery, "autopilot-interval", "", 20*time.Second, "with --autopilot: how often it looks (wall clock)")
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

func runDemo(ctx context.Context, o *demoOptions) error {
	if o.list {
		return listScenarios(o)
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
	opts, err := demoSimOptions(o, o.Now())
	if err != nil {
		return usageError{err}
	}
	fleet, err := sim.New(opts)
	if err != nil {
		return usageError{err}
	}
	warmUp := fleet.Onset().Add(-2 * time.Minute)
	if o.serve != "" || o.text || o.output == "json" || o.forDur > 0 || !isTerminal(o.IO.Out) {
		if o.autopilot {
			return usagef("--autopilot runs beside the cockpit; headless, use oncall autopilot --demo %s", o.scenario)
		}
		fleet.AdvanceTo(warmUp)
		if o.serve != "" {
			return serveDemo(ctx, o, fleet, speed)
		}
		return watchDemo(ctx, o, fleet, speed)
	}
	return demoCockpit(ctx, o, fleet, speed, warmUp)
}

// demoCockpit opens the cockpit on the fleet, which it runs from warmUp
// on, with the autopilot beside it when asked.
func demoCockpit(ctx context.Context, o *demoOptions, fleet *sim.Fleet, speed float64, warmUp time.Time) error {
	if err := needTerminal(o.Factory); err != nil {
		return err
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
	w := simWorld(o.env, fleet, title)
	d := o.Deps(w, title)
	// the demo reads no datasource from the config, but runs its experiments
	var exps config.Chaos
	if cfg, _, err := o.Config(); err == nil {
		exps = cfg.Chaos
	}
	o.cockpitChaos(w, &d, exps.ExperimentDir(o.getenv))
	o.cockpitHistory(ctx, w, &d)
	d.Stats, d.DemoEpoch = o.cockpitStats(w)
	if o.autopilot {
		if o.Global.ReadOnly {
			return usagef("--autopilot acts: it cannot run --read-only")
		}
		title += ", autopilot"
		d.Title = title
		d.Notices = demoAutopilot(runCtx, d.Kit, d.History, fleet, warmUp, o.autopilotEvery)
	}
	return runCockpit(ctx, o.Factory, &o.cockpit, d, "")
}

// listScenarios writes --list: the scenarios and what happens in each.
func listScenarios(o *demoOptions) error {
	if o.output == "json" {
		type row struct{ Name, Description string }
		var rows []row
		for _, s := range sim.Scenarios() {
			rows = append(rows, row{s.Name, s.Description})
		}
		return writeJSON(o.IO.Out, rows)
	}
	t := present.NewTable("SCENARIO", "WHAT HAPPENS")
	for _, s := range sim.Scenarios() {
		t.Row(s.Name, s.Description)
	}
	return t.Render(o.IO.Out)
}

// demoSimOptions are the simulator's options for o, when the wall clock
// reads now.
func demoSimOptions(o *demoOptions, now time.Time) (sim.Options, error) {
	opts := sim.Options{Scenario: o.scenario, Seed: o.seed, Services: o.services}
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

// demoAutopilot runs the autopilot on the demo's fleet once the history
// is simulated, and says what it did in the cockpit's status line.
func demoAutopilot(ctx context.Context, k *remediate.Kit, rc *history.Recorder, fleet *sim.Fleet, from time.Time, every time.Duration) <-chan string {
	out := make(chan string, 16)
	ap, seen := recordedAutopilot(k, "autopilot@demo")
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
			if err := recordRound(ctx, rc, seen(), ds, fleet.Now()); err != nil {
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
