package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

// servicesWindow is the span of RED series the services are judged on,
// as the cockpit's overview reads them: its first half gives each
// service's base p99.
const servicesWindow = 30 * time.Minute

// servicesSteps is how many steps the window is read in: the overview's
// thirty seconds over half an hour.
const servicesSteps = 60

// peerWindow is the span uninstrumented peers are judged over, as the
// overview judges them: the calls into them over the last five minutes
// against the half hour before.
const peerWindow = 5 * time.Minute

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
them, as "(from its callers)".

--sort orders them as the overview's s does: health (the worst first),
name, rate, errors or p99. A number that was not read is "—" in text and
null in JSON. When the metrics cannot be read, services says so and exits 3.`,
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
	durationFlag(cmd, &o.window, "window", "", servicesWindow, "how much of each service's series to read and judge it on")
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
	w, err := o.World(o.demo)
	if err != nil {
		return err
	}
	m := w.Sources.Metrics
	if m == nil {
		return usagef("no prometheus datasource configured in %s: services need one (or try --demo retry-storm)", w.Path)
	}
	now := w.Now()
	reds, err := m.RED(ctx, nil, sources.TimeRange{Start: now.Add(-o.window), End: now}, o.window/servicesSteps)
	if err != nil {
		fmt.Fprintf(o.IO.ErrOut, "oncall: the services' metrics could not be read: %v\n", err)
		return exitError{code: exitIncomplete}
	}
	rows := make([]correlate.ServiceStatus, 0, len(reds))
	for _, r := range reds {
		rows = append(rows, correlate.StatusOf(r))
	}
	peers, peersErr := peerStatuses(ctx, m, reds, now)
	if peersErr != nil {
		// before the data, as every incomplete answer is
		fmt.Fprintf(o.IO.ErrOut, "oncall: incomplete: the peers without metrics of their own are left out: the service graph could not be read (%v)\n", peersErr)
	}
	rows = append(rows, peers...)
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
	if peersErr != nil {
		return exitError{code: exitIncomplete}
	}
	return nil
}

// peerStatuses judges the peers the RED series do not cover from the
// service graph now and before (correlate.PeerStatuses). A backend with
// no service graph has none; a failed read of the graph before only
// leaves their base p99 out.
func peerStatuses(ctx context.Context, m sources.Metrics, reds []sources.RED, now time.Time) ([]correlate.ServiceStatus, error) {
	cur, err := m.ServiceGraph(ctx, now, peerWindow)
	if err != nil || len(cur) == 0 {
		return nil, err
	}
	base, err := m.ServiceGraph(ctx, now.Add(-peerWindow), servicesWindow)
	if err != nil {
		base = nil
	}
	names := make([]string, len(reds))
	for i, r := range reds {
		names[i] = r.Service
	}
	return correlate.PeerStatuses(cur, base, names), nil
}
