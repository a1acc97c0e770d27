package grafana

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/httpcall"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

const backend = "grafana"

// DefaultServiceTag is the tag key that names an annotation's service
// when the config names none: service:checkout or service=checkout.
const DefaultServiceTag = "service"

// DefaultLimit is how many annotations one request reads when the config
// says nothing: Grafana's own default, 100, drops deploys on a busy day.
const DefaultLimit = 500

// Options say which annotations are changes and where their service is.
type Options struct {
	// Tags keeps only the annotations carrying all of them.
	Tags []string
	// ServiceTag is the tag key naming the service; default DefaultServiceTag.
	ServiceTag string
	// Limit bounds the annotations one request reads; default DefaultLimit.
	Limit int
	// Now is the clock doctor's week ends at; default time.Now.
	Now func() time.Time
}

// Client reads one Grafana's annotations.
type Client struct {
	base *url.URL
	hc   *http.Client
	o    Options
}

var (
	_ sources.Changes = (*Client)(nil)
	_ sources.Doctor  = (*Client)(nil)
)

// New returns a client for the Grafana at baseURL; hc carries the token.
func New(baseURL string, hc *http.Client, o Options) (*Client, error) {
	u, err := httpcall.ParseBaseURL(backend, baseURL)
	if err != nil {
		return nil, err
	}
	if o.ServiceTag == "" {
		o.ServiceTag = DefaultServiceTag
	}
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{base: u, hc: hc, o: o}, nil
}

// annotation is one element of GET /api/annotations.
type annotation struct {
	ID int64 `json:"id"`
	// Time is in Unix milliseconds, read as a float so that one absurd
	// time (9e+18) is an annotation dropped, not the whole answer lost
	Time float64  `json:"time"`
	Text string   `json:"text"`
	Tags []string `json:"tags"`
}

