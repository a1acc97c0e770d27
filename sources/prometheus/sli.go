package prometheus

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"

	"github.com/oncall-cockpit/oncall/sources"
)

var _ sources.SLIs = (*Client)(nil)

// sliPlan is how one indicator is counted on the server. Every query is
// an instant or range query of events in a window, so the counting is
// Prometheus's: increase() handles counter resets and extrapolates only
// to the edges of the data, and a history shorter than the window counts
// what there is.
type sliPlan struct {
	path string
	// counts gives the queries of the bad and total events over w.
	counts func(w time.Duration) (bad, total string)
	// ratio gives the query of the error ratio over w, for indicators
	// that have no counts.
	ratio func(w time.Duration) string
	// buckets gives the query of the histogram's events by le over w.
	buckets func(w time.Duration) string
	// threshold is the latency SLO's threshold in seconds.
	threshold float64
}

// promDuration writes d as PromQL does: 5m, 1h, 4w.
func promDuration(d time.Duration) string { return model.Duration(d).String() }

// seconds is d in seconds, as a PromQL number.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// rangeWindow is the range a rate is read over when counting events of
// a window w: w itself, but at least rateWindow's two minutes so that a
// one-minute history step still sees two scrapes.
func rangeWindow(w time.Duration) time.Duration { return max(w, 2*time.Minute) }

func (c *Client) plan(ind sources.Indicator) (sliPlan, error) {
	if err := ind.Check(); err != nil {
		return sliPlan{}, err
	}
	svc := sources.REDTemplateData{Service: serviceRegex([]string{ind.Service}), ServiceLabel: c.red.ServiceLabel}
	// events turns a query of a rate over a range into the events of w.
	events := func(rate func(rng string) string) func(w time.Duration) string {
		return func(w time.Duration) string {
			return fmt.Sprintf("(%s) * %s", rate(promDuration(rangeWindow(w))), seconds(w))
		}
	}
	increase := func(sel string) func(w time.Duration) string {
		return func(w time.Duration) string {
			return fmt.Sprintf("sum(increase(%s[%s])) * %s", sel, promDuration(rangeWindow(w)), ratioOf(w))
		}
	}
	switch ind.Kind {
	case sources.SLIAvailability:
		if ind.Total == "" {
			rate := func(tpl int) func(string) string {
				return func(rng string) string {
					d := svc
					d.Window = rng
					r, e, _ := c.red.Render(d)
					return [2]string{r, e}[tpl]
				}
			}
			bad, total := events(rate(1)), events(rate(0))
			return sliPlan{path: "the RED conventions' rates over each window, on the server",
				counts: func(w time.Duration) (string, string) { return bad(w), total(w) }}, nil
		}
		total := increase(ind.Total)
		if ind.Good != "" {
			good := increase(ind.Good)
			return sliPlan{path: "increase() of the total and good counters over each window, on the server",
				counts: func(w time.Duration) (string, string) {
					return fmt.Sprintf("(%s) - (%s)", total(w), good(w)), total(w)
				}}, nil
		}
		bad := increase(ind.Errors)
		return sliPlan{path: "increase() of the error and total counters over each window, on the server",
			counts: func(w time.Duration) (string, string) { return bad(w), total(w) }}, nil
	case sources.SLILatency:
		p := sliPlan{threshold: ind.Threshold.Seconds()}
		if ind.Histogram != "" {
			p.path = "increase() of the histogram's buckets over each window, on the server"
			p.buckets = func(w time.Duration) string {
				return fmt.Sprintf("sum by (le) (increase(%s[%s])) * %s", ind.Histogram, promDuration(rangeWindow(w)), ratioOf(w))
			}
			return p, nil
		}
		if _, ok := c.red.RenderBuckets(svc); !ok {
			return sliPlan{}, fmt.Errorf("a latency SLO needs a histogram selector, or a buckets template in conventions.red")
		}
		p.path = "the conventions' latency buckets over each window, on the server"
		p.buckets = events(func(rng string) string {
			d := svc
			d.Window = rng
			q, _ := c.red.RenderBuckets(d)
			return q
		})
		return p, nil
	case sources.SLIRaw:
		render := func(src string) (func(string) string, error) {
			// Sloth writes {{.window}}; oncall's templates {{.Window}}.
			t, err := template.New("raw").Option("missingkey=error").Parse(src)
			if err != nil {
				return nil, fmt.Errorf("raw query %q: %w", src, err)
			}
			if err := t.Execute(&bytes.Buffer{}, map[string]string{"Window": "5m", "window": "5m"}); err != nil {
				return nil, fmt.Errorf("raw query %q: %w", src, err)
			}
			return func(rng string) string {
				var b bytes.Buffer
				_ = t.Execute(&b, map[string]string{"Window": rng, "window": rng})
				return b.String()
			}, nil
		}
		if ind.ErrorRatioQuery != "" {
			r, err := render(ind.ErrorRatioQuery)
			if err != nil {
				return sliPlan{}, err
			}
			return sliPlan{path: "the raw error-ratio query over each window, on the server",
				ratio: func(w time.Duration) string { return r(promDuration(rangeWindow(w))) }}, nil
		}
		te, err := render(ind.TotalQuery)
		if err != nil {
			return sliPlan{}, err
		}
		total := events(te)
		if ind.GoodQuery != "" {
			ge, err := render(ind.GoodQuery)
			if err != nil {
				return sliPlan{}, err
			}
			good := events(ge)
			return sliPlan{path: "the raw good and total rate queries over each window, on the server",
				counts: func(w time.Duration) (string, string) {
					return fmt.Sprintf("(%s) - (%s)", total(w), good(w)), total(w)
				}}, nil
		}
		be, err := render(ind.ErrorQuery)
		if err != nil {
			return sliPlan{}, err
		}
		bad := events(be)
		return sliPlan{path: "the raw error and total rate queries over each window, on the server",
			counts: func(w time.Duration) (string, string) { return bad(w), total(w) }}, nil
	}
	return sliPlan{}, fmt.Errorf("indicator kind %q", ind.Kind)
}

