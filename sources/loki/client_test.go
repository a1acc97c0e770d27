package loki

import (
	"context"
	"errors"
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

// replay serves fixture files by path and records every query it was sent.
type replay struct {
	mu      sync.Mutex
	queries []string
	routes  map[string]func(r *http.Request) (int, []byte)
}

func (rp *replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	rp.queries = append(rp.queries, r.URL.Query().Get("query"))
	rp.mu.Unlock()
	h, ok := rp.routes[r.URL.Path]
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	code, body := h(r)
	w.WriteHeader(code)
	w.Write(body)
}

func file(t *testing.T, name string) func(*http.Request) (int, []byte) {
	b := testenv.Fixture(t, name)
	return func(*http.Request) (int, []byte) { return http.StatusOK, b }
}

func newTestClient(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client(), sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const firstErrorTrace = "a4c123b1612dd272d1371c17149d4395"

func TestLogsDecodesRecordedStreams(t *testing.T) {
	rp := &replay{routes: map[string]func(*http.Request) (int, []byte){
		"/loki/api/v1/query_range": file(t, "loki_query_range_streams.json")}}
	c := newTestClient(t, rp)
	lines, err := c.Logs(context.Background(), sources.LogQuery{Levels: []string{"error", "warn"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 29 {
		t.Fatalf("got %d lines, want the fixture's 29", len(lines))
	}
	for i := 1; i < len(lines); i++ {
		if lines[i].T.After(lines[i-1].T) {
			t.Fatalf("lines not newest first at %d", i)
		}
	}
	// Every line in the data set carries a trace ID: as structured metadata,
	// as a JSON field, or (the ANSI line) only inside the text.
	var ansi *sources.LogLine
	for i, l := range lines {
		if l.TraceID == "" {
			t.Errorf("line %q: no trace ID found", l.Line)
		}
		if len(l.TraceID) != 32 {
			t.Errorf("trace ID %q is not 32 hex characters", l.TraceID)
		}
		if strings.Contains(l.Line, "\x1b[31m") {
			ansi = &lines[i]
		}
	}
	if ansi == nil || ansi.TraceID != firstErrorTrace || ansi.Service != "checkout" || ansi.Level != "warn" {
		t.Fatalf("ANSI line: %+v, want checkout warn with trace %s found by the derived-field regex", ansi, firstErrorTrace)
	}
	if _, ok := ansi.Labels["trace_id"]; ok {
		t.Fatal("the ANSI line's stream has no trace_id label in the fixture")
	}
	newest := lines[0]
	if newest.T.UnixNano() != 1795570868628850955 {
		t.Fatalf("newest line at %d, want 1795570868628850955", newest.T.UnixNano())
	}
	want := `{service_name=~".+"} | detected_level=~"error|warn"`
	if rp.queries[0] != want {
		t.Fatalf("LogQL sent %q, want %q", rp.queries[0], want)
	}
}

// TestGrepIsALineFilter: --grep becomes a LogQL line filter, first in the
// pipeline, quoted so a regex with quotes and backslashes stays one string.
func TestGrepIsALineFilter(t *testing.T) {
	c, err := New("http://loki", http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	q := sources.LogQuery{Services: []string{"checkout"}, Levels: []string{"error"}, Grep: `timeout "pool\d"`}
	got := c.Selector(q) + c.pipeline(q, false)
	want := `{service_name=~"checkout"} |~ "timeout \"pool\\d\"" | detected_level=~"error"`
	if got != want {
		t.Errorf("LogQL %s, want %s", got, want)
	}
}

func TestLogsByTraceIDAsksByLabelAndByContentAndMerges(t *testing.T) {
	rp := &replay{routes: map[string]func(*http.Request) (int, []byte){
		"/loki/api/v1/query_range": file(t, "loki_query_range_by_trace_id.json")}}
	c := newTestClient(t, rp)
	lines, err := c.Logs(context.Background(), sources.LogQuery{Services: []string{"checkout", "payments"}, TraceID: strings.ToUpper(firstErrorTrace)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (both answers hold the same two lines)", len(lines))
	}
	services := []string{lines[0].Service, lines[1].Service}
	slices.Sort(services)
	if !slices.Equal(services, []string{"checkout", "payments"}) {
		t.Fatalf("services %v", services)
	}
	slices.Sort(rp.queries)
	want := []string{
		`{service_name=~"checkout|payments"} | trace_id="` + firstErrorTrace + `"`,
		`{service_name=~"checkout|payments"} |= "` + firstErrorTrace + `"`,
	}
	slices.Sort(want)
	if !slices.Equal(rp.queries, want) {
		t.Fatalf("queries %q, want %q", rp.queries, want)
	}
}

func TestLogRateDecodesRecordedMatrix(t *testing.T) {
	rp := &replay{routes: map[string]func(*http.Request) (int, []byte){
		"/loki/api/v1/query_range": file(t, "loki_query_range_matrix.json")}}
	c := newTestClient(t, rp)
	series, err := c.LogRate(context.Background(), sources.LogQuery{Levels: []string{"error"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 {
		t.Fatalf("got %d series, want 2", len(series))
	}
	for _, s := range series {
		if len(s.Samples) != 1 || s.Samples[0].V != 4 || s.Samples[0].T.Unix() != 1795570860 {
			t.Errorf("series %v: samples %v, want one sample of 4 at 1795570860", s.Labels, s.Samples)
		}
	}
	if series[0].Labels["service_name"] != "checkout" || series[1].Labels["service_name"] != "payments" {
		t.Fatalf("labels %v %v", series[0].Labels, series[1].Labels)
	}
	want := `sum by (service_name) (count_over_time({service_name=~".+"} | detected_level=~"error" [60s]))`
	if rp.queries[0] != want || series[0].Query != want {
		t.Fatalf("LogQL %q, want %q", rp.queries[0], want)
	}
}

func TestLabelsAndValues(t *testing.T) {
	rp := &replay{routes: map[string]func(*http.Request) (int, []byte){
		"/loki/api/v1/labels":                    file(t, "loki_labels.json"),
		"/loki/api/v1/label/service_name/values": file(t, "loki_label_values_service_name.json")}}
	c := newTestClient(t, rp)
	labels, err := c.Labels(context.Background(), sources.TimeRange{})
	if err != nil || !slices.Equal(labels, []string{"env", "level", "service_name"}) {
		t.Fatalf("labels %v, %v", labels, err)
	}
	values, err := c.LabelValues(context.Background(), "service_name", sources.TimeRange{})
	if err != nil || !slices.Equal(values, []string{"checkout", "payments", "web-gateway"}) {
		t.Fatalf("values %v, %v", values, err)
	}
}

func TestBadQueryErrorNamesBackendRequestAndAnswer(t *testing.T) {
	code, body := testenv.StatusFixture(t, "loki_error_bad_query.txt")
	rp := &replay{routes: map[string]func(*http.Request) (int, []byte){
		"/loki/api/v1/query_range": func(*http.Request) (int, []byte) { return code, body }}}
	c := newTestClient(t, rp)
	_, err := c.Logs(context.Background(), sources.LogQuery{})
	var be *sources.BackendError
	if !errors.As(err, &be) {
		t.Fatalf("error %v is not a BackendError", err)
	}
	if be.Backend != "loki" || be.Status != 400 || !strings.Contains(be.Body, "parse error at line 1, col 15") ||
		!strings.Contains(be.Op, "query_range") || !strings.Contains(be.URL, "/loki/api/v1/query_range") {
		t.Fatalf("error lacks backend, request or answer: %#v", be)
	}
	if !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("message %q does not say HTTP 400", err)
	}
}

func TestMalformedResponsesAreErrors(t *testing.T) {
	d, err := NewDecoder(sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"not json":          `<html>`,
		"error status":      `{"status":"error","data":{}}`,
		"matrix as streams": `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		"bad timestamp":     `{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["yesterday","x"]]}]}}`,
		"result not a list": `{"status":"success","data":{"resultType":"streams","result":{}}}`,
	} {
		if _, err := d.Streams([]byte(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := d.Matrix([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"NaNx"]]}]}}`), ""); err == nil {
		t.Error("bad matrix value: no error")
	}
}
