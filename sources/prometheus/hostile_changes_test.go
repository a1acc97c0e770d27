package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// hangUntilCancelled is a fake server's answer to a query that never
// comes: it blocks until the client gives up.
func hangUntilCancelled(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// TestASlowPresetDoesNotCostTheOthersChanges: a preset that never answers
// is named a little before the deadline, and what the others found comes
// back with it, in time for Gather to keep it.
func TestASlowPresetDoesNotCostTheOthersChanges(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.FormValue("query")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(q, "_build_info"):
			hangUntilCancelled(w, req)
		case strings.Contains(q, "target_info"):
			fmt.Fprint(w, changeMatrix(r, step, map[string][]string{
				`{"__name__":"target_info","service_name":"x","service_version":"1"}`: readings(n, 10, "1", ""),
				`{"__name__":"target_info","service_name":"x","service_version":"2"}`: readings(n, 10, "", "1"),
			}))
		default:
			fmt.Fprint(w, noSeries)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client(), sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got, err := c.Changes(ctx, r)
	if !errors.Is(err, sources.ErrPartial) || !strings.HasPrefix(err.Error(), "presets build_info did not answer within ") {
		t.Fatalf("error %v; want a partial answer naming build_info", err)
	}
	if ctx.Err() != nil {
		t.Errorf("answered after the deadline: Gather would have dropped it")
	}
	if len(got) != 1 || got[0].Source != "prometheus: target_info" {
		t.Errorf("changes %s; want target_info's deploy", changeList(got))
	}
}

// TestASlowPresetDoesNotCostTheOthersPools: the same for saturation.
func TestASlowPresetDoesNotCostTheOthersPools(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.FormValue("query")
		w.Header().Set("Content-Type", "application/json")
		result := "[]"
		switch {
		case strings.Contains(q, "hikaricp"):
			hangUntilCancelled(w, req)
			return
		case strings.Contains(q, "go_sql_stats_connections_in_use"):
			result = "[" + matrix(`"job":"api","oncall_pool":"main"`, "1") + "]"
		case strings.Contains(q, "go_sql_stats_connections_max_open"):
			result = "[" + matrix(`"job":"api","oncall_pool":"main"`, "2") + "]"
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":%s}}`, result)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client(), sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sats, err := c.Saturation(ctx, nil, someRange, time.Minute)
	if !errors.Is(err, sources.ErrPartial) || !strings.HasPrefix(err.Error(), "presets hikaricp did not answer within ") {
		t.Fatalf("error %v; want a partial answer naming hikaricp", err)
	}
	if ctx.Err() != nil {
		t.Errorf("answered after the deadline: Gather would have dropped it")
	}
	if len(sats) != 1 || sats[0].Resource != "pool:main" {
		t.Errorf("saturation %+v; want go_sql's pool", sats)
	}
}

// answerChanges is a client whose every query is answered by answer.
func answerChanges(t *testing.T, answer func(q string) string) (*Client, *fakeChangeProm) {
	var f fakeChangeProm
	c := f.serve(t, func(q string) (int, string) { return 200, answer(q) })
	return c, &f
}

// TestChangesReadAtMostMaxSeriesPerPreset: a label gone wild answers more
// series than are worth reading; the first maxSeriesPerPreset are read,
// the server is asked for no more, and the note says so.
func TestChangesReadAtMostMaxSeriesPerPreset(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	var limits []string
	series := map[string][]string{}
	for i := range maxSeriesPerPreset + 1 {
		series[fmt.Sprintf(`{"__name__":"x_build_info","job":"svc%d","version":"1"}`, i)] = readings(n, 0, "", "1")
	}
	wild := changeMatrix(r, step, series)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(req.FormValue("query"), "_build_info") {
			limits = append(limits, req.FormValue("limit"))
			fmt.Fprint(w, wild)
			return
		}
		fmt.Fprint(w, noSeries)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client(), sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Changes(context.Background(), r)
	want := fmt.Sprintf("presets build_info answered more than %d series; the first %d were read", maxSeriesPerPreset, maxSeriesPerPreset)
	if !errors.Is(err, sources.ErrPartial) || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
	if len(limits) != 1 || limits[0] != fmt.Sprint(maxSeriesPerPreset+1) {
		t.Errorf("limits asked %q", limits)
	}
}

// TestStartTimesOutsideTheirStepAreNoRestarts: a start time in 1970 (or
// far before the reading before it) is a process started before the
// range, not a restart in it; one a moment after its step is clamped.
func TestStartTimesOutsideTheirStepAreNoRestarts(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	fresh := r.Start.Add(20 * step).Add(-step / 2) // between steps 19 and 20
	ahead := r.Start.Add(30 * step).Add(time.Hour) // a clock an hour ahead
	vals := make([]string, n)
	for i := range vals {
		switch {
		case i < 10:
			vals[i] = []string{"100", "200"}[i%2] // 1970, flapping
		case i < 20:
			vals[i] = "1e300"
		case i < 30:
			vals[i] = fmt.Sprint(fresh.Unix())
		default:
			vals[i] = fmt.Sprint(ahead.Unix())
		}
	}
	c, _ := answerChanges(t, func(q string) string {
		if strings.Contains(q, "process_start_time_seconds") && strings.HasPrefix(q, "process_start_time_seconds unless") {
			return changeMatrix(r, step, map[string][]string{`{"job":"api"}`: vals})
		}
		if strings.HasPrefix(q, "group by") && strings.Contains(q, "process_start_time_seconds") {
			return `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[0,"1"]}]}}`
		}
		return noSeries
	})
	got, err := c.Changes(context.Background(), r)
	if err != nil && !errors.Is(err, sources.ErrNotReported) {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s api restart, %s api restart", fresh.Format("15:04:05"), r.Start.Add(30*step).Format("15:04:05"))
	var have []string
	for _, ch := range got {
		have = append(have, fmt.Sprintf("%s %s %s", ch.T.UTC().Format("15:04:05"), ch.Service, ch.Kind))
	}
	if strings.Join(have, ", ") != want {
		t.Errorf("restarts %s; want %s", strings.Join(have, ", "), want)
	}
}

// TestHostileCountsAreNoChanges: a restart counter jumping by 1e19 would
// overflow an int into a negative count, and negative or absurd replicas
// are no scale.
func TestHostileCountsAreNoChanges(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	c, _ := answerChanges(t, func(q string) string {
		switch {
		case strings.HasPrefix(q, "kube_pod_container_status_restarts_total unless"):
			return changeMatrix(r, step, map[string][]string{`{"pod":"api-0","namespace":"ns","container":"api"}`: readings(n, 10, "0", "1e19")})
		case q == "kube_deployment_spec_replicas":
			return changeMatrix(r, step, map[string][]string{`{"deployment":"api"}`: readings(n, 20, "-5", "3")})
		case strings.Contains(q, "horizontalpodautoscaler"):
			return changeMatrix(r, step, map[string][]string{
				`{"__name__":"kube_horizontalpodautoscaler_spec_max_replicas","horizontalpodautoscaler":"api"}`: readings(n, 20, "4", "1e308")})
		}
		return noSeries
	})
	got, err := c.Changes(context.Background(), r)
	if len(got) != 0 {
		t.Errorf("changes %s, %v; want none", changeList(got), err)
	}
}

// TestLongAndFlappingVersionsAreCappedAndFolded: a 10,000-character
// version is cut to sources.MaxVersionText, and a version flapping every
// step is told by its latest sources.MaxChangesPerKind rollbacks, the
// earliest kept saying how many there were.
func TestLongAndFlappingVersionsAreCappedAndFolded(t *testing.T) {
	r, step := changeRange, sources.ChangeStep(changeRange)
	n := int(r.End.Sub(r.Start)/step) + 1
	long := strings.Repeat("A", 10000)
	flap := func(v string) []string {
		out := make([]string, n)
		for i := range out {
			if (i%2 == 0) == (v == "1") {
				out[i] = "1"
			}
		}
		return out
	}
	c, _ := answerChanges(t, func(q string) string {
		if strings.Contains(q, "_build_info") {
			return changeMatrix(r, step, map[string][]string{
				`{"__name__":"x_build_info","job":"long","version":"1"}`:            readings(n, 10, "1", ""),
				`{"__name__":"x_build_info","job":"long","version":"` + long + `"}`: readings(n, 10, "", "1"),
				`{"__name__":"x_build_info","job":"flap","version":"1"}`:            flap("1"),
				`{"__name__":"x_build_info","job":"flap","version":"2"}`:            flap("2"),
			})
		}
		return noSeries
	})
	got, err := c.Changes(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	perKind := map[string]int{}
	folded := 0
	for _, ch := range got {
		if n := len([]rune(ch.Version)); n > sources.MaxVersionText {
			t.Errorf("version of %d runes", n)
		}
		if n := len([]rune(ch.Detail)); n > sources.MaxChangeText {
			t.Errorf("detail of %d runes", n)
		}
		perKind[ch.Service+" "+string(ch.Kind)]++
		if strings.HasSuffix(ch.Detail, "(120 deploys in range, the 110 earliest folded)") || strings.HasSuffix(ch.Detail, "(120 rollbacks in range, the 110 earliest folded)") {
			folded++
		}
	}
	// a flapping version: each return to 1 rolls 2 back, each return to 2
	// deploys it again; each kind folded to its latest few
	if perKind["long deploy"] != 1 || perKind["flap deploy"] != sources.MaxChangesPerKind || perKind["flap rollback"] != sources.MaxChangesPerKind || folded != 2 {
		t.Errorf("changes per service and kind %v, %d folded notes:\n%s", perKind, folded, changeList(got))
	}
}

// TestUnusableLimitsAreNotCalledNotReported: series with a limit of 0 or
// below (or 1e308) are there; the note says their limits were unusable.
func TestUnusableLimitsAreNotCalledNotReported(t *testing.T) {
	f := &fakeResources{answers: [][2]string{
		{"hikaricp_connections_active", "[" + matrix(`"job":"api","oncall_pool":"main"`, "1", "1e308") + "]"},
		{"hikaricp_connections_max", "[" + matrix(`"job":"api","oncall_pool":"main"`, "-10", "1e308") + "]"},
	}}
	sats, err := f.client(t, sources.DefaultConventions()).Saturation(context.Background(), nil, someRange, time.Minute)
	if !errors.Is(err, sources.ErrNotReported) || !strings.Contains(err.Error(), "saturation presets hikaricp have series but every limit is 0, negative or absurd") {
		t.Errorf("%+v, %v", sats, err)
	}
}

// TestDoctorSaysOnePresetCauseInAFewWords: a preset whose queries all
// fail is named with one cause, not its queries' errors joined with the
// server's body.
func TestDoctorSaysOnePresetCauseInAFewWords(t *testing.T) {
	var f fakeChangeProm
	c := f.serve(t, func(q string) (int, string) {
		if strings.Contains(q, "kube_replicaset_created") || strings.Contains(q, "generation") || q == "kube_deployment_spec_replicas" {
			return 500, `{"status":"error","errorType":"internal","error":"boom: a long body"}`
		}
		return 200, noSeries
	})
	check := c.changesCheck(context.Background(), changeRange.End)
	if !strings.Contains(check.Detail, "failed: kube_deploy (server_error), kube_scale (server_error)") || strings.Contains(check.Detail, "boom") {
		t.Errorf("doctor: %s", check.Detail)
	}
}
