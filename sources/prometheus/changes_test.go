package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

// changeMetrics writes gauge and counter families for promtool to backfill,
// one sample per scrape interval from start to end.
type changeMetrics struct {
	b          strings.Builder
	start, end time.Time
	every      time.Duration
}

// family writes one family whose series each say their value at t, or
// false when they are not scraped then.
func (o *changeMetrics) family(name, kind string, series map[string]func(t time.Time) (float64, bool)) {
	fmt.Fprintf(&o.b, "# TYPE %s %s\n", name, kind)
	sample := name
	if kind == "counter" {
		sample += "_total"
	}
	for _, labels := range slices.Sorted(func(yield func(string) bool) {
		for l := range series {
			if !yield(l) {
				return
			}
		}
	}) {
		for t := o.start; !t.After(o.end); t = t.Add(o.every) {
			if v, ok := series[labels](t); ok {
				fmt.Fprintf(&o.b, "%s{%s} %g %d\n", sample, labels, v, t.Unix())
			}
		}
	}
}

// movesAt is a series whose value is before until at, then after.
func movesAt(at time.Time, before, after float64) func(time.Time) (float64, bool) {
	return func(t time.Time) (float64, bool) {
		if t.Before(at) {
			return before, true
		}
		return after, true
	}
}

// scrapedDuring is an info series scraped in [from, to).
func scrapedDuring(from, to time.Time) func(time.Time) (float64, bool) {
	return func(t time.Time) (float64, bool) { return 1, !t.Before(from) && t.Before(to) }
}

