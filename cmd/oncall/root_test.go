package main

import (
	"strings"
	"testing"
)

// TestMistypedCommandSuggests: a mistyped command, at the top or in a
// group, is a usage error that names the commands near it, as kubectl and
// gh do; one near nothing suggests nothing.
func TestMistypedCommandSuggests(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"incdent"}, "oncall: unknown command \"incdent\" for \"oncall\"\n\nDid you mean this?\n\tincident\n"},
		{[]string{"slo", "shw"}, "oncall: unknown command \"shw\" for \"oncall slo\"\n\nDid you mean this?\n\tshow\n"},
		{[]string{"config", "valdate"}, "oncall: unknown command \"valdate\" for \"oncall config\"\n\nDid you mean this?\n\tvalidate\n"},
		{[]string{"zzzz"}, "oncall: unknown command \"zzzz\" for \"oncall\"\n"},
	} {
		r := oncall(t, nil, "", c.args...)
		if r.code != exitUsage || r.err != c.want {
			t.Errorf("%q: exit %d, stderr %q, want exit 2 and %q", c.args, r.code, r.err, c.want)
		}
	}
}

// TestAlertIsAnAliasOfAlerts, as silence is of silences.
func TestAlertIsAnAliasOfAlerts(t *testing.T) {
	root := newRootCmd(&env{})
	for alias, want := range map[string]string{"alert": "alerts", "silence": "silences"} {
		if cmd, _, err := root.Find([]string{alias}); err != nil || cmd.Name() != want {
			t.Errorf("%s finds %v (%v), want %s", alias, cmd.Name(), err, want)
		}
	}
	if r := oncall(t, nil, "", "alert", "--help"); r.code != 0 || !strings.HasPrefix(r.out, "alerts lists") {
		t.Errorf("alert --help: %+v", r.out[:min(80, len(r.out))])
	}
}
