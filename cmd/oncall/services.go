package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
)

// servicesOptions are services' flags, and the factory it reads through.
type servicesOptions struct {
	*Factory
	output, sortBy string
	window         time.Duration
	demo           DemoFlags
}

// NewCmdServices is `oncall services`; runF, when set, runs instead of
// runServices, so tests can read the options the flags gave.
func NewCmdServices(f *Factory, runF func(context.Context, *servicesOptions) error) *cobra.Command {
	o := &servicesOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "services",
		Short: "List the services with their request rate, errors, p99 and health, as the cockpit's overview does",
		Long: `services reads every service's request, error and p99 latency series over
--window and lists each one's figures at the last step, and its health as
the cockpit's overview judges it: failing or degraded on its error ratio,
or on its p99 against the first half of the window. Databases, caches and
other peers without metrics of their own are judged from the calls into
them, marked "(peer)". WHY says what a service that is not ok was judged
on: its error ratio, or its p99 against its base (the median p99 of the
window's first half); -o json has them as "reason" and "base_p99_seconds".

--sort orders them as the overview's s does: health (the worst first),
name, rate, errors or p99. A number that was not read is "—" in text and
null in JSON. When the metrics cannot be read, services says so and exits 3;
when only the service graph cannot, it says first that the peers are
missing, lists the services, and exits 3.`,
		Example: `  oncall services
  oncall services --sort errors
  oncall services --demo db-pool-exhaustion -o json | jq '.services[] | select(.health != "ok")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runServices(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.sortBy, "sort", present.ServiceSorts[0], "order: "+strings.Join(present.ServiceSorts, ", "))
	_ = cmd.RegisterFlagCompletionFunc("sort", cobra.FixedCompletions(present.ServiceSorts, cobra.ShellCompDirectiveNoFileComp))
	durationFlag(cmd, &o.window, "window", "", correlate.ServicesWindow, "how much of each service's series to read and judge it on")
	outputFlag(cmd, &o.output, "text", "json")
	o.demo.Register(cmd, 10*time.Minute)
	return cmd
}

func runServices(ctx context.Context, o *servicesOptions) error {
	if !slices.Contains(present.ServiceSorts, o.sortBy) {
		return usagef("--sort %q: one of %s", o.sortBy, strings.Join(present.ServiceSorts, ", "))
	}
	if o.window < 2*time.Minute {
		return usagef("--window %s: at least 2m, so that a p99 has a first half to be judged against", o.window)
	}
	w, err := o.World(ctx, o.demo)
	if err != nil {
		return err
	}
	m := w.Sources.Metrics
	if m == nil {
		return usagef("no prometheus datasource configured in %s: services need one (or try --demo retry-storm)", w.Path)
	}
	now := w.Now()
	rows, err := correlate.ServiceStatuses(ctx, m, o.window, now)
	incomplete := errors.Is(err, correlate.ErrPeersUnread)
	switch {
	case incomplete:
		// before the data, as every incomplete answer is
		fmt.Fprintf(o.IO.ErrOut, "oncall: incomplete: %v\n", err)
	case err != nil:
		fmt.Fprintf(o.IO.ErrOut, "oncall: the services' metrics could not be read: %v\n", err)
		return exitError{code: exitIncomplete}
	}
	// a service whose series answered no finite value is not calm
	if n := correlate.UnreadCount(rows); n > 0 && err == nil {
		incomplete = true
		fmt.Fprintf(o.IO.ErrOut, "oncall: incomplete: %s read no number (Prometheus answered NaN or nothing)\n", humanize.Count(n, "service"))
	}
	present.SortServices(rows, o.sortBy)
	s := present.NewServices(rows, now, w.Label, o.window, o.sortBy)
	if o.output == "json" {
		err = writeJSON(o.IO.Out, s)
	} else {
		err = present.ServicesText(o.IO.Out, s, o.Global.zone())
	}
	if err != nil {
		return err
	}
	if incomplete {
		return exitError{code: exitIncomplete}
	}
	return nil
}
