package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// sloValidateOptions are the files `oncall slo validate` checks; none
// checks the config's SLOs.
type sloValidateOptions struct {
	*Factory
	files []string
}

// NewCmdSLOValidate is `oncall slo validate [FILE...]`; runF, when set,
// runs instead of runSLOValidate, so tests can read the options the
// arguments gave.
func NewCmdSLOValidate(f *Factory, runF func(context.Context, *sloValidateOptions) error) *cobra.Command {
	o := &sloValidateOptions{Factory: f}
	return &cobra.Command{
		Use:   "validate [FILE...]",
		Short: "Check SLO files, or the config's SLOs; every error names its file and line",
		Long: `validate checks SLO files (Sloth, Pyrra, OpenSLO or oncall's), or with no
FILE the config's slos and the files its slo_files lists. Each problem
names its file and line. Exit status 1 when anything is wrong.`,
		Example: `  oncall slo validate
  oncall slo validate sloth/*.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSLOValidate(o)
		},
	}
}

func runSLOValidate(o *sloValidateOptions) error {
	if len(o.files) == 0 {
		cfg, path, err := o.Config()
		if err != nil {
			return asCheck(err)
		}
		_, err = fmt.Fprintf(o.IO.Out, "%s: ok (%s%s)\n", path, humanize.Count(len(cfg.SLOs), "SLO"), byFormat(cfg.SLOs))
		return err
	}
	slos, err := importFiles(o.files, o.IO.ErrOut)
	if err != nil {
		return asCheck(err)
	}
	_, err = fmt.Fprintf(o.IO.Out, "ok: %s%s\n", humanize.Count(len(slos), "SLO"), byFormat(slos))
	return err
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
