package tempo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

const traceID = "a4c123b1612dd272d1371c17149d4395"

type answer struct {
	code        int
	contentType string
	body        []byte
}

// fakeTempo answers by path and records requests with their Accept header.
type fakeTempo struct {
	mu       sync.Mutex
	requests []string
	routes   map[string]answer
}

func (f *fakeTempo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	req := r.URL.Path + " accept=" + r.Header.Get("Accept") + " q=" + r.URL.Query().Get("q")
	if spss := r.URL.Query().Get("spss"); spss != "" {
		req += " spss=" + spss
	}
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	a, ok := f.routes[r.URL.Path]
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if a.contentType != "" {
		w.Header().Set("Content-Type", a.contentType)
	}
	w.WriteHeader(a.code)
	w.Write(a.body)
}

func newClient(t *testing.T, f *fakeTempo) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkRecordedTrace asserts what the fixtures hold: six spans, base64 IDs
// turned into hex, the parent chain gateway → checkout → payments → db.
func checkRecordedTrace(t *testing.T, tr sources.Trace) {
	t.Helper()
	if tr.ID != traceID {
		t.Fatalf("trace ID %q, want %q", tr.ID, traceID)
	}
	type row struct {
		id, parent, service, name, kind string
		status                          sources.SpanStatus
	}
	want := []row{
		{"36b3216fdaeeb975", "", "web-gateway", "POST /checkout", "server", sources.StatusError},
		{"729fae923d5a4fd1", "36b3216fdaeeb975", "checkout", "POST /checkout", "server", sources.StatusError},
		{"2aabfe228f219e9c", "729fae923d5a4fd1", "checkout", "POST /charge", "client", sources.StatusError},
		{"70f58904dba41ecc", "729fae923d5a4fd1", "checkout", "GET /stock", "client", sources.StatusOK},
		{"b0eb53f16947ccf2", "2aabfe228f219e9c", "payments", "POST /charge", "server", sources.StatusError},
		{"5ec84d8dbc742547", "b0eb53f16947ccf2", "payments", "SELECT orders", "client", sources.StatusError},
	}
	if len(tr.Spans) != len(want) {
		t.Fatalf("%d spans, want %d", len(tr.Spans), len(want))
	}
	for i, s := range tr.Spans {
		got := row{s.SpanID, s.ParentSpanID, s.Service, s.Name, s.Kind, s.Status}
		if got != want[i] {
			t.Errorf("span %d = %+v, want %+v", i, got, want[i])
		}
		if s.TraceID != traceID {
			t.Errorf("span %d trace ID %q", i, s.TraceID)
		}
	}
	root := tr.Spans[0]
	if root.Start.UnixNano() != 1795570813628850955 || root.Duration() != 900*time.Millisecond {
		t.Errorf("root span at %d lasting %v, want 1795570813628850955 and 900ms", root.Start.UnixNano(), root.Duration())
	}
	if root.StatusMessage != "upstream timeout" || root.Attributes["http.route"] != "/checkout" {
		t.Errorf("root status %q attributes %v", root.StatusMessage, root.Attributes)
	}
	if tr.Spans[5].Attributes["db.name"] != "payments-db" {
		t.Errorf("db span attributes %v", tr.Spans[5].Attributes)
	}
}

func TestTraceByIDProtobufOnServerWithoutV2(t *testing.T) {
	f := &fakeTempo{routes: map[string]answer{
		"/api/traces/" + traceID: {200, "application/protobuf", testenv.Fixture(t, "tempo_trace_by_id.pb")}}}
	c := newClient(t, f)
	for range 2 {
		tr, err := c.Trace(context.Background(), "pMEjsWEt0nLRNxwXFJ1DlQ==") // base64, as trace-by-ID JSON gives it
		if err != nil {
			t.Fatal(err)
		}
		checkRecordedTrace(t, tr)
	}
	want := []string{
		"/api/v2/traces/" + traceID + " accept=application/protobuf q=",
		"/api/traces/" + traceID + " accept=application/protobuf q=",
		"/api/traces/" + traceID + " accept=application/protobuf q=", // v2 absence remembered
	}
	if !slices.Equal(f.requests, want) {
		t.Fatalf("requests %q, want %q", f.requests, want)
	}
}

