package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// configValidateOptions are what config validate reads through: it has
// no flags of its own.
type configValidateOptions struct {
	*Factory
}

// NewCmdConfigValidate is `oncall config validate`; runF, when set, runs
// instead of runConfigValidate.
func NewCmdConfigValidate(f *Factory, runF func(context.Context, *configValidateOptions) error) *cobra.Command {
	o := &configValidateOptions{Factory: f}
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the config file; every error names its line and column",
		Long: `validate reads the config file and reports every problem with its file,
line and column and what was expected. Unknown keys are errors, with a
suggestion when a known key is close. Exit status 1 when anything is wrong.
What is valid but probably not meant (an objective of 0.999, which is
0.999%, not 99.9%) is a warning on stderr and leaves the exit status at 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runConfigValidate(o)
		},
	}
}

func runConfigValidate(o *configValidateOptions) error {
	cfg, path, err := o.Config()
	if err != nil {
		return asCheck(err)
	}
	n := 0
	cfg.Datasources.Each(func(string, *config.Datasource) { n++ })
	// the warnings went to stderr as the config was read (Factory.Config)
	// and leave the exit status at 0, as promtool check config does: the
	// file is valid, if probably not as meant
	warned := ""
	if len(cfg.Warnings) > 0 {
		warned = "; " + humanize.Count(len(cfg.Warnings), "warning")
	}
	_, err = fmt.Fprintf(o.IO.Out, "%s: ok (%s, %s, %s%s)\n", path, humanize.Count(n, "datasource"), humanize.Count(len(cfg.Services), "service"), humanize.Count(len(cfg.SLOs), "SLO"), warned)
	return err
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
