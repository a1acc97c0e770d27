package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set by -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	version = ""
	commit  = ""
	date    = ""
)

// versionInfo is what version prints.
type versionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	// Modified says the build's checkout had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// CommitTime is when the VCS-stamped commit was made: not the build's
	// time, which only -ldflags records (Date).
	CommitTime string `json:"commit_time,omitempty"`
	Date       string `json:"date"`
	Go         string `json:"go"`
}

// unknown stands for what the build did not record.
const unknown = "unknown"

// buildVersion is this binary's version.
func buildVersion() versionInfo {
	return readVersion(versionInfo{Version: version, Commit: commit, Date: date}, debug.ReadBuildInfo)
}

// readVersion prefers the -ldflags values (stamped) and falls back to what
// the Go toolchain recorded, as gh does: go install pkg@version sets the
// module version, and a build in a git checkout the VCS revision, time and
// whether the tree was modified. read is debug.ReadBuildInfo.
func readVersion(stamped versionInfo, read func() (*debug.BuildInfo, bool)) versionInfo {
	v := stamped
	v.Go = runtime.Version()
	if bi, ok := read(); ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		fromVCS := v.Commit == ""
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && fromVCS:
				v.Commit = s.Value
			case s.Key == "vcs.time" && fromVCS:
				v.CommitTime = s.Value
			case s.Key == "vcs.modified" && fromVCS:
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	for _, f := range []*string{&v.Commit, &v.Date} {
		if *f == "" {
			*f = unknown
		}
	}
	return v
}

// versionOptions are version's flags.
type versionOptions struct {
	*Factory
	output string
}

// NewCmdVersion is `oncall version`; runF, when set, runs instead of
// runVersion, so tests can read the options the flags gave.
func NewCmdVersion(f *Factory, runF func(context.Context, *versionOptions) error) *cobra.Command {
	o := &versionOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runVersion(o)
		},
	}
	outputFlag(cmd, &o.output, "text", "json")
	return cmd
}

func runVersion(o *versionOptions) error {
	v := buildVersion()
	if o.output == "json" {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	// the hint goes to stderr: the version stays one line for scripts
	fmt.Fprint(o.IO.ErrOut, versionHint(v))
	_, err := io.WriteString(o.IO.Out, versionLine(v))
	return err
}

// versionLine is what version prints as text.
func versionLine(v versionInfo) string {
	c := v.Commit
	if v.Modified {
		c += ", modified"
	}
	if v.CommitTime != "" {
		c += ", committed " + v.CommitTime
	}
	// a VCS stamp knows when the commit was made, not when it was built:
	// "built" only for a date -ldflags recorded, or to say none was
	if v.Date != unknown || v.CommitTime == "" {
		c += ", built " + v.Date
	}
	return fmt.Sprintf("oncall %s (commit %s, %s)\n", v.Version, c, v.Go)
}

// versionHint says, for a build that recorded neither a version nor a
// commit, how to get them, rather than leave "unknown" unexplained; ""
// for a build that recorded one.
func versionHint(v versionInfo) string {
	if v.Version != "devel" || v.Commit != unknown {
		return ""
	}
	return "note: this build records no version or commit (built outside a git checkout, or with -buildvcs=false); make build, or go install …@version, records them\n"
}
