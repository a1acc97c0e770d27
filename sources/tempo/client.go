package tempo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oncall-cockpit/oncall/internal/httpcall"
	"github.com/oncall-cockpit/oncall/sources"
)

const backend = "tempo"

// serviceAttr is the OpenTelemetry resource attribute naming a service.
const serviceAttr = "resource.service.name"

// Client talks to one Tempo server.
type Client struct {
	base *url.URL
	hc   *http.Client
	// v2 remembers whether /api/v2/traces exists: 0 unknown, 1 yes, -1 no.
	v2 atomic.Int32
	// Now is the clock; tests replace it.
	Now func() time.Time
}

var (
	_ sources.Traces = (*Client)(nil)
	_ sources.Doctor = (*Client)(nil)
)

// New returns a client for the Tempo at baseURL.
func New(baseURL string, hc *http.Client) (*Client, error) {
	u, err := httpcall.ParseBaseURL(backend, baseURL)
	if err != nil {
		return nil, err
	}
	return &Client{base: u, hc: hc, Now: time.Now}, nil
}

func (c *Client) get(ctx context.Context, op, path string, q url.Values, accept string) ([]byte, http.Header, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	var h http.Header
	if accept != "" {
		h = http.Header{"Accept": {accept}}
	}
	return httpcall.Do(ctx, c.hc, backend, op, http.MethodGet, u.String(), nil, h)
}

// Trace fetches one trace by ID. It asks the v2 endpoint first and
// remembers when the server lacks it (a bare router 404), then falls back to
// /api/traces. Both are asked for protobuf; a JSON answer is read as JSON.
func (c *Client) Trace(ctx context.Context, traceID string) (sources.Trace, error) {
	id, err := sources.NormalizeTraceID(traceID)
	if err != nil {
		return sources.Trace{}, &sources.BackendError{Backend: backend, Op: "trace " + traceID, Err: err}
	}
	op := "trace " + id
	if c.v2.Load() >= 0 {
		body, hdr, err := c.get(ctx, op, "/api/v2/traces/"+id, nil, "application/protobuf")
		switch {
		case err == nil:
			c.v2.Store(1)
			return decodeTraceAnswer(op, body, hdr, DecodeTraceV2Proto, DecodeTraceV2JSON)
		case c.v2.Load() == 0 && routeMissing(err):
			c.v2.Store(-1)
		default:
			return sources.Trace{}, err
		}
	}
	body, hdr, err := c.get(ctx, op, "/api/traces/"+id, nil, "application/protobuf")
	if err != nil {
		return sources.Trace{}, err
	}
	return decodeTraceAnswer(op, body, hdr, DecodeTraceProto, DecodeTraceJSON)
}

// routeMissing tells a server without the endpoint (Go's "404 page not
// found") from a trace that does not exist (404 with an empty body).
func routeMissing(err error) bool {
	var be *sources.BackendError
	return errors.As(err, &be) && be.Status == http.StatusNotFound && strings.Contains(be.Body, "page not found")
}

func decodeTraceAnswer(op string, body []byte, hdr http.Header, pb, js func([]byte) (sources.Trace, error)) (sources.Trace, error) {
	decode := pb
	if strings.Contains(hdr.Get("Content-Type"), "json") || bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		decode = js
	}
	t, err := decode(body)
	if err != nil {
		return sources.Trace{}, &sources.BackendError{Backend: backend, Op: op, Err: err}
	}
	return t, nil
}

// TraceQL returns the TraceQL query for a search.
func TraceQL(q sources.TraceSearch) string {
	var conds []string
	if len(q.Services) > 0 {
		alts := make([]string, len(q.Services))
		for i, s := range q.Services {
			alts[i] = serviceAttr + " = " + strconv.Quote(s)
		}
		c := strings.Join(alts, " || ")
		if len(alts) > 1 && (q.ErrorsOnly || q.MinDuration > 0) {
			c = "(" + c + ")"
		}
		conds = append(conds, c)
	}
	if q.ErrorsOnly {
		conds = append(conds, "status = error")
	}
	if q.MinDuration > 0 {
		conds = append(conds, "duration > "+q.MinDuration.String())
	}
	q1 := "{}"
	if len(conds) > 0 {
		q1 = "{ " + strings.Join(conds, " && ") + " }"
	}
	if q.SpansPerTrace <= 0 {
		return q1
	}
	if q.WithCalls {
		// A && B keeps only the traces where both match and returns the
		// spans of both, so it alone would drop a trace that failed
		// without a call (a handler's own error, a database's server
		// span); A || (A && B) keeps every trace A matches, with its calls
		// when it has A. Checked against Tempo's parser and evaluator.
		q1 += " || (" + q1 + " && { kind = client })"
	}
	return q1 + " | select(" + strings.Join(spanFields, ", ") + ")"
}

// spanFields is what a search selects of each matched span, beyond its
// ID, start and duration: enough to find where a failure started and
// which calls were retries, as a fetched trace would tell.
var spanFields = []string{serviceAttr, "name", "kind", "status", "statusMessage", "span:parentID",
	"span." + peerAttr, "span." + resendAttr}

