package testenv

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/oncall-cockpit/oncall/sim"
)

// SimOpenMetrics advances f to each step from from to to and renders what
// `oncall demo --serve` would have exposed at each, as OpenMetrics text
// for `promtool tsdb create-blocks-from openmetrics`: the history a
// Prometheus scraping the demo every step would hold. Every family is
// written as "unknown", histograms as their _bucket, _sum and _count
// series, so that the names are exactly those a scrape stores.
func SimOpenMetrics(f *sim.Fleet, from, to time.Time, step time.Duration) (string, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(f.Collector()); err != nil {
		return "", err
	}
	// family → series → "value timestamp" lines, in time order
	series := map[string]map[string][]string{}
	for t := from; !t.After(to); t = t.Add(step) {
		f.AdvanceTo(t)
		mfs, err := reg.Gather()
		if err != nil {
			return "", err
		}
		eachSample(mfs, func(name, labels string, v float64) {
			if series[name] == nil {
				series[name] = map[string][]string{}
			}
			series[name][labels] = append(series[name][labels], fmt.Sprintf("%g %d", v, t.Unix()))
		})
	}
	var b strings.Builder
	names := make([]string, 0, len(series))
	for n := range series {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "# TYPE %s unknown\n", n)
		keys := make([]string, 0, len(series[n]))
		for k := range series[n] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, s := range series[n][k] {
				fmt.Fprintf(&b, "%s{%s} %s\n", n, k, s)
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.String(), nil
}

func labelText(ls []*dto.LabelPair) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	return strings.Join(parts, ",")
}

func withLE(labels, le string) string {
	if labels == "" {
		return fmt.Sprintf("le=%q", le)
	}
	return fmt.Sprintf("%s,le=%q", labels, le)
}
