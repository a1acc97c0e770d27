package sim

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// TestSummaryAgreesWithRED: the simulator's summary is its RED series
// reduced, the worst and median taken over points resolution apart, and
// a figure not asked for is NaN.
func TestSummaryAgreesWithRED(t *testing.T) {
	f, b := run(t, "db-pool-exhaustion", 5*time.Minute)
	r := sources.TimeRange{Start: f.Now().Add(-15 * time.Minute), End: f.Now()}
	sums, err := b.SummarizeRED(bg, []string{"payment-api"}, r, time.Minute, sources.FigureRequests|sources.FigurePeakErrorRatio|sources.FigureTypicalErrorRatio|sources.FigurePeakP99)
	if err != nil || len(sums) != 1 {
		t.Fatalf("summaries %+v, %v", sums, err)
	}
	reds, err := b.RED(bg, []string{"payment-api"}, r, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ratios, p99s []float64
	for i, p := range reds[0].Requests.Samples {
		ratios = append(ratios, reds[0].Errors.Samples[i].V/p.V)
		p99s = append(p99s, reds[0].P99.Samples[i].V)
	}
	fine, err := b.RED(bg, []string{"payment-api"}, r, 15*time.Second) // every recorded point
	if err != nil {
		t.Fatal(err)
	}
	var reqs float64
	for _, p := range fine[0].Requests.Samples {
		reqs += p.V
	}
	s := sums[0]
	slices.Sort(ratios)
	for what, v := range map[string][2]float64{
		"mean requests":       {s.Requests, reqs / float64(len(fine[0].Requests.Samples))},
		"peak error ratio":    {s.PeakErrorRatio, ratios[len(ratios)-1]},
		"typical error ratio": {s.TypicalErrorRatio, middle(ratios)},
		"peak p99":            {s.PeakP99, slices.Max(p99s)},
	} {
		if math.Abs(v[0]-v[1]) > 1e-9*math.Max(1, v[1]) {
			t.Errorf("%s = %v, RED says %v", what, v[0], v[1])
		}
	}
	if s.PeakErrorRatio < 5*s.TypicalErrorRatio {
		t.Errorf("the pool's errors five minutes in: peak %v, typical %v", s.PeakErrorRatio, s.TypicalErrorRatio)
	}
	if !math.IsNaN(s.TypicalP99) || !math.IsNaN(s.PeakRequests) {
		t.Errorf("figures not asked for were read: %+v", s)
	}
}

// middle is the median of sorted v, the mean of the two middle values
// of an even count.
func middle(v []float64) float64 {
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func TestMedianInterpolatesAsPrometheus(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{4, 1}, 2.5}, {[]float64{1, 9, 5}, 5}, {[]float64{1, 2, 3, 10}, 2.5}} {
		if got := median(c.v); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}
