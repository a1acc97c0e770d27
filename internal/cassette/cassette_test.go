package cassette

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testAt is the --at of the incident the tests record: Unix 1000.
var testAt = time.Unix(1000, 0)

// protobufTrace is not UTF-8, as Tempo's protobuf answers are not.
var protobufTrace = []byte{0x0a, 0xff, 0x00, 0x12, 0x80, 0x81}

// fakeBackend answers like the three backends do: JSON for a Prometheus
// POST form, protobuf for a Tempo trace, and a count that grows with
// each call for /count, so the order of answers can be checked.
func fakeBackend(t *testing.T) *httptest.Server {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/query_range":
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"status":"success","query":%q}`, r.PostForm.Get("query"))
		case "/api/traces/abc":
			w.Header().Set("Content-Type", "application/protobuf")
			_, _ = w.Write(protobufTrace)
		case "/gzipped":
			// as Prometheus does when the client accepts gzip
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				fmt.Fprint(w, "plain answer")
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			fmt.Fprint(zw, "plain answer")
			zw.Close()
		case "/count":
			fmt.Fprint(w, calls.Add(1))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (int, string, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func get(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func postForm(t *testing.T, u string, form url.Values) *http.Request {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// TestRecordThenReplay records answers through a Recorder, saves and
// loads the cassette, and checks a Replayer gives the same answers: a
// POST form matched by its values whatever their order, a binary body,
// a key asked three times answered in recorded order then the last again,
// and an unknown request answered 500 naming its key and kept as a miss.
func TestRecordThenReplay(t *testing.T) {
	backend := fakeBackend(t)
	target, _ := url.Parse(backend.URL)
	rec := NewRecorder("prometheus", target, testAt)
	proxy := httptest.NewServer(rec)
	defer proxy.Close()

	form := url.Values{"query": {`sum(rate(x[1m]))`}, "start": {"100"}, "end": {"200"}, "step": {"15"}}
	authed := postForm(t, proxy.URL+"/api/v1/query_range", form)
	authed.Header.Set("Authorization", "Bearer s3cr3t-token")
	authed.Header.Set("X-Scope-OrgID", "tenant-s3cr3t")
	if code, _, body := do(t, authed); code != 200 || !strings.Contains(string(body), "sum(rate") {
		t.Fatalf("through the recorder: %d %s", code, body)
	}
	do(t, get(t, proxy.URL+"/api/traces/abc"))
	gz := get(t, proxy.URL+"/gzipped")
	gz.Header.Set("Accept-Encoding", "gzip") // so the client does not unzip
	do(t, gz)
	do(t, get(t, proxy.URL+"/count"))
	do(t, get(t, proxy.URL+"/count"))

	path := Path(t.TempDir(), "prometheus")
	if err := rec.Save(path); err != nil {
		t.Fatal(err)
	}
	raw := gunzip(t, path)
	for _, secret := range []string{"s3cr3t", "Authorization", "Bearer"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the cassette holds %q:\n%s", secret, raw)
		}
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend != "prometheus" || len(c.Exchanges) != 5 {
		t.Fatalf("loaded %q with %d exchanges, want prometheus with 5", c.Backend, len(c.Exchanges))
	}
	if e := c.Exchanges[2]; e.Path != "/gzipped" || e.Body != "plain answer" {
		t.Errorf("a gzipped answer was recorded as %+v, want its plain text", e)
	}

	rp := NewReplayer(c, testAt)
	replay := httptest.NewServer(rp)
	defer replay.Close()
	// the same values in another order, as another client would send them
	reordered := "step=15&end=200&start=100&query=" + url.QueryEscape(`sum(rate(x[1m]))`)
	req, _ := http.NewRequest(http.MethodPost, replay.URL+"/api/v1/query_range", strings.NewReader(reordered))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, ct, body := do(t, req); code != 200 || ct != "application/json" || !strings.Contains(string(body), "sum(rate") {
		t.Errorf("replayed query_range: %d %q %s", code, ct, body)
	}
	if code, ct, body := do(t, get(t, replay.URL+"/api/traces/abc")); code != 200 || ct != "application/protobuf" || !bytes.Equal(body, protobufTrace) {
		t.Errorf("replayed trace: %d %q %x, want %x", code, ct, body, protobufTrace)
	}
	var counts []string
	for range 3 {
		_, _, body := do(t, get(t, replay.URL+"/count"))
		counts = append(counts, string(body))
	}
	if got := strings.Join(counts, ","); got != "1,2,2" {
		t.Errorf("a key recorded twice answered %s, want 1,2,2", got)
	}

	for range 2 {
		code, _, body := do(t, get(t, replay.URL+"/api/v1/query?query=up&time=300"))
		if code != http.StatusInternalServerError || !strings.Contains(string(body), "GET /api/v1/query?query=up&time=300") {
			t.Errorf("unknown request: %d %s", code, body)
		}
	}
	if m := rp.Misses(); len(m) != 1 || m[0] != "GET /api/v1/query?query=up&time=300" {
		t.Errorf("misses %q, want the unknown request once", m)
	}
}

// TestKeyIsCanonical checks a key does not depend on the order the
// parameters were added in, URL or form body.
func TestKeyIsCanonical(t *testing.T) {
	a := postForm(t, "http://x/api/v1/series?match[]=b&match[]=a", url.Values{"start": {"1"}, "end": {"2"}})
	b := postForm(t, "http://x/api/v1/series?match[]=a", url.Values{"end": {"2"}, "match[]": {"b"}, "start": {"1"}})
	ka, kb := Key(a, []byte(mustRead(t, a)), testAt), Key(b, []byte(mustRead(t, b)), testAt)
	if ka != kb || ka != "end=2&match%5B%5D=a&match%5B%5D=b&start=1" {
		t.Errorf("keys %q and %q differ or are not sorted", ka, kb)
	}
}

// TestKeyReadsAClockTimeAsNow checks that an instant query's time after
// the incident's --at, read from oncall's clock, is keyed as now, while
// the times derived from --at stay as they are.
func TestKeyReadsAClockTimeAsNow(t *testing.T) {
	for v, want := range map[string]string{
		"1796594073.8798099":   "query=up&time=now",
		"1970-01-01T00:20:00Z": "query=up&time=now",
		"1000":                 "query=up&time=1000",
		"1796594073879809900":  "query=up&time=1796594073879809900", // Loki's nanoseconds
		"940.5":                "query=up&time=940.5",
		"1970-01-01T00:15:00Z": "query=up&time=1970-01-01T00%3A15%3A00Z",
	} {
		r := postForm(t, "http://x/api/v1/query", url.Values{"query": {"up"}, "time": {v}})
		if got := Key(r, []byte(mustRead(t, r)), testAt); got != want {
			t.Errorf("time=%s keyed %q, want %q", v, got, want)
		}
	}
}

// TestLoadNamesTheBadLine checks a damaged cassette is an error naming
// the file and line.
func TestLoadNamesTheBadLine(t *testing.T) {
	path := Path(t.TempDir(), "loki")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"method":"GET","path":"/x","status":200}` + "\n" + `{"method":` + "\n"))
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), filepath.Base(path)+" line 2") {
		t.Errorf("err %v, want one naming line 2", err)
	}
}

func mustRead(t *testing.T, r *http.Request) string {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gunzip(t *testing.T, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
