package main

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// completionTimeout bounds a completion's backend request: a shell that
// waits on tab is worse than no suggestion.
const completionTimeout = 3 * time.Second

// complete builds a completion function from a source of candidates; a
// failed source completes nothing rather than file names.
func complete(list func(ctx context.Context) ([]cobra.Completion, error)) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		out, err := list(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeAlertNames offers the names of the alerts now firing.
func completeAlertNames(f *Factory) cobra.CompletionFunc {
	return complete(func(ctx context.Context) ([]cobra.Completion, error) {
		w, err := f.ConfigWorld()
		if err != nil {
			return nil, err
		}
		var alerts []sources.Alert
		if src := w.Sources.AlertSource(); src != nil {
			alerts, err = src.Alerts(ctx)
		}
		var out []cobra.Completion
		for _, a := range alerts {
			if !slices.Contains(out, a.Name) {
				out = append(out, a.Name)
			}
		}
		sort.Strings(out)
		return out, err
	})
}

// completeSilenceIDs offers the unexpired silences, described by their
// matchers.
func completeSilenceIDs(f *Factory) cobra.CompletionFunc {
	return complete(func(ctx context.Context) ([]cobra.Completion, error) {
		am, err := alertmanagerFrom(f)
		if err != nil {
			return nil, err
		}
		sil, err := am.Silences(ctx)
		var out []cobra.Completion
		for _, s := range sil {
			if s.State != sources.SilenceExpired {
				out = append(out, cobra.CompletionWithDesc(s.ID, matchersString(s.Matchers)))
			}
		}
		return out, err
	})
}

// completeServices offers the services the metrics backend knows.
func completeServices(f *Factory) cobra.CompletionFunc {
	return complete(func(ctx context.Context) ([]cobra.Completion, error) {
		w, err := f.ConfigWorld()
		if err != nil || w.Sources.Metrics == nil {
			return nil, err
		}
		return w.Sources.Metrics.Services(ctx)
	})
}

// completeScenarios offers the simulator's scenarios.
func completeScenarios(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, s := range sim.Scenarios() {
		out = append(out, cobra.CompletionWithDesc(s.Name, s.Description))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeContexts offers the config's contexts, described by their
// safety settings. It reads the file itself rather than through
// f.Config, which fails when the context in use does not exist: just
// when the names are wanted.
func completeContexts(f *Factory) cobra.CompletionFunc {
	return complete(func(context.Context) ([]cobra.Completion, error) {
		path, explicit := config.Locate(f.Global.ConfigPath, f.getenv)
		cfg, err := config.Load(path, explicit, f.LookupEnv)
		if err != nil {
			return nil, err
		}
		var out []cobra.Completion
		for _, n := range cfg.ContextNames() {
			out = append(out, cobra.CompletionWithDesc(n, contextSafety(cfg.Contexts[n])))
		}
		return out, nil
	})
}