func TestTraceByIDJSONFallback(t *testing.T) {
	f := &fakeTempo{routes: map[string]answer{
		"/api/traces/" + traceID: {200, "application/json", testenv.Fixture(t, "tempo_trace_by_id.json")}}}
	tr, err := newClient(t, f).Trace(context.Background(), traceID)
	if err != nil {
		t.Fatal(err)
	}
	checkRecordedTrace(t, tr)
}

func TestTraceByIDV2(t *testing.T) {
	pb := testenv.Fixture(t, "tempo_trace_by_id.pb")
	v2pb := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), pb) // TraceByIDResponse{trace: ...}
	for name, a := range map[string]answer{
		"json":     {200, "application/json", testenv.Fixture(t, "tempo_v2_trace_by_id.json")},
		"protobuf": {200, "application/protobuf", v2pb},
	} {
		t.Run(name, func(t *testing.T) {
			f := &fakeTempo{routes: map[string]answer{"/api/v2/traces/" + traceID: a}}
			tr, err := newClient(t, f).Trace(context.Background(), traceID)
			if err != nil {
				t.Fatal(err)
			}
			checkRecordedTrace(t, tr)
			if len(f.requests) != 1 {
				t.Fatalf("requests %q, want only the v2 one", f.requests)
			}
		})
	}
}

