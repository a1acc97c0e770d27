package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
)

// storeRecords saves records in the local history store of vars.
func storeRecords(t *testing.T, vars map[string]string, recs ...history.Record) {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), sqlstore.DefaultPath(func(k string) string { return vars[k] }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, r := range recs {
		if _, err := st.Save(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// statsFixtures are a prod incident on the wall clock (the tests' 25
// November 2026), onset known, no acknowledgement; and a demo incident on
// the simulator's clock with no onset.
func statsFixtures() (prod, demo history.Record) {
	det := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	prod = history.Record{ID: "inc-0000a001", Stack: "prod", Origin: history.OriginReconstructed, Title: "HighErrorRate on api", Severity: "page", Services: []string{"api"},
		Onset:    history.Stamp{T: det.Add(-100 * time.Second), Source: "oncall anomaly detection", Kind: history.KindAnomaly},
		Detected: history.Stamp{T: det, Source: `ALERTS{alertname="HighErrorRate"} at 1m steps (prometheus)`, Kind: history.KindAlert},
		Resolved: history.Stamp{T: det.Add(5 * time.Minute), Source: "runbook r verified (audit log)", Kind: history.KindVerified}}
	dd := sim.Epoch.Add(30 * time.Minute)
	demo = history.Record{ID: "inc-0000d001", Stack: history.DemoStack, Origin: history.OriginLive, Title: "PoolExhausted on payment-api", Severity: "critical", Services: []string{"payment-api"},
		Detected: history.Stamp{T: dd, Source: "PoolExhausted on payment-api started (simulator)", Kind: history.KindAlert},
		Resolved: history.Stamp{T: dd.Add(20 * time.Minute), Source: "by hand (alice, oncall history resolve)", Kind: history.KindHand}}
	return prod, demo
}

// TestStatsSaysWhoseRecordsItCounts: by default every stack's but the
// demo's, saying what it left out; the demo's alone when asked or when
// nothing else is stored, on the simulator's clock, and saying so.
func TestStatsSaysWhoseRecordsItCounts(t *testing.T) {
	prod, demo := statsFixtures()
	vars := map[string]string{"XDG_DATA_HOME": t.TempDir()}
	storeRecords(t, vars, demo)

	r := oncall(t, vars, "", "stats", "--offline")
	for _, want := range []string{"The demo's records, dated on the simulator's clock.", "1 incident, 0 open", "2026-11-27 23:43",
		"MTTR 1 of 1: first alert from the simulator 1;\n          resolution from oncall history resolve 1"} {
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("stats over the demo's alone lacks %q: exit %d\n%s\n%s", want, r.code, r.out, r.err)
		}
	}

	storeRecords(t, vars, prod)
	r = oncall(t, vars, "", "stats", "--offline")
	for _, want := range []string{"Every stack's records but the demo's.", "1 incident, 0 open",
		"MTTR 1 of 1: onset from anomaly detection 1;\n          resolution from runbook verification (audit log) 1"} {
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("stats beside a real stack lacks %q: exit %d\n%s", want, r.code, r.out)
		}
	}
	if !strings.Contains(r.err, "the demo's 1 incident left out") {
		t.Errorf("stats does not say it left the demo's out: %q", r.err)
	}
	r = oncall(t, vars, "", "stats", "--offline", "--stack", history.DemoStack)
	if !strings.Contains(r.out, "The demo's records") || !strings.Contains(r.out, "1 incident, 0 open") || r.err != "" {
		t.Errorf("stats --stack demo:\n%s\n%s", r.out, r.err)
	}

	// JSON: the stack counted; no mean where nothing was measured
	r = oncall(t, vars, "", "stats", "--offline", "-o", "json")
	var s struct {
		Stack string
		Fleet struct{ MTTA, MTTR map[string]any }
	}
	if err := json.Unmarshal([]byte(r.out), &s); err != nil || r.code != 0 {
		t.Fatalf("stats -o json: exit %d, %v\n%s", r.code, err, r.out)
	}
	if _, ok := s.Fleet.MTTA["mean_ns"]; ok || s.Fleet.MTTR["mean_ns"] != float64(400*time.Second) || s.Stack != "" {
		t.Errorf("stats -o json: stack %q, MTTA %v, MTTR %v", s.Stack, s.Fleet.MTTA, s.Fleet.MTTR)
	}
}

// TestHistoryListResolvedCountsAsMTTRDoes: the list's RESOLVED is MTTR's
// duration, from the onset, else from the first alert (marked *).
func TestHistoryListResolvedCountsAsMTTRDoes(t *testing.T) {
	prod, demo := statsFixtures()
	vars := map[string]string{"XDG_DATA_HOME": t.TempDir()}
	storeRecords(t, vars, prod, demo)
	r := oncall(t, vars, "", "history", "--offline")
	for _, want := range []string{"after 6 min 40 s ", "after 20 min* ", "RESOLVED counts from the onset, as MTTR does"} {
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("history lacks %q: exit %d\n%s\n%s", want, r.code, r.out, r.err)
		}
	}
}

