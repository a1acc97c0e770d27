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

func (g *globalOptions) backends(e *env) (*backends, error) {
	cfg, _, err := g.loadConfig(e)
	if err != nil {
		return nil, err
	}
	return newBackends(cfg)
}

// completeAlertNames offers the names of the alerts now firing.
func completeAlertNames(e *env, g *globalOptions) cobra.CompletionFunc {
	return complete(func(ctx context.Context) ([]cobra.Completion, error) {
		b, err := g.backends(e)
		if err != nil {
			return nil, err
		}
		var alerts []sources.Alert
		switch {
		case b.Alertmanager != nil:
			alerts, err = b.Alertmanager.Alerts(ctx)
		case b.Prometheus != nil:
			alerts, err = b.Prometheus.Alerts(ctx)
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
func completeSilenceIDs(e *env, g *globalOptions) cobra.CompletionFunc {
	return complete(func(ctx context.Context) ([]cobra.Completion, error) {
		am, err := alertmanagerFrom(e, g)
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
func completeServices(e *env, g *globalOptions) cobra.CompletionFunc {
	return complete(func(ctx context.Context) ([]cobra.Completion, error) {
		b, err := g.backends(e)
		if err != nil || b.Prometheus == nil {
			return nil, err
		}
		return b.Prometheus.Services(ctx)
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
// safety settings.
func completeContexts(e *env, g *globalOptions) cobra.CompletionFunc {
	return complete(func(context.Context) ([]cobra.Completion, error) {
		path, explicit := config.Locate(g.ConfigPath, e.getenv)
		cfg, err := config.Load(path, explicit, e.LookupEnv)
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

// contextSafety says how carefully oncall acts in a context.
func contextSafety(c config.Context) string {
	switch {
	case c.ReadOnly:
		return "read-only"
	case c.Confirm == config.ConfirmTyped:
		return "actions need the name typed"
	}
	return "actions ask y/N"
}
