package present

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/remediate"
)

// Audit is the audit log as oncall audit lists it, oldest first. Its
// strings are terminal-safe, newlines kept: the log is a file anyone
// with access may have edited.
type Audit struct {
	// Path is where the log was read from, said when it is empty.
	Path    string
	Zone    *time.Location // times are written in it; nil is UTC
	Entries []AuditEntry
}

// AuditEntry is one row of the log: an action, before it ran and after,
// or a decision (a proposal approved or rejected, an escalation sent).
type AuditEntry struct {
	Time time.Time
	// Who is user@host.
	Who             string
	Runbook, Target string
	// Decision marks a decision: Result says what was decided, and it is
	// the whole row.
	Decision bool
	Result   string
	Action   string
	Approval string // who said yes, and how
	Command  string // as shown: secrets as ‹secret:NAME›
	Incident string
	// ID is the action's, shared by its two entries.
	ID string
	// Unfinished is set when the action has no after entry: its process
	// stopped while it ran.
	Unfinished bool
	After      *AuditAfter
}

// AuditAfter is how an action ended, from its after entry.
type AuditAfter struct {
	Took   time.Duration
	Result string
	// ExitCode is "-" for an action that ran no process or never started.
	ExitCode     string
	OutputBytes  int
	OutputSHA256 string
	Verification string
	Error        string
}

// NewAudit presents the rows of the log at path, times in zone.
func NewAudit(path string, rows []remediate.Row, zone *time.Location) Audit {
	a := Audit{Path: path, Zone: zone}
	s := termsafe.Text
	for _, r := range rows {
		b := r.Before
		e := AuditEntry{Time: b.Time, Who: s(b.User + "@" + b.Host), Runbook: s(b.Runbook), Target: s(b.Target), Decision: b.Phase == remediate.PhaseDecision,
			Result: s(b.Result), Action: s(b.Action), Approval: s(b.Approval), Command: s(b.Command), Incident: s(b.Incident), ID: s(b.ID), Unfinished: r.Unfinished}
		if x := r.After; x != nil && !r.Unfinished {
			code := "-"
			if x.ExitCode != nil {
				code = fmt.Sprint(*x.ExitCode)
			}
			e.After = &AuditAfter{Took: time.Duration(x.DurationMS) * time.Millisecond, Result: s(x.Result), ExitCode: code,
				OutputBytes: x.OutputBytes, OutputSHA256: s(x.OutputSHA256), Verification: s(x.Verification), Error: s(x.Error)}
		}
		a.Entries = append(a.Entries, e)
	}
	return a
}

// AuditText writes the log as plain text: a decision on one line; an
// action on a line, then its command, its incident, and how it ended, or
// that it never said.
func AuditText(w io.Writer, a Audit) error {
	var b strings.Builder
	if len(a.Entries) == 0 {
		fmt.Fprintf(&b, "The audit log %s is empty.\n", a.Path)
	}
	for _, e := range a.Entries {
		at := timestamp(e.Time, a.Zone)
		if e.Decision {
			fmt.Fprintf(&b, "%s  %s  %s on %s: %s\n", at, e.Who, e.Runbook, e.Target, e.Result)
			continue
		}
		fmt.Fprintf(&b, "%s  %s  %s/%s on %s  [%s]\n", at, e.Who, e.Runbook, e.Action, e.Target, e.Approval)
		// a command's further lines stay under its first
		fmt.Fprintf(&b, "    command: %s\n", strings.ReplaceAll(e.Command, "\n", "\n             "))
		if e.Incident != "" {
			fmt.Fprintf(&b, "    incident: %s\n", e.Incident)
		}
		if e.Unfinished {
			fmt.Fprintf(&b, "    UNFINISHED: no after entry: the process stopped while it ran (id %s)\n", e.ID)
			continue
		}
		if x := e.After; x != nil {
			fmt.Fprintf(&b, "    after %s: %s, exit %s, output %d bytes sha256 %.12s", x.Took, x.Result, x.ExitCode, x.OutputBytes, x.OutputSHA256)
			if x.Verification != "" {
				fmt.Fprintf(&b, ", verification: %s", x.Verification)
			}
			if x.Error != "" {
				fmt.Fprintf(&b, ", error: %s", x.Error)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// timestamp is a full time in zone, with its offset; "-" when unknown.
func timestamp(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(zoneOr(zone)).Format(time.RFC3339)
}
