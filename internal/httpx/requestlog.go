package httpx

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// RequestLog writes one line per request a backend client sends, when the
// request ends, as kubectl's -v=6 does. The line is
//
//	oncall: http BACKEND METHOD PATH STATUS DURATION SIZE [error="…"] [NAME=VALUE…]
//
// STATUS is the HTTP status, or ERR when no response came; DURATION is
// whole milliseconds ("51ms") from sending the request to the end of its
// body; SIZE is the bytes the body delivered ("12345B"). Every field before
// the detail is one space-free token; ParseRequestLine reads them. The
// detail is for people: the parameters of the URL query and of a POST form,
// decoded, with the query text (query, match[], q) last.
//
// A line never holds a header, the URL's host or userinfo, a parameter
// whose name looks like a secret, or any of the client's credentials; the
// text from backends in it passes through termsafe.
type RequestLog struct {
	W   io.Writer        // receives the lines: stderr under -v
	Now func() time.Time // default time.Now; tests pin it

	mu sync.Mutex // one Write per line, so concurrent lines never interleave
}

// requestLinePrefix starts every line, so that `grep '^oncall: http '`
// finds them among the command's other messages.
const requestLinePrefix = "oncall: http "

// minScrubbedSecret is the shortest credential scrubbed from a line by its
// value: a shorter one (a header "1") would blank ordinary text, and the
// line never holds headers anyway; scrubbing is the second guard.
const minScrubbedSecret = 4

// queryTextParams are the parameters that carry PromQL, LogQL or TraceQL,
// written last and in this order because they are long and hold spaces.
var queryTextParams = []string{"query", "match[]", "q"}

// secretParamWords mark a parameter whose value is written as <redacted>:
// words in the names APIs give credentials (api_key, access_token,
// X-Auth-Token, signature). A harmless parameter they catch loses only its value
// in the log.
var secretParamWords = []string{"token", "password", "passwd", "pwd", "secret", "key", "auth", "credential", "signature", "session", "cookie"}

func (l *RequestLog) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *RequestLog) write(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.W, line) // a log that cannot be written must not fail the request
}

// transport logs every request next sends for backend; secrets are the
// client's credentials, scrubbed from each line by value.
func (l *RequestLog) transport(backend string, scrub *strings.Replacer, next http.RoundTripper) http.RoundTripper {
	return &loggingTransport{log: l, backend: backend, scrub: scrub, next: next}
}

// scrubber replaces each of secrets with <redacted>, in the forms text
// may hold it: decoded (parameters, errors, a body) or escaped (a path).
func scrubber(secrets []string) *strings.Replacer {
	var scrub []string
	for _, s := range secrets {
		if len(s) < minScrubbedSecret {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			scrub = append(scrub, form, "<redacted>")
		}
	}
	return strings.NewReplacer(scrub...)
}

// loggingTransport sits on the wire, beneath retries: each attempt is a
// request of its own, with its own line.
type loggingTransport struct {
	log     *RequestLog
	backend string
	scrub   *strings.Replacer
	next    http.RoundTripper
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	params := requestParams(req)
	start := t.log.now()
	end := func(status int, size int64, err error) {
		t.log.write(t.line(req, params, status, t.log.now().Sub(start), size, err))
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		end(0, 0, err)
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// A WebSocket (logs -f): its body is the connection, which the
		// caller needs as it is; the line says that it connected.
		end(resp.StatusCode, 0, nil)
		return resp, nil
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, end: end, status: resp.StatusCode}
	return resp, nil
}

