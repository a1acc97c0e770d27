package tui

import (
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
)

// TestIncidentViewSaysBlastUnknown: the cockpit's incident view writes a
// blast radius whose entry points never arrived as unknown, never as
// failing 0 req/min.
func TestIncidentViewSaysBlastUnknown(t *testing.T) {
	inc := &correlate.Incident{Summary: "db errors", Blast: &correlate.BlastRadius{Root: "db",
		Services: []correlate.Impacted{{Service: "db"}}, Currency: "USD", EntryPointsMissing: true,
		Unknown: "the entry points' metrics did not arrive (metrics: RED: did not arrive within 17s)"}}
	view := strings.Join(renderIncident(present.NewIncident(inc, present.Options{}), false, 200, styles()), "\n")
	if !strings.Contains(view, "requests at entry points unknown: the entry points' metrics did not arrive") || strings.Contains(view, "failing 0") {
		t.Errorf("the incident view reads as measured:\n%s", view)
	}
}
