package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

func TestCockpitFlags(t *testing.T) {
	parse := func(args ...string) (cockpitOptions, error) {
		var o cockpitOptions
		cmd := &cobra.Command{Use: "oncall", RunE: func(*cobra.Command, []string) error { return nil }}
		cockpitFlags(cmd, &o)
		return o, cmd.ParseFlags(args)
	}
	o, err := parse()
	if want := (cockpitOptions{refresh: 2 * time.Second, ackFor: 30 * time.Minute}); err != nil || o != want {
		t.Errorf("defaults %+v (%v), want %+v", o, err, want)
	}
	o, err = parse("--refresh", "500ms", "--theme", "colorblind", "--theme-file", "p.yaml", "--pane", "--ack-for", "1h", "--no-mouse")
	want := cockpitOptions{refresh: 500 * time.Millisecond, ackFor: time.Hour, theme: "colorblind", themeFile: "p.yaml", pane: true, noMouse: true}
	if err != nil || o != want {
		t.Errorf("parsed %+v (%v), want %+v", o, err, want)
	}
	if _, err := parse("--refresh", "often"); err == nil {
		t.Error("--refresh often parsed")
	}
}

// The root command opens the cockpit on the config's world: a config
// without datasources is refused before any terminal is asked for, and
// one with them needs a terminal.
func TestConfigCockpitNeedsDatasourcesAndATerminal(t *testing.T) {
	f := testFactory(nil)
	o := &cockpitOptions{refresh: 2 * time.Second, ackFor: time.Minute}
	f.Global.ConfigPath = writeFile(t, "empty.yaml", "slos: []\n")
	err := runConfigCockpit(context.Background(), f, o)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "no datasources configured in") || !strings.HasSuffix(err.Error(), "or try oncall demo") {
		t.Errorf("no datasources: %v (exit %d)", err, exitCode(err))
	}
	f = testFactory(nil)
	f.Global.ConfigPath = writeFile(t, "prom.yaml", "datasources:\n  prometheus: {url: \"http://127.0.0.1:1\"}\n")
	err = runConfigCockpit(context.Background(), f, o)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "the cockpit needs a terminal") {
		t.Errorf("no terminal: %v (exit %d)", err, exitCode(err))
	}
}
