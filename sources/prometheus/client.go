package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"

	"github.com/oncall-cockpit/oncall/sources"
)

const backend = "prometheus"

// Client reads metrics, alerts and rules from one Prometheus-compatible server.
type Client struct {
	addr string
	api  v1.API
	conv sources.Conventions
	red  sources.REDQueries
}

var (
	_ sources.Metrics = (*Client)(nil)
	_ sources.Rules   = (*Client)(nil)
	_ sources.Doctor  = (*Client)(nil)
)

// New returns a client for the server at addr. hc carries auth, timeouts and
// retries; it must treat POST as idempotent, since queries are POST forms.
func New(addr string, hc *http.Client, conv sources.Conventions) (*Client, error) {
	red, err := conv.CompileRED()
	if err != nil {
		return nil, fmt.Errorf("prometheus conventions: %w", err)
	}
	c, err := api.NewClient(api.Config{Address: addr, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus url %q: %w", addr, err)
	}
	return &Client{addr: addr, api: v1.NewAPI(c), conv: conv, red: red}, nil
}

func (c *Client) fail(op string, err error) error {
	be := &sources.BackendError{Backend: backend, Op: op, URL: c.addr, Err: err}
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		be.Err = fmt.Errorf("%s: %s", apiErr.Type, apiErr.Msg)
		be.Body = apiErr.Detail
		// client_golang keeps the status only in the message: "client error: 401".
		var kind string
		if n, _ := fmt.Sscanf(apiErr.Msg, "%s error: %d", &kind, &be.Status); n == 2 {
			be.Err = fmt.Errorf("%s", apiErr.Type)
		}
	}
	return be
}

// Query runs an instant PromQL query at t and returns its series.
func (c *Client) Query(ctx context.Context, q string, t time.Time) ([]sources.Series, error) {
	v, _, _, err := c.api.Query(ctx, q, t)
	if err != nil {
		return nil, c.fail("query "+q, err)
	}
	return toSeries(v, q), nil
}

// QueryRange runs a PromQL range query and returns its series.
func (c *Client) QueryRange(ctx context.Context, q string, r sources.TimeRange, step time.Duration) ([]sources.Series, error) {
	v, _, _, err := c.api.QueryRange(ctx, q, v1.Range{Start: r.Start, End: r.End, Step: step})
	if err != nil {
		return nil, c.fail("query_range "+q, err)
	}
	return toSeries(v, q), nil
}

// toSeries converts an answer, dropping every NaN and ±Inf sample: a
// sample is a reading only when it is a number. Prometheus answers NaN
// for 0/0 (a ratio or a quantile with no traffic), and no one above the
// adapter must mistake it for a value. A series whose every sample is
// dropped stays, with no samples, so that "answered but unreadable" is
// told apart from "no such series".
func toSeries(v model.Value, q string) []sources.Series {
	var out []sources.Series
	switch m := v.(type) {
	case model.Matrix:
		for _, s := range m {
			ss := sources.Series{Labels: toLabels(s.Metric), Query: q}
			for _, p := range s.Values {
				ss.Samples = appendReading(ss.Samples, p.Timestamp, p.Value)
			}
			out = append(out, ss)
		}
	case model.Vector:
		for _, s := range m {
			out = append(out, sources.Series{Labels: toLabels(s.Metric), Query: q,
				Samples: appendReading(nil, s.Timestamp, s.Value)})
		}
	case *model.Scalar:
		out = append(out, sources.Series{Labels: sources.Labels{}, Query: q,
			Samples: appendReading(nil, m.Timestamp, m.Value)})
	}
	return out
}

// appendReading appends the sample when its value is finite.
func appendReading(samples []sources.Sample, t model.Time, v model.SampleValue) []sources.Sample {
	if f := float64(v); !math.IsNaN(f) && !math.IsInf(f, 0) {
		samples = append(samples, sources.Sample{T: t.Time(), V: f})
	}
	return samples
}

func toLabels[T ~map[model.LabelName]model.LabelValue](m T) sources.Labels {
	l := make(sources.Labels, len(m))
	for k, v := range m {
		l[string(k)] = string(v)
	}
	return l
}

// serviceRegex is a PromQL string body matching exactly the services, or all.
func serviceRegex(services []string) string {
	if len(services) == 0 {
		return ".+"
	}
	quoted := make([]string, len(services))
	for i, s := range services {
		quoted[i] = regexp.QuoteMeta(s)
	}
	return escapePromString(strings.Join(quoted, "|"))
}

