package sources

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SLIKind is how an SLO tells good events from bad.
type SLIKind string

const (
	// SLIAvailability counts failed requests among all requests: from the
	// conventions' RED templates, or from two counter selectors.
	SLIAvailability SLIKind = "availability"
	// SLILatency counts requests slower than a threshold among all
	// requests, from a latency histogram.
	SLILatency SLIKind = "latency"
	// SLIRaw is two user-written queries of the bad and total event rates.
	SLIRaw SLIKind = "raw"
)

// Indicator is what an SLO measures, in domain terms; a backend turns it
// into its own queries.
type Indicator struct {
	Kind    SLIKind `json:"kind"`
	Service string  `json:"service"`
	// Availability: series selectors of the total counter and of the
	// error (or good) counter, as `http_requests_total{job="api",code=~"5.."}`.
	// All empty: the conventions' RED templates for Service.
	Errors string `json:"errors,omitempty"`
	Good   string `json:"good,omitempty"`
	Total  string `json:"total,omitempty"`
	// Latency: a request is good when faster than Threshold. Histogram is
	// a selector of the histogram's _bucket series; empty: the
	// conventions' latency histogram for Service.
	Threshold time.Duration `json:"threshold_ns,omitempty"`
	Histogram string        `json:"histogram,omitempty"`
	// Raw: queries of the bad (or good) and total event rates per
	// second, with {{.Window}} (or Sloth's {{.window}}) where the range
	// goes; or one query of the error ratio itself, which gives no event
	// counts.
	ErrorQuery      string `json:"error_query,omitempty"`
	GoodQuery       string `json:"good_query,omitempty"`
	TotalQuery      string `json:"total_query,omitempty"`
	ErrorRatioQuery string `json:"error_ratio_query,omitempty"`
	// Recorded names the recording rules an SLO tool already runs for
	// this SLO; where they answer a window, they are used instead.
	Recorded *Recording `json:"recorded,omitempty"`
}

// Recording identifies an SLO's recording rules.
type Recording struct {
	// By is RecordedBySloth or RecordedByPyrra.
	By string `json:"by"`
	// ID is Sloth's sloth_id label (service-slo), or Pyrra's slo label
	// (the objective's name).
	ID string `json:"id"`
	// Metric is, for Pyrra, the total metric its burn-rate rules are
	// named after (http_requests_total records http_requests:burnrate5m).
	Metric string `json:"metric,omitempty"`
}

// Recording rule sources.
const (
	RecordedBySloth = "sloth"
	RecordedByPyrra = "pyrra"
)

// Check reports what is missing for the indicator's kind.
func (ind Indicator) Check() error {
	switch ind.Kind {
	case SLIAvailability:
		switch {
		case ind.Errors != "" && ind.Good != "":
			return fmt.Errorf("an availability indicator counts errors or good events, not both")
		case (ind.Errors != "" || ind.Good != "") != (ind.Total != ""):
			return fmt.Errorf("an availability indicator needs a total selector with its errors (or good) selector, or neither")
		}
	case SLILatency:
		if ind.Threshold <= 0 {
			return fmt.Errorf("a latency indicator needs a threshold, e.g. 300ms")
		}
	case SLIRaw:
		qs := []string{ind.ErrorQuery + ind.GoodQuery, ind.TotalQuery}
		switch {
		case ind.ErrorRatioQuery != "" && (ind.ErrorQuery != "" || ind.GoodQuery != "" || ind.TotalQuery != ""):
			return fmt.Errorf("a raw indicator has error_query and total_query, or error_ratio_query, not both")
		case ind.ErrorRatioQuery != "":
			qs = []string{ind.ErrorRatioQuery}
		case ind.ErrorQuery != "" && ind.GoodQuery != "":
			return fmt.Errorf("a raw indicator counts errors or good events, not both")
		case ind.ErrorQuery+ind.GoodQuery == "" || ind.TotalQuery == "":
			return fmt.Errorf("a raw indicator needs error_query (or good_query) and total_query, or error_ratio_query")
		}
		for _, q := range qs {
			if !strings.Contains(q, "{{.Window}}") && !strings.Contains(q, "{{.window}}") {
				return fmt.Errorf("raw query %q has no {{.Window}} for the range", q)
			}
		}
	default:
		return fmt.Errorf("indicator kind %q is not availability, latency or raw", ind.Kind)
	}
	if r := ind.Recorded; r != nil && r.By != RecordedBySloth && r.By != RecordedByPyrra {
		return fmt.Errorf("recorded by %q: only sloth and pyrra rules are read", r.By)
	}
	return nil
}

// SLIWindow is an indicator's events over one window ending at a time.
type SLIWindow struct {
	Window time.Duration `json:"window_ns"`
	// Total and Bad are events in the window; both are NaN when only a
	// recorded ratio answered. Total 0 means no traffic.
	Total Float `json:"total"`
	Bad   Float `json:"bad"`
	// ErrorRatio is Bad/Total: NaN when there was no traffic, which
	// leaves the SLI undefined rather than perfect.
	ErrorRatio Float `json:"error_ratio"`
	// Recorded is true when a recording rule answered.
	Recorded bool     `json:"recorded,omitempty"`
	Queries  []string `json:"queries"`
}

// SLIReading is an indicator read over several windows at one time.
type SLIReading struct {
	Windows []SLIWindow `json:"windows"` // in the order asked
	// Since is the first time within the longest window at which the
	// indicator has data; zero when it has none. The data covers At-Since.
	Since time.Time `json:"since"`
	// Path says how the numbers were computed, e.g. "increase() over each
	// window on the server" or "sloth recording rules".
	Path string `json:"path"`
	// Threshold is, for latency, the histogram boundary used: the one
	// nearest the indicator's threshold.
	Threshold time.Duration `json:"threshold_ns,omitempty"`
}

// Window returns the reading of the window d, if it was asked for.
func (r SLIReading) Window(d time.Duration) (SLIWindow, bool) {
	for _, w := range r.Windows {
		if w.Window == d {
			return w, true
		}
	}
	return SLIWindow{}, false
}

// SLIHistory is an indicator's bad and total events per step, oldest
// first; the two series share their timestamps.
type SLIHistory struct {
	Step       time.Duration `json:"step_ns"`
	Bad, Total Series
}

// SLIs reads service level indicators. Counting happens on the server:
// one query per window, so a short history or a coarse scrape interval
// still gives exact counts.
type SLIs interface {
	// SLI reads the indicator over each window ending at at.
	SLI(ctx context.Context, ind Indicator, windows []time.Duration, at time.Time) (SLIReading, error)
	// SLIHistory reads the indicator's events per step over r.
	SLIHistory(ctx context.Context, ind Indicator, r TimeRange, step time.Duration) (SLIHistory, error)
}
