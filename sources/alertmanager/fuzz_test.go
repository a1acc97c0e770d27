package alertmanager

import (
	"testing"
)

// In the shape of Alertmanager's GET /api/v2/alerts (API v2 GettableAlerts);
// the integration test checks the same decoder against a real server.
const recordedAlerts = `[{"annotations":{"summary":"checkout is down"},"endsAt":"2026-11-25T05:00:00.000Z","fingerprint":"5f1ec3b6a2c7a0a4","receivers":[{"name":"blackhole"}],"startsAt":"2026-11-25T04:50:00.000Z","status":{"inhibitedBy":[],"silencedBy":["e1b4"],"state":"suppressed"},"updatedAt":"2026-11-25T04:50:01.000Z","generatorURL":"http://prometheus/graph","labels":{"alertname":"CheckoutDown","service":"checkout-api","severity":"page"}}]`

func TestDecodeAlerts(t *testing.T) {
	alerts, err := DecodeAlerts([]byte(recordedAlerts))
	if err != nil {
		t.Fatal(err)
	}
	a := alerts[0]
	if a.Name != "CheckoutDown" || a.State != "suppressed" || a.SilencedBy[0] != "e1b4" || a.Severity != "page" {
		t.Fatalf("%+v", a)
	}
	for _, bad := range []string{`{}`, `[{"labels":{}}]`, `[{"labels":{"alertname":"x"},"startsAt":"yesterday"}]`} {
		if _, err := DecodeAlerts([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func FuzzDecodeAlerts(f *testing.F) {
	f.Add([]byte(recordedAlerts))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		alerts, err := DecodeAlerts(b)
		if err != nil {
			return
		}
		for _, a := range alerts {
			if a.Name == "" {
				t.Fatal("decoded an alert without a name")
			}
		}
	})
}
