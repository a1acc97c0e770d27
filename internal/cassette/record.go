package cassette

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Recorder is a reverse proxy to one real backend that writes down every
// exchange passing through it. Point oncall's datasource URL at it.
type Recorder struct {
	backend string
	at      time.Time
	proxy   *httputil.ReverseProxy

	mu        sync.Mutex
	exchanges []Exchange
}

// NewRecorder returns a Recorder forwarding to target, whose cassette is
// for backend ("prometheus", "loki" or "tempo"), for the incident oncall
// is asked about at (its --at; see Key).
func NewRecorder(backend string, target *url.URL, at time.Time) *Recorder {
	return &Recorder{backend: backend, at: at, proxy: &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// without the client's Accept-Encoding the transport asks for
			// gzip itself and unzips the answer, so the cassette holds the
			// answer as the adapter reads it, not compressed bytes
			pr.Out.Header.Del("Accept-Encoding")
		},
	}}
}

// ServeHTTP forwards r to the backend, answers with what it answered,
// and writes the exchange down. A request the client abandons in the
// middle of its answer is not written down: its answer is incomplete.
func (rec *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "cassette recorder: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	cw := &capturingWriter{ResponseWriter: w, status: http.StatusOK}
	rec.proxy.ServeHTTP(cw, r)
	e := Exchange{Method: r.Method, Path: r.URL.Path, Query: Key(r, body, rec.at), Status: cw.status,
		ContentType: cw.Header().Get("Content-Type")}
	e.setBody(cw.body.Bytes())
	rec.mu.Lock()
	rec.exchanges = append(rec.exchanges, e)
	rec.mu.Unlock()
}

// Cassette returns what has been recorded so far.
func (rec *Recorder) Cassette() *Cassette {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return &Cassette{Backend: rec.backend, Exchanges: append([]Exchange(nil), rec.exchanges...)}
}

// Save writes what has been recorded so far to path (see Path).
func (rec *Recorder) Save(path string) error {
	return rec.Cassette().Save(path)
}

// capturingWriter passes an answer on and keeps a copy of it.
type capturingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capturingWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *capturingWriter) Write(p []byte) (int, error) {
	c.body.Write(p)
	return c.ResponseWriter.Write(p)
}

// Unwrap lets the proxy flush through to the connection.
func (c *capturingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
