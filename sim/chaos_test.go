package sim

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

func quietFleet(t *testing.T, seed uint64) *Fleet {
	t.Helper()
	f, err := New(Options{Scenario: "quiet", Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	f.Advance(30 * time.Minute)
	return f
}

func apply(t *testing.T, f *Fleet, a Action) sources.Change {
	t.Helper()
	ch, err := f.Apply(a)
	if err != nil {
		t.Fatalf("%s %s: %v", a.Kind, a.Service, err)
	}
	return ch
}

// faultLogged checks that the action left a change event and a log line.
func faultLogged(t *testing.T, f *Fleet, ch sources.Change, service, line string) {
	t.Helper()
	if ch.Service != service || !strings.Contains(ch.Detail, "fault") {
		t.Errorf("change = %+v, want a fault change at %s", ch, service)
	}
	got := f.SelectLogs(LogSelector{From: f.Now().Add(-time.Second), To: f.Now(), Services: []string{service}, Grep: regexp.MustCompile(regexp.QuoteMeta(line))})
	if len(got) == 0 {
		t.Errorf("no log line %q at %s", line, service)
	}
}

func meanOver(xs []sources.Sample) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x.V
	}
	return sum / float64(len(xs))
}

func TestInjectLatencySlowsCallersNotTheService(t *testing.T) {
	f := quietFleet(t, 1)
	db := f.m.byName["payment-db"]
	e := lastWhere(f.m.byName["payment-api"].out, func(x *edge) bool { return x.to == db })
	before, ownP99 := e.attemptT, db.p99
	ch := apply(t, f, Action{Kind: ActInjectLatency, Service: "payment-db", Latency: 200 * time.Millisecond, Share: 0.5})
	faultLogged(t, f, ch, "payment-db", "+200ms network latency on 50% of calls into payment-db")
	f.Advance(time.Minute)
	// half the attempts wait 200 ms more: the mean grows by 100 ms
	if got := e.attemptT - before; math.Abs(got-0.1) > 0.01 {
		t.Errorf("attempt time grew by %.3fs, want about 0.1s", got)
	}
	if e.p99 < 0.2 || e.p99 > e.timeout {
		t.Errorf("caller's p99 into payment-db = %.3fs, want the delay in it and at most the timeout", e.p99)
	}
	if math.Abs(db.p99-ownP99) > 0.005 {
		t.Errorf("payment-db's own p99 moved from %.4f to %.4f: its workers are not slower", ownP99, db.p99)
	}
	if e.pool.hold < 0.3+before*3 {
		t.Errorf("pool hold %.3fs: the delay should hold connections longer", e.pool.hold)
	}
	// a delay beyond the timeout times every delayed attempt out
	apply(t, f, Action{Kind: ActInjectLatency, Service: "payment-db", Latency: time.Second, Share: 0.5})
	f.Advance(5 * time.Second)
	if e.qTimeout < 0.49 || e.attemptT < 0.25 {
		t.Errorf("1s on half of the attempts with a 500ms timeout: timeouts %.3f, attempt %.3fs", e.qTimeout, e.attemptT)
	}
	for _, bad := range []Action{
		{Kind: ActInjectLatency, Service: "payment-db"},
		{Kind: ActInjectLatency, Service: "payment-db", Latency: 2 * time.Minute},
		{Kind: ActInjectLatency, Service: "payment-db", Latency: time.Second, Share: 1.5},
		{Kind: ActInjectLatency, Service: "payment-db", Latency: time.Second, Jitter: 2 * time.Second},
	} {
		if _, err := f.Apply(bad); err == nil || !strings.Contains(err.Error(), "inject-latency payment-db") {
			t.Errorf("%+v: err = %v, want a bound error naming the action", bad, err)
		}
	}
}

func TestDelayedTimeMatchesTheShiftedLogNormal(t *testing.T) {
	// E[min(T+d, c)] = d + E[min(T, c−d)] and P(T+d > c) = P(T > c−d)
	e := &edge{timeout: 0.5}
	s := &service{median: 0.003, sigma: 0.9, p99: 0.025, inj: injected{delay: 0.2, share: 1}}
	tm, pOver, p99 := e.attempt(s)
	m, p := truncatedMean(0.0035, 0.9, 0.3)
	if math.Abs(tm-(0.2+m)) > 1e-12 || math.Abs(pOver-p) > 1e-12 {
		t.Errorf("attempt = %.6f, %.6g; want %.6f, %.6g", tm, pOver, 0.2+m, p)
	}
	if math.Abs(p99-(0.2+0.0255)) > 0.001 {
		t.Errorf("p99 = %.4f, want the callee's p99 shifted by the delay", p99)
	}
}

