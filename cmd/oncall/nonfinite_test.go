package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// nanPrometheus answers every query, instant or range, with NaN for
// each of its series: what a 0/0 looks like on the wire.
func nanPrometheus(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		now := time.Now().Unix()
		metric := `{"service":"payment-api","client":"checkout-api","server":"payment-api"}`
		switch r.URL.Path {
		case "/api/v1/query":
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":%s,"value":[%d,"NaN"]}]}}`, metric, now)
		case "/api/v1/query_range":
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":%s,"values":[[%d,"NaN"],[%d,"NaN"]]}]}}`, metric, now-60, now)
		default:
			fmt.Fprint(w, `{"status":"success","data":[]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: "+srv.URL+", retries: 0}\n"+
		"slos:\n  - {name: a, service: payment-api, indicator: availability, objective: 99.9, window: 28d}\n")
}

// A Prometheus that answers only NaN has read nothing: no command calls
// that calm, and the JSON carries null, never a 0 or a NaN.
func TestOnlyNaNIsNotCalm(t *testing.T) {
	cfg := nanPrometheus(t)
	r := oncallAt(t, time.Now, nil, "", "slo", "--config", cfg, "-o", "json")
	var rep struct {
		Budgets []map[string]any `json:"budgets"`
	}
	if r.code != exitIncomplete || json.Unmarshal([]byte(r.out), &rep) != nil || len(rep.Budgets) != 1 {
		t.Fatalf("slo -o json: %+v", r)
	}
	b := rep.Budgets[0]
	if b["status"] != "unread" || !strings.Contains(fmt.Sprint(b["error"]), "no readable value") {
		t.Errorf("status %v, error %v", b["status"], b["error"])
	}
	for _, k := range []string{"total", "bad", "remaining", "sli"} {
		if v, ok := b[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	if g := oncallAt(t, time.Now, nil, "", "slo", "gate", "--config", cfg, "--min-budget", "25%"); g.code != exitIncomplete {
		t.Errorf("slo gate passed a budget it could not read: %+v", g)
	}
	if f := oncallAt(t, time.Now, nil, "", "forecast", "--config", cfg, "--no-color"); f.code != exitIncomplete || strings.Contains(f.out, "✓") {
		t.Errorf("forecast is calm: %+v", f)
	}
	s := oncallAt(t, time.Now, nil, "", "services", "--config", cfg, "--no-color")
	if strings.Contains(s.out, "NaN/s") || strings.Contains(s.out, "0.00%") || !strings.Contains(s.out, "payment-api  —") {
		t.Errorf("services shows a number it did not read: %+v", s)
	}
	// blind is never calm: no ✓ ok for a service it read nothing of
	if s.code != exitIncomplete || strings.Contains(s.out, "✓") || !strings.Contains(s.out, "? ") || !strings.Contains(s.out, "unread") {
		t.Errorf("services is calm while blind: %+v", s)
	}
	sj := oncallAt(t, time.Now, nil, "", "services", "--config", cfg, "-o", "json")
	var svcs struct {
		Services []map[string]any `json:"services"`
	}
	if err := json.Unmarshal([]byte(sj.out), &svcs); err != nil || len(svcs.Services) == 0 {
		t.Fatalf("services -o json: %v %+v", err, sj)
	}
	if h := svcs.Services[0]["health"]; h != "unread" {
		t.Errorf("services health = %v, want unread", h)
	}
	for _, k := range []string{"rate_per_second", "error_ratio", "p99_seconds"} {
		if v, ok := svcs.Services[0][k]; !ok || v != nil {
			t.Errorf("services %s = %v (present %v), want null", k, v, ok)
		}
	}
}
