package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

// durationValue is a duration flag read as the config reads durations:
// 30s, 5m, 1h30m, 1d, 1w.
type durationValue time.Duration

// String writes the duration as it is read; zero as "0", which pflag
// knows for a zero default and leaves out of --help.
func (d *durationValue) String() string {
	if *d == 0 {
		return "0"
	}
	return timeparse.FormatDuration(time.Duration(*d))
}
func (d *durationValue) Type() string { return "duration" }
func (d *durationValue) Set(s string) error {
	v, err := timeparse.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

// durationFlag adds a duration flag with a default.
func durationFlag(cmd *cobra.Command, p *time.Duration, name, short string, def time.Duration, usage string) {
	*p = def
	cmd.Flags().VarP((*durationValue)(p), name, short, usage)
}
