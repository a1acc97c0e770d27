package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/humanize"
)

func newConfigCmd(e *env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Validate, show and import configuration",
	}
	cmd.AddCommand(newConfigValidateCmd(e, g), newConfigShowCmd(e, g), newConfigImportGrafanaCmd(e),
		newGetContextsCmd(e, g), newUseContextCmd(e, g))
	return cmd
}

func newGetContextsCmd(e *env, g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get-contexts",
		Short: "List the config's contexts; * marks the one in use",
		Long: `get-contexts lists the contexts (named stacks) of the config, like
kubectl config get-contexts: the one in use is marked *, chosen by
--context, else $ONCALL_CONTEXT, else current-context.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.loadConfig(e)
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
			if output == "json" {
				return writeJSON(e.IO.Out, rows)
			}
			t := newTable("CURRENT", "NAME", "DATASOURCES", "ACTIONS")
			for _, r := range rows {
				mark := ""
				if r.Current {
					mark = "*"
				}
				t.row(mark, r.Name, strings.Join(r.Datasources, ", "), r.Safety)
			}
			return t.render(e.IO.Out)
		},
	}
	outputFlag(cmd, &output, "text", "json")
	return cmd
}

func newUseContextCmd(e *env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "use-context NAME",
		Short: "Make a context the config's current-context",
		Long: `use-context writes current-context into the config file, changing that
one line (or adding it at the top) and nothing else; comments and layout
are kept. The file is replaced whole or not at all.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeContexts(e, g),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, explicit := config.Locate(g.ConfigPath, e.getenv)
			cfg, err := config.Load(path, explicit, e.LookupEnv)
			if err != nil {
				return usageError{err}
			}
			if err := cfg.UseContext(args[0]); err != nil {
				return usageError{fmt.Errorf("%s: %w", path, err)}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := writeFileAtomic(path, setCurrentContext(b, args[0]), true); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.IO.Out, "current-context: %s (%s)\n", args[0], path)
			return err
		},
	}
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

func newConfigValidateCmd(e *env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the config file; every error names its line and column",
		Long: `validate reads the config file and reports every problem with its file,
line and column and what was expected. Unknown keys are errors, with a
suggestion when a known key is close. Exit status 1 when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, path, err := g.loadConfig(e)
			if err != nil {
				return asCheck(err)
			}
			n := 0
			cfg.Datasources.Each(func(string, *config.Datasource) { n++ })
			_, err = fmt.Fprintf(e.IO.Out, "%s: ok (%s, %s, %s)\n", path, humanize.Count(n, "datasource"), humanize.Count(len(cfg.Services), "service"), humanize.Count(len(cfg.SLOs), "SLO"))
			return err
		},
	}
}

func newConfigShowCmd(e *env, g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective config, defaults filled in and secrets redacted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.loadConfig(e)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(e.IO.Out, cfg)
			}
			enc := yaml.NewEncoder(e.IO.Out)
			enc.SetIndent(2)
			if err := enc.Encode(cfg); err != nil {
				return err
			}
			return enc.Close()
		},
	}
	outputFlag(cmd, &output, "yaml", "json")
	return cmd
}

func newConfigImportGrafanaCmd(e *env) *cobra.Command {
	var write string
	var force bool
	cmd := &cobra.Command{
		Use:   "import-grafana FILE...",
		Short: "Write oncall datasources and conventions from Grafana provisioning YAML",
		Long: `import-grafana reads Grafana datasource provisioning files and writes the
matching oncall config: the Prometheus, Loki, Tempo and Alertmanager
datasources (URL, basic auth, headers, X-Scope-OrgID tenant, TLS), Loki
derived fields that link to Tempo as trace-ID regexes, and Tempo's
traces-to-logs mapping of service.name as the Loki service label.

Secrets are never copied: each becomes a ${VAR} reference and the variables
to set are listed on stderr.`,
		Example: `  oncall config import-grafana -w ~/.config/oncall/config.yaml /etc/grafana/provisioning/datasources/*.yaml
  oncall config import-grafana grafana-datasources.yaml          # print it, to read first`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files := map[string][]byte{}
			for _, a := range args {
				b, err := os.ReadFile(a)
				if err != nil {
					return usageError{err}
				}
				files[a] = b
			}
			imp, err := config.ImportGrafana(files)
			if err != nil {
				return usageError{err}
			}
			for _, n := range imp.Notes {
				fmt.Fprintln(e.IO.ErrOut, "note:", n)
			}
			if write == "" {
				_, err = e.IO.Out.Write(imp.YAML)
				return err
			}
			if err := writeFileAtomic(write, imp.YAML, force); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.IO.ErrOut, "wrote %s; check it with: oncall config validate --config %s\n", write, write)
			return err
		},
	}
	cmd.Flags().StringVarP(&write, "write", "w", "", "write to this file instead of stdout; an existing file is kept unless --force")
	cmd.Flags().BoolVar(&force, "force", false, "with --write, replace an existing file")
	return cmd
}

// asCheck turns a usage error (a bad config or file) into what it is
// for a validate command: the check failing, exit 1.
func asCheck(err error) error {
	var bad usageError
	if errors.As(err, &bad) {
		return bad.error
	}
	return err
}

// writeFileAtomic writes a config file whole or not at all: into a
// temporary file beside it, synced, then renamed over it. An existing file
// is replaced only with replace; a failure leaves it as it was.
func writeFileAtomic(path string, b []byte, replace bool) error {
	if _, err := os.Stat(path); err == nil && !replace {
		return usagef("%s exists (use --force to replace it)", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
