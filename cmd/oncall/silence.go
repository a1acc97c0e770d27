package main

import (
	"strings"

	"github.com/oncall-cockpit/oncall/sources"
)

// alertmanagerFrom is the config's Alertmanager, where silences live:
// every silence command and completion reads and writes through it.
func alertmanagerFrom(f *Factory) (sources.Alerting, error) {
	w, err := f.ConfigWorld()
	if err != nil {
		return nil, err
	}
	if w.Sources.Alerts == nil {
		return nil, usagef("no alertmanager datasource configured in %s", w.Path)
	}
	return w.Sources.Alerts, nil
}

// alertmanagerToChange is the config's Alertmanager for a command that
// changes silences: refused, before anything is read, when oncall runs
// read-only.
func alertmanagerToChange(f *Factory) (sources.Alerting, error) {
	if f.Global.ReadOnly {
		return nil, refused("read-only (--read-only, or the context's read_only)")
	}
	return alertmanagerFrom(f)
}

// refuseDemo is add's and expire's answer to --demo: the simulator lives
// as long as the command, so a silence made in it would end unseen. The
// demo's cockpit, whose fleet lives on, acknowledges alerts with silences.
func refuseDemo(d DemoFlags) error {
	if !d.On() {
		return nil
	}
	return usagef("--demo %s: the demo has no Alertmanager to write to, and a silence in this command's simulator would end with it; acknowledge alerts (a) in the demo's cockpit instead: oncall demo --scenario %s", d.Scenario, d.Scenario)
}

// parseMatchers reads matchers in Alertmanager's syntax, one or more in
// each string.
func parseMatchers(in []string) ([]sources.Matcher, error) {
	var out []sources.Matcher
	for _, s := range in {
		ms, err := sources.ParseMatchers(s)
		if err != nil {
			return nil, usageError{err}
		}
		out = append(out, ms...)
	}
	return out, nil
}

// matchersString writes matchers as Alertmanager writes them, comma
// separated.
func matchersString(ms []sources.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}
