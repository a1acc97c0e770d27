package httpx

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// steppingClock advances by step at every reading, so that a request,
// read twice (sent, ended), lasts exactly step whatever the machine does.
func steppingClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(step)
		return t
	}
}

// lockedBuffer is a buffer the test reads while requests may still write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) lines() []string {
	return strings.Split(strings.TrimSuffix(l.String(), "\n"), "\n")
}

// send does what client_golang does for a range query: a POST form.
func send(t *testing.T, c *http.Client, u string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRequestLogWritesStatusDurationSizeAndTheForm(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 12345))
	}))
	defer srv.Close()
	var out lockedBuffer
	c, _ := NewClient(Options{Backend: "prometheus", IdempotentPOST: true, Log: &RequestLog{W: &out, Now: steppingClock(51 * time.Millisecond)}})
	form := url.Values{"query": {`sum by (service) (rate(x{a="b"}[5m]))`}, "start": {"1795575540"}, "end": {"1795578240"}, "step": {"15"}}
	resp := send(t, c, srv.URL+"/api/v1/query_range?timeout=10s", form)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	want := `oncall: http prometheus POST /api/v1/query_range 200 51ms 12345B end=1795578240 start=1795575540 step=15 timeout=10s query=sum by (service) (rate(x{a="b"}[5m]))` + "\n"
	if out.String() != want {
		t.Fatalf("got  %q\nwant %q", out.String(), want)
	}
	got, ok := ParseRequestLine(out.String())
	wantLine := RequestLine{Backend: "prometheus", Method: "POST", Path: "/api/v1/query_range", Status: 200, Duration: 51 * time.Millisecond, Bytes: 12345,
		Detail: `end=1795578240 start=1795575540 step=15 timeout=10s query=sum by (service) (rate(x{a="b"}[5m]))`}
	if !ok || got != wantLine {
		t.Errorf("parsed %+v %v\nwant   %+v", got, ok, wantLine)
	}
}

func TestRequestLogCountsWhatTheBodyDeliveredOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 10000))
	}))
	defer srv.Close()
	var out lockedBuffer
	c, _ := NewClient(Options{Backend: "loki", Log: &RequestLog{W: &out}})

	resp, err := c.Get(srv.URL + "/loki/api/v1/query_range?query=%7Bservice%3D%22api%22%7D&limit=100")
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, resp.Body, 4000)
	resp.Body.Close()
	resp.Body.Close() // a second close is not a second line

	resp, _ = c.Get(srv.URL + "/ready")
	io.ReadAll(resp.Body) // at EOF, before Close
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Fatalf("%d lines, want one per request, the second before its Close:\n%s", n, out.String())
	}
	resp.Body.Close()
	lines := out.lines()
	first, ok := ParseRequestLine(lines[0])
	if !ok || first.Bytes != 4000 || first.Status != 200 || first.Detail != `limit=100 query={service="api"}` {
		t.Errorf("closed after 4000 bytes: %+v %v", first, ok)
	}
	if second, ok := ParseRequestLine(lines[1]); !ok || second.Bytes != 10000 || second.Path != "/ready" || second.Detail != "" {
		t.Errorf("read to the end: %+v %v", second, ok)
	}
	if len(out.lines()) != 2 {
		t.Errorf("a close after EOF wrote again:\n%s", out.String())
	}
}

func TestRequestLogWritesEachRetryAndEachFailure(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	var out lockedBuffer
	c, _ := NewClient(fast(Options{Backend: "tempo", Retries: 1, Log: &RequestLog{W: &out}}))
	resp, err := c.Get(srv.URL + "/api/search?q=%7B%20status%20%3D%20error%20%7D")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()

	refused, _ := NewClient(fast(Options{Backend: "tempo", Retries: -1, Log: &RequestLog{W: &out}}))
	if _, err := refused.Get("http://127.0.0.1:1/api/traces/abc"); err == nil {
		t.Fatal("a closed port answered")
	}
	var got []string
	for _, l := range out.lines() {
		r, ok := ParseRequestLine(l)
		if !ok {
			t.Fatalf("unparsable %q", l)
		}
		got = append(got, fmt.Sprintf("%d %s", r.Status, r.Detail))
	}
	if len(got) != 3 || got[0] != "503 q={ status = error }" || got[1] != "200 q={ status = error }" ||
		!strings.HasPrefix(got[2], `0 error="`) || !strings.Contains(out.String(), " GET /api/traces/abc ERR ") {
		t.Errorf("want the 503, its retry and the refused connection:\n%s", out.String())
	}
}

