package tui

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// A service whose series answered but read no point (the Prometheus
// adapter drops NaN) shows "—" for each number, as `oncall services`
// does, never 0/s, 0.00% or 0ms, and its health is ? (unread), not ✓; and a NaN that reaches a sparkline
// draws a blank cell instead of crashing the cockpit.
func TestServiceRowWithNothingReadShowsDashes(t *testing.T) {
	unread := correlate.StatusOf(sources.RED{Service: "payment-api"})
	row := ansi.Strip(renderServiceRow(unread, serviceScale([]correlate.ServiceStatus{unread}), 100, styles()))
	if strings.Count(row, "—") != 3 || strings.Contains(row, "0ms") || strings.Contains(row, "0/s") || strings.Contains(row, "%") || !strings.HasPrefix(row, "? ") {
		t.Errorf("a service with nothing read: %q, want ? and — for rate, errors and p99", row)
	}
	nan := correlate.ServiceStatus{Service: "payment-api", Rate: 1, P99: 0.2,
		Rates: []float64{1, math.NaN(), 1}, ErrorRatios: []float64{0, math.NaN(), 0}, P99s: []float64{0.2, math.Inf(1), 0.2}}
	for _, scale := range []columnScale{{rate: 1, errors: 1, p99: 1}, {rate: math.NaN(), errors: math.Inf(1), p99: math.NaN()}} {
		row := ansi.Strip(renderServiceRow(nan, scale, 100, styles()))
		if ansi.StringWidth(row) != 100 || !strings.Contains(row, "payment-api") {
			t.Errorf("scale %+v: %q", scale, row)
		}
	}
}

// Metrics that answered for every service but read no number are not
// calm: the status line says unread, not ✓.
func TestStatusLineMetricsWithNothingReadAreUnread(t *testing.T) {
	wall := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	unread := correlate.StatusOf(sources.RED{Service: "payment-api"})
	o := &overviewData{Services: []correlate.ServiceStatus{unread}, REDOf: part{LoadedAt: wall}}
	got := ansi.Strip(statusLine(o, wall, cadence{every: 2 * time.Second}, false, 200, styles()))
	if strings.Contains(got, "✓ metrics") || !strings.Contains(got, "✗ metrics unread") {
		t.Errorf("every service numberless: %q", got)
	}
	o.Services = append(o.Services, correlate.ServiceStatus{Service: "checkout-api", Rates: []float64{1}})
	if got := ansi.Strip(statusLine(o, wall, cadence{every: 2 * time.Second}, false, 200, styles())); !strings.Contains(got, "✓ metrics") {
		t.Errorf("one service read: %q", got)
	}
}
