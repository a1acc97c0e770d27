package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/oncall-cockpit/oncall/tui"
)

// manOptions are man's flags, and the factory it writes through.
type manOptions struct {
	*Factory
	dir string
	// root is the tree whose pages are written, set when man runs.
	root *cobra.Command
}

// NewCmdMan is `oncall man`: oncall(1) to stdout, or one page per command
// into --dir. Hidden: packagers call it, people read `man oncall`. runF,
// when set, runs instead of runMan, so tests can read the options the
// flags gave.
func NewCmdMan(f *Factory, runF func(context.Context, *manOptions) error) *cobra.Command {
	o := &manOptions{Factory: f}
	cmd := &cobra.Command{
		Use:    "man [--dir DIR]",
		Short:  "Write the man pages (roff): oncall(1) to stdout, or every command's page into --dir",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.root = cmd.Root()
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runMan(o)
		},
	}
	cmd.Flags().StringVar(&o.dir, "dir", "", "write oncall.1, oncall-alerts.1, … into this directory")
	return cmd
}

func runMan(o *manOptions) error {
	o.root.DisableAutoGenTag = true // no build date: reproducible pages
	if o.dir == "" {
		page, err := manPage(o.root)
		if err != nil {
			return err
		}
		_, err = o.IO.Out.Write(page)
		return err
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	return eachCommand(o.root, func(c *cobra.Command) error {
		page, err := manPage(c)
		if err != nil {
			return err
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		return os.WriteFile(filepath.Join(o.dir, name), page, 0o644)
	})
}

// eachCommand calls fn for c and every command below it that has a page:
// the ones SEE ALSO names.
func eachCommand(c *cobra.Command, fn func(*cobra.Command) error) error {
	if err := fn(c); err != nil {
		return err
	}
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := eachCommand(sub, fn); err != nil {
			return err
		}
	}
	return nil
}

// manPage is cobra's page for c with the sections cobra does not write:
// EXIT STATUS, ENVIRONMENT and FILES, and KEYS for the cockpit's pages.
func manPage(c *cobra.Command) ([]byte, error) {
	var b bytes.Buffer
	if err := doc.GenMan(c, &doc.GenManHeader{Title: strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-")), Section: "1",
		Source: "oncall " + buildVersion().Version, Manual: "oncall manual"}, &b); err != nil {
		return nil, err
	}
	var extra strings.Builder
	if c.Name() == "oncall" || c.Name() == "demo" {
		extra.WriteString(".SH KEYS\nIn the cockpit:\n.TP\n")
		first := true
		for _, col := range tui.DefaultKeyMap().FullHelp() {
			for _, k := range col {
				if !first {
					extra.WriteString(".TP\n")
				}
				first = false
				fmt.Fprintf(&extra, "\\fB%s\\fP\n%s\n", roff(k.Help().Key), roff(k.Help().Desc))
			}
		}
	}
	extra.WriteString(".SH EXIT STATUS\n.nf\n" + roff(strings.TrimPrefix(exitStatus, "Exit status:\n")) + "\n.fi\n")
	extra.WriteString(`.SH ENVIRONMENT
.TP
\fBONCALL_CONFIG\fP
the config file, when --config is not given
.TP
\fBXDG_CONFIG_HOME\fP
where the default config file is looked for ($XDG_CONFIG_HOME/oncall/config.yaml)
.TP
\fBONCALL_TIMEZONE\fP
the zone times are written in, when --timezone is not given
.TP
\fBNO_COLOR\fP
no colour, as --no-color
.TP
\fBUSER\fP
who signs silences, acknowledgements and audit entries (else the OS user name)
.TP
\fBXDG_DATA_HOME\fP
where the audit log is kept ($XDG_DATA_HOME/oncall/audit.jsonl), unless remediation.audit_log says
.SH FILES
.TP
\fI$XDG_CONFIG_HOME/oncall/config.yaml\fP
the default config file (~/.config/oncall/config.yaml)
.TP
\fI$XDG_DATA_HOME/oncall/audit.jsonl\fP
the append-only audit log of every action (~/.local/share/oncall/audit.jsonl)
`)
	page := b.String()
	at := strings.Index(page, ".SH SEE ALSO")
	if at < 0 {
		at = len(page)
	}
	return []byte(page[:at] + extra.String() + page[at:]), nil
}

// roff escapes text for a roff line: backslashes, and a leading dot or
// quote that would read as a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}