func (t *loggingTransport) line(req *http.Request, params url.Values, status int, d time.Duration, size int64, err error) string {
	var b strings.Builder
	code := "ERR"
	if status != 0 {
		code = strconv.Itoa(status)
	}
	// EscapedPath has no spaces, so the path stays one token.
	fmt.Fprintf(&b, "%s%s %s %s %s %dms %dB", requestLinePrefix, termsafe.Line(t.backend), req.Method,
		termsafe.Line(req.URL.EscapedPath()), code, d.Round(time.Millisecond).Milliseconds(), size)
	if err != nil {
		// scrubbed before quoting, which would escape a secret's quotes
		b.WriteString(" error=" + strconv.Quote(t.scrub.Replace(termsafe.Line(err.Error()))))
	}
	writeParams(&b, params)
	return t.scrub.Replace(b.String()) + "\n"
}

// requestParams are the URL query's parameters and, for a form POST whose
// body can be read again (every client here builds its request so), the
// form's.
func requestParams(req *http.Request) url.Values {
	v := req.URL.Query()
	ct := req.Header.Get("Content-Type")
	if req.GetBody == nil || !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return v
	}
	body, err := req.GetBody()
	if err != nil {
		return v
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		return v
	}
	form, _ := url.ParseQuery(string(raw)) // what parses is still worth showing
	for k, vs := range form {
		v[k] = append(v[k], vs...)
	}
	return v
}

// writeParams writes each parameter as " name=value", the query text last.
func writeParams(b *strings.Builder, v url.Values) {
	names := make([]string, 0, len(v))
	for k := range v {
		if !slices.Contains(queryTextParams, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range queryTextParams {
		if _, ok := v[k]; ok {
			names = append(names, k)
		}
	}
	for _, k := range names {
		for _, val := range v[k] {
			if secretParam(k) {
				val = "<redacted>"
			}
			b.WriteString(" " + termsafe.Line(k) + "=" + termsafe.Line(val))
		}
	}
}

func secretParam(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretParamWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// countingBody counts what the body delivers and ends the line once, at
// EOF or at Close, whichever comes first.
type countingBody struct {
	io.ReadCloser
	end    func(status int, size int64, err error)
	status int

	mu      sync.Mutex // Close may come from another goroutine than Read
	n       int64
	readErr error
	ended   bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	b.n += int64(n)
	if err != nil && err != io.EOF {
		b.readErr = err
	}
	b.mu.Unlock()
	if err == io.EOF {
		b.finish()
	}
	return n, err
}

func (b *countingBody) Close() error {
	err := b.ReadCloser.Close()
	b.finish()
	return err
}

func (b *countingBody) finish() {
	b.mu.Lock()
	if b.ended {
		b.mu.Unlock()
		return
	}
	b.ended = true
	n, err := b.n, b.readErr
	b.mu.Unlock()
	b.end(b.status, n, err)
}

// RequestLine is one line of a RequestLog, read back: the benchmarks find
// a run's slowest request with it.
type RequestLine struct {
	Backend, Method, Path string
	Status                int // 0 when no response came (ERR)
	Duration              time.Duration
	Bytes                 int64
	Detail                string // the error and the parameters, for people
}

// ParseRequestLine reads a line a RequestLog wrote, with or without its
// newline; ok is false for any other line.
func ParseRequestLine(s string) (RequestLine, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(s, "\n"), requestLinePrefix)
	if !ok {
		return RequestLine{}, false
	}
	f := strings.SplitN(rest, " ", 7)
	if len(f) < 6 {
		return RequestLine{}, false
	}
	r := RequestLine{Backend: f[0], Method: f[1], Path: f[2]}
	if f[3] != "ERR" {
		if r.Status, ok = atoi(f[3]); !ok {
			return RequestLine{}, false
		}
	}
	ms, ok1 := strings.CutSuffix(f[4], "ms")
	size, ok2 := strings.CutSuffix(f[5], "B")
	n, ok3 := atoi(ms)
	bytes, err := strconv.ParseInt(size, 10, 64)
	if !ok1 || !ok2 || !ok3 || err != nil {
		return RequestLine{}, false
	}
	r.Duration, r.Bytes = time.Duration(n)*time.Millisecond, bytes
	if len(f) == 7 {
		r.Detail = f[6]
	}
	return r, true
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}
