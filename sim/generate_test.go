package sim

import (
	"io"
	"math"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// validName is a DNS label: what a Kubernetes service, a Prometheus label
// value and a Tempo service name can all be.
var validName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

func TestGrowTopologyIsStableValidAndLeavesTheBaseAlone(t *testing.T) {
	base := DefaultTopology()
	a, err := GrowTopology(base, 2000, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GrowTopology(DefaultTopology(), 2000, 7)
	c, _ := GrowTopology(DefaultTopology(), 2000, 8)
	if len(a.Services) != 2000 {
		t.Fatalf("%d services, want 2000", len(a.Services))
	}
	same, differ := true, false
	baseNames := map[string]bool{}
	for i, s := range a.Services {
		same = same && s.Name == b.Services[i].Name
		differ = differ || s.Name != c.Services[i].Name
		if !validName.MatchString(s.Name) {
			t.Errorf("service %q is not a valid name", s.Name)
		}
		if i < len(base.Services) {
			baseNames[s.Name] = true
			if s.Name != base.Services[i].Name || len(s.Calls) != len(base.Services[i].Calls) {
				t.Errorf("base service %d changed: %s", i, s.Name)
			}
			if got, want := s.Entry*a.Traffic.RPS, base.Services[i].Entry*base.Traffic.RPS; got < want*0.999 || got > want*1.001 {
				t.Errorf("%s: entry %.1f req/s, want the base's %.1f", s.Name, got, want)
			}
		}
	}
	if !same || !differ {
		t.Errorf("names: same seed alike %v, other seed different %v", same, differ)
	}
	for _, s := range a.Services[len(base.Services):] {
		for _, call := range s.Calls {
			if baseNames[call.To] {
				t.Errorf("generated %s calls base service %s: the base's scenarios would change", s.Name, call.To)
			}
		}
	}
	if base.Traffic.RPS != 2000 || len(base.Services) != 47 {
		t.Errorf("the base was modified: %g req/s, %d services", base.Traffic.RPS, len(base.Services))
	}
}

// The field report that set the size: 2,000 services, 937 with traffic,
// 4,158 edges.
func TestGrownFleetHasTheFieldReportsMix(t *testing.T) {
	f, err := New(Options{Scenario: "quiet", Seed: 1, Services: 2000})
	if err != nil {
		t.Fatal(err)
	}
	f.Advance(2 * time.Minute)
	active, edges := 0, 0
	for _, s := range f.m.services {
		if s.offered > 0 {
			active++
			if s.spec.Entry > 0 {
				edges++ // user → entry point, as Tempo's service graph counts it
			}
		}
	}
	for _, e := range f.m.edges {
		if e.attempts > 0 {
			edges++
		}
	}
	if active < 700 || active > 1200 {
		t.Errorf("%d of 2000 services have traffic, want about 937", active)
	}
	if edges < 3000 || edges > 5500 {
		t.Errorf("%d edges with traffic, want about 4158", edges)
	}
}

func TestScenarioTruthHoldsOnTheGrownFleet(t *testing.T) {
	small, err := New(Options{Scenario: "db-pool-exhaustion", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	big, err := New(Options{Scenario: "db-pool-exhaustion", Seed: 1, Services: 2000})
	if err != nil {
		t.Fatal(err)
	}
	small.AdvanceTo(small.Onset().Add(8 * time.Minute))
	big.AdvanceTo(big.Onset().Add(8 * time.Minute))
	ts, tb := small.Truth(), big.Truth()
	if tb.RootCause != ts.RootCause || tb.Mechanism != ts.Mechanism || tb.Resource != ts.Resource {
		t.Errorf("truth on 2,000 services %+v, want %+v", tb, ts)
	}
	hurt := map[string]bool{}
	for _, im := range tb.Affected {
		hurt[im.Service] = true
		if _, ok := DefaultTopology().Service(im.Service); !ok {
			t.Errorf("generated service %s is hurt by a fault it cannot reach", im.Service)
		}
	}
	for _, im := range ts.Affected {
		if !hurt[im.Service] {
			t.Errorf("%s is hurt on 47 services but not on 2,000", im.Service)
		}
	}
}

func TestFleetSizeLimitSaysWhy(t *testing.T) {
	if _, err := New(Options{Services: maxServices + 1}); err == nil || !strings.Contains(err.Error(), "16 bits") {
		t.Errorf("err = %v, want the limit and its reason", err)
	}
	if _, err := New(Options{Services: 20}); err == nil || !strings.Contains(err.Error(), "only grow") {
		t.Errorf("err = %v, want a refusal to shrink", err)
	}
}

// At 2,000 services most series never change; whole rings for them would
// be most of the fleet's memory.
func TestIdleSeriesKeepNoRing(t *testing.T) {
	f, err := New(Options{Scenario: "quiet", Seed: 1, Services: 2000})
	if err != nil {
		t.Fatal(err)
	}
	f.Advance(5 * time.Minute)
	rings, idle := 0, 0
	for i, s := range f.m.services {
		for k := 0; k < nSvcSeries; k++ {
			r := &f.store.svc[i*nSvcSeries+k]
			if r.pts != nil {
				rings++
				if s.offered == 0 {
					idle++
				}
			}
			if got := r.at(f.store.head - 1); k == sReady && got != float32(s.ready) {
				t.Fatalf("%s ready reads %g, want %g", s.spec.Name, got, s.ready)
			}
		}
	}
	if idle > 0 {
		t.Errorf("idle services hold %d whole rings, want none", idle)
	}
	if max := len(f.m.services) * nSvcSeries / 3; rings > max {
		t.Errorf("%d service rings of %d series, want at most %d", rings, len(f.store.svc), max)
	}
}

// An idle service serves nothing: no access line, no span metrics.
func TestIdleServicesAreSilent(t *testing.T) {
	f, err := New(Options{Scenario: "quiet", Seed: 1, Services: 2000})
	if err != nil {
		t.Fatal(err)
	}
	f.Advance(2 * time.Minute)
	var idle, busy string
	for _, s := range f.m.services {
		if !instrumented(s) {
			continue
		}
		switch {
		case s.offered == 0 && idle == "":
			idle = s.spec.Name
		case s.offered > 0 && s.spec.Entry > 0 && busy == "":
			busy = s.spec.Name
		}
	}
	f.logs.each(func(r *logRec) bool {
		if f.m.services[r.svc].spec.Name == idle {
			t.Errorf("idle %s logged %q", idle, f.format(r).Line)
			return false
		}
		return true
	})
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if strings.Contains(body, `traces_spanmetrics_calls_total{service="`+idle+`"`) {
		t.Errorf("idle %s has span metrics", idle)
	}
	if !strings.Contains(body, `traces_spanmetrics_calls_total{service="`+busy+`"`) {
		t.Errorf("busy %s has no span metrics", busy)
	}
	if !strings.Contains(body, `kube_deployment_status_replicas_available{deployment="`+idle+`"}`) {
		t.Errorf("idle %s is not deployed", idle)
	}
}

// addBuckets stops computing erfc where phi is exactly 1: the counts must
// be those of computing it everywhere, to the bit.
func TestAddBucketsShortcutIsExact(t *testing.T) {
	for _, median := range []float64{0.0004, 0.003, 0.05, 0.4, 3} {
		for _, sigma := range []float64{0.05, 0.3, 0.8, 1.5} {
			got := make([]float64, len(buckets))
			addBuckets(got, 137, median, sigma, 0)
			for i, le := range buckets {
				want := 137 * phi((math.Log(le)-math.Log(median))/sigma)
				if got[i] != want {
					t.Fatalf("median %g sigma %g le %g: %v, want %v", median, sigma, le, got[i], want)
				}
			}
		}
	}
}

// The histogram's shape is reused within a Step while the latency holds,
// and worked out again when it moves.
func TestLatencyShapeFollowsAMove(t *testing.T) {
	var ls latencyShape
	dst := make([]float64, len(buckets))
	ls.add(dst, 100, 0.05, 0.5, 0.2, true)
	first := ls.cum[5] // le 0.1
	ls.add(dst, 100, 0.0501, 0.5, 0.2, false)
	if ls.median != 0.05 {
		t.Errorf("a 0.2%% move recomputed the shape")
	}
	ls.add(dst, 100, 0.5, 0.5, 2, false)
	if ls.median != 0.5 || ls.cum[5] >= first {
		t.Errorf("a tenfold slowdown kept the old shape: share under 100 ms %g, was %g", ls.cum[5], first)
	}
	if top := dst[len(dst)-1]; top > 300 || top < 299 {
		t.Errorf("le=15 holds %g of 300 observations", top)
	}
}
