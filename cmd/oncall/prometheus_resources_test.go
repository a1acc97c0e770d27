package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// hikariFilling is OpenMetrics text of checkout's HikariCP pool orders-db,
// 100 connections, filling by one a minute from 40 over the half hour
// ending at end: 95% is reached 25 minutes after end.
func hikariFilling(end time.Time) string {
	var b strings.Builder
	b.WriteString("# TYPE hikaricp_connections_active gauge\n")
	start := end.Add(-30 * time.Minute)
	for t := start; !t.After(end); t = t.Add(15 * time.Second) {
		fmt.Fprintf(&b, "hikaricp_connections_active{job=\"checkout\",pool=\"orders-db\"} %g %d\n", 40+t.Sub(start).Minutes(), t.Unix())
	}
	b.WriteString("# TYPE hikaricp_connections_max gauge\n")
	for t := start; !t.After(end); t = t.Add(15 * time.Second) {
		fmt.Fprintf(&b, "hikaricp_connections_max{job=\"checkout\",pool=\"orders-db\"} 100 %d\n", t.Unix())
	}
	return b.String()
}

// TestPrometheusOnlyStackHasSaturationAndChangeNotes: against a real
// Prometheus holding span metrics and a HikariCP pool that fills, and no
// deploy series, forecast predicts when the pool fills, and the incident
// reads the pool, says which change presets found nothing instead of
// "no datasource configured", and is not incomplete.
func TestPrometheusOnlyStackHasSaturationAndChangeNotes(t *testing.T) {
	end := time.Now().Add(-30 * time.Second).Truncate(15 * time.Second)
	fleet := testenv.FleetOpenMetrics(end, 30*time.Minute)
	om := strings.TrimSuffix(fleet, "# EOF\n") + hikariFilling(end) + "# EOF\n"
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: om})
	cfg := writeFile(t, "oncall.yaml", fmt.Sprintf(`datasources:
  prometheus: {url: %q}
slos:
  - {name: checkout-availability, service: checkout, objective: 99, window: 28d}
`, url))
	at := end.Add(30 * time.Second)
	now := func() time.Time { return at }

	r := oncallAt(t, now, nil, "", "forecast", "--config", cfg, "-o", "json")
	var rep forecastReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || len(rep.Unread) > 0 {
		t.Fatalf("forecast: %v, exit %d\n%s%s", err, r.code, r.out, r.err)
	}
	if len(rep.Saturation) != 1 || rep.Saturation[0].What != "checkout pool:orders-db" {
		t.Fatalf("saturation forecasts: %+v (notes %q)", rep.Saturation, rep.Notes)
	}
	if in := rep.Saturation[0].In(); in < 20*time.Minute || in > 30*time.Minute {
		t.Errorf("the pool reaches 95%% about 25 minutes on; forecast says %s", in)
	}

	r = oncallAt(t, now, map[string]string{"NO_COLOR": "1"}, "", "incident", "--config", cfg, "--at", at.Format(time.RFC3339), "-o", "json")
	var inc struct {
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(r.out), &inc); err != nil || r.code != 0 {
		t.Fatalf("incident: %v, exit %d\n%s%s", err, r.code, r.out, r.err)
	}
	notes := strings.Join(inc.Notes, "\n")
	for _, no := range []string{"missing saturation", "changes: no datasource configured"} {
		if strings.Contains(notes, no) {
			t.Errorf("notes say %q with prometheus configured:\n%s", no, notes)
		}
	}
	if !strings.Contains(notes, "changes: prometheus: no series for the change presets") || !strings.Contains(notes, "oncall doctor") {
		t.Errorf("notes do not say which change presets found nothing:\n%s", notes)
	}
}
