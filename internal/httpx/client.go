package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sony/gobreaker/v2"
)

// Options configure one backend's client. Zero values take the defaults.
type Options struct {
	Backend string // names the breaker and errors

	Timeout       time.Duration // whole request, retries included; none when zero (cmd passes the datasource's)
	Retries       int           // extra attempts for idempotent requests; default 2, -1 for none
	RetryWaitMin  time.Duration // default 100ms
	RetryWaitMax  time.Duration // default 2s; also caps Retry-After
	MaxConcurrent int           // in-flight requests; default DefaultMaxConcurrent

	BreakerFailures uint32        // consecutive failures that open the breaker; default 5
	BreakerCooldown time.Duration // open time before one probe is let through; default 30s

	// IdempotentPOST marks POST requests as safe to retry. Prometheus sends
	// read-only queries as POST forms, so its client sets this.
	IdempotentPOST bool

	Username, Password string // basic auth
	BearerToken        string
	Tenant             string // sent as X-Scope-OrgID
	Headers            map[string]string

	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool

	// Base is the transport underneath; default a clone of http.DefaultTransport.
	Base http.RoundTripper

	// Log, when set, gets a line for every request sent (each retry its
	// own): the -v flag.
	Log *RequestLog
}

// DefaultMaxConcurrent is the in-flight limit of a client whose options
// set none: a datasource's max_concurrency defaults to it.
const DefaultMaxConcurrent = 8

// ErrCircuitOpen is returned without a request being sent while a backend's
// breaker is open.
var ErrCircuitOpen = errors.New("circuit breaker open: backend failed repeatedly, waiting before trying again")

// NewClient returns an *http.Client with the options applied.
func NewClient(o Options) (*http.Client, error) {
	o = withDefaults(o)
	base := o.Base
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		tlsConf, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = tlsConf
		base = t
	}
	scrub := scrubber(o.secrets())
	if o.Log != nil {
		base = o.Log.transport(o.Backend, scrub, base)
	}
	direct := &headerTransport{o: o, scrub: scrub, next: base}
	rc := &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: direct, CheckRedirect: noRedirectLoop},
		RetryWaitMin: o.RetryWaitMin,
		RetryWaitMax: o.RetryWaitMax,
		RetryMax:     max(o.Retries, 0),
		CheckRetry:   retryPolicy(o.RetryWaitMax),
		Backoff:      JitterBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	t := &resilientTransport{
		o:       o,
		direct:  direct,
		retry:   &retryablehttp.RoundTripper{Client: rc},
		slots:   make(chan struct{}, o.MaxConcurrent),
		breaker: newBreaker(o),
	}
	return &http.Client{Timeout: o.Timeout, Transport: t, CheckRedirect: noRedirectLoop}, nil
}

// secrets are the credentials the client sends, as it sends them too
// (basic auth is base64 on the wire), for scrubbing from what a backend
// echoes and from the request log.
func (o Options) secrets() []string {
	s := []string{o.Password, o.BearerToken}
	if o.Username != "" || o.Password != "" {
		s = append(s, base64.StdEncoding.EncodeToString([]byte(o.Username+":"+o.Password)))
	}
	for _, v := range o.Headers {
		s = append(s, v)
	}
	return s
}

func withDefaults(o Options) Options {
	if o.Retries == 0 {
		o.Retries = 2
	}
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin = 100 * time.Millisecond
	}
	if o.RetryWaitMax == 0 {
		o.RetryWaitMax = 2 * time.Second
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.BreakerCooldown == 0 {
		o.BreakerCooldown = 30 * time.Second
	}
	return o
}

