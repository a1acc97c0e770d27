package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

// silencesOptions are the silence list's flags, and the factory it reads
// through.
type silencesOptions struct {
	*Factory
	output  string
	expired bool
	ledger  bool
	watch   watchOptions
	demo    DemoFlags
}

// NewCmdSilences is `oncall silences`: it lists silences, as `amtool
// silence query` does, and holds add and expire. runF, when set, runs
// instead of runSilenceQuery, so tests can read the options the flags
// gave.
func NewCmdSilences(f *Factory, runF func(context.Context, *silencesOptions) error) *cobra.Command {
	o := &silencesOptions{Factory: f}
	cmd := &cobra.Command{
		Use:     "silences",
		Aliases: []string{"silence"},
		Short:   "List, add and expire Alertmanager silences",
		Long: `silences lists the active and pending silences, as amtool does; --expired
lists the expired ones too. Its subcommands add and expire silences, each
after showing exactly what it will send and asking (the default is no).
The remediation ledger's records (silences on oncall_remediation, which
match no alert: locks, runs and proposals) are left out unless --ledger.
--demo reads the simulator instead, whose fleet starts with no silences;
add and expire refuse --demo, as the demo has no Alertmanager to write to.`,
		Example: `  oncall silences
  oncall silences --expired -o json
  oncall silences --demo db-pool-exhaustion`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSilenceQuery(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.expired, "expired", false, "list expired silences too")
	cmd.Flags().BoolVar(&o.ledger, "ledger", false, "list the remediation ledger's records too (locks, runs, proposals)")
	outputFlag(cmd, &o.output, "text", "json")
	o.watch.flags(cmd)
	o.demo.Register(cmd, 10*time.Minute)
	cmd.AddCommand(showData(NewCmdSilenceAdd(f, nil)), showData(NewCmdSilenceExpire(f, nil)))
	return cmd
}

func runSilenceQuery(ctx context.Context, o *silencesOptions) error {
	w, err := o.World(ctx, o.demo)
	if err != nil {
		return err
	}
	am := w.Sources.Alerts
	if am == nil {
		return usagef("no alertmanager datasource configured in %s (or try --demo retry-storm)", w.Path)
	}
	if o.watch.on {
		w.runOn(ctx)
	}
	return o.watch.run(ctx, o.Factory, func(ctx context.Context) (func() error, error) {
		all, err := am.Silences(ctx)
		if err != nil {
			return nil, err
		}
		sil := []sources.Silence{} // none is [] in JSON, not null
		for _, s := range all {
			if (o.expired || s.State != sources.SilenceExpired) && (o.ledger || !remediate.IsRecord(s)) {
				sil = append(sil, s)
			}
		}
		return func() error {
			if o.output == "json" {
				return writeJSONFor(o.IO.Out, sil, o.watch.on)
			}
			t := present.NewTable("ID", "STATE", "ENDS", "BY", "MATCHERS", "COMMENT")
			for _, s := range sil {
				t.Row(s.ID, string(s.State), o.Global.timestamp(s.EndsAt), s.CreatedBy, matchersString(s.Matchers), s.Comment)
			}
			return t.Render(o.IO.Out)
		}, nil
	})
}
