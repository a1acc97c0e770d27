package present

import (
	"math"
	"testing"
)

// NaN and ±Inf are no reading: a blank cell, never an index out of range.
func TestSparklineBetweenNonFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		vals   []float64
		lo, hi float64
		want   string
	}{
		{[]float64{0, nan, 1, inf, -inf}, 0, 1, "▁ █  "},
		{[]float64{nan}, 0, 1, "   "},
		{[]float64{0, 1}, 0, nan, ""},
		{[]float64{0, 1}, 0, inf, ""},
		{[]float64{0, 1}, nan, 1, ""},
		{[]float64{0, 0.5, 1}, 0, 1, "▁▅█"},
	} {
		width := max(3, len(c.vals))
		if got := SparklineBetween(c.vals, width, c.lo, c.hi); got != c.want {
			t.Errorf("%v over %v..%v: %q, want %q", c.vals, c.lo, c.hi, got, c.want)
		}
	}
}
