package main

import (
	"context"
	"encoding/json"
	"fmt"
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
	Date    string `json:"date"`
	Go      string `json:"go"`
}

// buildVersion prefers the ldflags values and falls back to what the Go
// toolchain recorded (go install pkg@version sets the module version and,
// in a checkout, the VCS revision and time).
func buildVersion() versionInfo {
	v := versionInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && v.Commit == "":
				v.Commit = s.Value
			case s.Key == "vcs.time" && v.Date == "":
				v.Date = s.Value
			}
		}
	}
	for _, f := range []*string{&v.Version, &v.Commit, &v.Date} {
		if *f == "" {
			*f = "unknown"
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
	_, err := fmt.Fprintf(o.IO.Out, "oncall %s (commit %s, built %s, %s)\n", v.Version, v.Commit, v.Date, v.Go)
	return err
}
