package present

import (
	"testing"

	"github.com/oncall-cockpit/oncall/correlate"
)

// TestChainTextIsTheChainSentence: ChainText joins the chain as
// correlate joins it into a live incident's summary, its text made safe.
func TestChainTextIsTheChainSentence(t *testing.T) {
	inc := &correlate.Incident{
		Summary: "checkout errors 0.1% → 40% ← db connections 10 → 100",
		Chain: []correlate.ChainLink{
			{Service: "checkout", What: "errors 0.1% → 40%"},
			{Service: "db", What: "connections 10 → 100\x1b]0;pwned\x07"},
		},
	}
	p := NewIncident(inc, Options{})
	if p.ChainText != p.Summary {
		t.Errorf("chain text %q, want the summary %q", p.ChainText, p.Summary)
	}
	if NewIncident(&correlate.Incident{Summary: "no service departs"}, Options{}).ChainText != "" {
		t.Error("chain text without a chain")
	}
}