// Span attributes a search selects.
const (
	peerAttr   = "peer.service"              // the callee a client span names
	resendAttr = "http.request.resend_count" // set on the retries of a call
)

// SearchTraces runs a TraceQL search.
func (c *Client) SearchTraces(ctx context.Context, q sources.TraceSearch) ([]sources.TraceSummary, error) {
	traceql := TraceQL(q)
	p := url.Values{"q": {traceql}}
	if !q.Range.Start.IsZero() {
		p.Set("start", strconv.FormatInt(q.Range.Start.Unix(), 10))
		p.Set("end", strconv.FormatInt(q.Range.End.Unix(), 10))
	}
	if q.Limit > 0 {
		p.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.SpansPerTrace > 0 {
		p.Set("spss", strconv.Itoa(q.SpansPerTrace))
	}
	op := "search " + traceql
	body, _, err := c.get(ctx, op, "/api/search", p, "")
	if err != nil {
		return nil, err
	}
	out, err := DecodeSearch(body)
	if err != nil {
		return nil, &sources.BackendError{Backend: backend, Op: op, Err: err}
	}
	return out, nil
}

// Tags returns the tag names per scope ("resource", "span", ...).
func (c *Client) Tags(ctx context.Context, scope string) (map[string][]string, error) {
	op := "search tags"
	body, _, err := c.get(ctx, op, "/api/v2/search/tags", url.Values{"scope": {scope}}, "")
	if err != nil {
		return nil, err
	}
	var r struct {
		Scopes []struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		} `json:"scopes"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &sources.BackendError{Backend: backend, Op: op, Err: fmt.Errorf("decoding: %w", err)}
	}
	out := map[string][]string{}
	for _, s := range r.Scopes {
		out[s.Name] = s.Tags
	}
	return out, nil
}

// TagValues returns the values of a scoped tag such as resource.service.name.
func (c *Client) TagValues(ctx context.Context, tag string) ([]string, error) {
	op := "tag values " + tag
	body, _, err := c.get(ctx, op, "/api/v2/search/tag/"+url.PathEscape(tag)+"/values", nil, "")
	if err != nil {
		return nil, err
	}
	var r struct {
		TagValues []struct {
			Value string `json:"value"`
		} `json:"tagValues"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &sources.BackendError{Backend: backend, Op: op, Err: fmt.Errorf("decoding: %w", err)}
	}
	out := make([]string, len(r.TagValues))
	for i, v := range r.TagValues {
		out[i] = v.Value
	}
	slices.Sort(out)
	return out, nil
}

// BuildInfo returns Tempo's version.
func (c *Client) BuildInfo(ctx context.Context) (sources.BuildInfo, error) {
	body, _, err := c.get(ctx, "buildinfo", "/api/status/buildinfo", nil, "")
	if err != nil {
		return sources.BuildInfo{}, err
	}
	return httpcall.ParseBuildInfo(backend, body)
}

// Doctor checks reachability, auth and tenant, version, the service.name
// resource tag, and that a recent trace can be found and fetched.
func (c *Client) Doctor(ctx context.Context) []sources.Check {
	tags, err := c.Tags(ctx, "resource")
	checks := sources.AccessCheck(err)
	if err != nil {
		return checks
	}
	b, err := c.BuildInfo(ctx)
	checks = append(checks, sources.VersionCheck(b.Version, err))
	if !slices.Contains(tags["resource"], "service.name") {
		return append(checks, sources.Check{Name: "service.name", Status: sources.CheckFail,
			Detail: fmt.Sprintf("resource tag service.name not found (resource tags: %v)", tags["resource"])})
	}
	services, err := c.TagValues(ctx, serviceAttr)
	if err != nil {
		return append(checks, sources.Check{Name: "service.name", Status: sources.CheckFail, Detail: err.Error(), Err: err})
	}
	checks = append(checks, sources.Check{Name: "service.name", Status: sources.CheckOK, Detail: fmt.Sprintf("%d services", len(services))})
	now := c.Now()
	hits, err := c.SearchTraces(ctx, sources.TraceSearch{Range: sources.TimeRange{Start: now.Add(-time.Hour), End: now}, Limit: 1})
	switch {
	case err != nil:
		checks = append(checks, sources.Check{Name: "traces", Status: sources.CheckFail, Detail: err.Error(), Err: err})
	case len(hits) == 0:
		checks = append(checks, sources.Check{Name: "traces", Status: sources.CheckWarn, Detail: "no trace in the last hour"})
	default:
		if _, err := c.Trace(ctx, hits[0].TraceID); err != nil {
			checks = append(checks, sources.Check{Name: "traces", Status: sources.CheckFail, Detail: err.Error(), Err: err})
		} else {
			checks = append(checks, sources.Check{Name: "traces", Status: sources.CheckOK, Detail: "found and fetched trace " + hits[0].TraceID})
		}
	}
	return checks
}
