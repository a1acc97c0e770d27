package chaosbed

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// scrape returns the bed's /metrics text.
func scrape(t *testing.T, b *Bed) string {
	t.Helper()
	resp, err := http.Get(b.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// waitForMetric polls /metrics until it holds want.
func waitForMetric(t *testing.T, b *Bed, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := scrape(t, b)
		if strings.Contains(m, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never held %q; it has:\n%s", want, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The load reaches orders, orders reaches ledger, and both show in the
// otel-http histogram under their service.
func TestBedServesAndMeasures(t *testing.T) {
	b, err := Start(context.Background(), Options{Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	waitForMetric(t, b, `http_server_request_duration_seconds_count{http_response_status_code="200",service="orders"}`)
	waitForMetric(t, b, `http_server_request_duration_seconds_count{http_response_status_code="200",service="ledger"}`)
	if m := scrape(t, b); !strings.Contains(m, `http_server_request_duration_seconds_bucket{http_response_status_code="200",service="orders",le="0.005"}`) {
		t.Fatalf("no 5 ms bucket for orders:\n%s", m)
	}
}

// A ledger orders cannot reach within its timeout is a 502, counted so.
func TestBedAnswers502WhenLedgerIsSlow(t *testing.T) {
	b, err := Start(context.Background(), Options{Rate: -1, Timeout: 20 * time.Millisecond, LedgerDelay: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	resp, err := http.Get(b.OrdersURL + "/order")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("orders answered %d with ledger slower than its timeout; want 502", resp.StatusCode)
	}
	waitForMetric(t, b, `http_server_request_duration_seconds_count{http_response_status_code="502",service="orders"} 1`)
}

// Route decides what orders calls; a route to nowhere is 502s.
func TestBedRoutesThroughTheGivenURL(t *testing.T) {
	var got string
	b, err := Start(context.Background(), Options{Rate: -1, Route: func(_ context.Context, ledger string) (string, error) {
		got = ledger
		return "http://127.0.0.1:1", nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if got != b.LedgerAddr || b.LedgerURL != "http://127.0.0.1:1" {
		t.Fatalf("route saw %q (ledger %s), orders calls %s", got, b.LedgerAddr, b.LedgerURL)
	}
	resp, err := http.Get(b.OrdersURL + "/order")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("orders answered %d through a route to nowhere; want 502", resp.StatusCode)
	}
}