func TestAllTraceEncodingsAgree(t *testing.T) {
	pb, err := DecodeTraceProto(testenv.Fixture(t, "tempo_trace_by_id.pb"))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := DecodeTraceJSON(testenv.Fixture(t, "tempo_trace_by_id.json"))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := DecodeTraceV2JSON(testenv.Fixture(t, "tempo_v2_trace_by_id.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pb, v1) || !reflect.DeepEqual(pb, v2) {
		t.Fatalf("protobuf, JSON and v2 JSON decode differently:\n%+v\n%+v\n%+v", pb, v1, v2)
	}
}

func TestTraceNotFound(t *testing.T) {
	code, body := testenv.StatusFixture(t, "tempo_trace_not_found.txt")
	f := &fakeTempo{routes: map[string]answer{"/api/v2/traces/" + traceID: {code, "", body}}}
	_, err := newClient(t, f).Trace(context.Background(), traceID)
	if !errors.Is(err, sources.ErrNotFound) {
		t.Fatalf("error %v, want ErrNotFound", err)
	}
	var be *sources.BackendError
	if !errors.As(err, &be) || be.Backend != "tempo" || be.Status != 404 {
		t.Fatalf("error %#v lacks backend and status", err)
	}
}

func TestBadTraceIDIsRejectedBeforeAsking(t *testing.T) {
	f := &fakeTempo{}
	if _, err := newClient(t, f).Trace(context.Background(), "not-an-id"); err == nil {
		t.Fatal("no error")
	}
	if len(f.requests) != 0 {
		t.Fatalf("sent %q", f.requests)
	}
}

func TestSearchDecodesRecordedAnswer(t *testing.T) {
	f := &fakeTempo{routes: map[string]answer{"/api/search": {200, "application/json", testenv.Fixture(t, "tempo_search_traceql.json")}}}
	hits, err := newClient(t, f).SearchTraces(context.Background(), sources.TraceSearch{Services: []string{"payments"}, ErrorsOnly: true, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.requests[0]; got != `/api/search accept= q={ resource.service.name = "payments" && status = error }` {
		t.Fatalf("request %q: not the recorded TraceQL", got)
	}
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.TraceID)
	}
	want := []string{"48c801bef750110c57513064d6d59291", "a65e19cbae530282bd36cb9d21f6be6a", "e58b081006f7e3dfc967a64cb14028d5", traceID}
	if !slices.Equal(ids, want) {
		t.Fatalf("trace IDs %v, want %v", ids, want)
	}
	h := hits[0]
	if h.RootService != "web-gateway" || h.RootName != "POST /checkout" || h.Duration != 900*time.Millisecond ||
		h.Start.UnixNano() != 1795570849628850955 {
		t.Fatalf("summary %+v", h)
	}
	if !slices.Equal(h.SpanIDs, []string{"0335b400141212b6", "2c376631129f3436"}) {
		t.Fatalf("span IDs %v", h.SpanIDs)
	}
	if h.Errors["payments"] != 2 || h.Errors["checkout"] != 2 || h.Errors["web-gateway"] != 1 {
		t.Fatalf("errors per service %v", h.Errors)
	}
	// the matched spans, as far as the search describes them
	sp := h.Spans[0]
	if len(h.Spans) != 2 || h.Matched != 2 || sp.SpanID != "0335b400141212b6" || sp.TraceID != h.TraceID || sp.Service != "payments" ||
		sp.Status != sources.StatusError || sp.Start.UnixNano() != 1795570849634850955 || sp.Duration() != 840*time.Millisecond {
		t.Fatalf("spans %+v, matched %d", h.Spans, h.Matched)
	}
}

// TestSearchAsksForTheFailedSpansAndCalls: a search for span sets selects
// what a fetched trace would have told of each span, and reads it back.
func TestSearchAsksForTheFailedSpansAndCalls(t *testing.T) {
	body := `{"traces":[{"traceID":"4c123b1612dd272d1371c17149d4395","rootServiceName":"web-gateway","startTimeUnixNano":"1795570849628850955","durationMs":900,
"spanSets":[{"spans":[{"spanID":"0335b400141212b6","name":"SELECT payments-db","startTimeUnixNano":"1795570849634850955","durationNanos":"840000000","attributes":[
{"key":"service.name","value":{"stringValue":"payments"}},{"key":"kind","value":{"stringValue":"client"}},{"key":"status","value":{"stringValue":"error"}},
{"key":"statusMessage","value":{"stringValue":"timeout acquiring connection"}},{"key":"span:parentID","value":{"stringValue":"2c376631129f3436"}},
{"key":"peer.service","value":{"stringValue":"payments-db"}},{"key":"http.request.resend_count","value":{"intValue":"2"}}]}],"matched":7}]}]}`
	f := &fakeTempo{routes: map[string]answer{"/api/search": {200, "application/json", []byte(body)}}}
	hits, err := newClient(t, f).SearchTraces(context.Background(), sources.TraceSearch{ErrorsOnly: true, SpansPerTrace: 100, WithCalls: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `/api/search accept= q={ status = error } || ({ status = error } && { kind = client }) | select(resource.service.name, name, kind, status, statusMessage, span:parentID, span.peer.service, span.http.request.resend_count) spss=100`
	if f.requests[0] != want {
		t.Fatalf("request %s\nwant    %s", f.requests[0], want)
	}
	if len(hits) != 1 || len(hits[0].Spans) != 1 || hits[0].Matched != 7 {
		t.Fatalf("hits %+v", hits)
	}
	got := hits[0].Spans[0]
	wantSpan := sources.Span{TraceID: "04c123b1612dd272d1371c17149d4395", SpanID: "0335b400141212b6", ParentSpanID: "2c376631129f3436",
		Service: "payments", Name: "SELECT payments-db", Kind: "client", Status: sources.StatusError, StatusMessage: "timeout acquiring connection",
		Start: time.Unix(0, 1795570849634850955), End: time.Unix(0, 1795570850474850955),
		Attributes: map[string]string{"peer.service": "payments-db", "http.request.resend_count": "2"}}
	if !reflect.DeepEqual(got, wantSpan) {
		t.Fatalf("span\n%+v\nwant\n%+v", got, wantSpan)
	}
}

// TestSearchDecodesRecordedSpanSets replays a real Tempo's answer to the
// incident's search: each failed trace's failed spans and calls, with
// what the query selected of them. It was recorded for
// `{ status = error } && { kind = client }`, which for these two traces,
// both with calls, returns the same spans as the search asks now.
func TestSearchDecodesRecordedSpanSets(t *testing.T) {
	f := &fakeTempo{routes: map[string]answer{"/api/search": {200, "application/json", testenv.Fixture(t, "tempo_search_spansets.json")}}}
	hits, err := newClient(t, f).SearchTraces(context.Background(), sources.TraceSearch{ErrorsOnly: true, Limit: 2, SpansPerTrace: 100, WithCalls: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `/api/search accept= q={ status = error } || ({ status = error } && { kind = client }) | select(resource.service.name, name, kind, status, statusMessage, span:parentID, span.peer.service, span.http.request.resend_count) spss=100`
	if f.requests[0] != want {
		t.Fatalf("request %s: not the recorded search", f.requests[0])
	}
	if len(hits) != 2 || hits[0].TraceID != "4f05f3d0d01cc70677f81eec92fd37de" || len(hits[0].Spans) != 9 || hits[0].Matched != 9 || len(hits[1].Spans) != 13 {
		t.Fatalf("%d hits: %+v", len(hits), hits)
	}
	failed := hits[0].Spans[1]
	if failed.SpanID != "a12ff196f7b2e7a6" || failed.Service != "catalog-api" || failed.Name != "POST" || failed.Kind != "client" ||
		failed.Status != sources.StatusError || failed.StatusMessage != "HTTP 503 Service Unavailable from product-service" ||
		failed.Attributes["peer.service"] != "product-service" || failed.ParentSpanID == "" || failed.Duration() <= 0 {
		t.Fatalf("failed call %+v", failed)
	}
	if retry := hits[0].Spans[6]; retry.Status != sources.StatusUnset || retry.Attributes["http.request.resend_count"] != "1" {
		t.Fatalf("retried call %+v", retry)
	}
	// a root span's parent is all zeros on the wire: none
	if root := hits[1].Spans[0]; root.ParentSpanID != "" || root.Kind != "server" || root.Service != "web-gateway" {
		t.Fatalf("root span %+v", root)
	}
}

func TestTagsAndValues(t *testing.T) {
	f := &fakeTempo{routes: map[string]answer{
		"/api/v2/search/tags":                             {200, "", testenv.Fixture(t, "tempo_search_tags_v2.json")},
		"/api/v2/search/tag/resource.service.name/values": {200, "", testenv.Fixture(t, "tempo_tag_values_service_name.json")},
	}}
	c := newClient(t, f)
	tags, err := c.Tags(context.Background(), "resource")
	if err != nil || !slices.Equal(tags["resource"], []string{"service.name"}) {
		t.Fatalf("tags %v, %v", tags, err)
	}
	values, err := c.TagValues(context.Background(), "resource.service.name")
	if err != nil || !slices.Equal(values, []string{"checkout", "payments", "web-gateway"}) {
		t.Fatalf("values %v, %v", values, err)
	}
}

func TestTraceQL(t *testing.T) {
	cases := []struct {
		q    sources.TraceSearch
		want string
	}{
		{sources.TraceSearch{}, "{}"},
		{sources.TraceSearch{Services: []string{"a"}}, `{ resource.service.name = "a" }`},
		{sources.TraceSearch{Services: []string{"a", "b"}, ErrorsOnly: true}, `{ (resource.service.name = "a" || resource.service.name = "b") && status = error }`},
		{sources.TraceSearch{Services: []string{`we"ird`}, MinDuration: 500 * time.Millisecond}, `{ resource.service.name = "we\"ird" && duration > 500ms }`},
		{sources.TraceSearch{Services: []string{"a"}, ErrorsOnly: true, SpansPerTrace: 3},
			`{ resource.service.name = "a" && status = error } | select(resource.service.name, name, kind, status, statusMessage, span:parentID, span.peer.service, span.http.request.resend_count)`},
		// a failed trace with no call (a handler's own error, a database's
		// server span) must match too: `{A} && {kind = client}` alone
		// dropped it; Tempo's evaluator keeps it under `{A} || ({A} && …)`
		{sources.TraceSearch{ErrorsOnly: true, SpansPerTrace: 100, WithCalls: true},
			`{ status = error } || ({ status = error } && { kind = client }) | select(resource.service.name, name, kind, status, statusMessage, span:parentID, span.peer.service, span.http.request.resend_count)`},
		{sources.TraceSearch{Services: []string{"a", "b"}, ErrorsOnly: true, SpansPerTrace: 5, WithCalls: true},
			`{ (resource.service.name = "a" || resource.service.name = "b") && status = error } || ({ (resource.service.name = "a" || resource.service.name = "b") && status = error } && { kind = client }) | select(resource.service.name, name, kind, status, statusMessage, span:parentID, span.peer.service, span.http.request.resend_count)`},
	}
	for _, c := range cases {
		if got := TraceQL(c.q); got != c.want {
			t.Errorf("TraceQL(%+v) = %s, want %s", c.q, got, c.want)
		}
	}
}
