package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// TestUnknownNamesAreAnsweredOneWay: every command that takes a service,
// an alert or a runbook by name refuses one it does not know the same
// way: a usage error naming the near names.
func TestUnknownNamesAreAnsweredOneWay(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"logs", "--demo", "retry-storm", "user-prefs-api"}, `no service "user-prefs-api"; did you mean user-preferences-api?`},
		{[]string{"incident", "--demo", "retry-storm", "--service", "paymnt-api"}, `no service "paymnt-api"; did you mean payment-api?`},
		{[]string{"incident", "--demo", "db-pool-exhaustion", "--alert", "ConnPoolExhausted"}, `no firing alert "ConnPoolExhausted"; did you mean ConnectionPoolExhausted?`},
		{[]string{"slo", "show", "--demo", "quiet", "payment-availability"}, `no SLO "payment-availability"; did you mean payments-availability?`},
		{[]string{"runbook", "show", "--demo", "db-pool-exhaustion", "pool-ful"}, `no runbook "pool-ful"; did you mean pool-full?`},
		{[]string{"runbook", "show", "--demo", "db-pool-exhaustion", "restart"}, `no runbook "restart"; there are bad-deploy, cache-flushed,`},
		{[]string{"runbook", "run", "--demo", "db-pool-exhaustion", "pool-full", "--target", "paymnt-api", "--dry-run"}, `no service "paymnt-api"; did you mean payment-api?`},
	} {
		r := oncall(t, map[string]string{"XDG_DATA_HOME": t.TempDir()}, "", c.args...)
		if r.code != exitUsage || !strings.Contains(r.err, c.want) || r.out != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want exit 2 and %q", strings.Join(c.args, " "), r.code, r.err, r.out, c.want)
		}
	}
}

func TestUnknownNameListsSomeWhenNoneIsNear(t *testing.T) {
	many := []string{"a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8", "i9", "j10"}
	for _, c := range []struct {
		known []string
		want  string
	}{
		{many, `no service "zzzzzz"; there are 10, such as a1, b2, c3, d4, e5, f6, g7, h8`},
		{nil, `no service "zzzzzz"; there are none`},
	} {
		err := unknownName("service", "zzzzzz", c.known)
		if exitCode(err) != exitUsage || err.Error() != c.want {
			t.Errorf("%v (exit %d), want %q", err, exitCode(err), c.want)
		}
	}
}

// A suggested name that printing would clean is suggested Go-quoted, so
// that what is read can be typed back and found.
func TestUnknownNameSuggestsHostileNamesQuoted(t *testing.T) {
	hostile := "Hostile\x1b]52;c;ZWNobyBoaQ==\x07osc52"
	for _, c := range []struct {
		known []string
		want  string
	}{
		{[]string{hostile}, `no firing alert "Hostileosc52"; did you mean "Hostile\x1b]52;c;ZWNobyBoaQ==\aosc52"?`},
		{[]string{"Ok\u202eevil", "plain"}, `no firing alert "Hostileosc52"; there are "Ok\u202eevil", plain`},
	} {
		err := unknownName("firing alert", "Hostileosc52", c.known)
		if err == nil || err.Error() != c.want {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
}

// A runbook asked for by name that is not there because its file did not
// load says why: the file and line, not only "there are none".
func TestUnknownRunbookNamesTheFilesThatDidNotLoad(t *testing.T) {
	dir := t.TempDir()
	writeAt(t, filepath.Join(dir, "restart.yaml"), "name: restart\ndescription: d\nactions:\n  - name: a\n    exec: [true]\n    timeout: -5m\n")
	cfg := writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: \"http://127.0.0.1:1\"}\nrunbooks: "+dir+"\n")
	r := oncall(t, map[string]string{"XDG_DATA_HOME": t.TempDir()}, "", "runbook", "show", "--config", cfg, "restart")
	if r.code != exitUsage || !strings.Contains(r.err, `no runbook "restart"`) || !strings.Contains(r.err, "restart.yaml:6:") {
		t.Errorf("exit %d, stderr %q; want exit 2, the name and the file's line", r.code, r.err)
	}
}

// listedMetrics names a fixed service list; checkServiceAt asks nothing else.
type listedMetrics struct {
	sources.Metrics
	names []string
}

func (m listedMetrics) Services(context.Context) ([]string, error) { return m.names, nil }

// TestAnOldAtDoesNotRefuseAServiceThatStoppedSince: the service list says
// who reports now, so a post-mortem --at older than its reach warns about
// a name it does not hold instead of refusing it; a recent --at still
// refuses a typo.
func TestAnOldAtDoesNotRefuseAServiceThatStoppedSince(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	m := listedMetrics{names: []string{"checkout", "payment-api"}}
	var errOut strings.Builder
	if err := checkServiceAt(context.Background(), m, &errOut, "retired-app", now.Add(-2*time.Hour), now); err != nil {
		t.Fatalf("an --at 2h back refused a service that stopped since: %v", err)
	}
	if !strings.Contains(errOut.String(), `service "retired-app" reports no traffic now`) {
		t.Errorf("the warning is missing: %q", errOut.String())
	}
	if err := checkServiceAt(context.Background(), m, io.Discard, "paymnt-api", now.Add(-5*time.Minute), now); err == nil || !strings.Contains(err.Error(), "did you mean payment-api") {
		t.Errorf("a recent --at must still refuse a typo, got %v", err)
	}
}
