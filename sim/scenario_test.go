package sim_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

var bg = context.Background()

func run(t *testing.T, scenario string, after time.Duration) *sim.Fleet {
	t.Helper()
	f, err := sim.New(sim.Options{Scenario: scenario, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	f.AdvanceTo(f.Onset().Add(after))
	return f
}

// src reads a fleet as oncall does: through its adapter.
func src(f *sim.Fleet) *simsrc.Backend { return simsrc.New(f) }

// rate averages a service's requests (or errors) per second over [from, to].
func rate(t *testing.T, f *sim.Fleet, svc string, from, to time.Time, errs bool) float64 {
	t.Helper()
	reds, err := src(f).RED(bg, []string{svc}, sources.TimeRange{Start: from, End: to}, to.Sub(from))
	if err != nil || len(reds) != 1 || len(reds[0].Requests.Samples) == 0 {
		t.Fatalf("RED %s: %v %v", svc, reds, err)
	}
	s := reds[0].Requests.Samples
	if errs {
		s = reds[0].Errors.Samples
	}
	sum := 0.0
	for _, x := range s {
		sum += x.V
	}
	return sum / float64(len(s))
}

func errRatio(t *testing.T, f *sim.Fleet, svc string, from, to time.Time) float64 {
	return rate(t, f, svc, from, to, true) / rate(t, f, svc, from, to, false)
}

func firing(t *testing.T, f *sim.Fleet) []sources.Alert {
	t.Helper()
	a, err := src(f).Alerts(bg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func hasAlert(alerts []sources.Alert, name, service string) bool {
	for _, a := range alerts {
		if a.Name == name && a.Labels["service"] == service {
			return true
		}
	}
	return false
}

func affected(tr sim.Truth) []string {
	var out []string
	for _, a := range tr.Affected {
		out = append(out, a.Service)
	}
	return out
}

func TestRetryStorm(t *testing.T) {
	f := run(t, "retry-storm", 15*time.Minute)
	on := f.Onset()
	before := rate(t, f, "user-preferences-api", on.Add(-10*time.Minute), on, false)
	after := rate(t, f, "user-preferences-api", on.Add(5*time.Minute), on.Add(15*time.Minute), false)
	// Callers retry three times: the callee sees the retry factor on top of
	// the traffic that is still arriving.
	if after < 1.8*before {
		t.Errorf("user-preferences-api rate %.0f/s after onset vs %.0f/s before: want at least 1.8x", after, before)
	}
	// The retry factor itself, from traces: attempts per logical call.
	tr, err := src(f).SearchTraces(bg, TraceQueryFor([]string{"payment-api"}, on.Add(5*time.Minute), on.Add(15*time.Minute)))
	if err != nil || len(tr) == 0 {
		t.Fatalf("no payment-api traces: %v", err)
	}
	calls, attempts := 0, 0
	for _, s := range tr {
		full, err := src(f).Trace(bg, s.TraceID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range full.Spans {
			if sp.Service == "payment-api" && sp.Kind == "client" && sp.Attributes["peer.service"] == "user-preferences-api" {
				attempts++
				if sp.Attributes["http.request.resend_count"] == "" {
					calls++
				}
			}
		}
	}
	if calls == 0 || float64(attempts)/float64(calls) < 3 {
		t.Errorf("payment-api → user-preferences-api: %d attempts for %d calls, want ≥ 3 per call (3 retries)", attempts, calls)
	}
	sat, err := src(f).Saturation(bg, []string{"payment-api"}, sources.TimeRange{Start: on.Add(5 * time.Minute), End: f.Now()}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	maxed := false
	for _, s := range sat {
		if s.Resource == "pool:payment-db" {
			for _, x := range s.Used.Samples {
				maxed = maxed || x.V >= s.Max-0.5
			}
		}
	}
	if !maxed {
		t.Errorf("payment-api's payment-db pool never reached its maximum: %+v", sat)
	}
	if r := errRatio(t, f, "payment-api", on.Add(10*time.Minute), f.Now()); r < 0.5 {
		t.Errorf("payments still succeed: error ratio %.2f", r)
	}
	if a := firing(t, f); !hasAlert(a, "ErrorBudgetBurn", "payment-api") || !hasAlert(a, "ConnectionPoolExhausted", "payment-api") {
		t.Errorf("alerts %v: want payment-api burn and pool alerts", a)
	}
	truth := f.Truth()
	aff := affected(truth)
	if truth.RootCause != "user-preferences-api" || len(aff) < 8 || aff[0] != "user-preferences-api" || !slices.Contains(aff, "payment-api") {
		t.Errorf("truth %+v: want root user-preferences-api, first affected, and a cascade through payment-api", truth)
	}
	// pools and worker pools full at the end, as their callers see them
	sat, err = src(f).Saturation(bg, nil, sources.TimeRange{Start: f.Now().Add(-time.Minute), End: f.Now()}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]bool{}
	for _, s := range sat {
		if n := len(s.Used.Samples); n > 0 && s.Max > 0 && (strings.HasPrefix(s.Resource, sim.ResPoolPrefix) || s.Resource == sim.ResWorkers) && s.Used.Samples[n-1].V >= 0.95*s.Max {
			full[s.Service] = true
		}
	}
	if len(full) < 5 {
		t.Errorf("only %d services have a full pool: %v", len(full), full)
	}
	logs, err := src(f).Logs(bg, sources.LogQuery{Services: []string{"payment-api"}, Levels: []string{"error"}, Range: sources.TimeRange{Start: on, End: f.Now()}, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range logs {
		found = found || strings.Contains(l.Line, "timeout acquiring connection from pool payment-db (100/100 in use)")
	}
	if !found {
		t.Errorf("no pool-timeout log at payment-api among %d lines", len(logs))
	}
}

// TraceQueryFor is a search for traces touching services in [from, to].
func TraceQueryFor(services []string, from, to time.Time) sources.TraceSearch {
	return sources.TraceSearch{Services: services, Range: sources.TimeRange{Start: from, End: to}, Limit: 200}
}

func TestDBPoolExhaustion(t *testing.T) {
	f := run(t, "db-pool-exhaustion", 10*time.Minute)
	on := f.Onset()
	r := errRatio(t, f, "payment-api", on.Add(3*time.Minute), f.Now())
	if r < 0.40 || r > 0.55 {
		t.Errorf("payment-api error ratio %.3f, want about 0.47", r)
	}
	if !hasAlert(firing(t, f), "ConnectionPoolExhausted", "payment-api") {
		t.Error("no pool alert for payment-api")
	}
	if tr := f.Truth(); tr.RootCause != "payment-api" || tr.Resource != "pool:payment-db" || !slices.Contains(affected(tr), "checkout-api") {
		t.Errorf("truth %+v", tr)
	}
	// The runbook: scale payment-api to 24 replicas. Its pool grows to 240 and,
	// once the new replicas are ready, errors drop under the SLO's budget.
	if _, err := f.Apply(sim.Action{Kind: sim.ActScale, Service: "payment-api", Replicas: 24}); err != nil {
		t.Fatal(err)
	}
	fix := f.Now()
	f.Advance(5 * time.Minute)
	if r := errRatio(t, f, "payment-api", fix.Add(2*time.Minute), f.Now()); r > 0.001 {
		t.Errorf("after scaling, payment-api error ratio %.4f, want under the 99.9%% SLO's 0.001", r)
	}
	ch, _ := src(f).Changes(bg, sources.TimeRange{Start: fix, End: f.Now()})
	if len(ch) != 1 || ch[0].Kind != sources.ChangeScale || ch[0].Detail != "replicas 10 → 24" {
		t.Errorf("changes %+v", ch)
	}
}

func TestBadDeploy(t *testing.T) {
	f := run(t, "bad-deploy", 10*time.Minute)
	on := f.Onset()
	ch, _ := src(f).Changes(bg, sources.TimeRange{Start: on.Add(-5 * time.Minute), End: f.Now()})
	var deploy *sources.Change
	for i := range ch {
		if ch[i].Service == "inventory" && ch[i].Kind == sources.ChangeDeploy {
			deploy = &ch[i]
		}
	}
	if deploy == nil || !deploy.T.Before(on) || deploy.Version != "v2.15.0" {
		t.Fatalf("want an inventory v2.15.0 deploy before the onset, got %+v", ch)
	}
	if r := errRatio(t, f, "inventory", on.Add(3*time.Minute), f.Now()); r < 0.1 {
		t.Errorf("inventory error ratio %.3f after the rollout", r)
	}
	if r := errRatio(t, f, "inventory", on.Add(-10*time.Minute), deploy.T); r > 0.005 {
		t.Errorf("inventory error ratio %.3f before the deploy", r)
	}
	tr := f.Truth()
	if aff := affected(tr); len(aff) == 0 || aff[0] != "inventory" || tr.Affected[0].At.Before(on) {
		t.Errorf("truth %+v", tr)
	}
	if _, err := f.Apply(sim.Action{Kind: sim.ActRollback, Service: "inventory"}); err != nil {
		t.Fatal(err)
	}
	fix := f.Now()
	f.Advance(5 * time.Minute)
	if r := errRatio(t, f, "inventory", fix.Add(2*time.Minute), f.Now()); r > 0.005 {
		t.Errorf("after rollback, inventory error ratio %.3f", r)
	}
}

func TestCrashLoop(t *testing.T) {
	f := run(t, "crash-loop", 12*time.Minute)
	if !hasAlert(firing(t, f), "PodCrashLooping", "cart") {
		t.Errorf("no crash-loop alert: %v", firing(t, f))
	}
	logs, _ := src(f).Logs(bg, sources.LogQuery{Services: []string{"cart"}, Range: sources.TimeRange{Start: f.Onset(), End: f.Now()}, Limit: 5000})
	oom := 0
	for _, l := range logs {
		if strings.Contains(l.Line, "OOMKilled") && strings.Contains(l.Line, "pod=cart-7d9f8b6c4-xk2lp") {
			oom++
		}
	}
	if oom < 3 {
		t.Errorf("%d OOMKilled lines", oom)
	}
	if tr := f.Truth(); len(tr.Affected) == 0 || tr.Affected[0].Service != "cart" {
		t.Errorf("truth %+v", tr)
	}
	if _, err := f.Apply(sim.Action{Kind: sim.ActRestart, Service: "cart"}); err != nil {
		t.Fatal(err)
	}
	f.Advance(12 * time.Minute)
	if hasAlert(firing(t, f), "PodCrashLooping", "cart") {
		t.Error("crash-loop alert still firing 12 minutes after the restart")
	}
}

func TestCacheMissStorm(t *testing.T) {
	f := run(t, "cache-miss-storm", 3*time.Minute)
	on := f.Onset()
	before := rate(t, f, "product-service", on.Add(-10*time.Minute), on, true)
	during := errRatio(t, f, "product-service", on.Add(30*time.Second), f.Now())
	if during < 0.05 || before > 0.5 {
		t.Errorf("product-service errors %.3f during the storm (%.2f/s before)", during, before)
	}
	edges, _ := src(f).ServiceGraph(bg, f.Now(), time.Minute)
	for _, e := range edges {
		if e.Client == "product-service" && e.Server == "catalog-db" && (e.Kind != sources.EdgeDatabase || e.RequestRate < 500) {
			t.Errorf("product-service → catalog-db %+v: want the misses at the database", e)
		}
	}
	if tr := f.Truth(); tr.RootCause != "product-cache" || !slices.Contains(affected(tr), "catalog-db") {
		t.Errorf("truth %+v", tr)
	}
}

func TestQuietFiresNoSLOAlert(t *testing.T) {
	f := run(t, "quiet", 3*time.Hour)
	for _, a := range firing(t, f) {
		if a.Name == "ErrorBudgetBurn" {
			t.Errorf("SLO alert in quiet: %+v", a)
		}
	}
	if tr := f.Truth(); tr.RootCause != "" || len(tr.Affected) != 0 {
		t.Errorf("quiet truth %+v", tr)
	}
	// background noise exists: some error lines at services without an SLO
	withSLO := map[string]bool{}
	for _, s := range f.Topology().SLOs {
		withSLO[s.Service] = true
	}
	logs, _ := src(f).Logs(bg, sources.LogQuery{Levels: []string{"error"}, Range: sources.TimeRange{Start: f.Start(), End: f.Now()}, Limit: 5000})
	noise := 0
	for _, l := range logs {
		if !withSLO[l.Service] {
			noise++
		}
	}
	if noise == 0 {
		t.Errorf("no background error lines at services without an SLO among %d", len(logs))
	}
}

func TestDeterministic(t *testing.T) {
	a, b := run(t, "retry-storm", time.Minute), run(t, "retry-storm", time.Minute)
	la, _ := src(a).Logs(bg, sources.LogQuery{Range: sources.TimeRange{Start: a.Start(), End: a.Now()}, Limit: 50})
	lb, _ := src(b).Logs(bg, sources.LogQuery{Range: sources.TimeRange{Start: b.Start(), End: b.Now()}, Limit: 50})
	if len(la) == 0 || len(la) != len(lb) {
		t.Fatalf("%d vs %d lines", len(la), len(lb))
	}
	for i := range la {
		if la[i].Line != lb[i].Line || !la[i].T.Equal(lb[i].T) {
			t.Fatalf("line %d differs: %q vs %q", i, la[i].Line, lb[i].Line)
		}
	}
}

func TestTraceShape(t *testing.T) {
	f := run(t, "retry-storm", 10*time.Minute)
	sums, err := src(f).SearchTraces(bg, sources.TraceSearch{Services: []string{"payment-api"}, ErrorsOnly: true, Range: sources.TimeRange{Start: f.Onset(), End: f.Now()}, Limit: 5})
	if err != nil || len(sums) == 0 {
		t.Fatalf("no failed payment traces: %v", err)
	}
	tr, err := src(f).Trace(bg, strings.ToUpper(sums[0].TraceID))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, sp := range tr.Spans {
		ids[sp.SpanID] = true
		if len(sp.SpanID) != 16 || sp.TraceID != sums[0].TraceID {
			t.Fatalf("span IDs %q / %q", sp.SpanID, sp.TraceID)
		}
	}
	for _, sp := range tr.Spans[1:] {
		if !ids[sp.ParentSpanID] {
			t.Fatalf("span %s has a parent %s outside the trace", sp.Name, sp.ParentSpanID)
		}
	}
	if tr.Spans[0].ParentSpanID != "" {
		t.Error("root has a parent")
	}
	// every failed trace's error is in the logs under its trace ID
	logs, _ := src(f).Logs(bg, sources.LogQuery{TraceID: sums[0].TraceID, Range: sources.TimeRange{Start: f.Start(), End: f.Now()}})
	if len(logs) == 0 {
		t.Error("no logs carry the failed trace's ID")
	}
	if _, err := src(f).Trace(bg, "0123456789abcdef0123456789abcdef"); err == nil {
		t.Error("unknown trace found")
	}
}

// TestTrafficCycleIgnoresTheStartsZone: the daily cycle peaks at a UTC
// hour, so a start given in another zone (time.Now is in the machine's)
// is the same instant with the same traffic. CycleStart pins the cycle:
// started at any hour, the fleet has the traffic of its CycleStart.
func TestTrafficCycleIgnoresTheStartsZone(t *testing.T) {
	entry := func(o sim.Options) float64 {
		t.Helper()
		o.Seed = 7
		f, err := sim.New(o)
		if err != nil {
			t.Fatal(err)
		}
		f.Advance(5 * time.Minute)
		return rate(t, f, "web-gateway", f.Now().Add(-time.Minute), f.Now(), false)
	}
	morning := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	utc := entry(sim.Options{Start: morning})
	if tokyo := entry(sim.Options{Start: morning.In(time.FixedZone("JST", 9*3600))}); tokyo != utc {
		t.Errorf("the same start in JST has %.1f req/s at web-gateway, in UTC %.1f", tokyo, utc)
	}
	epoch := entry(sim.Options{})
	if pinned := entry(sim.Options{Start: morning, CycleStart: sim.Epoch}); pinned != epoch {
		t.Errorf("started at 09:00 with the cycle at the epoch: %.1f req/s, at the epoch %.1f", pinned, epoch)
	}
	if utc >= epoch {
		t.Errorf("09:00 UTC has %.1f req/s, not less than the evening's %.1f: no daily cycle to pin", utc, epoch)
	}
}
