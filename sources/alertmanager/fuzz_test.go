package alertmanager

import (
	"testing"

	"github.com/oncall-cockpit/oncall/sources"
)

var conv = sources.DefaultConventions().Alerts

// In the shape of Alertmanager's GET /api/v2/alerts (API v2 GettableAlerts);
// the integration test checks the same decoder against a real server.
const recordedAlerts = `[{"annotations":{"summary":"checkout is down"},"endsAt":"2026-11-25T05:00:00.000Z","fingerprint":"5f1ec3b6a2c7a0a4","receivers":[{"name":"blackhole"}],"startsAt":"2026-11-25T04:50:00.000Z","status":{"inhibitedBy":[],"silencedBy":["e1b4"],"state":"suppressed"},"updatedAt":"2026-11-25T04:50:01.000Z","generatorURL":"http://prometheus/graph","labels":{"alertname":"CheckoutDown","service":"checkout-api","severity":"page"}}]`

func TestDecodeAlerts(t *testing.T) {
	alerts, err := DecodeAlerts([]byte(recordedAlerts), conv)
	if err != nil {
		t.Fatal(err)
	}
	a := alerts[0]
	if a.Name != "CheckoutDown" || a.State != "suppressed" || a.SilencedBy[0] != "e1b4" || a.Severity != "page" || a.Service != "checkout-api" || a.ServiceLabel != "service" {
		t.Fatalf("%+v", a)
	}
	// a fleet that names the service otherwise: the first label of the list it has
	other := sources.AlertConventions{ServiceLabels: []string{"app", "severity"}}
	if alerts, _ := DecodeAlerts([]byte(recordedAlerts), other); alerts[0].Service != "page" || alerts[0].ServiceLabel != "severity" {
		t.Errorf("with service labels %v: %+v", other.ServiceLabels, alerts[0])
	}
	for _, bad := range []string{`{}`, `[{"labels":{}}]`, `[{"labels":{"alertname":"x"},"startsAt":"yesterday"}]`} {
		if _, err := DecodeAlerts([]byte(bad), conv); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func FuzzDecodeAlerts(f *testing.F) {
	f.Add([]byte(recordedAlerts))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		alerts, err := DecodeAlerts(b, conv)
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
