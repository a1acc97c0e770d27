package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// shortHistory is poolEvidence on a Prometheus whose data began 3m45s
// into the window: no service graph before it, so the baseline is the
// window's first slice, which the data covers for its last 75 s. Read
// over the whole slice, api's calls into db were a quarter of the 100 a
// second they were; in the fault they rose by a third, to 130. No
// traces say which calls were retries.
func shortHistory(began time.Time) *Evidence {
	ev := poolEvidence(0.35)
	ev.Traces = nil // no retries to tell the extra calls by
	for i, r := range ev.RED {
		trim := func(s sources.Series) sources.Series {
			var kept []sources.Sample
			for _, p := range s.Samples {
				if !p.T.Before(began) {
					kept = append(kept, p)
				}
			}
			s.Samples = kept
			return s
		}
		r.Requests, r.Errors, r.P99 = trim(r.Requests), trim(r.Errors), trim(r.P99)
		ev.RED[i] = r
	}
	ev.Baseline = sources.TimeRange{Start: window.Start.Add(-30 * time.Minute), End: window.Start}
	ev.Edges[2].RequestRate = 130
	ev.BaselineEdges[0].RequestRate = 25
	ev.BaselineEdges[1].RequestRate = 25
	ev.EdgeBaseline = sources.TimeRange{Start: window.Start, End: window.Start.Add(graphSlice)}
	return ev
}

// The trial fleet, its first fault ten minutes after it started: the
// database's callers seemed to have tripled their calls against a
// baseline read from the first minutes of data, and the slow database
// came out a victim of their load, not the cause of their full pool.
func TestAShortServiceGraphBaselineIsScaledToTheDataItCovers(t *testing.T) {
	inc := Analyze(shortHistory(window.Start.Add(3*time.Minute+45*time.Second)), Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "db" || inc.Candidates[0].Likelihood != Likely {
		t.Fatalf("ranked %+v", inc.Candidates)
	}
	db := inc.Candidates[0]
	if reasonOf(db, ReasonLoad) != nil || reasonOf(db, ReasonPool) == nil {
		t.Errorf("db %+v: want the full pool blamed on it, and no load", db)
	}
	for _, want := range []string{
		"service-graph baseline: none before the window; uninstrumented peers are judged against 23:30–23:35",
		"service-graph baseline: its data began at 23:33:45, 1 min before the end of 23:30–23:35; each edge's rates are scaled to the part of it their data covers",
	} {
		if !containsLine(inc.Notes, want) {
			t.Errorf("notes %q\nwant %q", inc.Notes, want)
		}
	}

	// with data from the slice's start, the same rates are a surge
	for _, c := range Analyze(shortHistory(window.Start), Meta{}).Candidates {
		if c.Service == "db" && reasonOf(c, ReasonLoad) == nil {
			t.Errorf("with data from the slice's start, db %+v has no load: the rates were scaled anyway", c)
		}
	}
}

// A service deployed inside the baseline has data for part of it: its
// edges are scaled to that part, the others' are not.
func TestABaselineEdgeIsScaledToItsCallersData(t *testing.T) {
	ev := &Evidence{Baseline: sources.TimeRange{Start: t0, End: window.Start}, Window: window, Step: 15 * time.Second,
		RED: []sources.RED{
			red("old", 180, 10, flat(0.001), flat(0.05)),
			red("new", 180, 10, flat(0.001), flat(0.05)),
		},
		BaselineEdges: []sources.Edge{
			{Client: "old", Server: "db", RequestRate: 10, FailedRate: 1},
			{Client: "new", Server: "db", RequestRate: 2, FailedRate: 0.5},
		},
	}
	ev.RED[1].Requests.Samples = ev.RED[1].Requests.Samples[80:] // from 23:20, the last 10 of 30 minutes
	got, began := coverEdgeBaseline(ev)
	if !began.Equal(t0.Add(20*time.Minute)) || got.BaselineEdges[0] != ev.BaselineEdges[0] {
		t.Fatalf("began %v, edges %+v", began, got.BaselineEdges)
	}
	if e := got.BaselineEdges[1]; e.RequestRate != 6 || e.FailedRate != 1.5 || ev.BaselineEdges[1].RequestRate != 2 {
		t.Errorf("new's edge %+v (from %+v), want its rates tripled in a copy", e, ev.BaselineEdges[1])
	}

	// an idle caller's zeros are data: its later traffic is a surge, not
	// a series that began late
	idle := red("new", 180, 10, flat(0.001), flat(0.05))
	for i := range 80 {
		idle.Requests.Samples[i].V = 0
	}
	ev.RED[1] = idle
	if got, began := coverEdgeBaseline(ev); got != ev || !began.IsZero() {
		t.Errorf("an idle caller's edge was scaled from %v: %+v", began, got.BaselineEdges)
	}
	// data from the range's first step, or less than MinEdgeCoverage of
	// it, is not scaled
	for _, from := range []int{1, 117} {
		ev.RED[1] = red("new", 180, 10, flat(0.001), flat(0.05))
		ev.RED[1].Requests.Samples = ev.RED[1].Requests.Samples[from:]
		if got, began := coverEdgeBaseline(ev); got != ev || !began.IsZero() {
			t.Errorf("data from step %d: scaled from %v: %+v", from, began, got.BaselineEdges)
		}
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}
