package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/remediate"
)

// runbookValidateOptions are runbook validate's arguments, and the
// factory it writes through.
type runbookValidateOptions struct {
	*Factory
	paths []string
}

// NewCmdRunbookValidate is `oncall runbook validate DIR|FILE...`; runF,
// when set, runs instead of runRunbookValidate, so tests can read the
// options the arguments gave.
func NewCmdRunbookValidate(f *Factory, runF func(context.Context, *runbookValidateOptions) error) *cobra.Command {
	o := &runbookValidateOptions{Factory: f}
	return &cobra.Command{
		Use:   "validate DIR|FILE...",
		Short: "Check runbook files: every problem with its file and line",
		Long: `validate reads runbook files (a directory's *.yaml, or files) and reports
every problem with its file and line: unknown fields, bad templates,
actions a step names that do not exist, data an action reads without a
typed input (inputs: NAME: {from, type}), an argument that begins with a
value that could be an option, and templates that reach code: a shell's
command string, an interpreter's program, the program a wrapper runs, a
command ssh sends (pass values to a fixed script as positional arguments:
bash -c 'restart "$1"' _ {{.Inputs.unit}}).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.paths = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRunbookValidate(o)
		},
	}
}

func runRunbookValidate(o *runbookValidateOptions) error {
	var all problem.Problems
	n := 0
	for _, a := range o.paths {
		st, err := os.Stat(a)
		if err != nil {
			return usageError{err}
		}
		if st.IsDir() {
			rbs, err := remediate.LoadDir(a)
			n += len(rbs)
			all = append(all, problemList(err)...)
			continue
		}
		b, err := os.ReadFile(a)
		if err != nil {
			return usageError{err}
		}
		if _, ps := remediate.Parse(b, a); len(ps) > 0 {
			all = append(all, ps...)
		} else {
			n++
		}
	}
	for _, p := range all {
		fmt.Fprintln(o.IO.Out, p.Error())
	}
	if len(all) > 0 {
		fmt.Fprintf(o.IO.ErrOut, "%d problem(s); %d runbook(s) valid\n", len(all), n)
		return exitError{code: exitFailed}
	}
	fmt.Fprintf(o.IO.Out, "%d runbook(s) valid\n", n)
	return nil
}
