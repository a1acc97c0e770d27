package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/tui"
)

// ledgerSettle is how long a lock claim waits before reading back who
// holds it: far longer than one Alertmanager takes to list a silence it
// has just answered for.
const ledgerSettle = 300 * time.Millisecond

// Factory is what every command is built from, as in cli/cli: the
// outside world (IO streams, environment, clock), the global options, and
// the World and Kit a command reads and acts through.
type Factory struct {
	*env
	Global *globalOptions
	// warned is the config whose warnings were said: once per command,
	// however often it asks for the config.
	warned *config.Config
	// stores are the history stores the command opened (history_store.go).
	stores historyStores
	in     *bufio.Reader // stdin, one reader for every question asked (stdin())
}

// World is the simulator's world when --demo names a scenario, else the
// config's.
func (f *Factory) World(ctx context.Context, d DemoFlags) (*World, error) {
	if d.On() {
		return demoWorld(ctx, f.env, d)
	}
	return f.ConfigWorld()
}

// ConfigWorld is the config's world: its datasources, SLOs, services and
// remediation.
func (f *Factory) ConfigWorld() (*World, error) {
	cfg, path, err := f.Config()
	if err != nil {
		return nil, err
	}
	return configWorld(f.env, cfg, path, f.Global.requests)
}

// Config is the config the flags and environment point at, read once per
// command. Its warnings (valid but probably not meant: an objective of
// 0.999, which is 0.999%) go to stderr the first time, at their line, in
// every command that reads it, not only in config validate.
func (f *Factory) Config() (*config.Config, string, error) {
	cfg, path, err := f.Global.loadConfig(f.env)
	if err == nil && cfg != f.warned {
		f.warned = cfg
		writeWarnings(f.IO.ErrOut, cfg.Warnings)
	}
	return cfg, path, err
}

// writeWarnings writes each warning at its file and line.
func writeWarnings(w io.Writer, ps problem.Problems) {
	for _, p := range ps {
		p.Msg = "warning: " + p.Msg
		fmt.Fprintln(w, p.Error())
	}
}

// Kit wires remediation for a world: its runbooks, the ledger (the
// config's PostgreSQL history when sharedLedger opened it, else
// Alertmanager when there is one, else a file every process on this host
// shares, on the host's clock), the audit log, the executor.
func (f *Factory) Kit(w *World) *remediate.Kit {
	r := w.remediation
	runbooks, loadErr := r.runbooks()
	var ledger remediate.Ledger = &remediate.FileLedger{Path: remediate.DefaultLedgerPath(f.getenv), Now: time.Now}
	settle := time.Duration(0)
	switch {
	case r.ledger != nil:
		// claims are ordered by commit: nothing to wait for
		ledger = r.ledger
	case w.Sources.Alerts != nil:
		ledger = remediate.SilenceLedger{Alerts: w.Sources.Alerts}
		settle = ledgerSettle
	}
	audit := &remediate.Audit{Path: r.auditLog}
	host, _ := os.Hostname()
	user := whoami(f.env)
	if user == "" {
		user = "oncall"
	}
	wait := remediate.SleepWait
	if w.Wait != nil {
		wait = w.Wait
	}
	return &remediate.Kit{
		Runbooks: runbooks, LoadErr: loadErr, Ledger: ledger, Audit: audit, Policy: r.policy, Meta: w.Meta, Deadline: w.Deadline,
		Planner: &remediate.Planner{Sources: w.Sources, Policy: r.policy, Ledger: ledger, Now: r.now},
		Exec: remediate.Executor{Sources: w.Sources, Actuator: r.actuator, Audit: audit, Escalate: r.escalate, HTTP: &http.Client{},
			Guard:  &remediate.Guard{Ledger: ledger, Policy: r.policy, Now: r.now, Settle: settle, Sleep: wait},
			Getenv: f.LookupEnv, Now: r.now, Wait: wait, User: user, Host: host, ReadOnly: f.Global.ReadOnly},
	}
}

