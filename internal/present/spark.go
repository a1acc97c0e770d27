package present

import (
	"math"
	"strings"
)

var sparks = []rune("▁▂▃▄▅▆▇█")

// Resample keeps n values of vals, the last of each of n equal buckets,
// so that a long series fits a sparkline of n cells.
func Resample(vals []float64, n int) []float64 {
	if len(vals) <= n || n <= 0 {
		return vals
	}
	out := make([]float64, n)
	for i := range n {
		out[i] = vals[(i+1)*len(vals)/n-1]
	}
	return out
}

// SparklineBetween draws the last width values on a fixed scale from lo
// to hi, clamped: for shares, where 40% must look like 40%. A NaN or ±Inf
// value is no reading and draws as a blank cell; a scale that is not a
// finite range draws nothing.
func SparklineBetween(vals []float64, width int, lo, hi float64) string {
	if width <= 0 || !(hi > lo) || math.IsInf(hi-lo, 0) {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	var b strings.Builder
	for i := len(vals); i < width; i++ {
		b.WriteRune(' ')
	}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b.WriteRune(' ')
			continue
		}
		x := math.Max(0, math.Min(1, (v-lo)/(hi-lo)))
		b.WriteRune(sparks[int(math.Round(x*float64(len(sparks)-1)))])
	}
	return b.String()
}
