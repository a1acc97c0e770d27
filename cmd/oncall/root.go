package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/httpx"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

// globalOptions are the persistent flags every command shares.
type globalOptions struct {
	ConfigPath string
	ReadOnly   bool
	NoColor    bool
	Timezone   string
	Context    string
	Verbose    bool
	// requests logs each backend request on stderr under --verbose; nil
	// without it. One for the command, so its lines never interleave.
	requests *httpx.RequestLog
	// typed is the context's name when it asks for it to be typed before
	// any action; set by loadConfig.
	typed string
	loc   *time.Location // Timezone, read before any command runs
	// loaded is the config as first read, once per command
	loaded *loadedConfig
}

// loadedConfig is a config read for the --config and --context it was
// read with (completion parses its own arguments after the root's
// pre-run: another pair reads again).
type loadedConfig struct {
	configPath, context string
	cfg                 *config.Config
	path                string
	err                 error
}

// clock writes a time of day in the chosen zone, with the zone.
func (g *globalOptions) clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(g.zone()).Format("15:04:05 MST")
}

// timestamp writes a full time in the chosen zone, with its offset.
func (g *globalOptions) timestamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(g.zone()).Format(time.RFC3339)
}

func (g *globalOptions) zone() *time.Location {
	if g.loc == nil {
		return time.UTC
	}
	return g.loc
}

func newRootCmd(e *env) *cobra.Command {
	root, _ := newRoot(e)
	return root
}

