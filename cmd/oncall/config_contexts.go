package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/present"
)

// configGetContextsOptions are config get-contexts' flags, and the
// factory it reads through.
type configGetContextsOptions struct {
	*Factory
	output string
}

// NewCmdConfigGetContexts is `oncall config get-contexts`; runF, when
// set, runs instead of runConfigGetContexts, so tests can read the
// options the flags gave.
func NewCmdConfigGetContexts(f *Factory, runF func(context.Context, *configGetContextsOptions) error) *cobra.Command {
	o := &configGetContextsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "get-contexts",
		Short: "List the config's contexts; * marks the one in use",
		Long: `get-contexts lists the contexts (named stacks) of the config, like
kubectl config get-contexts: the one in use is marked *, chosen by
--context, else $ONCALL_CONTEXT, else current-context.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runConfigGetContexts(o)
		},
	}
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func runConfigGetContexts(o *configGetContextsOptions) error {
	cfg, _, err := o.Config()
	if err != nil {
		return err
	}
	type row struct {
		Name        string   `json:"name"`
		Current     bool     `json:"current"`
		Datasources []string `json:"datasources"`
		Safety      string   `json:"safety"`
	}
	var rows []row
	for _, n := range cfg.ContextNames() {
		c := cfg.Contexts[n]
		var ds []string
		c.Datasources.Each(func(name string, _ *config.Datasource) { ds = append(ds, name) })
		rows = append(rows, row{n, n == cfg.Context, ds, contextSafety(c)})
	}
	if o.output == "json" {
		return writeJSON(o.IO.Out, rows)
	}
	t := present.NewTable("CURRENT", "NAME", "DATASOURCES", "ACTIONS")
	for _, r := range rows {
		mark := ""
		if r.Current {
			mark = "*"
		}
		t.Row(mark, r.Name, strings.Join(r.Datasources, ", "), r.Safety)
	}
	return t.Render(o.IO.Out)
}

// configUseContextOptions are config use-context's context name, and the
// factory it writes through.
type configUseContextOptions struct {
	*Factory
	name string
}

// NewCmdConfigUseContext is `oncall config use-context`; runF, when set,
// runs instead of runConfigUseContext, so tests can read the options the
// arguments gave.
func NewCmdConfigUseContext(f *Factory, runF func(context.Context, *configUseContextOptions) error) *cobra.Command {
	o := &configUseContextOptions{Factory: f}
	return &cobra.Command{
		Use:   "use-context NAME",
		Short: "Make a context the config's current-context",
		Long: `use-context writes current-context into the config file, changing that
one line (or adding it at the top) and nothing else; comments and layout
are kept. The file is replaced whole or not at all.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeContexts(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runConfigUseContext(o)
		},
	}
}

// runConfigUseContext reads the file itself rather than through
// f.Config: the context in use may be the broken one being replaced.
func runConfigUseContext(o *configUseContextOptions) error {
	path, explicit := config.Locate(o.Global.ConfigPath, o.getenv)
	cfg, err := config.Load(path, explicit, o.LookupEnv)
	if err != nil {
		return usageError{err}
	}
	if err := cfg.UseContext(o.name); err != nil {
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, setCurrentContext(b, o.name), true); err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.IO.Out, "current-context: %s (%s)\n", o.name, path)
	return err
}

// currentContextLine is a top-level current-context line of a config.
var currentContextLine = regexp.MustCompile(`(?m)^current-context:.*$`)

// setCurrentContext changes the current-context line of a config file, or
// adds one at the top, leaving every other byte as it was.
func setCurrentContext(b []byte, name string) []byte {
	line := []byte("current-context: " + strconv.Quote(name))
	if currentContextLine.Match(b) {
		return currentContextLine.ReplaceAllLiteral(b, line)
	}
	return append(append(line, '\n'), b...)
}

// contextSafety says how carefully oncall acts in a context.
func contextSafety(c config.Context) string {
	switch {
	case c.ReadOnly:
		return "read-only"
	case c.Confirm == config.ConfirmTyped:
		return "actions need the name typed"
	}
	return "actions ask y/N"
}
