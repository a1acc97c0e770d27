package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
)

// historyListOptions are history list's flags.
type historyListOptions struct {
	historyOptions
}

const historyListExample = `  oncall history
  oncall history --since 7d --service checkout-api
  oncall history --offline -o json
  oncall history show inc-3f2a9c1e
  oncall history note inc-3f2a9c1e "pool size raised to 50 by hand"
  oncall history resolve inc-3f2a9c1e --note "fixed by the 14:02 rollback"`

// NewCmdHistoryList is `oncall history list`; runF, when set, runs
// instead of runHistoryList, so tests can read the options the flags gave.
func NewCmdHistoryList(f *Factory, runF func(context.Context, *historyListOptions) error) *cobra.Command {
	o := &historyListOptions{historyOptions: historyOptions{Factory: f}}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List past incidents, newest first, after reconstructing them from the stack",
		Long: historyLong + `

list first reconstructs the incidents of the last --since from the
config's stack (Prometheus's ALERTS series, Alertmanager's silences, the
audit log) and merges them into the store, unless --offline; a backend
that does not answer is named, the rest is still listed, and the exit
status is 3. It then lists every stack's records in the store, newest
first: ID, stack, when it was detected (the first alert's firing), its
severity, how long it took to resolve (from the onset, as MTTR counts, else from
the detection), its services and its title. The
demo's records are dated on the simulator's clock (from 27 November 2026),
and --since counts back from the newest of them.`,
		Example: historyListExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runHistoryList(cmd.Context(), o)
		},
	}
	o.flags(cmd)
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func runHistoryList(ctx context.Context, o *historyListOptions) error {
	sel, unread, err := o.load(ctx)
	if err != nil {
		return err
	}
	exit := incomplete(o.Factory, false, unread)
	if o.output == "json" {
		if err := writeJSON(o.IO.Out, sel.Records); err != nil {
			return err
		}
		return exit
	}
	if err := o.writeList(sel); err != nil {
		return err
	}
	return exit
}

// writeList writes the records as a table, and what they stand on.
func (o *historyListOptions) writeList(sel selection) error {
	where := sel.Where
	if len(sel.Records) == 0 {
		fmt.Fprintf(o.IO.Out, "No incidents since %s in %s.\n", o.Global.timestamp(sel.Since), where)
		return nil
	}
	t := present.NewTable("ID", "STACK", "DETECTED", "SEVERITY", "RESOLVED", "SERVICES", "TITLE")
	for _, r := range sel.Records {
		t.Row(r.ID, r.Stack, o.Global.timestamp(r.When()), dash(r.Severity), resolvedIn(r), servicesCell(r), r.Title)
	}
	if err := t.Render(o.IO.Out); err != nil {
		return err
	}
	since := o.Global.timestamp(sel.Since)
	if !sel.DemoNow.IsZero() {
		since += " (the demo's since " + o.Global.timestamp(sel.DemoSince) + ", on the simulator's clock)"
	}
	fmt.Fprintf(o.IO.Out, "\n%s since %s in %s. DETECTED is the first alert's firing (else the onset); RESOLVED counts from the onset, as MTTR does (* from the first alert: the onset is unknown). oncall history show ID gives every time with its source.\n",
		humanize.Count(len(sel.Records), "incident"), since, where)
	return nil
}

// resolvedIn is how long a record took to resolve, as MTTR counts it
// (history.RecordFigures): from the onset, else (marked *) from the
// detection; or that it is open.
func resolvedIn(r history.Record) string {
	if r.Open() {
		return "open"
	}
	f := history.RecordFigures(r)
	switch {
	case !f.Resolve.OK:
		return "yes" // its stamps are at odds: resolved, for how long unknown
	case f.FromDetection:
		return "after " + history.Span(f.Resolve.D) + "*"
	}
	return "after " + history.Span(f.Resolve.D)
}

// servicesCell is the root cause first, then the other services, cut
// to a few.
func servicesCell(r history.Record) string {
	const shown = 3
	var names []string
	if r.Root != "" {
		names = append(names, r.Root+" (root)")
	}
	for _, s := range r.Services {
		if s != r.Root {
			names = append(names, s)
		}
	}
	if len(names) > shown {
		names = append(names[:shown], fmt.Sprintf("+%d", len(names)-shown))
	}
	return dash(strings.Join(names, ", "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
