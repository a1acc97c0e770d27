package remediate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
)

// TestEscalationSaysUnknownBlast: an escalation sent while the entry
// points' metrics are missing says the failing requests are unknown, in
// the Slack text and as null in the webhook's JSON, never 0.
func TestEscalationSaysUnknownBlast(t *testing.T) {
	inc := &correlate.Incident{Blast: &correlate.BlastRadius{Root: "db", Services: []correlate.Impacted{{Service: "db"}},
		Unknown: "the entry points' metrics did not arrive (metrics: RED: did not arrive within 17s)", EntryPointsMissing: true}}
	e := NewEscalation(&Plan{Runbook: "r", Target: "db", Inc: inc}, nil, "why", "u", "h", time.Unix(0, 0))
	if txt := slackText(e); !strings.Contains(txt, "Blast radius: 1 service, unknown failing requests/min") {
		t.Errorf("slack text:\n%s", txt)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"failing_per_min":null`) || !strings.Contains(string(b), `"money_per_min":null`) {
		t.Errorf("JSON: %s", b)
	}
}