// ratioOf scales an increase over rangeWindow(w) to the events of w.
func ratioOf(w time.Duration) string {
	return strconv.FormatFloat(w.Seconds()/rangeWindow(w).Seconds(), 'f', -1, 64)
}

// recordedQuery is the recording rule that holds the indicator's error
// ratio over w, or "" when its tool records none for w.
func recordedQuery(r *sources.Recording, w time.Duration, sloWindow time.Duration) string {
	if r == nil {
		return ""
	}
	switch r.By {
	case sources.RecordedBySloth:
		return fmt.Sprintf(`slo:sli_error:ratio_rate%s{sloth_id="%s"}`, promDuration(w), escapePromString(r.ID))
	case sources.RecordedByPyrra:
		if w == sloWindow {
			// only with Pyrra's --generic-rules
			return fmt.Sprintf(`1 - pyrra_availability{slo="%s"}`, escapePromString(r.ID))
		}
		if r.Metric == "" {
			return ""
		}
		m := strings.TrimSuffix(strings.TrimSuffix(r.Metric, "_total"), "_count")
		return fmt.Sprintf(`%s:burnrate%s{slo="%s"}`, m, promDuration(w), escapePromString(r.ID))
	}
	return ""
}

// sumOf adds up the first sample of every series; ok is false when
// there is none (no traffic, no such series, or only NaN answered).
func sumOf(series []sources.Series) (v float64, ok bool) {
	for _, s := range series {
		for _, p := range s.Samples[:min(1, len(s.Samples))] {
			v += p.V
			ok = true
		}
	}
	return v, ok
}

// unread is an error when q answered series but none with a readable
// value. An event count is never NaN or ±Inf on a sound server, so such
// a window is not read, rather than counted as no traffic (no series).
func (c *Client) unread(q string, series []sources.Series) error {
	for _, s := range series {
		if len(s.Samples) > 0 {
			return nil
		}
	}
	if len(series) == 0 {
		return nil
	}
	return &sources.BackendError{Backend: backend, Op: "query " + q, URL: c.addr,
		Err: fmt.Errorf("answered no readable value (NaN or ±Inf)")}
}