func noRedirectLoop(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	// the credentials are added to every request the client sends, so a
	// redirect may not take them to another host, nor off TLS
	from := via[0].URL
	if req.URL.Host != from.Host || from.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("refused a redirect from %s://%s to %s://%s: the datasource's credentials go to its own host only", from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

func tlsConfig(o Options) (*tls.Config, error) {
	c := &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // the user asked for it in the config
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s tls ca_file: %w", o.Backend, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s tls ca_file %s: no PEM certificates found", o.Backend, o.CAFile)
		}
		c.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s tls client certificate: %w", o.Backend, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// headerTransport sets credentials, tenant and extra headers on a clone of
// each request, so the caller's request is never changed.
type headerTransport struct {
	o     Options
	scrub *strings.Replacer // the credentials, out of error answers
	next  http.RoundTripper
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range t.o.Headers {
		req.Header.Set(k, v)
	}
	if t.o.Tenant != "" {
		req.Header.Set("X-Scope-OrgID", t.o.Tenant)
	}
	switch {
	case t.o.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+t.o.BearerToken)
	case t.o.Username != "" || t.o.Password != "":
		req.SetBasicAuth(t.o.Username, t.o.Password)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	// an error answer's body ends up in error text, on the screen: a
	// proxy that echoes the request must not print its credentials
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	clean := t.scrub.Replace(string(body))
	resp.Body, resp.ContentLength = io.NopCloser(strings.NewReader(clean)), int64(len(clean))
	return resp, nil
}

// maxErrorAnswer bounds the error answer kept: what is shown of one is
// a few hundred bytes, and a backend must not make the client hold more.
const maxErrorAnswer = 64 << 10

// resilientTransport: concurrency limit, then breaker, then retries for
// idempotent requests. WebSocket upgrades go straight through: they are
// long-lived and their callers reconnect on their own.
type resilientTransport struct {
	o       Options
	direct  http.RoundTripper
	retry   http.RoundTripper
	slots   chan struct{}
	breaker *gobreaker.CircuitBreaker[*http.Response]
}

// errServerStatus marks a 5xx response as a failure for the breaker while
// the response itself is still handed back to the caller.
var errServerStatus = errors.New("server error status")

func (t *resilientTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Upgrade") != "" {
		return t.direct.RoundTrip(req)
	}
	select {
	case t.slots <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	resp, err := t.breaker.Execute(func() (*http.Response, error) {
		next := t.direct
		if t.idempotent(req) {
			next = t.retry
		}
		resp, err := next.RoundTrip(req)
		if err == nil && resp.StatusCode >= 500 {
			return resp, errServerStatus
		}
		return resp, err
	})
	if errors.Is(err, errServerStatus) {
		err = nil
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		err = ErrCircuitOpen
	}
	if err != nil {
		<-t.slots
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: func() { <-t.slots }}
	return resp, nil
}

func (t *resilientTransport) idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost:
		return t.o.IdempotentPOST
	}
	return false
}

func newBreaker(o Options) *gobreaker.CircuitBreaker[*http.Response] {
	return gobreaker.NewCircuitBreaker[*http.Response](gobreaker.Settings{
		Name:    o.Backend,
		Timeout: o.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= o.BreakerFailures
		},
		// The caller giving up says nothing about the backend's health.
		IsExcluded: func(err error) bool {
			return errors.Is(err, context.Canceled)
		},
	})
}

// releasingBody frees the concurrency slot once, when the body is closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// retryPolicy retries what retryablehttp's default policy does (connection
// errors, 429, 5xx but 501), except when the server asks to be left alone
// longer than maxWait: then the answer goes back to the caller at once.
func retryPolicy(maxWait time.Duration) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		retry, rerr := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
		if retry && resp != nil {
			if d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > maxWait {
				return false, nil
			}
		}
		return retry, rerr
	}
}

// JitterBackoff honours Retry-After (seconds or an HTTP date; retryPolicy
// has already declined waits longer than max)
// and otherwise waits a random time up to an exponentially growing ceiling
// ("full jitter"), so that many clients do not retry in step.
func JitterBackoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, maxWait)
		}
	}
	ceiling := minWait << min(attempt, 20)
	if ceiling <= 0 || ceiling > maxWait {
		ceiling = maxWait
	}
	return minWait + rand.N(ceiling-minWait+1)
}

// RetryAfter parses a Retry-After header value relative to now.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
