package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	stdlog "log"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/oncall-cockpit/oncall/sim"
)

// SimOpenMetricsFile writes what SimOpenMetrics renders to path, for
// fleets whose history does not fit in memory (2,000 services over 75
// minutes is gigabytes of text). It writes one step at a time, every
// series of a step before the next step, without TYPE lines: promtool
// needs each series in time order, not the families grouped, and reads
// untyped series as the "unknown" SimOpenMetrics declares. It returns
// the bytes written.
func SimOpenMetricsFile(f *sim.Fleet, from, to time.Time, step time.Duration, path string) (int64, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(f.Collector()); err != nil {
		return 0, err
	}
	file, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	cw := &countingWriter{w: file}
	w := bufio.NewWriterSize(cw, 1<<20)
	for t := from; !t.After(to); t = t.Add(step) {
		f.AdvanceTo(t)
		mfs, err := reg.Gather()
		if err != nil {
			return cw.n, err
		}
		ts := t.Unix()
		eachSample(mfs, func(name, labels string, v float64) {
			fmt.Fprintf(w, "%s{%s} %g %d\n", name, labels, v, ts)
		})
	}
	w.WriteString("# EOF\n")
	if err := w.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, file.Close()
}

// eachSample calls emit for every sample a scrape of mfs would store:
// histograms as their _bucket, _sum and _count series. NaN is no sample.
func eachSample(mfs []*dto.MetricFamily, emit func(name, labels string, v float64)) {
	add := func(name, labels string, v float64) {
		if !math.IsNaN(v) {
			emit(name, labels, v)
		}
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := labelText(m.GetLabel())
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(mf.GetName(), l, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(mf.GetName(), l, m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					add(mf.GetName()+"_bucket", withLE(l, fmt.Sprintf("%g", b.GetUpperBound())), float64(b.GetCumulativeCount()))
				}
				add(mf.GetName()+"_bucket", withLE(l, "+Inf"), float64(h.GetSampleCount()))
				add(mf.GetName()+"_sum", l, h.GetSampleSum())
				add(mf.GetName()+"_count", l, float64(h.GetSampleCount()))
			}
		}
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// LoggedRequest is one request that passed through a LoggingProxy.
type LoggedRequest struct {
	Path  string        // e.g. /api/v1/query_range
	Query string        // the PromQL (or LogQL, TraceQL) in the "query" or "q" parameter, if any
	Form  url.Values    // every parameter, from the URL and a form body
	Took  time.Duration // from the request's arrival to the last byte of the answer
	Code  int
	Bytes int64 // of the answer's body
}

// RequestLog is what a LoggingProxy saw, in the order the answers ended.
type RequestLog struct {
	mu       sync.Mutex
	settled  *sync.Cond // signalled when a request is logged
	inFlight int
	reqs     []LoggedRequest
}

// settle waits, holding l.mu, until no request is in flight: a client
// has its answer a moment before the proxy logs it.
func (l *RequestLog) settle() {
	for l.inFlight > 0 {
		l.settled.Wait()
	}
}

// Requests returns a copy of the log once no request is in flight.
func (l *RequestLog) Requests() []LoggedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.settle()
	return append([]LoggedRequest(nil), l.reqs...)
}

// Reset empties the log, so a measurement sees only its own requests.
func (l *RequestLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.settle()
	l.reqs = nil
}

// Slowest is the longest request of the log, and false when it is empty.
func (l *RequestLog) Slowest() (LoggedRequest, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.settle()
	var s LoggedRequest
	for _, r := range l.reqs {
		if r.Took > s.Took {
			s = r
		}
	}
	return s, len(l.reqs) > 0
}

// LoggingProxy puts a reverse proxy in front of target for the test's
// lifetime and logs every request through it with how long the server
// took to answer it. It times requests at the server's door, so it does
// not depend on the client's own reporting; the proxy's own cost on
// loopback is well under a millisecond.
func LoggingProxy(t testing.TB, target string) (string, *RequestLog) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	// a request the client gave up on is logged with its 502; the
	// proxy's own line about it would only repeat that
	proxy.ErrorLog = stdlog.New(io.Discard, "", 0)
	// pass every byte on as it comes, so the client sees the server's pace
	proxy.FlushInterval = -1
	rl := &RequestLog{}
	rl.settled = sync.NewCond(&rl.mu)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rl.mu.Lock()
		rl.inFlight++
		rl.mu.Unlock()
		// read the form from a copy of the body: the proxy still sends it on
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form := r.URL.Query()
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			if pf, err := url.ParseQuery(string(body)); err == nil {
				for k, v := range pf {
					form[k] = append(form[k], v...)
				}
			}
		}
		q := form.Get("query")
		if q == "" {
			q = form.Get("q")
		}
		rec := &recordingWriter{ResponseWriter: w, code: http.StatusOK}
		// deferred: the proxy panics with http.ErrAbortHandler when the
		// client leaves in the middle of an answer, and the request must
		// still leave the in-flight count
		defer func() {
			rl.mu.Lock()
			rl.reqs = append(rl.reqs, LoggedRequest{Path: r.URL.Path, Query: q, Form: form, Took: time.Since(start), Code: rec.code, Bytes: rec.n})
			rl.inFlight--
			rl.settled.Broadcast()
			rl.mu.Unlock()
		}()
		proxy.ServeHTTP(rec, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rl
}

type recordingWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (r *recordingWriter) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets the proxy flush through to the connection.
func (r *recordingWriter) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.ResponseWriter.Write(p)
	r.n += int64(n)
	return n, err
}

// BuildOncall builds the oncall binary into the test's temporary
// directory and returns its path, so a test can time and measure the
// command as users run it, in its own process.
func BuildOncall(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "oncall")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/oncall")
	cmd.Dir = RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/oncall: %v\n%s", err, out)
	}
	return bin
}