// TestRequestLogKeepsSecretsOut: credentials in every place a hostile
// config can put them (basic auth, a bearer token, a header, parameters
// named like secrets, URL userinfo, an error that quotes the request)
// never reach the log; a hostile query cannot drive the terminal.
func TestRequestLogKeepsSecretsOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Header.Get("Authorization")))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("ops", "SEKRIT-userinfo")
	var out lockedBuffer
	log := &RequestLog{W: &out}
	hostile := "up{x=\"\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202e\"}"
	query := "?api_key=SEKRIT-q1&X-Auth-Token=SEKRIT-q2&password=SEKRIT-q3&query=" + url.QueryEscape(hostile)

	basic, _ := NewClient(Options{Backend: "prometheus", Username: "ops", Password: "SEKRIT-basic", Headers: map[string]string{"X-Api-Key": "SEKRIT-header"}, Log: log})
	bearer, _ := NewClient(Options{Backend: "loki", BearerToken: "SEKRIT-bearer", Log: log})
	for _, c := range []*http.Client{basic, bearer} {
		resp, err := c.Get(u.String() + "/api/v1/query" + query)
		if err != nil {
			t.Fatal(err)
		}
		if body, _ := io.ReadAll(resp.Body); len(body) == 0 {
			t.Fatalf("the credentials were not sent: %q", body)
		}
		resp.Body.Close()
	}
	// a proxy that quotes the request back in its error
	quoting, _ := NewClient(Options{Backend: "tempo", Retries: -1, BearerToken: `SEKRIT-"quoted"`, Log: log,
		Base: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("proxy refused %s with %s", r.URL.Path, r.Header.Get("Authorization"))
		})})
	if _, err := quoting.Get(srv.URL + "/api/search/SEKRIT-\"quoted\""); err == nil {
		t.Fatal("the failing proxy answered")
	}

	s := out.String()
	if strings.Contains(s, "SEKRIT") || strings.Contains(s, "quoted") {
		t.Errorf("a secret reached the log:\n%s", s)
	}
	if strings.ContainsAny(s, "\x1b\x07\u202e") {
		t.Errorf("control characters reached the log: %q", s)
	}
	if len(out.lines()) != 3 || !strings.Contains(s, "api_key=<redacted> password=<redacted> query=up{x=") ||
		!strings.Contains(s, "X-Auth-Token=<redacted>") || !strings.Contains(s, "Bearer <redacted>") {
		t.Errorf("want three lines, the secrets redacted in place:\n%s", s)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// overlapWriter records whether two Writes ever overlapped.
type overlapWriter struct {
	inWrite, overlaps atomic.Int32
	lockedBuffer
}

func (w *overlapWriter) Write(p []byte) (int, error) {
	if w.inWrite.Add(1) > 1 {
		w.overlaps.Add(1)
	}
	defer w.inWrite.Add(-1)
	for _, c := range p { // one byte at a time, yielding, as a slow terminal would take it
		w.lockedBuffer.Write([]byte{c})
		runtime.Gosched()
	}
	return len(p), nil
}

func TestRequestLogLinesNeverInterleave(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(r.URL.Query().Get("q"))) }))
	defer srv.Close()
	out := &overlapWriter{}
	c, _ := NewClient(Options{Backend: "tempo", MaxConcurrent: 32, Log: &RequestLog{W: out}})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(fmt.Sprintf("%s/api/search?q=request-%02d", srv.URL, i))
			if err == nil {
				io.ReadAll(resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	lines := out.lines()
	for _, l := range lines {
		if r, ok := ParseRequestLine(l); !ok || r.Status != 200 || r.Bytes != 10 || !strings.HasPrefix(r.Detail, "q=request-") {
			t.Errorf("mangled line %q", l)
		}
	}
	if len(lines) != 32 || out.overlaps.Load() != 0 {
		t.Errorf("%d lines, %d overlapping writes; want 32 and none", len(lines), out.overlaps.Load())
	}
}

// TestRequestLogLeavesWebSocketsWorking: logs -f dials Loki's tail with
// the client's transport; the upgrade is logged at connect and the
// connection still carries messages.
func TestRequestLogLeavesWebSocketsWorking(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		conn.Write(r.Context(), websocket.MessageText, []byte(`{"streams":[]}`))
		conn.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()
	var out lockedBuffer
	c, _ := NewClient(Options{Backend: "loki", Log: &RequestLog{W: &out}})
	ctx := context.Background()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/loki/api/v1/tail?query=%7Bservice%3D%22api%22%7D",
		&websocket.DialOptions{HTTPClient: &http.Client{Transport: c.Transport}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if _, msg, err := conn.Read(ctx); err != nil || string(msg) != `{"streams":[]}` {
		t.Fatalf("read %q %v", msg, err)
	}
	r, ok := ParseRequestLine(out.String())
	if !ok || r.Status != http.StatusSwitchingProtocols || r.Path != "/loki/api/v1/tail" || r.Detail != `query={service="api"}` {
		t.Errorf("connect line %q", out.String())
	}
}

func TestParseRequestLineRefusesOtherLines(t *testing.T) {
	for _, l := range []string{
		"oncall: the services' metrics could not be read",
		"oncall: http prometheus GET /x 200 5s 10B",
		"oncall: http prometheus GET /x 200 5ms 10kB",
		"oncall: http prometheus GET /x -1 5ms 10B",
		"oncall: http prometheus GET",
	} {
		if r, ok := ParseRequestLine(l); ok {
			t.Errorf("%q read as %+v", l, r)
		}
	}
}
