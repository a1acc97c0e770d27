package correlate

import (
	"slices"
	"testing"
)

// TestCandidatesRankLikelyBeforePossible: in retry-storm (seed 7) 20
// minutes in, "cart possible 0.35" was once listed above "order-service
// likely 0.60" because candidates were sorted by score alone: cart scored
// 4.11, order-service 3.81. The cockpit, the shell and the autopilot all
// read this order. The scenario no longer produces that pair, so the
// order is held here with its figures.
func TestCandidatesRankLikelyBeforePossible(t *testing.T) {
	cs := []Candidate{
		{Service: "cart", Likelihood: Possible, Score: 4.11},
		{Service: "user-preferences-api", Likelihood: Likely, Score: 11.18},
		{Service: "search", Likelihood: Unlikely, Score: 5},
		{Service: "order-service", Likelihood: Likely, Score: 3.81},
	}
	slices.SortFunc(cs, func(a, b Candidate) int { return CompareStanding(a.Likelihood, a.Score, b.Likelihood, b.Score) })
	var got []string
	for _, c := range cs {
		got = append(got, c.Service)
	}
	want := []string{"user-preferences-api", "order-service", "cart", "search"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v: the band comes before the score", got, want)
	}
}
