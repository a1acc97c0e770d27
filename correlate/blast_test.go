package correlate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// TestBlastWithoutREDIsUnknown is the field report's case: the RED
// metrics were cut off by the deadline, the service graph arrived and
// names the failing database. The incident still answers, but the
// requests at the entry points are unknown: not 0, and not "no entry
// point is hurt"; JSON writes them as null.
func TestBlastWithoutREDIsUnknown(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	healthy := []sources.Edge{
		{Client: sources.UserNode, Server: "web", Kind: sources.EdgeVirtualNode, RequestRate: 100, FailedRate: 0.1},
		{Client: "web", Server: "api", RequestRate: 100, FailedRate: 0.1},
		{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 300, FailedRate: 0.1},
	}
	failing := []sources.Edge{
		{Client: sources.UserNode, Server: "web", Kind: sources.EdgeVirtualNode, RequestRate: 100, FailedRate: 40},
		{Client: "web", Server: "api", RequestRate: 100, FailedRate: 40},
		{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 300, FailedRate: 150},
	}
	ev := &Evidence{Trigger: Trigger{At: at, Window: 15 * time.Minute}, Step: 15 * time.Second,
		Window:   sources.TimeRange{Start: at.Add(-15 * time.Minute), End: at},
		Baseline: sources.TimeRange{Start: at.Add(-45 * time.Minute), End: at.Add(-15 * time.Minute)},
		Edges:    failing, RecentEdges: failing, BaselineEdges: healthy,
		Missing: []Missing{{What: "metrics: RED", Why: "did not arrive within 10s", Down: true}}}
	inc := Analyze(ev, Meta{})
	if inc.Blast == nil {
		t.Fatalf("no blast radius: %s; notes %v", inc.Summary, inc.Notes)
	}
	b := inc.Blast
	if !b.EntryPointsMissing || !strings.Contains(b.Unknown, "the entry points' metrics did not arrive (metrics: RED: did not arrive within 10s)") {
		t.Errorf("the blast radius does not say its entry points are unknown: %+v", b)
	}
	if strings.Contains(b.Unknown, "no entry point is hurt") || b.FailingPerMin != 0 || b.AtRiskPerMin != 0 {
		t.Errorf("the blast radius reads as measured: %+v", b)
	}
	if len(inc.Down()) != 1 || inc.Down()[0].What != "metrics: RED" {
		t.Errorf("the missing part is not named: %+v", inc.Missing)
	}
	out, err := json.Marshal(inc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"failing_per_min":null`, `"at_risk_per_min":null`, `"money_per_min":null`, `"entry_points_missing":true`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("JSON lacks %s: %s", want, out)
		}
	}
}

// TestBlastEntryPointWithoutSeriesIsUnknown: the metrics arrived, but
// not for the entry point the failure climbs to, and no service-graph
// edge measures it: whether it is hurt is unknown. Screened as within
// its baseline, it is known unhurt.
func TestBlastEntryPointWithoutSeriesIsUnknown(t *testing.T) {
	g := BuildGraph(nil, nil, nil, map[string][]string{"web": {"api"}, "api": {"db"}, "batch": {"db"}})
	anoms := map[string]*Anomaly{"db": {Service: "db", Rate: 300, ErrorRate: 30, Kind: "errors"}, "api": {Service: "api", Rate: 100, ErrorRate: 10, Kind: "errors"}}
	ev := &Evidence{RED: []sources.RED{{Service: "db"}, {Service: "api"}, {Service: "batch"}}}
	b := Blast("db", g, anoms, nil, nil, nil, "")
	b.checkEntryPoints(g, ev)
	if !b.EntryPointsMissing || b.Unknown != "no metrics arrived for the entry points web" {
		t.Errorf("%+v", b)
	}
	ev.Screen = &Screen{Within: []string{"web"}}
	b = Blast("db", g, anoms, nil, nil, nil, "")
	b.checkEntryPoints(g, ev)
	if b.EntryPointsMissing || !strings.Contains(b.Unknown, "no entry point is hurt") {
		t.Errorf("a screened entry point is not known unhurt: %+v", b)
	}
	// measured: the numbers are written, null only when unknown
	anoms["web"] = &Anomaly{Service: "web", Rate: 100, ErrorRate: 10, Kind: "errors"}
	b = Blast("db", g, anoms, nil, nil, nil, "")
	b.checkEntryPoints(g, &Evidence{RED: []sources.RED{{Service: "db"}, {Service: "api"}, {Service: "web"}, {Service: "batch"}}})
	out, _ := json.Marshal(b)
	if b.Unknown != "" || !strings.Contains(string(out), `"failing_per_min":600,"at_risk_per_min":6000`) {
		t.Errorf("%+v\n%s", b, out)
	}
}