// TestChangesAgainstRealPrometheus backfills a real Prometheus with a
// rolling deploy and its rollback, an OTel version change, a process
// restart, a new ReplicaSet, a scale-up and an OOM kill at known times, and
// reads them back with the default presets: each change at its time to
// within one step, with its kind, service, version and source.
func TestChangesAgainstRealPrometheus(t *testing.T) {
	end := time.Now().Add(-time.Minute).Truncate(15 * time.Second)
	r := sources.TimeRange{Start: end.Add(-time.Hour), End: end}
	// the truths fall between scrapes, as real ones do
	at := func(d time.Duration) time.Time { return r.Start.Add(d + 7*time.Second) }
	deploy, rollback := at(10*time.Minute), at(30*time.Minute)
	otel, restart := at(15*time.Minute), at(40*time.Minute)
	rsCreated, scale, oom := at(20*time.Minute), at(45*time.Minute), at(50*time.Minute)
	long := end.Add(-10 * time.Hour)

	om := &changeMetrics{start: end.Add(-2 * time.Hour), end: end, every: 15 * time.Second}
	build := map[string]func(time.Time) (float64, bool){}
	for i := range 3 {
		// a rolling deploy, one instance every 30s, then a rollback of all
		switchAt := deploy.Add(time.Duration(i) * 30 * time.Second)
		inst := fmt.Sprintf(`instance="checkout-%d",job="checkout"`, i)
		build[inst+`,version="1.4.2"`] = func(t time.Time) (float64, bool) {
			return 1, t.Before(switchAt) || !t.Before(rollback)
		}
		build[inst+`,version="1.4.3"`] = scrapedDuring(switchAt, rollback)
	}
	om.family("checkout_build_info", "gauge", build)
	om.family("target_info", "gauge", map[string]func(time.Time) (float64, bool){
		`job="shop/payments",service_name="payments",service_version="2.0.0"`: func(t time.Time) (float64, bool) { return 1, t.Before(otel) },
		`job="shop/payments",service_name="payments",service_version="2.1.0"`: scrapedDuring(otel, end.Add(time.Hour)),
	})
	om.family("process_start_time_seconds", "gauge", map[string]func(time.Time) (float64, bool){
		`instance="payments-0",job="payments"`: movesAt(restart, float64(long.Unix()), float64(restart.Unix())),
		`instance="payments-1",job="payments"`: movesAt(restart, float64(long.Unix()), float64(long.Unix())),
	})
	om.family("kube_replicaset_created", "gauge", map[string]func(time.Time) (float64, bool){
		`namespace="shop",replicaset="cart-7d9f8b6c4"`: movesAt(end, float64(long.Unix()), 0),
		`namespace="shop",replicaset="cart-5f6b7c8d9"`: func(t time.Time) (float64, bool) { return float64(rsCreated.Unix()), !t.Before(rsCreated) },
	})
	om.family("kube_deployment_metadata_generation", "gauge", map[string]func(time.Time) (float64, bool){
		`deployment="cart",namespace="shop"`: func(t time.Time) (float64, bool) {
			switch {
			case t.Before(rsCreated):
				return 3, true
			case t.Before(scale):
				return 4, true
			}
			return 5, true // a scale edits the spec too
		},
	})
	om.family("kube_deployment_spec_replicas", "gauge", map[string]func(time.Time) (float64, bool){
		`deployment="cart",namespace="shop"`: movesAt(scale, 3, 5),
	})
	pod := `container="cart",namespace="shop",pod="cart-5f6b7c8d9-x2k9z"`
	om.family("kube_pod_container_status_restarts", "counter", map[string]func(time.Time) (float64, bool){
		pod: movesAt(oom, 0, 1),
		`container="cart",namespace="shop",pod="cart-5f6b7c8d9-b4n7q"`: movesAt(oom, 0, 0),
	})
	om.family("kube_pod_container_status_last_terminated_reason", "gauge", map[string]func(time.Time) (float64, bool){
		pod + `,reason="OOMKilled"`: func(t time.Time) (float64, bool) { return 1, !t.Before(oom) },
	})
	om.b.WriteString("# EOF\n")

	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: om.b.String()})
	c, err := New(url, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Changes(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	step := sources.ChangeStep(r)
	want := []sources.Change{
		{T: deploy, Service: "checkout", Kind: sources.ChangeDeploy, Version: "1.4.3", Detail: "version 1.4.2 → 1.4.3", Source: "prometheus: build_info"},
		{T: otel, Service: "payments", Kind: sources.ChangeDeploy, Version: "2.1.0", Detail: "version 2.0.0 → 2.1.0", Source: "prometheus: target_info"},
		{T: rsCreated, Service: "cart", Kind: sources.ChangeDeploy, Detail: "new ReplicaSet cart-5f6b7c8d9", Source: "prometheus: kube_deploy"},
		{T: rollback, Service: "checkout", Kind: sources.ChangeRollback, Version: "1.4.2", Detail: "version 1.4.3 → 1.4.2 (3 of 3 instances)", Source: "prometheus: build_info"},
		{T: restart, Service: "payments", Kind: sources.ChangeRestart, Detail: "process restarted", Source: "prometheus: process_restart"},
		{T: scale, Service: "cart", Kind: sources.ChangeScale, Detail: "replicas 3 → 5", Source: "prometheus: kube_scale"},
		{T: oom, Service: "cart", Kind: sources.ChangeRestart, Detail: "container restarted: OOMKilled", Source: "prometheus: kube_restart"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d changes, want %d:\n%s", len(got), len(want), changeList(got))
	}
	for i, w := range want {
		g := got[i]
		if d := g.T.Sub(w.T); d < -step || d > step {
			t.Errorf("%s %s at %s, %s from the truth %s: more than the step %s", g.Service, g.Kind, g.T, d, w.T, step)
		}
		g.T = w.T
		if g != w {
			t.Errorf("change %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	t.Logf("step %s; changes read:\n%s", step, changeList(got))
	if exact := got[2].T; !exact.Equal(rsCreated.Truncate(time.Second)) {
		t.Errorf("a ReplicaSet's creation time is exact: got %s, want %s", exact, rsCreated)
	}
	if exact := got[4].T; !exact.Equal(restart.Truncate(time.Second)) {
		t.Errorf("a process's start time is exact: got %s, want %s", exact, restart)
	}

	// doctor looks over the last hour, which holds every preset's series
	checks := c.Doctor(context.Background())
	i := slices.IndexFunc(checks, func(c sources.Check) bool { return c.Name == "changes" })
	if i < 0 {
		t.Fatalf("doctor has no changes line: %+v", checks)
	}
	check := checks[i]
	if check.Status != sources.CheckOK || check.Detail != "build_info: 1 service, target_info: 1 service, kube_deploy: 1 service, process_restart: 1 service, kube_restart: 1 service, kube_scale: 1 service" {
		t.Errorf("doctor: %+v", check)
	}
}

// wantChanges checks the changes c reads over r.
func wantChanges(t *testing.T, c *Client, r sources.TimeRange, want []sources.Change) {
	t.Helper()
	got, err := c.Changes(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changes\n%swant\n%s", changeList(got), changeList(want))
	}
}

func changeList(cs []sources.Change) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "  %s %s %s %q %q %s\n", c.T.Format(time.TimeOnly), c.Service, c.Kind, c.Version, c.Detail, c.Source)
	}
	return b.String()
}

// fakeChangeProm answers range and instant queries from answer, by the query
// it was sent, and records every query.
type fakeChangeProm struct {
	mu      sync.Mutex
	queries []string
}

func (f *fakeChangeProm) serve(t *testing.T, answer func(q string) (int, string)) *Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.FormValue("query")
		f.mu.Lock()
		f.queries = append(f.queries, q)
		f.mu.Unlock()
		status, body := answer(q)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client(), sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// matrix is a range query's answer: each series is its labels as JSON and
// its values at the range's steps, "" where it has none.
func changeMatrix(r sources.TimeRange, step time.Duration, series map[string][]string) string {
	var parts []string
	for _, labels := range slices.Sorted(func(yield func(string) bool) {
		for l := range series {
			if !yield(l) {
				return
			}
		}
	}) {
		var vals []string
		for i, v := range series[labels] {
			if v != "" {
				vals = append(vals, fmt.Sprintf(`[%d,%q]`, r.Start.Add(time.Duration(i)*step).Unix(), v))
			}
		}
		parts = append(parts, fmt.Sprintf(`{"metric":%s,"values":[%s]}`, labels, strings.Join(vals, ",")))
	}
	return `{"status":"success","data":{"resultType":"matrix","result":[` + strings.Join(parts, ",") + `]}}`
}

func labelJSON(t *testing.T, l map[string]string) string {
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const noSeries = `{"status":"success","data":{"resultType":"matrix","result":[]}}`

// steps are n readings: before until step at, after from it.
func readings(n, at int, before, after string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = before
		if i >= at {
			out[i] = after
		}
	}
	return out
}

var changeRange = sources.TimeRange{Start: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}

func TestChangesReadTheServiceFromTheLabelTheConventionsName(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	var f fakeChangeProm
	conv := sources.DefaultConventions()
	conv.Changes = sources.ChangeConventions{Presets: []string{sources.PresetBuildInfo},
		ServiceLabels: map[string]sources.LabelList{sources.PresetBuildInfo: {"app", "job"}}}
	c := f.serve(t, func(q string) (int, string) {
		return 200, changeMatrix(r, step, map[string][]string{
			`{"__name__":"web_build_info","app":"web","job":"kubernetes-pods","version":"1.0"}`: readings(n, 100, "1", ""),
			`{"__name__":"web_build_info","app":"web","job":"kubernetes-pods","version":"1.1"}`: readings(n, 100, "", "1"),
		})
	})
	c.conv = conv
	got, err := c.Changes(context.Background(), r)
	if err != nil || len(got) != 1 || got[0].Service != "web" || got[0].Version != "1.1" || !got[0].T.Equal(r.Start.Add(100*step)) {
		t.Fatalf("changes %s, %v; want web's deploy of 1.1 at step 100", changeList(got), err)
	}
}

func TestChangesKeepHostileLabelValuesOutOfQueries(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	hostile := `evil"} or vector(1) # ` + "\x1b[31m"
	var f fakeChangeProm
	c := f.serve(t, func(q string) (int, string) {
		if !strings.Contains(q, "_build_info") {
			return 200, noSeries
		}
		return 200, changeMatrix(r, step, map[string][]string{
			labelJSON(t, map[string]string{"__name__": "x_build_info", "job": hostile, "version": "1"}):     readings(n, 10, "1", ""),
			labelJSON(t, map[string]string{"__name__": "x_build_info", "job": hostile, "version": hostile}): readings(n, 10, "", "1"),
		})
	})
	got, err := c.Changes(context.Background(), r)
	if err != nil || len(got) != 1 || got[0].Service != hostile || got[0].Version != hostile || got[0].Kind != sources.ChangeDeploy {
		t.Fatalf("changes %s, %v; want the hostile service's deploy, as data", changeList(got), err)
	}
	for _, q := range f.queries {
		if strings.Contains(q, "evil") {
			t.Errorf("a label value reached a query: %s", q)
		}
	}
}

func TestChangesKeepWhatOnePresetFoundWhenAnotherFails(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	var f fakeChangeProm
	failing := true
	c := f.serve(t, func(q string) (int, string) {
		switch {
		case strings.Contains(q, "kube_deployment_spec_replicas") && failing:
			return 503, `{"status":"error","errorType":"unavailable","error":"overloaded"}`
		case q == "kube_deployment_spec_replicas":
			return 200, noSeries
		case strings.Contains(q, "_build_info"):
			return 200, changeMatrix(r, step, map[string][]string{
				`{"__name__":"x_build_info","job":"x","version":"1"}`: readings(n, 10, "1", ""),
				`{"__name__":"x_build_info","job":"x","version":"2"}`: readings(n, 10, "", "1"),
			})
		}
		return 200, noSeries
	})
	got, err := c.Changes(context.Background(), r)
	if !errors.Is(err, sources.ErrPartial) || err.Error() != "preset kube_deploy: server_error; preset kube_scale: server_error" ||
		len(got) != 1 || got[0].Source != "prometheus: build_info" {
		t.Fatalf("changes %s, %v; want build_info's deploy and a partial error naming the failed presets", changeList(got), err)
	}
	check := c.changesCheck(context.Background(), r.End)
	if check.Status != sources.CheckWarn || !strings.Contains(check.Detail, "build_info: 1 service; no series: target_info, process_restart, kube_restart; failed: kube_deploy (") {
		t.Errorf("doctor: %+v", check)
	}

	// with nothing found, the failures are the answer; with none, a note
	c.conv.Changes.Presets = []string{sources.PresetKubeScale, sources.PresetTargetInfo}
	if got, err := c.Changes(context.Background(), r); got != nil || err == nil || errors.Is(err, sources.ErrNotReported) || !strings.Contains(err.Error(), "kube_scale") {
		t.Errorf("one failed, one empty: %v, %v; want the failure", got, err)
	}
	failing = false
	got, err = c.Changes(context.Background(), r)
	if got != nil || !errors.Is(err, sources.ErrNotReported) || !strings.Contains(err.Error(), "kube_scale, target_info") {
		t.Errorf("none found: %v, %v; want ErrNotReported naming the presets", got, err)
	}
	if check := c.changesCheck(context.Background(), r.End); check.Status != sources.CheckWarn || !strings.HasPrefix(check.Detail, "no series: kube_scale, target_info") {
		t.Errorf("doctor with nothing found: %+v", check)
	}
}

func TestWorkloadNameCutsGeneratedSuffixes(t *testing.T) {
	for name, want := range map[string]string{
		"checkout-7d9f8b6c4-x2k9z": "checkout", "checkout-7d9f8b6c4": "checkout", "postgres-0": "postgres",
		"node-exporter-b4n7q": "node-exporter", "web": "web", "my-app": "my-app",
	} {
		if got := workloadName(name); got != want {
			t.Errorf("workloadName(%q) = %q, want %q", name, got, want)
		}
	}
}

// readingsOf are n readings, v from each [from, to) of spans and none
// elsewhere.
func readingsOf(n int, v string, spans ...[2]int) []string {
	out := make([]string, n)
	for _, s := range spans {
		for i := s[0]; i < s[1] && i < n; i++ {
			out[i] = v
		}
	}
	return out
}

func TestVersionsThatComeBackAfterAGapAreNoChangeAndEarlierOnesARollback(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	var f fakeChangeProm
	c := f.serve(t, func(q string) (int, string) {
		if !strings.Contains(q, "_build_info") {
			return 200, noSeries
		}
		return 200, changeMatrix(r, step, map[string][]string{
			// 1.0 runs, stops reporting for 20 steps, comes back: no change
			`{"__name__":"a_build_info","job":"a","version":"1.0"}`: readingsOf(n, "1", [2]int{0, 50}, [2]int{70, 100}, [2]int{200, n}),
			`{"__name__":"a_build_info","job":"a","version":"1.1"}`: readingsOf(n, "1", [2]int{100, 200}),
		})
	})
	wantChanges(t, c, r, []sources.Change{
		{T: r.Start.Add(100 * step), Service: "a", Kind: sources.ChangeDeploy, Version: "1.1", Detail: "version 1.0 → 1.1", Source: "prometheus: build_info"},
		{T: r.Start.Add(200 * step), Service: "a", Kind: sources.ChangeRollback, Version: "1.0", Detail: "version 1.1 → 1.0", Source: "prometheus: build_info"},
	})
}

// TestDeployingARolledBackVersionAgainIsADeploy: 1.0 → 1.1-bad → 1.0 →
// 1.1-bad rolls back once; the fourth is the bad version deployed again,
// the first suspect of what follows, and must not read as a rollback.
func TestDeployingARolledBackVersionAgainIsADeploy(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	var f fakeChangeProm
	c := f.serve(t, func(q string) (int, string) {
		if !strings.Contains(q, "_build_info") {
			return 200, noSeries
		}
		return 200, changeMatrix(r, step, map[string][]string{
			`{"__name__":"a_build_info","job":"a","version":"1.0"}`:     readingsOf(n, "1", [2]int{0, 50}, [2]int{100, 150}),
			`{"__name__":"a_build_info","job":"a","version":"1.1-bad"}`: readingsOf(n, "1", [2]int{50, 100}, [2]int{150, n}),
		})
	})
	wantChanges(t, c, r, []sources.Change{
		{T: r.Start.Add(50 * step), Service: "a", Kind: sources.ChangeDeploy, Version: "1.1-bad", Detail: "version 1.0 → 1.1-bad", Source: "prometheus: build_info"},
		{T: r.Start.Add(100 * step), Service: "a", Kind: sources.ChangeRollback, Version: "1.0", Detail: "version 1.1-bad → 1.0", Source: "prometheus: build_info"},
		{T: r.Start.Add(150 * step), Service: "a", Kind: sources.ChangeDeploy, Version: "1.1-bad", Detail: "version 1.0 → 1.1-bad", Source: "prometheus: build_info"},
	})
}

func TestKubernetesScalingAndSpecEditsAreToldOnce(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	// the generation: 7, then 8 with the scale at step 60, then 9 with an
	// edit that made no ReplicaSet at step 120
	gen := readings(n, 60, "7", "8")
	for i := 120; i < n; i++ {
		gen[i] = "9"
	}
	var f fakeChangeProm
	c := f.serve(t, func(q string) (int, string) {
		switch {
		case strings.HasPrefix(q, "kube_deployment_metadata_generation"):
			return 200, changeMatrix(r, step, map[string][]string{`{"__name__":"kube_deployment_metadata_generation","deployment":"cart","namespace":"shop"}`: gen})
		case q == "kube_deployment_spec_replicas":
			return 200, changeMatrix(r, step, map[string][]string{`{"deployment":"cart","namespace":"shop"}`: readings(n, 60, "3", "5")})
		case strings.Contains(q, "kube_horizontalpodautoscaler"):
			return 200, changeMatrix(r, step, map[string][]string{
				// the HPA that scaled the deployment: one scale, told by the deployment
				`{"__name__":"kube_horizontalpodautoscaler_status_desired_replicas","horizontalpodautoscaler":"cart","namespace":"shop"}`: readings(n, 61, "3", "5"),
				`{"__name__":"kube_horizontalpodautoscaler_spec_max_replicas","horizontalpodautoscaler":"cart","namespace":"shop"}`:       readings(n, 150, "10", "20"),
			})
		}
		return 200, noSeries
	})
	wantChanges(t, c, r, []sources.Change{
		{T: r.Start.Add(60 * step), Service: "cart", Kind: sources.ChangeScale, Detail: "replicas 3 → 5", Source: "prometheus: kube_scale"},
		{T: r.Start.Add(120 * step), Service: "cart", Kind: sources.ChangeConfig, Detail: "deployment generation 8 → 9 with no new ReplicaSet (a rollback to an earlier template, or a spec edit)", Source: "prometheus: kube_deploy"},
		{T: r.Start.Add(150 * step), Service: "cart", Kind: sources.ChangeScale, Detail: "HPA max replicas 10 → 20", Source: "prometheus: kube_scale"},
	})
}

func TestADeployReadByTwoPresetsIsOneChangeAndCustomTemplatesAreRead(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	created := r.Start.Add(100*step - 5*time.Second)
	var f fakeChangeProm
	c := f.serve(t, func(q string) (int, string) {
		switch {
		case strings.Contains(q, "_build_info"):
			return 200, changeMatrix(r, step, map[string][]string{
				`{"__name__":"cart_build_info","job":"cart","version":"3.1"}`: readings(n, 100, "1", ""),
				`{"__name__":"cart_build_info","job":"cart","version":"3.2"}`: readings(n, 100, "", "1"),
			})
		case strings.HasPrefix(q, "last_over_time(kube_replicaset_created"):
			return 200, fmt.Sprintf(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"shop","replicaset":"cart-5f6b7c8d9"},"value":[%d,"%d"]}]}}`, r.End.Unix(), created.Unix())
		case q == "max by (service, hash) (acme_config_info) # 15s":
			return 200, changeMatrix(r, step, map[string][]string{
				`{"service":"cart","hash":"a1"}`: readings(n, 180, "1", ""),
				`{"service":"cart","hash":"b2"}`: readings(n, 180, "", "1"),
			})
		}
		return 200, noSeries
	})
	c.conv.Changes.Custom = []sources.CustomChange{{Name: "acme_config", Query: "max by ({{.ServiceLabel}}, {{.VersionLabel}}) (acme_config_info) # {{.Step}}",
		ServiceLabel: "service", VersionLabel: "hash", Kind: sources.ChangeConfig}}
	wantChanges(t, c, r, []sources.Change{
		{T: r.Start.Add(100 * step), Service: "cart", Kind: sources.ChangeDeploy, Version: "3.2", Detail: "version 3.1 → 3.2", Source: "prometheus: build_info"},
		{T: r.Start.Add(180 * step), Service: "cart", Kind: sources.ChangeConfig, Version: "b2", Detail: "hash a1 → b2", Source: "prometheus: acme_config"},
	})
}

func TestContainerRestartsSayOOMKilledOnlyForTheirOwnTermination(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	web, api := `"container":"web","namespace":"shop","pod":"web-7d9f8b6c4-x2k9z"`, `"container":"api","namespace":"shop","pod":"api-0"`
	var f fakeChangeProm
	c := f.serve(t, func(q string) (int, string) {
		switch {
		case strings.HasPrefix(q, "kube_pod_container_status_restarts_total unless (changes(kube_pod_container_status_restarts_total[1h15s] @ end()) == 0)"):
			return 200, changeMatrix(r, step, map[string][]string{
				"{" + web + "}": readings(n, 50, "2", "3"),
				// api's last termination was an OOM kill before the range;
				// it restarts at 80 for another reason
				"{" + api + "}": readings(n, 80, "1", "2"),
			})
		case strings.HasPrefix(q, "group by (oncall_pod_workload) (label_replace(last_over_time(kube_pod_container_status_restarts_total[1h15s])"):
			return 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"oncall_pod_workload":"web"},"value":[0,"1"]},{"metric":{"oncall_pod_workload":"api"},"value":[0,"1"]}]}}`
		case strings.HasPrefix(q, "kube_pod_container_status_last_terminated_reason"):
			return 200, changeMatrix(r, step, map[string][]string{
				"{" + web + `,"reason":"OOMKilled"}`: readingsOf(n, "1", [2]int{51, n}),
				"{" + api + `,"reason":"OOMKilled"}`: readingsOf(n, "1", [2]int{0, 80}),
			})
		}
		return 200, noSeries
	})
	c.conv.Changes.Presets = []string{sources.PresetKubeRestart}
	wantChanges(t, c, r, []sources.Change{
		{T: r.Start.Add(50 * step), Service: "web", Kind: sources.ChangeRestart, Detail: "container restarted: OOMKilled", Source: "prometheus: kube_restart"},
		{T: r.Start.Add(80 * step), Service: "api", Kind: sources.ChangeRestart, Detail: "container restarted", Source: "prometheus: kube_restart"},
	})
}
