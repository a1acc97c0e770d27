package correlate

import (
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Trigger is what an incident starts from: a service, an alert, or a
// trace, at a time.
type Trigger struct {
	Service string `json:"service,omitempty"`
	Alert   string `json:"alert,omitempty"`
	TraceID string `json:"trace_id,omitempty"`
	// At is the end of the incident window (usually now).
	At time.Time `json:"at"`
	// Window is how far back from At the incident is looked for.
	Window time.Duration `json:"window"`
}

// GatherOptions bound the evidence collected.
type GatherOptions struct {
	Baseline  time.Duration // healthy history before the window; default 30m
	Step      time.Duration // metric resolution; default 15s, coarser for spans past three hours (stepFor)
	Deadline  time.Duration // for all of gathering; default 10s, but commands pass the config's (config.IncidentDeadline)
	LogLimit  int           // default 5000
	MaxTraces int           // failed traces searched for; default 50
	// Progress, when set, is called with a copy of the evidence each time
	// a part arrives or fails, so that a screen can draw what it has while
	// the rest comes in. Gather returns the whole after the last call.
	Progress func(*Evidence)
}

// Arrival is when one part of the evidence arrived, from the start of
// gathering.
type Arrival struct {
	What  string        `json:"what"`
	After time.Duration `json:"after"`
}

func (o GatherOptions) withDefaults() GatherOptions {
	if o.Baseline <= 0 {
		o.Baseline = 30 * time.Minute
	}
	if o.Step <= 0 {
		o.Step = 15 * time.Second
	}
	if o.Deadline <= 0 {
		o.Deadline = 10 * time.Second
	}
	if o.LogLimit <= 0 {
		o.LogLimit = 5000
	}
	if o.MaxTraces <= 0 {
		o.MaxTraces = 50
	}
	return o
}

// Evidence is everything gathered for one incident. Missing names each
// part that did not arrive and why.
type Evidence struct {
	Trigger  Trigger           `json:"trigger"`
	Baseline sources.TimeRange `json:"baseline"`
	Window   sources.TimeRange `json:"window"`
	Step     time.Duration     `json:"step"`
	RED      []sources.RED     `json:"red"`
	// Screen says which services RED holds, when the metrics backend
	// screened them first (nil when it cannot).
	Screen        *Screen        `json:"screen,omitempty"`
	Edges         []sources.Edge `json:"edges"`          // over the window
	BaselineEdges []sources.Edge `json:"baseline_edges"` // over the baseline
	RecentEdges   []sources.Edge `json:"recent_edges"`   // over the window's last slice: what goes on now
	// EdgeBaseline is set when BaselineEdges are not the baseline's,
	// which had none, but the window's earliest slice with edges.
	EdgeBaseline sources.TimeRange `json:"edge_baseline,omitzero"`
	Logs         []sources.LogLine `json:"logs"`
	Traces       []sources.Trace   `json:"traces"` // fetched whole, by ID
	// SpanSets are the failed traces as the search described them: their
	// failed spans and their calls, not whole.
	SpanSets   []sources.Trace      `json:"span_sets,omitempty"`
	Exemplars  []sources.Exemplar   `json:"exemplars"`
	Changes    []sources.Change     `json:"changes"`
	Saturation []sources.Saturation `json:"saturation"`
	Alerts     []sources.Alert      `json:"alerts"`
	Missing    []Missing            `json:"missing,omitempty"`
	// Arrived lists the parts that arrived, in order, with when.
	Arrived []Arrival `json:"arrived,omitempty"`
}

// snapshot is a copy of ev whose lists can be read while gathering goes on.
func (ev *Evidence) snapshot() *Evidence {
	c := *ev
	c.Missing = append([]Missing(nil), ev.Missing...)
	c.Arrived = append([]Arrival(nil), ev.Arrived...)
	return &c
}

// Missing is one part of the evidence that is absent, and why. Down is
// set when a configured backend failed or did not answer in time: the
// verdict lacks evidence it should have had. (A backend that is not
// configured, or trace IDs that were not sampled, are not down.)
type Missing struct {
	What string `json:"what"`
	Why  string `json:"why"`
	Down bool   `json:"down,omitempty"`
}

// graphSlice is the span of one service-graph query over the window.
const graphSlice = 5 * time.Minute

// peakEdges merges b into a, keeping per edge the slice with the higher
// request rate and the highest p99.
func peakEdges(a, b []sources.Edge) []sources.Edge {
	idx := map[[2]string]int{}
	for i, e := range a {
		idx[[2]string{e.Client, e.Server}] = i
	}
	for _, e := range b {
		i, ok := idx[[2]string{e.Client, e.Server}]
		if !ok {
			idx[[2]string{e.Client, e.Server}] = len(a)
			a = append(a, e)
			continue
		}
		p99 := max(a[i].P99Seconds, e.P99Seconds)
		if e.RequestRate > a[i].RequestRate {
			a[i] = e
		}
		a[i].P99Seconds = p99
	}
	return a
}
