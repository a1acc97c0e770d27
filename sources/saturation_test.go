package sources

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFullestOfAResizedPool(t *testing.T) {
	at := func(i int, v float64) Sample { return Sample{T: time.Unix(int64(60*i), 0), V: v} }
	for _, tc := range []struct {
		name         string
		used, limits []Sample
		max          float64
		want         Sample
		wantLimit    float64
	}{
		{"shrunk 20→5 and full", []Sample{at(0, 8), at(1, 8), at(2, 5)}, []Sample{at(0, 20), at(1, 20), at(2, 5)}, 0, at(2, 5), 5},
		{"shrunk 10→1: 1/1 at the resize, not 7/10 before it", []Sample{at(0, 7), at(1, 7), at(2, 1)}, []Sample{at(0, 10), at(1, 10), at(2, 1)}, 0, at(2, 1), 1},
		{"grown 5→20 after the peak", []Sample{at(0, 5), at(1, 6)}, []Sample{at(0, 5), at(1, 20)}, 0, at(0, 5), 5},
		{"equally full: the smaller", []Sample{at(0, 10), at(1, 5)}, []Sample{at(0, 20), at(1, 10)}, 0, at(1, 5), 10},
		{"idle: the smaller", []Sample{at(0, 0), at(1, 0)}, []Sample{at(0, 20), at(1, 10)}, 0, at(1, 0), 10},
		{"a gap in the limit: the one before", []Sample{at(0, 4), at(1, 9), at(2, 3)}, []Sample{at(0, 10), at(2, 10)}, 0, at(1, 9), 10},
		{"a limit read late was in force before", []Sample{at(0, 9), at(1, 2)}, []Sample{at(1, 10)}, 0, at(0, 9), 10},
		{"a limit of 0 is passed over", []Sample{at(0, 3), at(1, 3)}, []Sample{at(0, 4), at(1, 0)}, 0, at(0, 3), 4},
		{"no limit series: Max", []Sample{at(0, 3), at(1, 6)}, nil, 8, at(1, 6), 8},
	} {
		s := Saturation{Max: tc.max, Used: Series{Samples: tc.used}, Limit: Series{Samples: tc.limits}}
		got, limit, ok := s.Fullest()
		if !ok || !got.T.Equal(tc.want.T) || got.V != tc.want.V || limit != tc.wantLimit {
			t.Errorf("%s: %v/%g (%v), want %v/%g", tc.name, got, limit, ok, tc.want, tc.wantLimit)
		}
	}
	if _, limit, ok := (Saturation{Used: Series{Samples: []Sample{at(0, 3)}}, Limit: Series{Samples: []Sample{at(0, 0)}}}).Fullest(); ok {
		t.Errorf("a limit of 0 and no Max: fullest at %g, want none", limit)
	}
}

func TestLimitAtFollowsTheResize(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 1, 30, 0, 0, time.UTC)
	s := Saturation{Max: 1, Limit: Series{Samples: []Sample{{T: t0, V: 10}, {T: t0.Add(20 * time.Minute), V: 1}}}}
	for _, tc := range []struct {
		at   time.Duration
		want float64
	}{{-time.Minute, 10}, {0, 10}, {8 * time.Minute, 10}, {20 * time.Minute, 1}, {time.Hour, 1}} {
		if got := s.LimitAt(t0.Add(tc.at)); got != tc.want {
			t.Errorf("at +%s: %g, want %g", tc.at, got, tc.want)
		}
	}
}

// A saturation without a limit series says nothing new in JSON; with one,
// the field is added beside max, which stays.
func TestSaturationJSONAddsTheLimit(t *testing.T) {
	b, err := json.Marshal(Saturation{Service: "a", Resource: "cpu", Max: 2})
	if err != nil || strings.Contains(string(b), "limit") || !strings.Contains(string(b), `"max":2`) {
		t.Errorf("without a limit series: %s, %v", b, err)
	}
	b, err = json.Marshal(Saturation{Service: "a", Resource: "cpu", Max: 2, Limit: Series{Samples: []Sample{{T: time.Unix(0, 0).UTC(), V: 2}}}})
	if err != nil || !strings.Contains(string(b), `"limit":{"labels":null,"samples":[{"t":"1970-01-01T00:00:00Z","v":2}]}`) || !strings.Contains(string(b), `"max":2`) {
		t.Errorf("with a limit series: %s, %v", b, err)
	}
}
