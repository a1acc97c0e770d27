package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oncall-cockpit/oncall/internal/httpcall"
	"github.com/oncall-cockpit/oncall/sources"
)

const backend = "loki"

// Client talks to one Loki server.
type Client struct {
	base *url.URL
	hc   *http.Client
	conv sources.Conventions
	dec  Decoder
	// Now is the clock; tests replace it.
	Now func() time.Time
	// TailBackoffMin and TailBackoffMax bound the wait between tail reconnects.
	TailBackoffMin, TailBackoffMax time.Duration
}

var (
	_ sources.Logs   = (*Client)(nil)
	_ sources.Doctor = (*Client)(nil)
)

// New returns a client for the Loki at baseURL. hc carries auth, tenant,
// timeouts and retries.
func New(baseURL string, hc *http.Client, conv sources.Conventions) (*Client, error) {
	u, err := httpcall.ParseBaseURL(backend, baseURL)
	if err != nil {
		return nil, err
	}
	dec, err := NewDecoder(conv)
	if err != nil {
		return nil, fmt.Errorf("loki conventions: %w", err)
	}
	return &Client{base: u, hc: hc, conv: conv, dec: dec, Now: time.Now,
		TailBackoffMin: 500 * time.Millisecond, TailBackoffMax: 10 * time.Second}, nil
}

func (c *Client) endpoint(path string, q url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *Client) get(ctx context.Context, op, path string, q url.Values) ([]byte, error) {
	b, _, err := httpcall.Do(ctx, c.hc, backend, op, http.MethodGet, c.endpoint(path, q), nil, nil)
	return b, err
}

// logqlString quotes s as a LogQL double-quoted string.
func logqlString(s string) string { return strconv.Quote(s) }

// Selector is the LogQL stream selector for q's services.
func (c *Client) Selector(q sources.LogQuery) string {
	var m []string
	if len(q.Services) == 0 {
		m = append(m, c.conv.ServiceLabel.Loki+`=~".+"`)
	} else {
		quoted := make([]string, len(q.Services))
		for i, s := range q.Services {
			quoted[i] = regexp.QuoteMeta(s)
		}
		m = append(m, c.conv.ServiceLabel.Loki+"=~"+logqlString(strings.Join(quoted, "|")))
	}
	if c.conv.LokiSelector != "" {
		m = append(m, c.conv.LokiSelector)
	}
	return "{" + strings.Join(m, ", ") + "}"
}

// LogQL is the query Logs runs for q (by line content, for a trace ID).
func (c *Client) LogQL(q sources.LogQuery) string { return c.Selector(q) + c.pipeline(q, false) }

// pipeline is the LogQL after the selector: line, level and trace filters.
// byLabel selects the trace ID by structured metadata instead of line content.
func (c *Client) pipeline(q sources.LogQuery, byLabel bool) string {
	var b strings.Builder
	if q.Grep != "" {
		// a line filter first: it is the cheapest stage of a pipeline
		fmt.Fprintf(&b, " |~ %s", logqlString(q.Grep))
	}
	if len(q.Levels) > 0 {
		quoted := make([]string, len(q.Levels))
		for i, l := range q.Levels {
			quoted[i] = regexp.QuoteMeta(l)
		}
		fmt.Fprintf(&b, " | %s=~%s", c.conv.LevelLabel, logqlString(strings.Join(quoted, "|")))
	}
	if q.TraceID != "" {
		if byLabel {
			fmt.Fprintf(&b, " | %s=%s", c.dec.ids.Label(), logqlString(q.TraceID))
		} else {
			fmt.Fprintf(&b, " |= %s", logqlString(q.TraceID))
		}
	}
	return b.String()
}

func (c *Client) rangeParams(query string, r sources.TimeRange) url.Values {
	now := c.Now()
	if r.End.IsZero() {
		r.End = now
	}
	if r.Start.IsZero() {
		r.Start = r.End.Add(-time.Hour)
	}
	return url.Values{"query": {query},
		"start": {strconv.FormatInt(r.Start.UnixNano(), 10)}, "end": {strconv.FormatInt(r.End.UnixNano(), 10)}}
}