// TestStatsSaysWhatItCouldNotCount: against a real Prometheus holding two
// pages of the last hour, and an Alertmanager that does not answer,
// stats over 2 h gives the pages' count over the span, not a weekly
// rate; MTTA unknown, saying why, not "0 of 2"; and nothing resolved, not
// "0 of 0" — in text and JSON, exiting incomplete.
func TestStatsSaysWhatItCouldNotCount(t *testing.T) {
	end := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute)
	var fs []testenv.AlertFiring
	for i, svc := range []string{"api", "db"} {
		// still firing at the end: open, so nothing is resolved
		fs = append(fs, testenv.AlertFiring{Labels: fmt.Sprintf(`alertname="HighErrorRate",alertstate="firing",severity="page",service=%q`, svc),
			Start: end.Add(-time.Duration(50+30*i) * time.Minute), End: end.Add(20 * time.Minute)})
	}
	prom := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: testenv.AlertsOpenMetrics(fs, time.Minute)})
	dead := "http://" + testenv.FreeAddr(t) // nothing listens
	cfg := writeFile(t, "oncall.yaml", fmt.Sprintf("datasources:\n  prometheus: {url: %q}\n  alertmanager: {url: %q}\n", prom, dead))
	vars := map[string]string{"XDG_DATA_HOME": t.TempDir()}

	r := oncallAt(t, time.Now, vars, "", "--config", cfg, "stats", "--since", "2h")
	for _, want := range []string{"2 incidents, 2 open", "MTTA first alert → first ack unknown: Alertmanager did not answer",
		"read from its silences)", "resolved by the autopilot: none resolved yet", "pages: 2 (severity critical or page) in 2 h;",
		"too short a span for a weekly rate"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("stats lacks %q: exit %d\n%s\n%s", want, r.code, r.out, r.err)
		}
	}
	for _, bad := range []string{"0 of 0", "a week over", "first ack          –"} {
		if strings.Contains(r.out, bad) {
			t.Errorf("stats says %q:\n%s", bad, r.out)
		}
	}
	if r.code != exitIncomplete || !strings.Contains(r.err, silencesPart) {
		t.Errorf("exit %d, stderr %q; want %d naming the silences", r.code, r.err, exitIncomplete)
	}

	r = oncallAt(t, time.Now, vars, "", "--config", cfg, "stats", "--since", "2h", "-o", "json")
	var s struct {
		Fleet struct {
			MTTA  struct{ Unknown string }
			Pages map[string]any
		}
	}
	if err := json.Unmarshal([]byte(r.out), &s); err != nil {
		t.Fatalf("stats -o json: exit %d, %v\n%s", r.code, err, r.out)
	}
	if _, ok := s.Fleet.Pages["per_week"]; ok || s.Fleet.Pages["n"] != 2.0 || s.Fleet.Pages["span_ns"] != float64(2*time.Hour) ||
		s.Fleet.MTTA.Unknown != acksUnread([]unreadPart{{What: silencesPart}}, true) {
		t.Errorf("stats -o json: MTTA unknown %q, pages %v", s.Fleet.MTTA.Unknown, s.Fleet.Pages)
	}
}