// annotations asks for the annotations over r (not alerts' state changes),
// dashboard ones and organisation-wide ones alike.
func (c *Client) annotations(ctx context.Context, r sources.TimeRange, limit int) ([]annotation, error) {
	q := url.Values{"type": {"annotation"}, "limit": {strconv.Itoa(limit)},
		"from": {strconv.FormatInt(r.Start.UnixMilli(), 10)}, "to": {strconv.FormatInt(r.End.UnixMilli(), 10)}}
	if len(c.o.Tags) > 0 {
		q["tags"] = c.o.Tags
	}
	u := *c.base
	u.Path += "/api/annotations"
	u.RawQuery = q.Encode()
	op := "annotations"
	body, _, err := httpcall.Do(ctx, c.hc, backend, op, http.MethodGet, u.String(), nil, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	var as []annotation
	if err := json.Unmarshal(body, &as); err != nil {
		return nil, &sources.BackendError{Backend: backend, Op: op, Err: fmt.Errorf("decoding: %w", err)}
	}
	// a server (or a proxy) that ignores what was asked does not get to
	// flood the timeline with more, nor with another range's annotations
	as = slices.DeleteFunc(as, func(a annotation) bool {
		return !(a.Time >= float64(r.Start.UnixMilli()) && a.Time <= float64(r.End.UnixMilli())) // NaN too
	})
	return as[:min(len(as), limit)], nil
}

// Changes reads the annotations over r as changes, one per service an
// annotation's tags name, at most Limit annotations and only those in r
// whatever the server answered, folded per service and kind
// (sources.FoldChanges). An annotation that names no service is skipped:
// a change is evidence against the service it names, and one that names
// none would point at every service or at none.
func (c *Client) Changes(ctx context.Context, r sources.TimeRange) ([]sources.Change, error) {
	as, err := c.annotations(ctx, r, c.o.Limit)
	if err != nil {
		return nil, err
	}
	var out []sources.Change
	for _, a := range as {
		out = append(out, c.changes(a)...)
	}
	return sources.FoldChanges(out), nil
}

// changes maps one annotation to its changes.
func (c *Client) changes(a annotation) []sources.Change {
	var services []string
	kind, version := sources.ChangeConfig, ""
	for _, tag := range a.Tags {
		if v, ok := tagValue(tag, c.o.ServiceTag); ok {
			services = append(services, v)
			continue
		}
		if v, ok := tagValue(tag, "version"); ok {
			version = v
			continue
		}
		if k, ok := tagKinds[strings.ToLower(strings.TrimSpace(tag))]; ok && kindRank[k] > kindRank[kind] {
			kind = k
		}
	}
	detail := sources.CapText(termsafe.Line(strings.TrimSpace(a.Text)), sources.MaxChangeText)
	version = sources.CapText(version, sources.MaxVersionText)
	out := make([]sources.Change, 0, len(services))
	for _, s := range services {
		out = append(out, sources.Change{T: time.UnixMilli(int64(a.Time)).UTC(), Service: s, Kind: kind, Version: version,
			Detail: detail, Source: fmt.Sprintf("grafana annotation %d", a.ID)})
	}
	return out
}

// tagKinds maps the tags pipelines put on their annotations to a kind of
// change; an annotation with none of them is a config change.
var tagKinds = map[string]sources.ChangeKind{
	"deploy": sources.ChangeDeploy, "deployment": sources.ChangeDeploy, "release": sources.ChangeDeploy,
	"rollback": sources.ChangeRollback,
	"restart":  sources.ChangeRestart,
	"scale":    sources.ChangeScale, "scaling": sources.ChangeScale,
}

// kindRank settles an annotation tagged with two kinds: "deploy" and
// "rollback" together is a rollback, the more specific.
var kindRank = map[sources.ChangeKind]int{sources.ChangeConfig: 0, sources.ChangeScale: 1, sources.ChangeRestart: 2,
	sources.ChangeDeploy: 3, sources.ChangeRollback: 4}

// tagValue reads a key:value or key=value tag, the key matched without
// regard to case; the value is made safe to print.
func tagValue(tag, key string) (string, bool) {
	if len(tag) <= len(key) || !strings.EqualFold(tag[:len(key)], key) || (tag[len(key)] != ':' && tag[len(key)] != '=') {
		return "", false
	}
	v := strings.TrimSpace(termsafe.Line(tag[len(key)+1:]))
	return v, v != ""
}

// health is GET /api/health: no token needed, and the version.
type health struct {
	Version string `json:"version"`
}

// doctorSpan is how far back doctor looks for annotations: a week holds a
// team's deploys, if it posts them.
const doctorSpan = 7 * 24 * time.Hour

// Doctor checks that the annotations API answers with the token, and says
// how many of the last doctorSpan's annotations are changes of a service,
// of the first Limit read.
func (c *Client) Doctor(ctx context.Context) []sources.Check {
	now := c.o.Now()
	as, err := c.annotations(ctx, sources.TimeRange{Start: now.Add(-doctorSpan), End: now}, c.o.Limit)
	checks := sources.AccessCheck(err)
	if err != nil {
		return checks
	}
	checks = append(checks, sources.VersionCheck(c.version(ctx)))
	named := 0
	for _, a := range as {
		if len(c.changes(a)) > 0 {
			named++
		}
	}
	count := strconv.Itoa(len(as))
	if len(as) >= c.o.Limit {
		count = fmt.Sprintf("at least %d (the limit one request reads)", len(as))
	}
	ck := sources.Check{Name: "annotations", Status: sources.CheckOK,
		Detail: fmt.Sprintf("%s in the last %d days, %d name a service with a %s: tag", count, doctorSpan/(24*time.Hour), named, c.o.ServiceTag)}
	if named == 0 {
		ck.Status = sources.CheckWarn
		ck.Detail += fmt.Sprintf("; tag deploy annotations %s:<name> for the incident to read them", c.o.ServiceTag)
	}
	return append(checks, ck)
}

// version reads Grafana's version from its health endpoint.
func (c *Client) version(ctx context.Context) (string, error) {
	u := *c.base
	u.Path += "/api/health"
	body, _, err := httpcall.Do(ctx, c.hc, backend, "health", http.MethodGet, u.String(), nil, nil)
	if err != nil {
		return "", err
	}
	var h health
	if err := json.Unmarshal(body, &h); err != nil {
		return "", &sources.BackendError{Backend: backend, Op: "health", Err: fmt.Errorf("decoding: %w", err)}
	}
	return termsafe.Line(h.Version), nil
}
