// Package humanize writes numbers the way every oncall output shows them,
// so the CLI, the cockpit and the incident text agree.
package humanize

import (
	"fmt"
	"math"
	"strings"
)

// Percent writes a ratio as a percentage, with two decimals below 0.1%
// so that small error ratios are not shown as 0.0%.
func Percent(x float64) string {
	if x < 0.001 {
		return fmt.Sprintf("%.2f%%", 100*x)
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

// Seconds writes a latency: "121 ms", "5.1 s".
func Seconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0f ms", 1000*s)
	}
	return fmt.Sprintf("%.1f s", s)
}

// SecondsShort is Seconds without the space, for table columns: "121ms".
func SecondsShort(s float64) string {
	return strings.Replace(Seconds(s), " ", "", 1)
}

// Rate writes requests per second in at most 7 cells: "1.2k/s", "45/s",
// "2.5/s", "0.05/s". Below 10 a rate keeps its decimals, so that a quiet
// service's 0.5/s does not read as no traffic at all.
func Rate(v float64) string {
	switch a := math.Abs(v); {
	case v == 0:
		return "0/s" // and not -0/s
	case a >= 1000:
		return fmt.Sprintf("%.1fk/s", v/1000)
	case a >= 9.95 || math.IsNaN(v):
		return fmt.Sprintf("%.0f/s", v)
	case a >= 0.995:
		return trimZeros(fmt.Sprintf("%.1f", v)) + "/s"
	case a >= 0.01:
		return trimZeros(fmt.Sprintf("%.2f", v)) + "/s"
	}
	return "<0.01/s"
}

// trimZeros drops a decimal's trailing zeros: "0.50" is "0.5", "2.0" is "2".
func trimZeros(s string) string { return strings.TrimSuffix(strings.TrimRight(s, "0"), ".") }

// Commas writes a number rounded to a whole, with thousands separators.
func Commas(x float64) string {
	s := fmt.Sprintf("%.0f", math.Abs(x))
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if x < 0 && s != "0" {
		return "-" + b.String()
	}
	return b.String()
}

// Count writes a count with its noun, singular for one: "1 service",
// "18 services". plural is the noun's plural when it is not noun+"s".
func Count(n int, noun string, plural ...string) string {
	if n == 1 {
		return "1 " + noun
	}
	p := noun + "s"
	if len(plural) > 0 {
		p = plural[0]
	}
	return fmt.Sprintf("%s %s", Commas(float64(n)), p)
}
