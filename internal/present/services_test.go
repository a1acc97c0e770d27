package present

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
)

func TestServicesSortsAsTheOverviewAndLeavesUnreadNumbersNull(t *testing.T) {
	rows := []correlate.ServiceStatus{
		{Service: "cart", Rate: 40, ErrorRatio: 0.001, P99: 0.05, Rates: []float64{40}, P99s: []float64{0.05}},
		{Service: "payment-api", Rate: 10, ErrorRatio: 0.3, P99: 2.5, BaseP99: 0.2, Health: correlate.Failing, Rates: []float64{10}, P99s: []float64{2.5}},
		{Service: "ledger", Rate: 5, ErrorRatio: 0.001, P99: 2, BaseP99: 0.25, Health: correlate.Failing, Rates: []float64{5}, P99s: []float64{2}},
		// answered no step: its numbers were not read
		{Service: "search\x1b[2J", Rates: nil},
		{Service: "payment-db", Rate: 9, ErrorRatio: 0.2, Health: correlate.Degraded, FromEdges: true},
	}
	SortServices(rows, "health")
	var order []string
	for _, r := range rows {
		order = append(order, r.Service)
	}
	if got := strings.Join(order, ","); got != "payment-api,ledger,payment-db,cart,search\x1b[2J" {
		t.Errorf("by health: %s", got)
	}
	SortServices(rows, "rate")
	if rows[0].Service != "cart" {
		t.Errorf("by rate: %s first", rows[0].Service)
	}
	s := NewServices(rows, time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), "simulator: db-pool-exhaustion", 30*time.Minute, "rate")
	var b strings.Builder
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if err := ServicesText(&b, s, berlin); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"✗  payment-api", "10/s", "30.0%", "2.5s", "failing", "payment-db (peer)", "errors 30.0%", "p99 vs base 250ms", "errors 20.0%", "! ", "2026-11-25T04:00:00+01:00", "by rate"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a control sequence from a name reached the text:\n%q", out)
	}
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Services []map[string]any `json:"services"`
	}
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, r := range back.Services {
		byName[r["service"].(string)] = r
	}
	search := byName["search"]
	if search == nil || search["rate_per_second"] != nil || search["error_ratio"] != nil || search["p99_seconds"] != nil {
		t.Errorf("unread numbers are not null: %s", j)
	}
	if api := byName["payment-api"]; api["reason"] != "errors" || api["base_p99_seconds"] != 0.2 || byName["ledger"]["reason"] != "p99" || byName["cart"]["reason"] != nil {
		t.Errorf("what the health was judged on: %s", j)
	}
	if db := byName["payment-db"]; db["p99_seconds"] != nil || db["base_p99_seconds"] != nil || db["error_ratio"] != 0.2 || db["health"] != "degraded" {
		t.Errorf("a peer without timed calls: %v", db)
	}
}