// newRoot is the command tree and the factory its commands share, which
// run closes what was opened through when the command ends.
func newRoot(e *env) (*cobra.Command, *Factory) {
	g := &globalOptions{}
	f := &Factory{env: e, Global: g}
	co := &cockpitOptions{}
	root := &cobra.Command{
		Use:   "oncall",
		Short: "A terminal cockpit for the engineer on call",
		Long: `oncall joins metrics (Prometheus), logs (Loki), traces (Tempo) and alerts
(Alertmanager) by trace ID, so that the engineer on call sees what broke
first, what depends on it, and what it costs.

With no command, oncall opens the cockpit on the configured datasources:
SLO budgets, firing alerts and services by health; enter on an SLO opens
its budget, on an alert or a service its incident. Press ? inside for the
keys. 'oncall demo' opens it on the built-in simulated fleet.

Configuration is read from --config, else $ONCALL_CONFIG, else
$XDG_CONFIG_HOME/oncall/config.yaml. Start with 'oncall doctor' to check
that every datasource answers and holds the data oncall expects.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConfigCockpit(cmd.Context(), f, co)
		},
	}
	cockpitFlags(root, co)
	root.PersistentFlags().StringVar(&g.ConfigPath, "config", "", "config file (default $ONCALL_CONFIG, else $XDG_CONFIG_HOME/oncall/config.yaml)")
	root.PersistentFlags().BoolVar(&g.ReadOnly, "read-only", false, "refuse every action that changes anything: silences, acknowledgements, runbooks")
	root.PersistentFlags().BoolVar(&g.NoColor, "no-color", false, "no colour in output (also set by NO_COLOR)")
	root.PersistentFlags().StringVar(&g.Context, "context", "", "the config's context (stack) to use (default $ONCALL_CONTEXT, else the config's current-context)")
	_ = root.RegisterFlagCompletionFunc("context", completeContexts(f))
	root.PersistentFlags().StringVar(&g.Timezone, "timezone", "UTC", "zone times are shown in: UTC, local, or an IANA name like Europe/Berlin (also $ONCALL_TIMEZONE)")
	root.PersistentFlags().BoolVarP(&g.Verbose, "verbose", "v", false, "print each backend request on stderr as it ends: backend, method, path, status, milliseconds, bytes, query")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if g.Verbose {
			g.requests = &httpx.RequestLog{W: e.IO.ErrOut}
		}
		// first: no command may plan, ask or write before it knows
		// whether its context is read-only; a config that does not load
		// is left to the command that needs it to report
		_, _, _ = g.loadConfig(e)
		if showsData(cmd) {
			e.IO.Out = terminalText{e.IO.Out}
		}
		tz := g.Timezone
		if !root.PersistentFlags().Changed("timezone") {
			if v := e.getenv("ONCALL_TIMEZONE"); v != "" {
				tz = v
			}
		}
		loc, err := timeparse.Zone(tz)
		if err != nil {
			return usagef("--timezone: %v", err)
		}
		g.loc = loc
		return nil
	}
	root.AddCommand(
		NewCmdVersion(f, nil),
		NewCmdMan(f, nil),
		NewCmdConfig(f),
		NewCmdDoctor(f, nil),
		NewCmdAlerts(f, nil),
		NewCmdSilences(f, nil),
		NewCmdServices(f, nil),
		NewCmdDemo(f, nil),
		NewCmdIncident(f, nil),
		NewCmdSLO(f),
		NewCmdForecast(f, nil),
		NewCmdLogs(f, nil),
		NewCmdTrace(f, nil),
		NewCmdRunbook(f),
		NewCmdChaos(f),
		showData(NewCmdAutopilot(f, nil)),
		showData(NewCmdProposals(f, nil)),
		showData(NewCmdAudit(f, nil)),
		showData(NewCmdHistory(f)),
		showData(NewCmdPostmortem(f, nil)),
		showData(NewCmdStats(f, nil)),
	)
	markUsageErrors(root)
	// every command's --help ends with the exit status
	root.SetHelpTemplate(root.HelpTemplate() + "\n" + exitStatus + "\n")
	return root, f
}

// markUsageErrors makes every flag and argument error of the tree a usage
// error (exit 2), and unknown commands too, with the commands near them.
func markUsageErrors(c *cobra.Command) {
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// cobra's default distance applies only where cobra suggests itself
	c.SuggestionsMinimumDistance = 2
	if c.HasSubCommands() && !c.Runnable() {
		// a group: its help, or an unknown subcommand
		c.Args = cobra.NoArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				if len(a) > 0 && cmd.HasAvailableSubCommands() {
					// cobra suggests only for commands without an Args
					// check, and the root's check keeps the cockpit's
					// flags apart from a mistyped command
					return unknownCommand(cmd, a[0])
				}
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}

// unknownCommand is a mistyped command, with the commands near it, as
// kubectl and gh say it.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if near := cmd.SuggestionsFor(name); len(near) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(near, "\n\t")
	}
	return usageError{errors.New(msg)}
}

// loadConfig reads the config the flags and environment point at, once
// per command, and takes how carefully its context acts: a read-only
// context makes every path that acts (runbook run, autopilot, proposals,
// silences, the cockpit, the demo) refuse before it plans, asks or
// writes. The root reads it before any command runs. A bad config is a
// usage error (exit 2); `config validate` reports it as a failed check
// instead.
func (g *globalOptions) loadConfig(e *env) (*config.Config, string, error) {
	if l := g.loaded; l != nil && l.configPath == g.ConfigPath && l.context == g.Context {
		return l.cfg, l.path, l.err
	}
	cfg, path, err := g.readConfig(e)
	g.loaded = &loadedConfig{g.ConfigPath, g.Context, cfg, path, err}
	if err != nil {
		return nil, path, err
	}
	if ctx, ok := cfg.Contexts[cfg.Context]; ok {
		g.ReadOnly = g.ReadOnly || ctx.ReadOnly
		if ctx.Confirm == config.ConfirmTyped {
			g.typed = cfg.Context
		}
	}
	return cfg, path, nil
}

// readConfig reads the config in its context: --context, else
// $ONCALL_CONTEXT, else the config's current-context.
func (g *globalOptions) readConfig(e *env) (*config.Config, string, error) {
	path, explicit := config.Locate(g.ConfigPath, e.getenv)
	cfg, err := config.Load(path, explicit, e.LookupEnv)
	if err != nil {
		return nil, path, usageError{err}
	}
	name := g.Context
	if name == "" {
		name = e.getenv("ONCALL_CONTEXT")
	}
	if name == "" {
		name = cfg.CurrentContext
	}
	if err := cfg.UseContext(name); err != nil {
		return nil, path, usageError{fmt.Errorf("%s: %w", path, err)}
	}
	return cfg, path, nil
}

// styledOut wraps stdout so that colour is kept only on a terminal that
// supports it, and dropped under --no-color, NO_COLOR or a pipe.
func (g *globalOptions) styledOut(e *env) io.Writer {
	var environ []string
	for _, k := range []string{"TERM", "COLORTERM", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"} {
		if v, ok := e.LookupEnv(k); ok {
			environ = append(environ, k+"="+v)
		}
	}
	w := colorprofile.NewWriter(e.IO.Out, environ)
	if g.NoColor {
		w.Profile = colorprofile.Ascii
	}
	return w
}

// outputFlag adds -o/--output with the given formats, the first the default.
func outputFlag(cmd *cobra.Command, dst *string, formats ...string) {
	*dst = formats[0]
	cmd.Flags().StringVarP(dst, "output", "o", formats[0], fmt.Sprintf("output format: %v", formats))
	cmd.PreRunE = chainPreRun(cmd.PreRunE, func(*cobra.Command, []string) error {
		for _, f := range formats {
			if *dst == f {
				return nil
			}
		}
		return usagef("--output %q: want one of %v", *dst, formats)
	})
}

func chainPreRun(prev, next func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, a []string) error {
		if prev != nil {
			if err := prev(c, a); err != nil {
				return err
			}
		}
		return next(c, a)
	}
}
