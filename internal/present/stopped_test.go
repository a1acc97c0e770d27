package present

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
)

// A service that stopped reporting says so in the list, on the shell and
// in the JSON: its numbers are its last.
func TestServicesSayStoppedReporting(t *testing.T) {
	since := time.Date(2026, 11, 25, 9, 50, 0, 0, time.UTC)
	rows := []correlate.ServiceStatus{
		{Service: "shop-cart", Rate: 40, ErrorRatio: 0.3, Health: correlate.Failing, Rates: []float64{40}, StoppedSince: since},
		{Service: "pay-web", Rate: 10, Rates: []float64{10}},
	}
	s := NewServices(rows, since.Add(10*time.Minute), "simulator", 30*time.Minute, "health")
	var b strings.Builder
	if err := ServicesText(&b, s, time.UTC); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "failing  stopped reporting since 09:50") {
		t.Errorf("text:\n%s", b.String())
	}
	// --timezone applies to the stop as to the time the list was read
	b.Reset()
	if err := ServicesText(&b, s, time.FixedZone("CET", 3600)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "failing  stopped reporting since 10:50") || !strings.Contains(b.String(), "at 2026-11-25T11:00:00+01:00") {
		t.Errorf("text in CET:\n%s", b.String())
	}
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"stopped_since":"2026-11-25T09:50:00Z"`) || strings.Count(string(j), "stopped_since") != 1 {
		t.Errorf("JSON: %s", j)
	}
}
