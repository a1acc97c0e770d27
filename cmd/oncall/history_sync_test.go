package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// TestHistoryReconstructsOnsetsOnceAndQuietly: a real Prometheus holds
// pages of services it has no metrics for, so no onset can be found.
// That is data, not a failure: history exits 0, says so on one line of
// stderr counting the reasons, keeps each record's search, and a second
// run searches nothing again. A service-less alert overlapping them
// joins none.
func TestHistoryReconstructsOnsetsOnceAndQuietly(t *testing.T) {
	end := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	firing := func(name, service string, start time.Duration) testenv.AlertFiring {
		l := fmt.Sprintf(`alertname=%q,alertstate="firing",severity="page"`, name)
		if service != "" {
			l += fmt.Sprintf(",service=%q", service)
		}
		return testenv.AlertFiring{Labels: l, Start: end.Add(-start), End: end.Add(-start + 10*time.Minute)}
	}
	fs := []testenv.AlertFiring{firing("NodeDown", "", 3*time.Hour)}
	for i := range 4 {
		fs = append(fs, firing("HighLatency", fmt.Sprintf("svc-%d", i), 3*time.Hour-time.Duration(i)*2*time.Minute))
	}
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: testenv.AlertsOpenMetrics(fs, time.Minute)})
	cfg := writeFile(t, "oncall.yaml", fmt.Sprintf("datasources:\n  prometheus: {url: %q}\n", url))
	vars := map[string]string{"XDG_DATA_HOME": t.TempDir()}

	r := oncallAt(t, time.Now, vars, "", "--config", cfg, "history", "--since", "1d")
	lines := strings.Split(strings.TrimSpace(r.err), "\n")
	if r.code != 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "oncall: onsets: 5 searched, 0 found; not found") ||
		!strings.Contains(lines[0], "5 the incident names no root-cause candidate (first inc-") {
		t.Fatalf("first run: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.out, "5 incidents since") {
		t.Errorf("want the 4 pages and the service-less alert apart:\n%s", r.out)
	}
	r = oncallAt(t, time.Now, vars, "", "--config", cfg, "history", "--since", "1d", "-o", "json")
	if r.code != 0 || r.err != "" || strings.Count(r.out, "no earlier anomaly found: ") != 5 {
		t.Errorf("second run: exit %d, stderr %q; want no search and each record's search kept:\n%s", r.code, r.err, r.out)
	}
}

// TestHistoryRefusesASinceTooLongToReconstruct: a --since longer than
// maxReconstruct is a usage error naming the flag, before any request.
func TestHistoryRefusesASinceTooLongToReconstruct(t *testing.T) {
	vars := map[string]string{"XDG_DATA_HOME": t.TempDir()}
	for _, since := range []string{"401d", "9223372036854775807ns"} {
		r := oncall(t, vars, "", "history", "--since", since)
		if r.code != exitUsage || !strings.Contains(r.err, "--since ") || !strings.Contains(r.err, "at most 400d") || !strings.Contains(r.err, "--offline") {
			t.Errorf("--since %s: exit %d, stderr %q", since, r.code, r.err)
		}
	}
	if r := oncall(t, vars, "", "history", "--since", "400d"); r.code != 0 {
		t.Errorf("--since 400d: exit %d, stderr %q", r.code, r.err)
	}
}
