package humanize

import (
	"math"
	"testing"
)

// A quiet service's rate keeps its decimals: 0.5/s is not 0/s.
func TestRate(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0/s", math.Copysign(0, -1): "0/s", 0.5: "0.5/s", 0.05: "0.05/s", 0.004: "<0.01/s", 0.999: "1/s",
		2.5: "2.5/s", 3: "3/s", 9.97: "10/s", 45.4: "45/s", 999: "999/s", 1234: "1.2k/s",
	} {
		if got := Rate(v); got != want {
			t.Errorf("Rate(%v) = %q, want %q", v, got, want)
		}
	}
}
