package testenv

import (
	"fmt"
	"strings"
	"time"
)

// SLOHistory is a month of an HTTP service's counters as a real app
// exposes them, with what makes real data hard: a counter reset (a
// restart), a scrape gap, an incident, labels named otherwise (job and
// code, not service and status_code). Its methods give the true event
// counts to check budgets against.
type SLOHistory struct {
	Job        string
	End        time.Time
	Span       time.Duration
	Step       time.Duration // between samples
	RPS        float64
	ErrorRatio float64 // outside the incident
	// Incident is a stretch with IncidentRatio of requests failing.
	IncidentStart time.Time
	IncidentEnd   time.Time
	IncidentRatio float64
	// ResetAt is when the app restarts: its counters start again from 0.
	ResetAt time.Time
	// GapStart to GapEnd has no samples, as when the scraper was down.
	GapStart, GapEnd time.Time
	// Fast is the share of requests under each latency bucket boundary.
	Fast map[string]float64
}

// ratioAt is the error ratio at t.
func (h SLOHistory) ratioAt(t time.Time) float64 {
	if !t.Before(h.IncidentStart) && t.Before(h.IncidentEnd) {
		return h.IncidentRatio
	}
	return h.ErrorRatio
}

// Events is the true number of requests and failed ones in (from, to].
func (h SLOHistory) Events(from, to time.Time) (total, bad float64) {
	start := h.End.Add(-h.Span)
	if from.Before(start) {
		from = start
	}
	if to.After(h.End) {
		to = h.End
	}
	for t := from; t.Before(to); t = t.Add(time.Second) {
		total += h.RPS
		bad += h.RPS * h.ratioAt(t)
	}
	return total, bad
}

// OpenMetrics renders the history for `promtool tsdb create-blocks-from
// openmetrics`: http_requests_total by code, and the request duration
// histogram's buckets.
func (h SLOHistory) OpenMetrics() string {
	var b strings.Builder
	start := h.End.Add(-h.Span)
	type point struct {
		t        time.Time
		ok, fail float64 // counter values
		total    float64 // all requests since the last reset
	}
	var pts []point
	var ok, fail, total float64
	for t := start; !t.After(h.End); t = t.Add(time.Second) {
		if t.Equal(h.ResetAt) {
			ok, fail, total = 0, 0, 0
		}
		if t.After(start) {
			r := h.ratioAt(t)
			ok += h.RPS * (1 - r)
			fail += h.RPS * r
			total += h.RPS
		}
		if t.Sub(start)%h.Step != 0 || (!t.Before(h.GapStart) && t.Before(h.GapEnd)) {
			continue
		}
		pts = append(pts, point{t, ok, fail, total})
	}
	b.WriteString("# TYPE http_requests counter\n")
	for _, code := range []string{"200", "500"} {
		for _, p := range pts {
			v := p.ok
			if code == "500" {
				v = p.fail
			}
			fmt.Fprintf(&b, "http_requests_total{job=%q,code=%q} %g %d\n", h.Job, code, v, p.t.Unix())
		}
	}
	b.WriteString("# TYPE http_request_duration_seconds_bucket unknown\n")
	for _, le := range []string{"0.1", "0.25", "0.5", "1", "+Inf"} {
		share := 1.0
		if le != "+Inf" {
			share = h.Fast[le]
		}
		for _, p := range pts {
			fmt.Fprintf(&b, "http_request_duration_seconds_bucket{job=%q,le=%q} %g %d\n", h.Job, le, share*p.total, p.t.Unix())
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}
