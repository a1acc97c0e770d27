package correlate

import (
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// LogMargin widens a trace's time span when its log lines are looked for:
// lines are often written a little before or after the span, and clocks
// differ between pipelines. Grafana's trace-to-logs uses the dashboard
// range instead, which is why lines go missing there.
const LogMargin = 5 * time.Second

// TraceView is one trace with its log lines attached to its spans.
type TraceView struct {
	TraceID     string        `json:"trace_id"`
	RootService string        `json:"root_service"`
	RootName    string        `json:"root_name"`
	Start       time.Time     `json:"start"`
	Duration    time.Duration `json:"duration_ns"`
	Origin      *ErrorOrigin  `json:"origin,omitempty"`
	Spans       []SpanView    `json:"spans"`
	// Unattached are lines of this trace that fit no span (another
	// service, or outside every span even with the margin).
	Unattached []sources.LogLine `json:"unattached,omitempty"`
}

// SpanView is a span and the log lines written during it.
type SpanView struct {
	SpanID       string             `json:"span_id"`
	ParentSpanID string             `json:"parent_span_id,omitempty"`
	Service      string             `json:"service"`
	Name         string             `json:"name"`
	Kind         string             `json:"kind"`
	Status       sources.SpanStatus `json:"status"`
	Message      string             `json:"message,omitempty"`
	Start        time.Time          `json:"start"`
	Duration     time.Duration      `json:"duration_ns"`
	// Attributes are the span's own, for a view that shows it whole.
	Attributes map[string]string `json:"attributes,omitempty"`
	Logs       []sources.LogLine `json:"logs,omitempty"`
}

// JoinTraces attaches log lines to the spans of their trace, by trace ID.
// A line goes to the innermost span of its service whose time span,
// widened by LogMargin, holds the line; the trace's own window is its
// start minus the margin to its end plus the margin.
func JoinTraces(traces []sources.Trace, logs []sources.LogLine, origins []ErrorOrigin) []TraceView {
	byTrace := map[string][]sources.LogLine{}
	for _, l := range logs {
		if l.TraceID != "" {
			byTrace[l.TraceID] = append(byTrace[l.TraceID], l)
		}
	}
	originOf := map[string]*ErrorOrigin{}
	for i := range origins {
		originOf[origins[i].TraceID] = &origins[i]
	}
	out := make([]TraceView, 0, len(traces))
	for _, t := range traces {
		if len(t.Spans) == 0 {
			continue
		}
		v := TraceView{TraceID: t.ID, Origin: originOf[t.ID]}
		start, end := t.Spans[0].Start, t.Spans[0].End
		for _, sp := range t.Spans {
			if sp.Start.Before(start) {
				start = sp.Start
			}
			if sp.End.After(end) {
				end = sp.End
			}
			v.Spans = append(v.Spans, SpanView{SpanID: sp.SpanID, ParentSpanID: sp.ParentSpanID, Service: sp.Service, Name: sp.Name,
				Kind: sp.Kind, Status: sp.Status, Message: sp.StatusMessage, Start: sp.Start, Duration: sp.Duration(), Attributes: sp.Attributes})
			if sp.ParentSpanID == "" {
				v.RootService, v.RootName = sp.Service, sp.Name
			}
		}
		v.Start, v.Duration = start, end.Sub(start)
		lines := byTrace[t.ID]
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].T.Before(lines[j].T) })
		for _, l := range lines {
			if l.T.Before(start.Add(-LogMargin)) || l.T.After(end.Add(LogMargin)) {
				continue // same ID, another time: not this trace's line
			}
			// among the service's spans that hold the line: a failed span
			// for an error line, then the request's server span, then the
			// innermost
			best, bestScore := -1, -1
			var bestDur time.Duration
			for i, sp := range v.Spans {
				if sp.Service != l.Service || l.T.Before(sp.Start.Add(-LogMargin)) || l.T.After(sp.Start.Add(sp.Duration+LogMargin)) {
					continue
				}
				score := 0
				if l.Level == "error" && sp.Status == sources.StatusError {
					score += 2
				}
				if sp.Kind == "server" {
					score++
				}
				if score > bestScore || (score == bestScore && sp.Duration < bestDur) {
					best, bestScore, bestDur = i, score, sp.Duration
				}
			}
			if best < 0 {
				v.Unattached = append(v.Unattached, l)
				continue
			}
			v.Spans[best].Logs = append(v.Spans[best].Logs, l)
		}
		out = append(out, v)
	}
	return out
}