// SLI reads the indicator over each window ending at at: the windows'
// events in parallel, a recording rule's ratio where one answers, and
// since when the indicator has data.
func (c *Client) SLI(ctx context.Context, ind sources.Indicator, windows []time.Duration, at time.Time) (sources.SLIReading, error) {
	p, err := c.plan(ind)
	if err != nil {
		return sources.SLIReading{}, fmt.Errorf("%s: %w", backend, err)
	}
	if len(windows) == 0 {
		return sources.SLIReading{}, fmt.Errorf("no windows to read")
	}
	longest := windows[0]
	for _, w := range windows {
		longest = max(longest, w)
	}
	out := sources.SLIReading{Windows: make([]sources.SLIWindow, len(windows)), Path: p.path}
	if p.buckets != nil {
		// snap the threshold once, on the longest window, so that every
		// window counts against the same boundary
		series, err := c.Query(ctx, p.buckets(longest), at)
		if err != nil {
			return out, err
		}
		le, ok := snap(series, p.threshold)
		if !ok {
			return out, &sources.BackendError{Backend: backend, Op: "query " + p.buckets(longest), URL: c.addr,
				Err: fmt.Errorf("the histogram has no buckets for %s", ind.Service)}
		}
		out.Threshold = time.Duration(le * float64(time.Second))
		p.threshold = le
	}
	recorded := make([]bool, len(windows))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, w := range windows {
		g.Go(func() error {
			sw, rec, err := c.readWindow(gctx, p, ind, w, longest, at)
			out.Windows[i], recorded[i] = sw, rec
			return err
		})
	}
	var since time.Time
	g.Go(func() error {
		var err error
		since, err = c.since(gctx, p, longest, at)
		return err
	})
	if err := g.Wait(); err != nil {
		return out, err
	}
	out.Since = since
	out.Path = describePath(p.path, ind.Recorded, windows, recorded)
	return out, nil
}

// describePath says which windows came from recording rules.
func describePath(path string, r *sources.Recording, windows []time.Duration, recorded []bool) string {
	var rec, own []string
	for i, w := range windows {
		if recorded[i] {
			rec = append(rec, promDuration(w))
		} else {
			own = append(own, promDuration(w))
		}
	}
	switch {
	case len(rec) == 0:
		return path
	case len(own) == 0:
		return r.By + " recording rules"
	}
	return fmt.Sprintf("%s recording rules for %s; %s for %s", r.By, strings.Join(rec, ", "), path, strings.Join(own, ", "))
}

func (c *Client) readWindow(ctx context.Context, p sliPlan, ind sources.Indicator, w, sloWindow time.Duration, at time.Time) (sources.SLIWindow, bool, error) {
	sw := sources.SLIWindow{Window: w, Total: sources.NaN(), Bad: sources.NaN(), ErrorRatio: sources.NaN()}
	if q := recordedQuery(ind.Recorded, w, sloWindow); q != "" {
		series, err := c.Query(ctx, q, at)
		if err != nil {
			return sw, false, err
		}
		if v, ok := sumOf(series); ok && len(series) == 1 {
			sw.ErrorRatio, sw.Recorded, sw.Queries = sources.Float(v), true, []string{q}
			return sw, true, nil
		}
		// not recorded (yet) for this window: count it ourselves
	}
	var bad, total float64
	switch {
	case p.ratio != nil:
		series, err := c.windowQuery(ctx, &sw, p.ratio(w), at)
		if err != nil {
			return sw, false, err
		}
		if v, ok := sumOf(series); ok {
			sw.ErrorRatio = sources.Float(v)
		}
		return sw, false, nil
	case p.buckets != nil:
		series, err := c.windowQuery(ctx, &sw, p.buckets(w), at)
		if err == nil {
			err = c.unread(p.buckets(w), series)
		}
		if err != nil {
			return sw, false, err
		}
		good, all := bucketCounts(series, p.threshold)
		total, bad = all, all-good
	default:
		bq, tq := p.counts(w)
		sw.Queries = []string{bq, tq}
		ts, err := c.Query(ctx, tq, at)
		if err != nil {
			return sw, false, err
		}
		bs, err := c.Query(ctx, bq, at)
		if err != nil {
			return sw, false, err
		}
		if err := cmp.Or(c.unread(tq, ts), c.unread(bq, bs)); err != nil {
			return sw, false, err
		}
		total, _ = sumOf(ts)
		bad, _ = sumOf(bs) // no error series: no errors
	}
	bad = math.Max(0, math.Min(bad, total))
	sw.Total, sw.Bad = sources.Float(total), sources.Float(bad)
	if total > 0 {
		sw.ErrorRatio = sources.Float(bad / total)
	}
	return sw, false, nil
}

