package sources

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// What the hand-written backends (loki, tempo, alertmanager) share beyond
// their requests: reading the base URL they are given, and the buildinfo
// answer that Loki and Tempo copy from Prometheus.

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
// decode is a *BackendError naming backend and the buildinfo request.
func ParseBuildInfo(backend string, body []byte) (BuildInfo, error) {
	var b BuildInfo
	if err := json.Unmarshal(body, &b); err != nil {
		return BuildInfo{}, &BackendError{Backend: backend, Op: "buildinfo", Err: fmt.Errorf("decoding: %w", err)}
	}
	return b, nil
}