func TestInjectErrors(t *testing.T) {
	f := quietFleet(t, 2)
	ch := apply(t, f, Action{Kind: ActInjectErrors, Service: "payment-api", Ratio: 0.2})
	faultLogged(t, f, ch, "payment-api", "20% of payment-api's requests fail")
	f.Advance(2 * time.Minute)
	m, _ := f.ServiceMetrics("payment-api", f.Now().Add(-time.Minute), f.Now())
	if r := meanOver(m.Errors) / meanOver(m.Requests); r < 0.19 || r > 0.25 {
		t.Errorf("error ratio %.3f, want about 0.2", r)
	}
	if _, err := f.Apply(Action{Kind: ActInjectErrors, Service: "payment-api", Ratio: 1.2}); err == nil {
		t.Error("ratio 1.2 accepted")
	}
}

func TestKillReplicasStayDownUntilCleared(t *testing.T) {
	f := quietFleet(t, 3)
	ch := apply(t, f, Action{Kind: ActKillReplicas, Service: "payment-api", Replicas: 4})
	faultLogged(t, f, ch, "payment-api", "4 of 10 replicas of payment-api killed")
	f.Advance(10 * time.Minute)
	s := f.m.byName["payment-api"]
	if s.ready != 6 {
		t.Fatalf("ready = %v ten minutes after killing 4 of 10, want 6", s.ready)
	}
	apply(t, f, Action{Kind: ActClearFaults, Service: "payment-api"})
	f.Advance(time.Duration(s.spec.StartupTime) + time.Second)
	if s.ready != 10 {
		t.Errorf("ready = %v after clear-faults and a start-up time, want 10", s.ready)
	}
	if _, err := f.Apply(Action{Kind: ActKillReplicas, Service: "payment-api", Replicas: 11}); err == nil || !strings.Contains(err.Error(), "1..10") {
		t.Errorf("killing 11 of 10: err = %v", err)
	}
}