// windowQuery runs a window's one query, noting it in sw first, so that
// a window that could not be read still says what was asked.
func (c *Client) windowQuery(ctx context.Context, sw *sources.SLIWindow, q string, at time.Time) ([]sources.Series, error) {
	sw.Queries = []string{q}
	return c.Query(ctx, q, at)
}

// since finds the first time within longest before at that the
// indicator has data: first at a thousandth of the window, over rates of
// two such steps (so that a coarse scrape interval still shows), then to
// the minute within that step, over ten-minute rates. A rate first has a
// value at the second sample, one scrape after the data begins.
func (c *Client) since(ctx context.Context, p sliPlan, longest time.Duration, at time.Time) (time.Time, error) {
	res := max(time.Minute, (longest / 1000).Truncate(time.Minute))
	from := at.Add(-longest)
	coarse, ok, err := c.firstData(ctx, p, 2*res, longest, res, at)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		// subquery steps are aligned to multiples of res: data younger
		// than the last step before at shows only at the minute
		coarse = at
	}
	if coarse.Sub(from) <= 2*res {
		return from, nil // the data covers the window
	}
	fine, ok, err := c.firstData(ctx, p, 10*time.Minute, 2*res+10*time.Minute, time.Minute, coarse)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case ok && fine.Before(coarse):
		coarse = fine
	case coarse.Equal(at):
		return time.Time{}, nil // no data at all
	}
	if coarse.Before(from) {
		coarse = from
	}
	return coarse, nil
}

// firstData is the earliest step, over span before at at res, at which
// the indicator's events over inner have a value.
func (c *Client) firstData(ctx context.Context, p sliPlan, inner, span, res time.Duration, at time.Time) (time.Time, bool, error) {
	var expr string
	switch {
	case p.ratio != nil:
		expr = p.ratio(inner)
	case p.buckets != nil:
		expr = p.buckets(inner)
	default:
		_, expr = p.counts(inner)
	}
	q := fmt.Sprintf("min(min_over_time(timestamp(%s)[%s:%s]))", expr, promDuration(span), promDuration(res))
	series, err := c.Query(ctx, q, at)
	if err != nil {
		return time.Time{}, false, err
	}
	v, ok := sumOf(series)
	if !ok {
		return time.Time{}, false, nil
	}
	return time.Unix(0, int64(v*1e9)).UTC(), true, nil
}

// snap returns the le boundary nearest the threshold (in seconds), and
// false when the series have no finite boundary.
func snap(series []sources.Series, threshold float64) (float64, bool) {
	best, found := 0.0, false
	for _, s := range series {
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil || math.IsInf(le, 0) {
			continue
		}
		if !found || math.Abs(le-threshold) < math.Abs(best-threshold) {
			best, found = le, true
		}
	}
	return best, found
}

// bucketCounts returns the events at or under the le boundary and the
// events in all (the +Inf bucket).
func bucketCounts(series []sources.Series, le float64) (good, total float64) {
	for _, s := range series {
		if len(s.Samples) == 0 {
			continue
		}
		b, err := strconv.ParseFloat(s.Labels["le"], 64)
		switch {
		case err != nil:
		case math.IsInf(b, 1):
			total += s.Samples[0].V
		case b == le:
			good += s.Samples[0].V
		}
	}
	return good, total
}

