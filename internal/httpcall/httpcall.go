// Package httpcall is what the hand-written backends (loki, tempo,
// alertmanager) share of HTTP: Do sends a request and turns anything but
// a bounded 2xx answer into a *sources.BackendError that names the
// backend and the operation, never the credentials; ParseBaseURL reads
// the base URL a backend is given; ParseBuildInfo reads the buildinfo
// answer Loki and Tempo copy from Prometheus.
//
// It sits beside internal/httpx, which builds the client it is given; it
// imports only sources, for the error type.
package httpcall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/oncall-cockpit/oncall/sources"
)

// MaxResponseBytes bounds what a backend client reads from one response, so
// a runaway query cannot exhaust memory.
const MaxResponseBytes = 64 << 20

// Do sends a request to rawURL with hc and returns the body of a 2xx
// response. Anything else comes back as a *sources.BackendError naming
// backend and op.
func Do(ctx context.Context, hc *http.Client, backend, op, method, rawURL string, body io.Reader, header http.Header) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, nil, &sources.BackendError{Backend: backend, Op: op, Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	shown := method + " " + redactURL(req.URL)
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in the BackendError
		}
		return nil, nil, &sources.BackendError{Backend: backend, Op: op, URL: shown, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, nil, &sources.BackendError{Backend: backend, Op: op, URL: shown, Status: resp.StatusCode, Err: fmt.Errorf("reading body: %w", err)}
	}
	if len(b) > MaxResponseBytes {
		return nil, nil, &sources.BackendError{Backend: backend, Op: op, URL: shown, Status: resp.StatusCode, Err: fmt.Errorf("response larger than %d MiB; narrow the query", MaxResponseBytes>>20)}
	}
	if resp.StatusCode/100 != 2 {
		be := &sources.BackendError{Backend: backend, Op: op, URL: shown, Status: resp.StatusCode, Body: string(b)}
		if resp.StatusCode == http.StatusNotFound {
			be.Err = sources.ErrNotFound
		}
		return nil, nil, be
	}
	return b, resp.Header, nil
}

// redactURL drops user info from a URL so credentials never reach a message.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// ParseBaseURL reads a backend's base URL, http(s)://host[:port][/prefix],
// without its trailing slashes; backend names it in the error.
func ParseBaseURL(backend, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%s url %q: want http(s)://host[:port][/prefix]", backend, raw)
	}
	return u, nil
}

// ParseBuildInfo reads the body of a buildinfo answer; one that does not
// decode is a *sources.BackendError naming backend and the buildinfo request.
func ParseBuildInfo(backend string, body []byte) (sources.BuildInfo, error) {
	var b sources.BuildInfo
	if err := json.Unmarshal(body, &b); err != nil {
		return sources.BuildInfo{}, &sources.BackendError{Backend: backend, Op: "buildinfo", Err: fmt.Errorf("decoding: %w", err)}
	}
	return b, nil
}
