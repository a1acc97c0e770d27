package prometheus

import (
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

func TestRecordingRuleNames(t *testing.T) {
	month := 30 * 24 * time.Hour
	sloth := &sources.Recording{By: sources.RecordedBySloth, ID: "checkout-requests-availability"}
	pyrra := &sources.Recording{By: sources.RecordedByPyrra, ID: "checkout-errors", Metric: "http_requests_total"}
	for _, c := range []struct {
		r    *sources.Recording
		w    time.Duration
		want string
	}{
		{sloth, 5 * time.Minute, `slo:sli_error:ratio_rate5m{sloth_id="checkout-requests-availability"}`},
		{sloth, month, `slo:sli_error:ratio_rate30d{sloth_id="checkout-requests-availability"}`},
		{pyrra, time.Hour, `http_requests:burnrate1h{slo="checkout-errors"}`},
		{pyrra, month, `1 - pyrra_availability{slo="checkout-errors"}`},
		{&sources.Recording{By: sources.RecordedByPyrra, ID: "x"}, time.Hour, ""}, // no metric, no burn-rate rule name
		{nil, time.Hour, ""},
	} {
		if got := recordedQuery(c.r, c.w, month); got != c.want {
			t.Errorf("%+v %s: %q, want %q", c.r, c.w, got, c.want)
		}
	}
}

func TestSnapToTheNearestBucket(t *testing.T) {
	series := func(les ...string) []sources.Series {
		var out []sources.Series
		for _, le := range les {
			out = append(out, sources.Series{Labels: sources.Labels{"le": le}, Samples: []sources.Sample{{V: 1}}})
		}
		return out
	}
	for _, c := range []struct {
		threshold, want float64
		ok              bool
	}{{0.3, 0.25, true}, {0.4, 0.5, true}, {7, 2.5, true}, {0.001, 0.005, true}} {
		got, ok := snap(series("0.005", "0.25", "0.5", "2.5", "+Inf"), c.threshold)
		if got != c.want || ok != c.ok {
			t.Errorf("snap %v: %v %v", c.threshold, got, ok)
		}
	}
	if _, ok := snap(series("+Inf"), 0.3); ok {
		t.Error("a histogram with only +Inf has no boundary to snap to")
	}
}
