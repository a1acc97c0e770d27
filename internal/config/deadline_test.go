package config

import (
	"strings"
	"testing"
	"time"
)

// TestIncidentDeadlineDerivesFromTheDatasourceTimeouts is the field
// report's case: `timeout: 60s` on a datasource lifts the default
// deadline past it, where a fixed 10 s cut the RED query off; the
// configured deadline wins; a context's datasources are the ones used.
func TestIncidentDeadlineDerivesFromTheDatasourceTimeouts(t *testing.T) {
	cases := []struct {
		name, src string
		want      time.Duration
	}{
		{"no timeout: the client's default", "datasources:\n  prometheus: {url: http://p}\n", DefaultTimeout + DeadlineMargin},
		{"the longest timeout", "datasources:\n  prometheus: {url: http://p, timeout: 60s}\n  loki: {url: http://l, timeout: 5s}\n", time.Minute + DeadlineMargin},
		{"a short timeout shortens it", "datasources:\n  prometheus: {url: http://p, timeout: 300ms}\n", 300*time.Millisecond + DeadlineMargin},
		{"one default among short ones", "datasources:\n  prometheus: {url: http://p, timeout: 3s}\n  tempo: {url: http://t}\n", DefaultTimeout + DeadlineMargin},
		{"configured", "incident: {deadline: 30s}\ndatasources:\n  prometheus: {url: http://p, timeout: 20s}\n", 30 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parse(t, c.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.IncidentDeadline(); got != c.want {
				t.Errorf("deadline %s, want %s", got, c.want)
			}
		})
	}
	cfg, err := parse(t, "datasources:\n  prometheus: {url: http://p}\ncontexts:\n  slow:\n    datasources:\n      prometheus: {url: http://p, timeout: 2m}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.UseContext("slow"); err != nil {
		t.Fatal(err)
	}
	if got := cfg.IncidentDeadline(); got != 2*time.Minute+DeadlineMargin {
		t.Errorf("in context slow: deadline %s, want the context's timeout plus the margin", got)
	}
}

// TestIncidentDeadlineBounds refuses a deadline too short to gather
// anything, at its line, and warns of one that cuts a datasource's
// allowed answers off.
func TestIncidentDeadlineBounds(t *testing.T) {
	for _, bad := range []string{"1ns", "0s", "500ms"} {
		_, err := parse(t, "datasources:\n  prometheus: {url: http://p}\nincident:\n  deadline: "+bad+"\n", nil)
		wantProblem(t, err, 4, 13, "incident.deadline: "+bad+" is too short: at least 1s")
	}
	_, err := parse(t, "incident:\n  deadline: soon\n", nil)
	wantProblem(t, err, 2, 13, `"soon" is not a duration`)
	cfg, err := parse(t, "datasources:\n  prometheus: {url: http://p, timeout: 60s}\nincident:\n  deadline: 10s\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Line != 4 || !strings.Contains(cfg.Warnings[0].Msg, "10s is shorter than datasources.prometheus.timeout (1m)") {
		t.Errorf("warnings %v", cfg.Warnings)
	}
}
