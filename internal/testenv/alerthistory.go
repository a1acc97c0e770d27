package testenv

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AlertFiring is one alert firing to backfill as Prometheus's ALERTS
// series: its labels as PromQL text (alertstate="firing" among them) and
// its first and last firing samples.
type AlertFiring struct {
	Labels     string
	Start, End time.Time
}

// AlertsOpenMetrics is OpenMetrics text of ALERTS for promtool to
// backfill: a 1 every evaluation from each firing's start to its end,
// then a NaN. The rule manager ends a series with a staleness marker,
// which OpenMetrics text cannot carry; the NaN reads as no firing sample
// just the same, where without it the five-minute lookback would stretch
// every firing by five minutes. Each series' samples are written
// together and in time order, as promtool needs them.
func AlertsOpenMetrics(firings []AlertFiring, every time.Duration) string {
	fs := slices.Clone(firings)
	slices.SortStableFunc(fs, func(a, b AlertFiring) int {
		return cmp.Or(strings.Compare(a.Labels, b.Labels), a.Start.Compare(b.Start))
	})
	var b strings.Builder
	b.WriteString("# TYPE ALERTS gauge\n")
	for _, f := range fs {
		for t := f.Start; !t.After(f.End); t = t.Add(every) {
			fmt.Fprintf(&b, "ALERTS{%s} 1 %d\n", f.Labels, t.Unix())
		}
		fmt.Fprintf(&b, "ALERTS{%s} NaN %d\n", f.Labels, f.End.Add(every).Unix())
	}
	b.WriteString("# EOF\n")
	return b.String()
}
