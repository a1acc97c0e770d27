package correlate

import (
	"cmp"
	"fmt"
	"time"

	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// coverEdgeBaseline scales the service-graph baseline to the part of its
// range the data covers. The baseline's edges are rates over the whole
// range (the baseline, or EdgeBaseline when that had none), and a rate
// over a range whose series began inside it is the increase over the
// covered part divided by the whole range: a fleet whose data began ten
// minutes into a thirty-minute baseline reads at a third of its traffic,
// and the window as a surge. Each edge's data begins with the first
// sample of its caller's request series (of its callee's when the caller
// is not measured, as users are not; of the fleet's when neither is),
// whatever its value: an idle caller's zeros are data, and its later
// traffic a real surge. That start is a Prometheus restarted minutes
// ago, or a service deployed inside the baseline. An edge whose data
// began less than MinEdgeCoverage before the range's end keeps its rate
// as read (understated): a scale by so little data would multiply its
// noise. It returns ev unchanged, and a zero time, when no edge is
// scaled; else the earliest start it scaled from.
func coverEdgeBaseline(ev *Evidence) (*Evidence, time.Time) {
	r := ev.EdgeBaseline
	if r.Start.IsZero() {
		r = ev.Baseline
	}
	if len(ev.BaselineEdges) == 0 || !r.End.After(r.Start) {
		return ev, time.Time{}
	}
	first := map[string]time.Time{}
	var fleet time.Time
	for _, red := range ev.RED {
		if len(red.Requests.Samples) == 0 {
			continue
		}
		t := red.Requests.Samples[0].T
		first[red.Service] = t
		if fleet.IsZero() || t.Before(fleet) {
			fleet = t
		}
	}
	var scaled []sources.Edge
	var earliest time.Time
	for i, e := range ev.BaselineEdges {
		began := cmp.Or(first[e.Client], first[e.Server], fleet)
		covered := r.End.Sub(began)
		// a range query's first sample lands within a step or two of
		// the range's start: data from then on covers the range
		if began.IsZero() || began.Sub(r.Start) <= max(2*ev.Step, time.Minute) || covered < MinEdgeCoverage {
			continue
		}
		if scaled == nil {
			scaled = append([]sources.Edge(nil), ev.BaselineEdges...)
		}
		f := float64(r.End.Sub(r.Start)) / float64(covered)
		scaled[i].RequestRate *= f
		scaled[i].FailedRate *= f
		if earliest.IsZero() || began.Before(earliest) {
			earliest = began
		}
	}
	if scaled == nil {
		return ev, time.Time{}
	}
	c := *ev
	c.BaselineEdges = scaled
	return &c, earliest
}

// edgeBaselineNotes say which history the service graph was judged
// against when it is not the whole baseline before the window, and when
// its rates were scaled by NotedEdgeScale or more.
func edgeBaselineNotes(ev *Evidence, began time.Time) []string {
	var out []string
	r := ev.EdgeBaseline
	if !r.Start.IsZero() {
		out = append(out, fmt.Sprintf("service-graph baseline: none before the window; uninstrumented peers are judged against %s–%s",
			r.Start.UTC().Format("15:04"), r.End.UTC().Format("15:04")))
	} else {
		r = ev.Baseline
	}
	if !began.IsZero() && float64(r.End.Sub(r.Start)) >= NotedEdgeScale*float64(r.End.Sub(began)) {
		out = append(out, fmt.Sprintf("service-graph baseline: its data began at %s, %s before the end of %s–%s; each edge's rates are scaled to the part of it their data covers",
			began.UTC().Format("15:04:05"), slo.FormatSpan(r.End.Sub(began)), r.Start.UTC().Format("15:04"), r.End.UTC().Format("15:04")))
	}
	return out
}
