package present

import (
	"testing"

	"github.com/oncall-cockpit/oncall/slo"
)

// An objective is written as it was meant, without float noise: the
// ratio 0.00999 is 0.999%, not 0.9990000000000001%.
func TestObjectiveWordsHaveNoFloatNoise(t *testing.T) {
	for ratio, want := range map[float64]string{0.00999: "0.999%", 0.999: "99.9%", 0.9995: "99.95%", 0.99: "99%"} {
		if got, _ := ObjectiveWords(slo.Objective{Objective: ratio}); got != want {
			t.Errorf("%v: %q, want %q", ratio, got, want)
		}
	}
}
