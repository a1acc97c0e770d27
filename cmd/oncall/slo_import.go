package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/problem"
)

// sloImportOptions are the flags of `oncall slo import`, and the files it
// reads.
type sloImportOptions struct {
	*Factory
	output string
	files  []string
}

// NewCmdSLOImport is `oncall slo import FILE...`; runF, when set, runs
// instead of runSLOImport, so tests can read the options the flags gave.
func NewCmdSLOImport(f *Factory, runF func(context.Context, *sloImportOptions) error) *cobra.Command {
	o := &sloImportOptions{Factory: f}
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
			o.files = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSLOImport(o)
		},
	}
	outputFlag(cmd, &o.output, "yaml", "json")
	return cmd
}

func runSLOImport(o *sloImportOptions) error {
	slos, err := importFiles(o.files, o.IO.ErrOut)
	if err != nil {
		return err
	}
	if o.output == "json" {
		return writeJSON(o.IO.Out, slos)
	}
	return writeSLOYAML(o.IO.Out, slos)
}

// importFiles reads every file; the error holds every problem of all,
// and what is valid but probably not meant goes to warn at its line.
func importFiles(paths []string, warn io.Writer) ([]config.SLO, error) {
	var all []config.SLO
	var problems problem.Problems
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usageError{err}
		}
		slos, warnings, err := config.ImportSLOs(p, b)
		writeWarnings(warn, warnings)
		var ps problem.Problems
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
