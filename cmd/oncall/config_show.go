package main

import (
	"context"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// configShowOptions are config show's flags, and the factory it reads
// through.
type configShowOptions struct {
	*Factory
	output string
}

// NewCmdConfigShow is `oncall config show`; runF, when set, runs instead
// of runConfigShow, so tests can read the options the flags gave.
func NewCmdConfigShow(f *Factory, runF func(context.Context, *configShowOptions) error) *cobra.Command {
	o := &configShowOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective config, defaults filled in and secrets redacted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runConfigShow(o)
		},
	}
	outputFlag(cmd, &o.output, "yaml", "json")
	return cmd
}

func runConfigShow(o *configShowOptions) error {
	cfg, _, err := o.Config()
	if err != nil {
		return err
	}
	if o.output == "json" {
		return writeJSON(o.IO.Out, cfg)
	}
	enc := yaml.NewEncoder(o.IO.Out)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return err
	}
	return enc.Close()
}
