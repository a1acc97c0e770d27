package correlate

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// resizedPoolEvidence is poolEvidence with api's pool cut from 10 to 1 by
// a config push at step 151 (23:37:45): 7 of 10 in use before it, 1 of 1
// after. Max is 1, the limit at the fullest point, as the Prometheus
// adapter reports it; the limit series says when each size held.
func resizedPoolEvidence() *Evidence {
	ev := poolEvidence(0.025)
	ev.Edges[2].RequestRate, ev.Edges[2].FailedRate = 100, 0
	sat := &ev.Saturation[0]
	sat.Max = 1
	sat.Limit = sources.Series{Query: "pool size of api"}
	for i, p := range sat.Used.Samples {
		used, limit := 7.0, 10.0
		if p.T.Before(t0.Add(151 * 15 * time.Second)) {
			sat.Used.Samples[i].V = used
		} else {
			used, limit = 1, 1
			sat.Used.Samples[i].V = used
		}
		sat.Limit.Samples = append(sat.Limit.Samples, sources.Sample{T: p.T, V: limit})
	}
	return ev
}

// TestAResizedPoolIsFullAtTheResize: 7 connections of 10 is not full; the
// pool is full when it was cut to 1, and says 1/1 then, not 7/1 at the
// window's start.
func TestAResizedPoolIsFullAtTheResize(t *testing.T) {
	ev := resizedPoolEvidence()
	vs := poolVerdicts(ev)
	resize := t0.Add(151 * 15 * time.Second)
	if len(vs) != 1 || !vs[0].full.T.Equal(resize) || vs[0].full.V != 1 || vs[0].fullLimit != 1 {
		t.Fatalf("verdicts %+v, want full at 1/1 at %s", vs, resize.Format("15:04:05"))
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "api" {
		t.Fatalf("ranked %+v", inc.Candidates)
	}
	want := "api's pool:db full (1/1 at 23:37:45) while db's latency held"
	if r := reasonOf(inc.Candidates[0], ReasonPool); r == nil || !strings.HasPrefix(r.Detail, want) {
		t.Errorf("api's pool reason %+v\nwant it to start %q", r, want)
	}
	if !hasMechanism(inc, "saturation", "api") {
		t.Errorf("no saturation mechanism: %+v", inc.Mechanisms)
	}
	for _, m := range inc.Mechanisms {
		if m.Kind == "saturation" && m.Detail != "api pool:db at 1/1 (23:37:45)" {
			t.Errorf("mechanism %q, want the peak against the limit at its time", m.Detail)
		}
	}
	for _, l := range inc.Chain {
		if strings.Contains(l.What, "exhausted") && !strings.Contains(l.What, "pool:db exhausted (1/1)") {
			t.Errorf("chain link %q", l.What)
		}
	}

	// the same pool never cut, at 7 of 10 throughout, is not full at all
	ev = resizedPoolEvidence()
	for i := range ev.Saturation[0].Used.Samples {
		ev.Saturation[0].Used.Samples[i].V, ev.Saturation[0].Limit.Samples[i].V = 7, 10
	}
	if vs := poolVerdicts(ev); len(vs) != 0 {
		t.Errorf("a pool at 7/10 judged full: %+v", vs)
	}
}

// A limit sample that is not finite is a step with no limit: the one
// before it holds, and the pool is still judged.
func TestAResizedPoolWithNonFiniteLimitSamples(t *testing.T) {
	ev := resizedPoolEvidence()
	l := ev.Saturation[0].Limit.Samples
	for i := range l {
		if i%3 == 1 {
			l[i].V = math.NaN()
		}
	}
	ev.Saturation[0].Max = math.Inf(1)
	vs := poolVerdicts(finiteEvidence(ev))
	resize := t0.Add(151 * 15 * time.Second)
	if len(vs) != 1 || vs[0].full.T.Before(resize) || vs[0].fullLimit != 1 {
		t.Fatalf("verdicts %+v, want full against a limit of 1, not before %s", vs, resize.Format("15:04:05"))
	}
}

// A pool that filled in an earlier incident, emptied, and filled again
// is judged by when it filled this time.
func TestAPoolIsFullFromItsLatestFill(t *testing.T) {
	s := sources.Saturation{Service: "api", Resource: "pool:db", Max: 10}
	for i := range 60 {
		v := 2.0
		if (i >= 5 && i < 15) || i >= 40 || i == 25 {
			v = 10 // an earlier fill, a blip under RecoveredFor later, and the fill now
		}
		s.Used.Samples = append(s.Used.Samples, sources.Sample{T: t0.Add(time.Duration(i) * 15 * time.Second), V: v})
	}
	got, limit := lastFill(s)
	if want := t0.Add(10 * time.Minute); !got.T.Equal(want) || limit != 10 {
		t.Errorf("latest fill %v at limit %v, want %v at 10", got.T, limit, want)
	}
	s.Used.Samples = s.Used.Samples[:30] // the blip at 25 came 2m30s after the fill ended at 14: a fill of its own
	if got, _ := lastFill(s); !got.T.Equal(t0.Add(25 * 15 * time.Second)) {
		t.Errorf("latest fill %v, want the blip's", got.T)
	}
}

// The trial fleet: an app's database was slow in an earlier fault, over
// before its caller's pool was cut to one. The window's peak calls into
// the database are that fault's: the pool filled from the caller's side.
func TestAPoolWhoseTargetRecoveredEarlierBlamesItsOwner(t *testing.T) {
	used := poolInUse("pool of api", 167)
	ev := &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start},
		RED: []sources.RED{
			red("gw", 180, 100, spell(168, -1, 0.6), flat(0.05)),
			red("api", 180, 100, spell(168, -1, 0.4), flat(0.05)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "gw", RequestRate: 100},
			{Client: "gw", Server: "api", RequestRate: 100, FailedRate: 40, P99Seconds: 1.1},
			{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 100, P99Seconds: 0.5, Query: "calls into db"},
		},
		RecentEdges: []sources.Edge{
			{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 100, P99Seconds: 0.025},
		},
		BaselineEdges: []sources.Edge{
			{Client: "gw", Server: "api", RequestRate: 100, P99Seconds: 0.05},
			{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 100, P99Seconds: 0.025},
		},
		Saturation: []sources.Saturation{{Service: "api", Resource: "pool:db", Max: 1, Used: used}},
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "api" {
		t.Fatalf("candidates %+v, want api first", inc.Candidates)
	}
	want := "api's pool:db full (1/1 at 23:41:45) while db's latency held (its earlier anomaly recovered at 23:40): the pool filled from api's side"
	if r := reasonOf(inc.Candidates[0], ReasonPool); r == nil || r.Detail != want {
		t.Errorf("api's pool reason %+v\nwant %q", r, want)
	}
}

// poolInUse is a pool of one over the window, empty until step full and
// in use from then on.
func poolInUse(query string, full int) sources.Series {
	used := sources.Series{Query: query}
	for i := 120; i < 180; i++ {
		used.Samples = append(used.Samples, sources.Sample{T: t0.Add(time.Duration(i) * 15 * time.Second), V: float64(min(1, max(0, i-full+1)))})
	}
	return used
}
