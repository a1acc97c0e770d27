package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
)

// auditOptions are audit's flags, and the factory it reads through.
type auditOptions struct {
	*Factory
	output, path string
	limit        int
	// demo reads the demo's audit log; a flag of its own, not DemoFlags:
	// it names a log, not a scenario to simulate.
	demo bool
}

// NewCmdAudit is `oncall audit`; runF, when set, runs instead of
// runAudit, so tests can read the options the flags gave.
func NewCmdAudit(f *Factory, runF func(context.Context, *auditOptions) error) *cobra.Command {
	o := &auditOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the audit log: every action, before and after, and unfinished ones",
		Long: `audit lists the append-only audit log ($XDG_DATA_HOME/oncall/audit.jsonl,
or the config's remediation.audit_log; --demo, the simulator's runs, which
go to demo-audit.jsonl beside it): one row per action with who, where,
when, the command as shown, the incident, and after it ran the exit code,
a digest of the output, the duration and the verification. An action whose
process died between the two entries is shown as UNFINISHED. Approvals,
rejections and escalations are listed too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runAudit(o)
		},
	}
	cmd.Flags().StringVar(&o.path, "file", "", "audit log to read (default: the config's remediation.audit_log, else $XDG_DATA_HOME/oncall/audit.jsonl)")
	cmd.Flags().IntVar(&o.limit, "limit", 0, "only the last N rows")
	demoLogFlag(cmd, &o.demo)
	cmd.MarkFlagsMutuallyExclusive("file", "demo")
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

// runAudit reads the log --file, --demo or the config names, and lists
// its last --limit rows; lines that are not entries are named on
// standard error.
func runAudit(o *auditOptions) error {
	path := o.path
	if o.demo {
		path = demoAuditPath(o.env)
	}
	if path == "" {
		// a config that does not load may name another log: say so
		// rather than read the default one
		cfg, _, err := o.Config()
		if err != nil {
			return err
		}
		path = auditPath(o.env, cfg.Remediation.AuditLog)
	}
	rows, bad, err := (&remediate.Audit{Path: path}).Read()
	if err != nil {
		return err
	}
	if o.limit > 0 && len(rows) > o.limit {
		rows = rows[len(rows)-o.limit:]
	}
	for _, b := range bad {
		fmt.Fprintln(o.IO.ErrOut, "oncall audit:", b)
	}
	if o.output == "json" {
		return writeJSON(o.IO.Out, rows)
	}
	return present.AuditText(o.IO.Out, present.NewAudit(path, rows, o.Global.zone()))
}
