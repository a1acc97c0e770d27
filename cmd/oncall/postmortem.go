package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/slo"
)

// postmortemOptions are postmortem's argument and flags.
type postmortemOptions struct {
	*Factory
	id, output, format, owner string
	due                       time.Duration
}

// NewCmdPostmortem is `oncall postmortem ID|last`; runF, when set, runs
// instead of runPostmortem, so tests can read the options the flags gave.
func NewCmdPostmortem(f *Factory, runF func(context.Context, *postmortemOptions) error) *cobra.Command {
	o := &postmortemOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "postmortem ID|last",
		Short: "Write a postmortem draft of a past incident, from its record",
		Long: `postmortem writes a blameless postmortem draft of one record (last: the
newest, of any stack) from what oncall kept of it, the same draft as P
writes in the cockpit:

  - a summary, and the impact: the duration (onset to resolution), the
    failed requests and money (from the blast radius oncall saw live,
    from its first look on: a lower bound when that came after the
    onset, and the draft says by how much), the SLO budget consumed (read
    from Prometheus for the config's own stack's records, each SLO over
    its window up to the resolution);
  - the timeline, each time with its source: the onset (the incident
    view's anomaly detection), the alerts (Prometheus's ALERTS series or
    Alertmanager), acknowledgements (silences oncall signed), actions,
    approvals and escalations (the audit log), notes, the resolution;
  - the root cause and contributing factors, with the evidence: queries,
    trace IDs, log excerpts (trimmed, with counts), Grafana Explore links
    when the config has grafana.url;
  - what was done, from the audit log (commands as logged: secrets are
    ‹secret:NAME›);
  - what went well and badly, as prompts for people;
  - action items as a checklist, owned by --owner and due --due from now;
  - similar past incidents (same root-cause service and mechanism);
  - the chaos experiment that would have caught it.

Secrets never appear in it. --format github writes the action items as
GitHub issue bodies instead, one after another, to paste or to feed to
gh issue create.`,
		Example: `  oncall postmortem last
  oncall postmortem inc-3f2a9c1e --owner alice --due 7d > postmortem.md
  oncall postmortem last -o json | jq .impact
  oncall postmortem last --format github`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.id = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runPostmortem(cmd.Context(), o)
		},
	}
	outputFlag(cmd, &o.output, "markdown", "json")
	cmd.Flags().StringVar(&o.format, "format", "", `"github": the action items as GitHub issue bodies`)
	cmd.Flags().StringVar(&o.owner, "owner", "", "who owns the action items until the team assigns them (default: you, $USER)")
	durationFlag(cmd, &o.due, "due", "", history.DefaultDueIn, "when the action items fall due, from now")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"github"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// check refuses flags that contradict each other, before anything is read.
func (o *postmortemOptions) check() error {
	switch {
	case o.format != "" && o.format != "github":
		return usagef(`--format %q: the only format is "github"`, o.format)
	case o.format != "" && o.output == "json":
		return usagef("--format github writes issue bodies, -o json the draft: give one")
	case o.due <= 0:
		return usagef("--due %s: must be positive", timeparse.FormatDuration(o.due))
	}
	return nil
}

func runPostmortem(ctx context.Context, o *postmortemOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	st, err := o.HistoryStore(ctx)
	if err != nil {
		return err
	}
	cfg, _, err := o.Config()
	if err != nil {
		return err
	}
	owner := o.owner
	if owner == "" {
		owner = o.user()
	}
	var unread []unreadPart
	po := history.PostmortemOptions{Now: o.Now(), Zone: o.Global.zone(), Owner: owner, DueIn: o.due, Stack: stackName(cfg), Explore: o.explore(),
		ReadBudgets: func(ctx context.Context, r history.Record) ([]history.SLOAccount, error) {
			// the world, and its backends, only when there are SLOs to read
			if len(cfg.SLOs) == 0 || cfg.Datasources.Prometheus == nil {
				return nil, nil
			}
			w, err := o.ConfigWorld()
			if err != nil {
				unread = append(unread, unreadOf("SLO budgets", err))
				return nil, err
			}
			return budgetReader(w, o.Now, &unread)(ctx, r)
		}}
	d, err := history.DraftFrom(ctx, st, o.id, po)
	switch {
	case errors.Is(err, history.ErrNoRecords):
		return usagef("no incidents in %s yet: oncall history reconstructs them from the stack, and the cockpit, oncall incident --record, runbooks and the autopilot record them live", st.Where())
	case errors.Is(err, history.ErrNotFound):
		// the error that names the IDs near the one given
		_, err = getRecord(ctx, st, o.id)
		return err
	case err != nil:
		return err
	}
	exit := incomplete(o.Factory, false, unread)
	switch {
	case o.output == "json":
		err = writeJSON(o.IO.Out, d)
	case o.format == "github":
		_, err = io.WriteString(o.IO.Out, d.GitHubIssues())
	default:
		_, err = io.WriteString(o.IO.Out, d.Markdown())
	}
	if err != nil {
		return err
	}
	return exit
}

// budgetReader reads w's SLO budgets for drafts (history.DraftFrom): for
// each SLO its account over its window up to the record's end (its
// resolution, else now), from which the draft takes the budget the
// incident consumed. oncall postmortem and the cockpit's P read through
// it. unread, when not nil, receives what could not be read.
func budgetReader(w *World, now func() time.Time, unread *[]unreadPart) history.BudgetReader {
	return func(ctx context.Context, r history.Record) ([]history.SLOAccount, error) {
		if len(w.SLOs) == 0 || w.Sources.SLIs == nil {
			return nil, nil
		}
		at := now()
		if !r.Open() && r.Resolved.T.Before(at) {
			at = r.Resolved.T
		}
		var accounts []history.SLOAccount
		var missed []unreadPart
		for _, s := range w.SLOs {
			b := slo.LoadBudget(ctx, w.Sources.SLIs, s, at)
			if b.Err != "" {
				missed = append(missed, unreadPart{What: s.Name + " budget", Err: b.Err, Cause: b.Cause})
				continue
			}
			h, err := slo.LoadAccount(ctx, w.Sources.SLIs, b)
			if err != nil {
				missed = append(missed, unreadOf(s.Name+" budget history", err))
				continue
			}
			accounts = append(accounts, history.SLOAccount{Objective: s, History: h})
		}
		if unread != nil {
			*unread = append(*unread, missed...)
		}
		if len(missed) == 0 {
			return accounts, nil
		}
		// none read is not known, not none spent: accounts stays nil
		return accounts, errors.New(strings.Join(whole(missed), "; "))
	}
}

// explore is the config's Grafana, for the draft's links; DraftFrom
// links only the config's own stack's records into it.
func (o *postmortemOptions) explore() *grafana.Explore {
	cfg, _, err := o.Config()
	if err != nil || cfg.Grafana.URL == "" {
		return nil
	}
	return &grafana.Explore{URL: cfg.Grafana.URL, UIDs: cfg.Grafana.Datasources}
}
