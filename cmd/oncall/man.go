package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd prints the roff man page for oncall(1) and its subcommands'
// sections. Hidden: packagers call it, people read `man oncall`.
func newManCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:    "man",
		Short:  "Print the man page (roff) to stdout",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return doc.GenMan(root, &doc.GenManHeader{Title: "ONCALL", Section: "1", Source: "oncall " + buildVersion().Version}, cmd.OutOrStdout())
		},
	}
}
