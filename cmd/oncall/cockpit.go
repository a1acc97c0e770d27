package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/themes"
	"github.com/oncall-cockpit/oncall/tui"
)

// cockpitOptions are the flags of the interactive cockpit.
type cockpitOptions struct {
	refresh, ackFor  time.Duration
	theme, themeFile string
	pane, noMouse    bool
}

// cockpitFlags adds the cockpit's flags: the root's, and demo's, whose
// text summary shares --refresh.
func cockpitFlags(cmd *cobra.Command, o *cockpitOptions) {
	durationFlag(cmd, &o.refresh, "refresh", "", 2*time.Second, "how often the cockpit (or the demo's text summary) reloads its data")
	cmd.Flags().StringVar(&o.theme, "theme", "", "cockpit theme: dark, light, high-contrast or colorblind (default: the config's, else dark)")
	cmd.Flags().BoolVar(&o.pane, "pane", false, "compact layout for a small pane: SLO gauges, the top alert and the status (automatic below 20 rows)")
	durationFlag(cmd, &o.ackFor, "ack-for", "", 30*time.Minute, "how long an acknowledgement (a silence signed with your name) lasts")
	cmd.Flags().BoolVar(&o.noMouse, "no-mouse", false, "leave the mouse to the terminal, to select text (the wheel and clicks then do nothing in the cockpit)")
	cmd.Flags().StringVar(&o.themeFile, "theme-file", "", "YAML palette laid over the theme (keys: text, muted, accent, ok, warn, bad, border, select, heading, and series: a list of colours)")
}

// runConfigCockpit is the root command: the cockpit on the config's
// datasources.
func runConfigCockpit(ctx context.Context, f *Factory, o *cockpitOptions) error {
	w, err := f.ConfigWorld()
	if err != nil {
		return err
	}
	if err := w.needSources("oncall demo"); err != nil {
		return err
	}
	if err := needTerminal(f); err != nil {
		return err
	}
	lctx, cancel := cockpitStoreContext(ctx)
	err = f.sharedLedger(lctx, w)
	cancel()
	if err != nil {
		// the cockpit still opens; its runbooks lock as they would without
		fmt.Fprintf(f.IO.ErrOut, "oncall: %v: runbooks lock through %s instead\n", err, lockWithout(w))
	}
	d := f.Deps(w, w.Path)
	if w.Config != nil {
		f.cockpitChaos(w, &d, w.Config.Chaos.ExperimentDir(f.getenv))
	}
	f.cockpitHistory(ctx, w, &d)
	d.Stats, d.DemoEpoch = f.cockpitStats(w)
	return runCockpit(ctx, f, o, d, w.Config.Theme)
}

// cockpitChaos gives the cockpit the experiments of dir, run through its
// kit's executor (the audit log, the read-only switch, the data's clock)
// on the world's signals; without a directory, C says chaos is not
// configured.
func (f *Factory) cockpitChaos(w *World, d *tui.Deps, dir string) {
	if dir == "" {
		return
	}
	k := d.Kit
	if k == nil {
		// no runbooks configured: experiments still act through the same
		// executor and audit log
		k = f.Kit(w)
	}
	es, err := chaos.LoadDir(dir)
	d.Chaos = &tui.ChaosDeps{Experiments: es, LoadErr: err, Dir: dir, Runner: func() *chaos.Runner {
		return &chaos.Runner{Exec: &k.Exec, Metrics: w.Sources.Metrics, SLIs: w.Sources.SLIs, SLOs: w.SLOs, Traces: w.Sources.Traces}
	}}
}

// lockWithout names the ledger a world's runbooks lock through without
// the PostgreSQL history's.
func lockWithout(w *World) string {
	if w.Sources.Alerts != nil {
		return "Alertmanager"
	}
	return "a file on this host"
}

// runCockpit runs the interactive cockpit on d until the user quits or
// ctx ends; configTheme is the config's theme, if any.
func runCockpit(ctx context.Context, f *Factory, o *cockpitOptions, d tui.Deps, configTheme string) error {
	if err := needTerminal(f); err != nil {
		return err
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
	d.Refresh, d.Timeout, d.Wall, d.AckFor, d.ReadOnly, d.Pane, d.Zone, d.NoMouse = o.refresh, 10*time.Second, time.Now, o.ackFor, f.Global.ReadOnly, o.pane, f.Global.zone(), o.noMouse
	if d.User = whoami(f.env); d.User == "" {
		d.User = "oncall"
	}
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(f.IO.In), tea.WithOutput(f.IO.Out)}
	if f.Global.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err = tea.NewProgram(tui.New(d, themes.New(pal)), opts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted: a normal way out
	}
	return err
}

// needTerminal refuses to open the cockpit without a terminal on stdin
// and stdout, or with -v writing onto it: before anything is opened for
// it (the history store).
func needTerminal(f *Factory) error {
	if !isTerminal(f.IO.Out) || !isTerminalReader(f.IO.In) {
		return usagef(`the cockpit needs a terminal, and stdin or stdout is not one.
Without a terminal, the same data comes from the text commands:
  oncall alerts       firing alerts          oncall incident   what broke first, and why
  oncall slo          error budgets          oncall logs       log lines
  oncall services     services by health     oncall trace ID   a trace's waterfall
  oncall doctor       the datasources        oncall demo --text  the simulator's summary`)
	}
	if f.Global.Verbose && isTerminal(f.IO.ErrOut) {
		return usagef("-v writes each backend request on stderr, which is the cockpit's terminal: send it elsewhere, as in\n  oncall -v 2>requests.log")
	}
	return nil
}

// isTerminal is whether w is a terminal: the cockpit draws, and text
// summaries clear and colour, only there.
func isTerminal(w io.Writer) bool {
	if t, ok := w.(terminalText); ok {
		w = t.w // made safe to write to, it is still the terminal
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// isTerminalReader is whether r is a terminal the cockpit can read keys
// from.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
