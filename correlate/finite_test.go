package correlate

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// randomEvidence is evidence as a real stack may send it: empty steps,
// zero traffic, NaN and ±Inf where a quantile or ratio had nothing to
// divide, services without series, edges from Tempo's user virtual node.
func randomEvidence(r *rand.Rand) *Evidence {
	at := t0.Add(time.Hour)
	ev := &Evidence{Trigger: Trigger{At: at, Window: 15 * time.Minute}, Step: 15 * time.Second,
		Window:   sources.TimeRange{Start: at.Add(-15 * time.Minute), End: at},
		Baseline: sources.TimeRange{Start: at.Add(-45 * time.Minute), End: at.Add(-15 * time.Minute)}}
	if r.IntN(3) == 0 {
		ev.Trigger.Service = fmt.Sprint("s", r.IntN(6))
	}
	odd := func() float64 {
		switch r.IntN(12) {
		case 0:
			return math.NaN()
		case 1:
			return math.Inf(1)
		case 2:
			return math.Inf(-1)
		case 3, 4:
			return 0
		}
		return r.ExpFloat64() * 50
	}
	n := 1 + r.IntN(6)
	for i := range n {
		red := sources.RED{Service: fmt.Sprint("s", i)}
		// history that starts anywhere: none, minutes, or all of it
		start := ev.Baseline.Start.Add(time.Duration(r.IntN(int(time.Hour/ev.Step))) * ev.Step)
		for t := start; !t.After(at); t = t.Add(ev.Step) {
			if r.IntN(10) == 0 {
				continue // a missing step
			}
			red.Requests.Samples = append(red.Requests.Samples, sources.Sample{T: t, V: odd()})
			red.Errors.Samples = append(red.Errors.Samples, sources.Sample{T: t, V: odd()})
			red.P99.Samples = append(red.P99.Samples, sources.Sample{T: t, V: odd()})
		}
		ev.RED = append(ev.RED, red)
	}
	for range r.IntN(10) {
		c, s := fmt.Sprint("s", r.IntN(n+2)), fmt.Sprint("s", r.IntN(n+2))
		if r.IntN(4) == 0 {
			c = "user"
		}
		e := sources.Edge{Client: c, Server: s, Kind: sources.EdgeService, RequestRate: odd(), FailedRate: odd(), P99Seconds: odd()}
		ev.Edges = append(ev.Edges, e)
		if r.IntN(2) == 0 {
			e.RequestRate, e.FailedRate, e.P99Seconds = odd(), odd(), odd()
			ev.BaselineEdges = append(ev.BaselineEdges, e)
		}
	}
	for range r.IntN(4) {
		sat := sources.Saturation{Service: fmt.Sprint("s", r.IntN(n)), Resource: "pool:db", Max: odd()}
		limited := r.IntN(2) == 0 // a limit series beside Max, as Prometheus reads one
		for t := ev.Window.Start; !t.After(at); t = t.Add(ev.Step) {
			sat.Used.Samples = append(sat.Used.Samples, sources.Sample{T: t, V: odd()})
			if limited && r.IntN(10) > 0 {
				sat.Limit.Samples = append(sat.Limit.Samples, sources.Sample{T: t, V: odd()})
			}
		}
		ev.Saturation = append(ev.Saturation, sat)
	}
	for range r.IntN(3) {
		ev.Exemplars = append(ev.Exemplars, sources.Exemplar{TraceID: "a4c123b1612dd272d1371c17149d4395", Value: odd(), T: at})
	}
	return ev
}

// TestAnalyzeIsFiniteOnAnyEvidence: whatever a backend sends, the
// incident marshals to JSON (which refuses NaN and ±Inf), so no number
// that reaches the screen or a ranking is not finite.
func TestAnalyzeIsFiniteOnAnyEvidence(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	meta := Meta{Services: map[string]ServiceMeta{"s0": {ValuePerRequest: 1.5}, "s1": {ValuePerRequest: math.NaN()}}, Currency: "EUR"}
	for i := range 2000 {
		ev := randomEvidence(r)
		inc := Analyze(ev, meta)
		if _, err := json.Marshal(inc); err != nil {
			b, _ := json.Marshal(finiteEvidence(ev))
			t.Fatalf("case %d: %v\nevidence: %.2000s", i, err, b)
		}
	}
}