// Deps points the cockpit at a world. A config's world brings its
// services' runbooks, its context and its Grafana; its kit comes only with
// a runbooks directory.
func (f *Factory) Deps(w *World, title string) tui.Deps {
	d := tui.Deps{Title: title, Sources: w.Sources, SLOs: w.SLOs, Meta: w.Meta, Now: w.Now, Explore: w.explore(), IncidentDeadline: w.Deadline}
	cfg := w.Config
	if cfg == nil {
		d.Kit = f.Kit(w)
		return d
	}
	d.Runbooks, d.Context = map[string][]string{}, cfg.Context
	for name, s := range cfg.Services {
		if len(s.Runbooks) > 0 {
			d.Runbooks[name] = s.Runbooks
		}
	}
	if ctx, ok := cfg.Contexts[cfg.Context]; ok {
		d.ContextColor, d.ConfirmTyped = ctx.Color, ctx.Confirm == config.ConfirmTyped
	}
	if cfg.Runbooks != "" {
		d.Kit = f.Kit(w)
	}
	return d
}

// DemoFlags are --demo, --seed and --after: the commands that can read the
// simulator instead of the config's datasources register them here.
type DemoFlags struct {
	Scenario string
	Seed     uint64
	After    time.Duration
	// Services grows the simulated fleet to this many (--services).
	Services int
}

// On is whether --demo names a scenario.
func (d DemoFlags) On() bool { return d.Scenario != "" }

// Register adds the flags to cmd; after is --after's default.
func (d *DemoFlags) Register(cmd *cobra.Command, after time.Duration) {
	cmd.Flags().StringVar(&d.Scenario, "demo", "", "read the simulator running this scenario instead of the config's datasources (see oncall demo --list)")
	cmd.Flags().Uint64Var(&d.Seed, "seed", 1, "with --demo: the simulator's seed")
	durationFlag(cmd, &d.After, "after", "", after, "with --demo: how long after the scenario's onset the simulated fleet is")
	cmd.Flags().IntVar(&d.Services, "services", 0, "with --demo: grow the simulated fleet to this many services (e.g. 2000); the scenario stays the same")
	_ = cmd.RegisterFlagCompletionFunc("demo", completeScenarios)
}

// RunbookKit is the kit of --demo SCENARIO (the fleet at onset+after, in
// simulated time) or of the config, which must name a runbooks
// directory; and the world's label.
func (f *Factory) RunbookKit(ctx context.Context, d DemoFlags) (*remediate.Kit, string, error) {
	w, k, err := f.RunbookWorld(ctx, d)
	if err != nil {
		return nil, "", err
	}
	return k, w.Label, nil
}

// RunbookWorld is RunbookKit with the world it acts on, for the commands
// that record what they do in the history.
func (f *Factory) RunbookWorld(ctx context.Context, d DemoFlags) (*World, *remediate.Kit, error) {
	w, err := f.World(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	if !w.Simulated() && w.Config.Runbooks == "" {
		return nil, nil, usagef("no runbooks directory in %s: set runbooks: to a directory of runbook files (see testdata/runbooks), or try --demo", w.Path)
	}
	if err := f.sharedLedger(ctx, w); err != nil {
		return nil, nil, err
	}
	return w, f.Kit(w), nil
}

// StyledOut is stdout keeping colour only on a terminal that supports it.
func (f *Factory) StyledOut() io.Writer { return f.Global.styledOut(f.env) }

// demoLogFlag is audit's --demo: read the demo's audit log, which the
// simulated runs write, instead of the config's. It reads no simulator,
// so it is a switch rather than DemoFlags; it is declared here, beside
// them, so that every --demo is declared in this one file.
func demoLogFlag(cmd *cobra.Command, p *bool) {
	cmd.Flags().BoolVar(p, "demo", false, "the demo's audit log ($XDG_DATA_HOME/oncall/demo-audit.jsonl), which simulated runs write instead")
}
