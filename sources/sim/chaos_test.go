package sim

import (
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/sources"
)

// The fault actions' parameters as experiment files give them: durations,
// shares as fractions or percentages, counts or shares of the current count.
func TestActFaultParams(t *testing.T) {
	f, b := run(t, "quiet", 0)
	for _, c := range []struct {
		a      sources.Action
		faults string // Fleet.Faults of the service after it
	}{
		{sources.Action{Kind: "inject-latency", Service: "payment-db", Params: map[string]string{"latency": "200ms", "share": "50%", "jitter": "50ms"}}, "latency +200ms on 50%"},
		{sources.Action{Kind: "inject-latency", Service: "payment-db", Params: map[string]string{"latency": "100ms", "share": "0.25"}}, "latency +100ms on 25%"},
		{sources.Action{Kind: "inject-errors", Service: "cart", Params: map[string]string{"ratio": "15%"}}, "errors 15%"},
		{sources.Action{Kind: "kill-replicas", Service: "payment-api", Params: map[string]string{"replicas": "50%"}}, "5 replicas killed"},
		{sources.Action{Kind: "kill-replicas", Service: "cart", Params: map[string]string{"replicas": "2"}}, "errors 15%, 2 replicas killed"},
		{sources.Action{Kind: "limit-pool", Service: "payment-api", Params: map[string]string{"size": "50%"}}, "5 replicas killed, pool payment-db limited to 5"},
		{sources.Action{Kind: "limit-pool", Service: "payment-db", Params: map[string]string{"size": "10%"}}, "latency +100ms on 25%, connection limit 30"},
		{sources.Action{Kind: "clear-faults", Service: "payment-api"}, ""},
	} {
		if _, err := b.Act(bg, c.a); err != nil {
			t.Fatalf("%s %v: %v", c.a.Kind, c.a.Params, err)
		}
		if got, _ := f.Faults(c.a.Service); got != c.faults {
			t.Errorf("after %s %v: faults %q, want %q", c.a.Kind, c.a.Params, got, c.faults)
		}
	}
	for _, c := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"latency": "200ms", "share": "150%"}, `share "150%": a share must be 0..1`},
		{map[string]string{"latency": "soon"}, `latency "soon"`},
		{map[string]string{"latency": "200ms", "share": "half"}, "want a share like 0.5 or 50%"},
		{map[string]string{"latency": "200ms", "lag": "1"}, "unknown parameter"},
		{map[string]string{"latency": "200ms", "share": "0%"}, "a share of 0 injects nothing"},
	} {
		_, err := b.Act(bg, sources.Action{Kind: "inject-latency", Service: "payment-db", Params: c.params})
		if err == nil || !strings.Contains(err.Error(), "simulator inject-latency payment-db") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.params, err, c.want)
		}
	}
}
