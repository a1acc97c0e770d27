package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

// firingSpan is one alert firing in a fake or backfilled ALERTS history:
// its labels as PromQL text, and its first and last firing samples.
type firingSpan struct {
	labels     string
	start, end time.Time
}

// fakeAlertsHistory answers query_range of ALERTS from spans, as
// Prometheus would at each step of the request (no lookback: a step has a
// sample only inside a span), and records every request's point count.
type fakeAlertsHistory struct {
	spans  []firingSpan
	mu     sync.Mutex
	points []int
}

func (f *fakeAlertsHistory) serve(t *testing.T) *Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("query") != firingQuery {
			http.Error(w, "unexpected query "+r.FormValue("query"), http.StatusBadRequest)
			return
		}
		at := func(k string) float64 {
			v, err := strconv.ParseFloat(r.FormValue(k), 64)
			if err != nil {
				t.Errorf("%s=%q: %v", k, r.FormValue(k), err)
			}
			return v
		}
		start, end, step := at("start"), at("end"), at("step")
		n := int(math.Floor((end-start)/step)) + 1
		f.mu.Lock()
		f.points = append(f.points, n)
		f.mu.Unlock()
		if n > 11000 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries"}`)
			return
		}
		var parts []string
		for _, s := range f.spans {
			var vals []string
			for i := range n {
				ts := start + float64(i)*step
				if ts >= float64(s.start.Unix()) && ts <= float64(s.end.Unix()) {
					vals = append(vals, `[`+strconv.FormatFloat(ts, 'f', -1, 64)+`,"1"]`)
				}
			}
			if len(vals) > 0 {
				parts = append(parts, fmt.Sprintf(`{"metric":{"__name__":"ALERTS","alertstate":"firing",%s},"values":[%s]}`, s.labels, strings.Join(vals, ",")))
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[`+strings.Join(parts, ",")+`]}}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client(), sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFiringsReadAMonthInPiecesAndJoinRunsAcrossThem reads a month at
// one-minute steps (43,201 points) from a fake that refuses more than
// 11,000 a series, as Prometheus does: no request is refused, and a run
// crossing a piece's edge comes back whole, a flap one step long splits
// a run, and a run firing at the range's end has no End.
func TestFiringsReadAMonthInPiecesAndJoinRunsAcrossThem(t *testing.T) {
	r := sources.TimeRange{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	r.End = r.Start.Add(30 * 24 * time.Hour)
	edge := r.Start.Add(11000 * time.Minute) // the second piece's first step
	at := func(d time.Duration) time.Time { return r.Start.Add(d) }
	f := &fakeAlertsHistory{spans: []firingSpan{
		{`"alertname":"HighErrorRate","service":"checkout","severity":"page"`, edge.Add(-20 * time.Minute), edge.Add(30 * time.Minute)},
		{`"alertname":"HighLatency","service":"cart","severity":"warning"`, at(time.Hour), at(time.Hour + 10*time.Minute)},
		{`"alertname":"HighLatency","service":"cart","severity":"warning"`, at(time.Hour + 12*time.Minute), at(time.Hour + 20*time.Minute)},
		{`"alertname":"Watchdog"`, at(29 * 24 * time.Hour), r.End},
	}}
	c := f.serve(t)
	got, err := c.Firings(context.Background(), r, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.points) != 4 {
		t.Errorf("%d requests (%v points), want 4 pieces", len(f.points), f.points)
	}
	total := 0
	for _, n := range f.points {
		total += n
	}
	if total != 43201 {
		t.Errorf("the pieces ask %d steps in all, want the month's 43,201 once each", total)
	}
	type want struct {
		name, service, severity string
		start, end              time.Time
	}
	wants := []want{
		{"HighLatency", "cart", "warning", at(time.Hour), at(time.Hour + 10*time.Minute)},
		{"HighLatency", "cart", "warning", at(time.Hour + 12*time.Minute), at(time.Hour + 20*time.Minute)},
		{"HighErrorRate", "checkout", "page", edge.Add(-20 * time.Minute), edge.Add(30 * time.Minute)},
		{"Watchdog", "", "", at(29 * 24 * time.Hour), time.Time{}},
	}
	if len(got) != len(wants) {
		t.Fatalf("%d firings, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		g := got[i]
		if g.Alert.Name != w.name || g.Alert.Service != w.service || g.Alert.Severity != w.severity ||
			!g.Start.Equal(w.start) || !g.End.Equal(w.end) || g.Step != time.Minute {
			t.Errorf("firing %d: %s/%s/%s %s–%s, want %s/%s/%s %s–%s", i, g.Alert.Name, g.Alert.Service, g.Alert.Severity, g.Start, g.End,
				w.name, w.service, w.severity, w.start, w.end)
		}
		if _, ok := g.Alert.Labels["alertstate"]; ok || g.Alert.Labels["__name__"] != "" {
			t.Errorf("firing %d keeps the series' own labels: %v", i, g.Alert.Labels)
		}
	}
	if src := got[2].Source; src != `ALERTS{alertname="HighErrorRate",service="checkout"} at 1m steps (prometheus)` {
		t.Errorf("source %q", src)
	}
	if got[0].Alert.Fingerprint != got[1].Alert.Fingerprint || got[0].Alert.Fingerprint == got[2].Alert.Fingerprint {
		t.Errorf("one label set's runs share a fingerprint, others differ: %s %s %s", got[0].Alert.Fingerprint, got[1].Alert.Fingerprint, got[2].Alert.Fingerprint)
	}
	if got[3].Alert.State != sources.AlertFiring || got[0].Alert.State != sources.AlertResolved {
		t.Errorf("states %s and %s, want firing for the open run and resolved for the ended one", got[3].Alert.State, got[0].Alert.State)
	}
}

// TestFiringsReadTheSameStartWhateverTheRangesStart: ranges that begin
// off the step grid (now minus --since, any second) read a firing on one
// grid, so the same incident gets the same start, and so the same record
// ID, from every reconstruction.
func TestFiringsReadTheSameStartWhateverTheRangesStart(t *testing.T) {
	begin := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	f := &fakeAlertsHistory{spans: []firingSpan{{`"alertname":"HighErrorRate","service":"checkout"`, begin, begin.Add(20 * time.Minute)}}}
	c := f.serve(t)
	var starts []time.Time
	for _, off := range []time.Duration{0, 25 * time.Second, 59 * time.Second} {
		r := sources.TimeRange{Start: begin.Add(-2*time.Hour + off), End: begin.Add(time.Hour + off)}
		got, err := c.Firings(context.Background(), r, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("range from %s: %v, %+v", r.Start, err, got)
		}
		starts = append(starts, got[0].Start)
	}
	for _, s := range starts {
		if !s.Equal(begin) {
			t.Errorf("starts %v, want %s from every range", starts, begin)
			break
		}
	}
}

// TestFiringsNameTheServiceByTheConventionsLabel reads the service from
// the first of the conventions' alert service labels the alert carries.
func TestFiringsNameTheServiceByTheConventionsLabel(t *testing.T) {
	r := sources.TimeRange{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	r.End = r.Start.Add(time.Hour)
	f := &fakeAlertsHistory{spans: []firingSpan{{`"alertname":"KubePodCrashLooping","job":"kube-state-metrics","namespace":"shop","container":"cart"`, r.Start.Add(time.Minute), r.Start.Add(5 * time.Minute)}}}
	c := f.serve(t)
	c.conv.Alerts.ServiceLabels = []string{"app", "container"}
	got, err := c.Firings(context.Background(), r, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v, %v", got, err)
	}
	if a := got[0].Alert; a.Service != "cart" || a.ServiceLabel != "container" || !strings.Contains(got[0].Source, `container="cart"`) {
		t.Fatalf("service %q by %q, source %q", a.Service, a.ServiceLabel, got[0].Source)
	}
}

// TestFiringsErrorsNamePrometheus: a refusal says which backend and which
// part of the range.
func TestFiringsErrorsNamePrometheus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"query timed out"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client(), sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	r := sources.TimeRange{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	r.End = r.Start.Add(time.Hour)
	_, err = c.Firings(context.Background(), r, time.Minute)
	var be *sources.BackendError
	if !errors.As(err, &be) || be.Backend != "prometheus" || !strings.Contains(err.Error(), "alert history 2026-03-02T00:00:00Z") {
		t.Fatalf("error %v does not name prometheus and the range", err)
	}
	if _, err := c.Firings(context.Background(), sources.TimeRange{Start: r.End, End: r.Start}, time.Minute); err == nil {
		t.Fatal("a range ending before it starts was read")
	}
}

// TestFiringsAgainstRealPrometheus backfills a real Prometheus with a
// month of ALERTS and reads it back in pieces: each run at its times.
func TestFiringsAgainstRealPrometheus(t *testing.T) {
	end := time.Now().Add(-time.Hour).Truncate(time.Minute)
	r := sources.TimeRange{Start: end.Add(-30 * 24 * time.Hour), End: end}
	at := func(d time.Duration) time.Time { return r.Start.Add(d) }
	edge := r.Start.Add(11000 * time.Minute)
	spans := []testenv.AlertFiring{
		{Labels: `alertname="HighErrorRate",alertstate="firing",service="checkout",severity="page"`, Start: edge.Add(-20 * time.Minute), End: edge.Add(30 * time.Minute)},
		{Labels: `alertname="HighLatency",alertstate="firing",service="cart",severity="warning"`, Start: at(time.Hour), End: at(time.Hour + 10*time.Minute)},
		{Labels: `alertname="Watchdog",alertstate="firing"`, Start: at(29*24*time.Hour + 30*time.Minute), End: end},
	}
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: testenv.AlertsOpenMetrics(spans, time.Minute)})
	c, err := New(url, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Firings(context.Background(), r, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	wants := []firingSpan{
		{"HighLatency cart", at(time.Hour), at(time.Hour + 10*time.Minute)},
		{"HighErrorRate checkout", edge.Add(-20 * time.Minute), edge.Add(30 * time.Minute)},
		{"Watchdog ", at(29*24*time.Hour + 30*time.Minute), time.Time{}},
	}
	if len(got) != len(wants) {
		t.Fatalf("%d firings, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		g := got[i]
		if name := g.Alert.Name + " " + g.Alert.Service; name != w.labels || !g.Start.Equal(w.start) || !g.End.Equal(w.end) {
			t.Errorf("firing %d: %s %s–%s, want %s %s–%s", i, name, g.Start, g.End, w.labels, w.start, w.end)
		}
	}
}
