package suggest

import (
	"slices"
	"testing"
)

func TestNear(t *testing.T) {
	names := []string{"availability", "latency", "payment-api", "payment-db", "checkout-api", "cart"}
	for in, want := range map[string][]string{
		"availabilty":  {"availability"},
		"Latncy":       {"latency"},
		"payment":      {"payment-api", "payment-db"},
		"checkout-apj": {"checkout-api"},
		"nosuch-svc":   nil,
		"cart":         nil,              // itself is not a suggestion
		"avlbty":       {"availability"}, // an abbreviation
		"chkout-ap":    {"checkout-api"},
		"ltc":          nil, // too short to read as one
	} {
		if got := Near(in, names); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", in, got, want)
		}
	}
	if got := DidYouMean("availabilty", names); got != ` (did you mean "availability"?)` {
		t.Errorf("%q", got)
	}
}