// Logs returns matching lines. A trace-ID query asks twice, by the
// structured-metadata label and by line content, and merges the answers:
// either one alone misses lines, and missing logs are what people complain
// about most in trace-to-logs.
func (c *Client) Logs(ctx context.Context, q sources.LogQuery) ([]sources.LogLine, error) {
	if q.TraceID != "" {
		id, err := sources.NormalizeTraceID(q.TraceID)
		if err != nil {
			return nil, fmt.Errorf("loki logs: %w", err)
		}
		q.TraceID = id
	}
	variants := []bool{false}
	if q.TraceID != "" && c.dec.ids.Label() != "" {
		variants = []bool{true, false}
	}
	results := make([][]sources.LogLine, len(variants))
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, byLabel := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.queryLines(ctx, c.Selector(q)+c.pipeline(q, byLabel), q)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	lines := mergeLines(results...)
	sortLines(lines, q.Forward)
	if q.Limit > 0 && len(lines) > q.Limit {
		lines = lines[:q.Limit]
	}
	return lines, nil
}

func (c *Client) queryLines(ctx context.Context, logql string, q sources.LogQuery) ([]sources.LogLine, error) {
	p := c.rangeParams(logql, q.Range)
	if q.Limit > 0 {
		p.Set("limit", strconv.Itoa(q.Limit))
	}
	p.Set("direction", "backward")
	if q.Forward {
		p.Set("direction", "forward")
	}
	op := "query_range " + logql
	body, err := c.get(ctx, op, "/loki/api/v1/query_range", p)
	if err != nil {
		return nil, err
	}
	lines, err := c.dec.Streams(body)
	if err != nil {
		return nil, &sources.BackendError{Backend: backend, Op: op, Err: err}
	}
	return lines, nil
}

// mergeLines concatenates answers, dropping lines that appear in more than one.
func mergeLines(sets ...[]sources.LogLine) []sources.LogLine {
	if len(sets) == 1 {
		return sets[0]
	}
	type key struct {
		t       int64
		service string
		line    string
	}
	seen := map[key]bool{}
	var out []sources.LogLine
	for _, set := range sets {
		for _, l := range set {
			k := key{l.T.UnixNano(), l.Service, l.Line}
			if !seen[k] {
				seen[k] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// LogRate counts matching lines per service per step.
func (c *Client) LogRate(ctx context.Context, q sources.LogQuery, step time.Duration) ([]sources.Series, error) {
	stepStr := strconv.FormatInt(int64(max(step, time.Second)/time.Second), 10) + "s"
	logql := fmt.Sprintf("sum by (%s) (count_over_time(%s%s [%s]))", c.conv.ServiceLabel.Loki, c.Selector(q), c.pipeline(q, false), stepStr)
	p := c.rangeParams(logql, q.Range)
	p.Set("step", stepStr)
	op := "query_range " + logql
	body, err := c.get(ctx, op, "/loki/api/v1/query_range", p)
	if err != nil {
		return nil, err
	}
	series, err := c.dec.Matrix(body, logql)
	if err != nil {
		return nil, &sources.BackendError{Backend: backend, Op: op, Err: err}
	}
	return series, nil
}

// Labels returns the label names seen over r.
func (c *Client) Labels(ctx context.Context, r sources.TimeRange) ([]string, error) {
	return c.stringList(ctx, "labels", "/loki/api/v1/labels", r)
}

// LabelValues returns the values of one label over r.
func (c *Client) LabelValues(ctx context.Context, name string, r sources.TimeRange) ([]string, error) {
	return c.stringList(ctx, "label_values "+name, "/loki/api/v1/label/"+url.PathEscape(name)+"/values", r)
}

func (c *Client) stringList(ctx context.Context, op, path string, r sources.TimeRange) ([]string, error) {
	p := c.rangeParams("", r)
	p.Del("query")
	body, err := c.get(ctx, op, path, p)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, &sources.BackendError{Backend: backend, Op: op, Err: fmt.Errorf("decoding: %w", err)}
	}
	sort.Strings(resp.Data)
	return resp.Data, nil
}

// BuildInfo returns Loki's version.
func (c *Client) BuildInfo(ctx context.Context) (sources.BuildInfo, error) {
	body, err := c.get(ctx, "buildinfo", "/loki/api/v1/status/buildinfo", nil)
	if err != nil {
		return sources.BuildInfo{}, err
	}
	return httpcall.ParseBuildInfo(backend, body)
}