// escapePromString escapes a value for a double-quoted PromQL string.
func escapePromString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// rateWindow is the range of rate(): at least two steps and two minutes, so
// that a scrape interval of up to a minute still gives two samples.
func rateWindow(step time.Duration) string {
	return model.Duration(max(2*step, 2*time.Minute).Round(time.Second)).String()
}

// RED returns request rate, error rate and p99 latency per service.
func (c *Client) RED(ctx context.Context, services []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	rate, errs, lat := c.red.Render(sources.REDTemplateData{
		Service: serviceRegex(services), ServiceLabel: c.red.ServiceLabel, Window: rateWindow(step)})
	byService := map[string]*sources.RED{}
	get := func(s string) *sources.RED {
		if byService[s] == nil {
			byService[s] = &sources.RED{Service: s}
		}
		return byService[s]
	}
	qs := []struct {
		promql string
		set    func(*sources.RED, sources.Series)
	}{
		{rate, func(r *sources.RED, s sources.Series) { r.Requests = s }},
		{errs, func(r *sources.RED, s sources.Series) { r.Errors = s }},
		{lat, func(r *sources.RED, s sources.Series) { r.P99 = s }},
	}
	// the three queries at once: the answer takes as long as the slowest
	results := make([][]sources.Series, len(qs))
	g, gctx := errgroup.WithContext(ctx)
	for i, q := range qs {
		g.Go(func() (err error) {
			results[i], err = c.QueryRange(gctx, q.promql, r, step)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, q := range qs {
		for _, s := range results[i] {
			q.set(get(s.Labels[c.red.ServiceLabel]), s)
		}
	}
	out := make([]sources.RED, 0, len(byService))
	for _, r := range byService {
		// a query that answered no series for this service was still
		// asked: keep it, so that a reader can run it to see why
		for i, s := range []*sources.Series{&r.Requests, &r.Errors, &r.P99} {
			if s.Query == "" {
				s.Query = qs[i].promql
			}
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}

// ServicesWindow is how far back Services looks for traffic: long enough
// to see a service that is down now but was called a moment ago. A name
// checked against the list at an older time may have stopped since.
const ServicesWindow = 15 * time.Minute

// Services names the services with RED metrics over the last
// ServicesWindow, and the peers of their service-graph edges.
func (c *Client) Services(ctx context.Context) ([]string, error) {
	rate, _, _ := c.red.Render(sources.REDTemplateData{Service: ".+", ServiceLabel: c.red.ServiceLabel, Window: model.Duration(ServicesWindow).String()})
	series, err := c.Query(ctx, rate, time.Now())
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, s := range series {
		if n := s.Labels[c.red.ServiceLabel]; n != "" {
			seen[n] = true
		}
	}
	edges, err := c.ServiceGraph(ctx, time.Now(), ServicesWindow)
	if err != nil {
		return nil, err
	}
	for _, e := range edges {
		for _, n := range []string{e.Client, e.Server} {
			if n != "" && n != "user" {
				seen[n] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// ServiceGraph returns Tempo service-graph edges over the window ending at at.
func (c *Client) ServiceGraph(ctx context.Context, at time.Time, window time.Duration) ([]sources.Edge, error) {
	g := c.conv.ServiceGraph
	w := model.Duration(window).String()
	reqQ := fmt.Sprintf(`sum by (client, server, connection_type) (rate(%s[%s]))`, g.RequestTotal, w)
	failQ := fmt.Sprintf(`sum by (client, server, connection_type) (rate(%s[%s]))`, g.FailedTotal, w)
	latQ := fmt.Sprintf(`histogram_quantile(0.99, sum by (client, server, connection_type, le) (rate(%s[%s])))`, g.ServerSecondsBucket, w)
	type key struct{ client, server, kind string }
	edges := map[key]*sources.Edge{}
	var order []key
	qs := []string{reqQ, failQ, latQ}
	results := make([][]sources.Series, len(qs))
	eg, gctx := errgroup.WithContext(ctx)
	for i, q := range qs {
		eg.Go(func() (err error) {
			results[i], err = c.Query(gctx, q, at)
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	for i, series := range results {
		for _, s := range series {
			if len(s.Samples) == 0 {
				continue // no readable value: not an edge, nor a figure of one
			}
			k := key{s.Labels["client"], s.Labels["server"], s.Labels["connection_type"]}
			e := edges[k]
			if e == nil {
				kind := sources.EdgeKind(k.kind)
				if kind == "" {
					kind = sources.EdgeService
				}
				e = &sources.Edge{Client: k.client, Server: k.server, Kind: kind, Query: reqQ}
				edges[k] = e
				order = append(order, k)
			}
			v := s.Samples[0].V
			switch i {
			case 0:
				e.RequestRate = v
			case 1:
				e.FailedRate = v
			case 2:
				e.P99Seconds = v
			}
		}
	}
	out := make([]sources.Edge, 0, len(order))
	for _, k := range order {
		out = append(out, *edges[k])
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Client != out[j].Client {
			return out[i].Client < out[j].Client
		}
		return out[i].Server < out[j].Server
	})
	return out, nil
}

// Exemplars returns exemplars of the services' latency metric.
func (c *Client) Exemplars(ctx context.Context, services []string, r sources.TimeRange) ([]sources.Exemplar, error) {
	_, _, lat := c.red.Render(sources.REDTemplateData{
		Service: serviceRegex(services), ServiceLabel: c.red.ServiceLabel, Window: rateWindow(r.End.Sub(r.Start))})
	res, err := c.api.QueryExemplars(ctx, lat, r.Start, r.End)
	if err != nil {
		return nil, c.fail("query_exemplars "+lat, err)
	}
	keys := append([]string{c.conv.TraceID.Label}, c.conv.TraceID.JSONFields...)
	var out []sources.Exemplar
	for _, sr := range res {
		for _, e := range sr.Exemplars {
			x := sources.Exemplar{SeriesLabels: toLabels(sr.SeriesLabels), Labels: toLabels(e.Labels),
				Value: float64(e.Value), T: e.Timestamp.Time()}
			for _, k := range keys {
				if id, err := sources.NormalizeTraceID(x.Labels[k]); err == nil {
					x.TraceID = id
					break
				}
			}
			out = append(out, x)
		}
	}
	return out, nil
}

// Rules returns the loaded rule groups.
func (c *Client) Rules(ctx context.Context) ([]sources.RuleGroup, error) {
	res, err := c.api.Rules(ctx, nil)
	if err != nil {
		return nil, c.fail("rules", err)
	}
	var out []sources.RuleGroup
	for _, g := range res.Groups {
		rg := sources.RuleGroup{Name: g.Name, File: g.File}
		for _, r := range g.Rules {
			switch r := r.(type) {
			case v1.AlertingRule:
				rule := sources.Rule{Name: r.Name, Type: "alerting", Query: r.Query, Health: string(r.Health), Error: r.LastError}
				for _, a := range r.Alerts {
					rule.Alerts = append(rule.Alerts, c.toAlert(*a))
				}
				rg.Rules = append(rg.Rules, rule)
			case v1.RecordingRule:
				rg.Rules = append(rg.Rules, sources.Rule{Name: r.Name, Type: "recording", Query: r.Query, Health: string(r.Health), Error: r.LastError})
			}
		}
		out = append(out, rg)
	}
	return out, nil
}

// BuildInfo returns the server's version.
func (c *Client) BuildInfo(ctx context.Context) (sources.BuildInfo, error) {
	b, err := c.api.Buildinfo(ctx)
	if err != nil {
		return sources.BuildInfo{}, c.fail("buildinfo", err)
	}
	return sources.BuildInfo{Version: b.Version, Revision: b.Revision}, nil
}

// Series returns the label sets of series matching the selectors over r.
func (c *Client) Series(ctx context.Context, matches []string, r sources.TimeRange) ([]sources.Labels, error) {
	res, _, _, err := c.api.Series(ctx, matches, r.Start, r.End)
	if err != nil {
		return nil, c.fail("series "+strings.Join(matches, " "), err)
	}
	out := make([]sources.Labels, len(res))
	for i, s := range res {
		out[i] = toLabels(s)
	}
	return out, nil
}

// LabelValues returns the values of a label over r.
func (c *Client) LabelValues(ctx context.Context, label string, r sources.TimeRange) ([]string, error) {
	res, _, _, err := c.api.LabelValues(ctx, label, nil, r.Start, r.End)
	if err != nil {
		return nil, c.fail("label_values "+label, err)
	}
	out := make([]string, len(res))
	for i, v := range res {
		out[i] = string(v)
	}
	return out, nil
}