// SLIHistory reads the indicator's events per step over r: the queries
// of SLI with a window of one step, as range queries.
func (c *Client) SLIHistory(ctx context.Context, ind sources.Indicator, r sources.TimeRange, step time.Duration) (sources.SLIHistory, error) {
	p, err := c.plan(ind)
	if err != nil {
		return sources.SLIHistory{}, fmt.Errorf("%s: %w", backend, err)
	}
	h := sources.SLIHistory{Step: step}
	switch {
	case p.ratio != nil:
		// an error ratio alone: every step weighs the same, one event
		q := p.ratio(step)
		series, err := c.QueryRange(ctx, q, r, step)
		if err != nil {
			return h, err
		}
		h.Bad = sumSeries(series, q)
		h.Total = sources.Series{Query: q, Labels: sources.Labels{}}
		for _, s := range h.Bad.Samples {
			h.Total.Samples = append(h.Total.Samples, sources.Sample{T: s.T, V: 1})
		}
	case p.buckets != nil:
		// snap on the whole range first
		span := r.End.Sub(r.Start)
		snapSeries, err := c.Query(ctx, p.buckets(span), r.End)
		if err != nil {
			return h, err
		}
		le, ok := snap(snapSeries, p.threshold)
		if !ok {
			return h, fmt.Errorf("%s: the histogram has no buckets for %s", backend, ind.Service)
		}
		q := p.buckets(step)
		series, err := c.QueryRange(ctx, q, r, step)
		if err != nil {
			return h, err
		}
		good, total := bucketSeries(series, le)
		h.Total = sources.Series{Query: q, Labels: sources.Labels{}, Samples: total}
		h.Bad = sources.Series{Query: q, Labels: sources.Labels{}}
		for i, s := range total {
			h.Bad.Samples = append(h.Bad.Samples, sources.Sample{T: s.T, V: math.Max(0, s.V-good[i].V)})
		}
	default:
		bq, tq := p.counts(step)
		ts, err := c.QueryRange(ctx, tq, r, step)
		if err != nil {
			return h, err
		}
		bs, err := c.QueryRange(ctx, bq, r, step)
		if err != nil {
			return h, err
		}
		h.Total = sumSeries(ts, tq)
		bad := sumSeries(bs, bq)
		at := map[int64]float64{}
		for _, s := range bad.Samples {
			at[s.T.UnixNano()] = s.V
		}
		h.Bad = sources.Series{Query: bq, Labels: sources.Labels{}}
		for _, s := range h.Total.Samples {
			h.Bad.Samples = append(h.Bad.Samples, sources.Sample{T: s.T, V: math.Max(0, math.Min(at[s.T.UnixNano()], s.V))})
		}
	}
	return h, nil
}

// sumSeries adds series up per timestamp, oldest first.
func sumSeries(series []sources.Series, q string) sources.Series {
	at := map[int64]float64{}
	for _, s := range series {
		for _, p := range s.Samples {
			at[p.T.UnixNano()] += p.V
		}
	}
	out := sources.Series{Query: q, Labels: sources.Labels{}}
	for ns, v := range at {
		out.Samples = append(out.Samples, sources.Sample{T: time.Unix(0, ns).UTC(), V: v})
	}
	sort.Slice(out.Samples, func(i, j int) bool { return out.Samples[i].T.Before(out.Samples[j].T) })
	return out
}

// bucketSeries splits a range query of buckets by le into the good
// events (at or under le) and all events per timestamp.
func bucketSeries(series []sources.Series, le float64) (good, total []sources.Sample) {
	var goodS, totalS []sources.Series
	for _, s := range series {
		b, err := strconv.ParseFloat(s.Labels["le"], 64)
		switch {
		case err != nil:
		case math.IsInf(b, 1):
			totalS = append(totalS, s)
		case b == le:
			goodS = append(goodS, s)
		}
	}
	t := sumSeries(totalS, "")
	g := sumSeries(goodS, "")
	at := map[int64]float64{}
	for _, s := range g.Samples {
		at[s.T.UnixNano()] = s.V
	}
	for _, s := range t.Samples {
		total = append(total, s)
		good = append(good, sources.Sample{T: s.T, V: math.Min(at[s.T.UnixNano()], s.V)})
	}
	return good, total
}