func TestLimitPool(t *testing.T) {
	f := quietFleet(t, 1)
	ch := apply(t, f, Action{Kind: ActLimitPool, Service: "payment-api", Target: "payment-db", Size: 2})
	faultLogged(t, f, ch, "payment-api", "pool payment-db capped at 2 connections per replica")
	f.Advance(time.Minute)
	p := lastWhere(f.m.byName["payment-api"].pools, func(q *pool) bool { return q.target.spec.Name == "payment-db" })
	if p.size() != 20 || p.fail <= 0 {
		t.Errorf("pool size %v, fail %.3f: want 20 connections and requests failing to get one", p.size(), p.fail)
	}
	if n, _ := f.PoolSize("payment-api", "payment-db"); n != 10 {
		t.Errorf("PoolSize = %d, want the configured 10 (the cap is a fault, not the setting)", n)
	}
	for _, bad := range []Action{
		{Kind: ActLimitPool, Service: "payment-api", Target: "users-db", Size: 2},
		{Kind: ActLimitPool, Service: "payment-api", Target: "payment-db", Size: 11},
	} {
		if _, err := f.Apply(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestClearFaultsRemovesEveryFault(t *testing.T) {
	f := quietFleet(t, 1)
	apply(t, f, Action{Kind: ActInjectLatency, Service: "payment-api", Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond})
	apply(t, f, Action{Kind: ActInjectErrors, Service: "payment-api", Ratio: 0.01})
	apply(t, f, Action{Kind: ActKillReplicas, Service: "payment-api", Replicas: 1})
	apply(t, f, Action{Kind: ActLimitPool, Service: "payment-api", Target: "payment-db", Size: 5})
	if got := f.FaultedServices(); len(got) != 1 || got[0] != "payment-api" {
		t.Errorf("FaultedServices = %v", got)
	}
	desc, _ := f.Faults("payment-api")
	for _, want := range []string{"latency +50ms on 100%", "errors 1%", "1 replicas killed", "pool payment-db limited to 5"} {
		if !strings.Contains(desc, want) {
			t.Errorf("Faults = %q, want %q in it", desc, want)
		}
	}
	ch := apply(t, f, Action{Kind: ActClearFaults, Service: "payment-api"})
	if !strings.Contains(ch.Detail, "latency, errors, 1 killed replicas, pool payment-db limit") {
		t.Errorf("clear change = %q", ch.Detail)
	}
	if got := f.FaultedServices(); len(got) != 0 {
		t.Errorf("after clear-faults: FaultedServices = %v", got)
	}
	if ch := apply(t, f, Action{Kind: ActClearFaults, Service: "payment-api"}); !strings.Contains(ch.Detail, "none were injected") {
		t.Errorf("a second clear: %q", ch.Detail)
	}
}

// TestPaymentDBLatencyCalibration is the seed's experiment without the
// runner: payment-db +200 ms on half its queries for ten minutes keeps
// payment-api under 1% errors and 2 s p99 with the fleet's retry
// settings; with checkout-api retrying payment-api as it retries
// user-preferences-api (1 s timeout, 3 retries) the same fault cascades:
// timed-out attempts keep their payment-db connections, the retries add
// load, the pool runs out and its failures are retried in turn.
func TestPaymentDBLatencyCalibration(t *testing.T) {
	three := 3
	turnedUp := Action{Kind: ActSetCall, Service: "checkout-api", Target: "payment-api", Retries: &three, Timeout: time.Second}
	latency := Action{Kind: ActInjectLatency, Service: "payment-db", Latency: 200 * time.Millisecond, Share: 0.5}
	for _, tc := range []struct {
		name     string
		actions  []Action
		cascades bool
	}{
		{"injection", []Action{latency}, false},
		{"retries turned up", []Action{turnedUp}, false},
		{"retries turned up and injection", []Action{turnedUp, latency}, true},
	} {
		for seed := uint64(1); seed <= 3; seed++ {
			f := quietFleet(t, seed)
			for _, a := range tc.actions {
				apply(t, f, a)
			}
			worstErr, worstP99 := 0.0, 0.0
			for i := 0; i < 120; i++ {
				f.Advance(5 * time.Second)
				m, _ := f.ServiceMetrics("payment-api", f.Now().Add(-time.Minute), f.Now())
				worstErr = math.Max(worstErr, meanOver(m.Errors)/meanOver(m.Requests))
				worstP99 = math.Max(worstP99, meanOver(m.P99))
			}
			t.Logf("%s, seed %d: worst 1m error ratio %.3f%%, p99 %.3fs", tc.name, seed, 100*worstErr, worstP99)
			if tc.cascades != (worstErr > 0.01) {
				t.Errorf("%s, seed %d: worst error ratio %.3f%%, cascade wanted: %v", tc.name, seed, 100*worstErr, tc.cascades)
			}
			if !tc.cascades && worstP99 >= 2 {
				t.Errorf("%s, seed %d: p99 %.3fs, want below 2s", tc.name, seed, worstP99)
			}
		}
	}
}

func TestLimitPoolOfADatabaseCapsItsConnections(t *testing.T) {
	f := quietFleet(t, 1)
	if n, err := f.PoolSize("payment-db", ""); err != nil || n != 300 {
		t.Fatalf("PoolSize(payment-db) = %d, %v; want its max_connections 300", n, err)
	}
	ch := apply(t, f, Action{Kind: ActLimitPool, Service: "payment-db", Size: 30})
	faultLogged(t, f, ch, "payment-db", "payment-db's connection limit capped at 30")
	f.Advance(time.Minute)
	db := f.m.byName["payment-db"]
	if db.dbConns > 30.5 || db.dbGrant >= 1 {
		t.Errorf("connections %.1f, grant %.2f: want at most 30 and pools refused", db.dbConns, db.dbGrant)
	}
	apply(t, f, Action{Kind: ActClearFaults, Service: "payment-db"})
	f.Advance(time.Minute)
	if db.maxConnections() != 300 || db.dbGrant < 0.99 {
		t.Errorf("after clear-faults: limit %d, grant %.2f", db.maxConnections(), db.dbGrant)
	}
	// a client with two pools must say which
	if _, err := f.Apply(Action{Kind: ActLimitPool, Service: "ledger-service", Size: 1}); err == nil || !strings.Contains(err.Error(), "payment-db, ledger-db") {
		t.Errorf("ledger-service without target: %v", err)
	}
}
