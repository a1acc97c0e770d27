package present

import (
	"bytes"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/correlate"
)

// TestUnknownBlastRadiusIsNotZero: with the entry points' metrics
// missing, the text and the Markdown say unknown, never "failing 0
// req/min" nor "entry points: none".
func TestUnknownBlastRadiusIsNotZero(t *testing.T) {
	inc := &correlate.Incident{Summary: "db errors", Blast: &correlate.BlastRadius{Root: "db",
		Services: []correlate.Impacted{{Service: "db"}, {Service: "api"}}, Currency: "USD", EntryPointsMissing: true,
		Unknown: "the entry points' metrics did not arrive (metrics: RED: did not arrive within 17s)"}}
	p := NewIncident(inc, Options{})
	var text, md bytes.Buffer
	if err := Text(&text, p, false); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		for _, want := range []string{"entry points: unknown", "requests at entry points unknown: the entry points' metrics did not arrive (metrics: RED: did not arrive within 17s)", "money unknown per minute"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
		if strings.Contains(out, "failing 0") || strings.Contains(out, "entry points: none") || strings.Contains(out, "0 USD") {
			t.Errorf("%s reads as measured:\n%s", name, out)
		}
	}
	inc.Blast.EntryPoints = []string{"web"}
	if got := NewIncident(inc, Options{}).Blast.Entries(); got != "web (others unknown)" {
		t.Errorf("entries %q", got)
	}
}
