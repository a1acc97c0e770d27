package main

import (
	"context"
	"errors"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/themes"
	"github.com/oncall-cockpit/oncall/tui"
)

// cockpitOptions are the flags of the interactive cockpit.
type cockpitOptions struct {
	refresh, ackFor  time.Duration
	theme, themeFile string
	pane, noMouse    bool
}

func cockpitFlags(cmd *cobra.Command, o *cockpitOptions) {
	cmd.Flags().DurationVar(&o.refresh, "refresh", 2*time.Second, "how often the cockpit (or the demo's text summary) reloads its data")
	cmd.Flags().StringVar(&o.theme, "theme", "", "cockpit theme: dark, light, high-contrast or colorblind (default: the config's, else dark)")
	cmd.Flags().BoolVar(&o.pane, "pane", false, "compact layout for a small pane: SLO gauges, the top alert and the status (automatic below 20 rows)")
	cmd.Flags().DurationVar(&o.ackFor, "ack-for", 30*time.Minute, "how long an acknowledgement (a silence signed with your name) lasts")
	cmd.Flags().BoolVar(&o.noMouse, "no-mouse", false, "leave the mouse to the terminal, to select text (the wheel and clicks then do nothing in the cockpit)")
	cmd.Flags().StringVar(&o.themeFile, "theme-file", "", "YAML palette laid over the theme (keys: text, muted, accent, ok, warn, bad, border, select, heading, and series: a list of colours)")
}

// runCockpit runs the interactive cockpit until the user quits or ctx ends.
func runCockpit(ctx context.Context, e *env, g *globalOptions, o *cockpitOptions, d tui.Deps, configTheme string) error {
	if !isTerminal(e.IO.Out) || !isTerminalReader(e.IO.In) {
		return usagef(`the cockpit needs a terminal, and stdin or stdout is not one.
Without a terminal, the same data comes from the text commands:
  oncall alerts       firing alerts          oncall incident   what broke first, and why
  oncall slo          error budgets          oncall logs       log lines
  oncall doctor       the datasources        oncall demo --text  the simulator's summary`)
	}
	if o.refresh < 200*time.Millisecond {
		return usagef("--refresh %s: at least 200ms", o.refresh)
	}
	name, file := o.theme, o.themeFile
	if name == "" {
		name = configTheme
	}
	if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		// the config's theme may be a palette file over the dark theme
		name, file = "dark", name
	}
	pal, err := themes.Load(name, file)
	if err != nil {
		return err
	}
	if o.ackFor <= 0 {
		return usagef("--ack-for %s: must be positive", o.ackFor)
	}
	d.Refresh, d.Timeout, d.Wall, d.AckFor, d.ReadOnly, d.Pane, d.Zone, d.NoMouse = o.refresh, 10*time.Second, time.Now, o.ackFor, g.ReadOnly, o.pane, g.zone(), o.noMouse
	if d.User = whoami(e); d.User == "" {
		d.User = "oncall"
	}
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(e.IO.In), tea.WithOutput(e.IO.Out)}
	if g.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err = tea.NewProgram(tui.New(d, themes.New(pal)), opts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted: a normal way out
	}
	return err
}

// simDeps points the cockpit at a running simulated fleet.
func simDeps(f *sim.Fleet, title string) tui.Deps {
	return tui.Deps{Title: title, Sources: simSources(f), SLOs: simSLOs(f.Topology()), Meta: simMeta(f.Topology()), Now: f.Now}
}

// configDeps points the cockpit at the configured datasources.
func configDeps(e *env, g *globalOptions, cfg *config.Config, path string) (tui.Deps, error) {
	b, err := newBackends(cfg)
	if err != nil {
		return tui.Deps{}, err
	}
	src := b.correlateSources()
	if src == (correlate.Sources{}) {
		return tui.Deps{}, usagef("no datasources configured in %s: add them (oncall config import-grafana helps), or try oncall demo", path)
	}
	slos := configSLOs(cfg)
	runbooks := map[string][]string{}
	for name, s := range cfg.Services {
		if len(s.Runbooks) > 0 {
			runbooks[name] = s.Runbooks
		}
	}
	d := tui.Deps{Title: path, Sources: src, SLOs: slos, Meta: configMeta(cfg), Now: time.Now, Runbooks: runbooks, Context: cfg.Context,
		Explore: grafana.Explore{URL: cfg.Grafana.URL, UIDs: cfg.Grafana.Datasources}}
	if ctx, ok := cfg.Contexts[cfg.Context]; ok {
		d.ContextColor, d.ConfirmTyped = ctx.Color, ctx.Confirm == config.ConfirmTyped
	}
	if cfg.Runbooks != "" {
		d.Kit = configKit(e, g, cfg, src)
	}
	return d, nil
}
