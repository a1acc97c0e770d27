package prometheus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

var _ sources.Resources = (*Client)(nil)

// Labels the preset queries add with label_replace, so that every family
// answers in one shape: the pool's name, and cpu or memory for cAdvisor.
const (
	poolKey     = "oncall_pool"
	resourceKey = "oncall_resource"
)

// maxResourceQueries bounds the range queries in flight at once: two per
// preset would be twelve (more with custom resources), too many to send
// at once to a server that is already struggling during an incident.
const maxResourceQueries = 4

// resourceQuery is one preset's (or custom resource's) used and max
// queries and how to read their series.
type resourceQuery struct {
	source       string // "hikaricp", or a custom resource's name
	kind         string // pool, workers, cpu, memory; "" reads resourceKey
	serviceLabel string
	poolLabel    string            // the label naming a pool
	targets      map[string]string // a custom resource's own pool→target map
	used, max    string
}

// presetFound is what one preset found, or why it found nothing.
type presetFound struct {
	source string
	sats   []sources.Saturation
	err    error
	// late says the preset had not answered when the read stopped
	// waiting, a little before its context's deadline (answerBy)
	late bool
	// unusable counts the readings that had a limit series whose every
	// value was 0, negative or absurd: the series exist, the limit does not
	unusable int
}

// Saturation reads connection pools, CPU and memory against their limits
// from every enabled preset and custom resource, two range queries each,
// sent concurrently. A preset that fails, or has not answered a little
// before ctx's deadline (answerBy), does not hide what the others found:
// they come back with an error wrapping sources.ErrPartial that names it.
// When every preset answered with no series, or with limits that are 0 or
// below, the error wraps sources.ErrNotReported and says which.
func (c *Client) Saturation(ctx context.Context, services []string, r sources.TimeRange, step time.Duration) ([]sources.Saturation, error) {
	began := time.Now()
	found, err := c.saturationByPreset(ctx, services, r, step)
	if err != nil {
		return nil, err
	}
	type key struct{ service, resource string }
	best := map[key]int{} // index into out
	var out []sources.Saturation
	var failed, notes []error
	var tried, late, unusable []string
	for _, f := range found { // in order of precedence: the first to report a resource wins
		tried = append(tried, f.source)
		if f.unusable > 0 {
			unusable = append(unusable, f.source)
		}
		switch {
		case f.late:
			late = append(late, f.source)
			failed = append(failed, fmt.Errorf("saturation preset %s: %w", f.source, f.err))
			continue
		case f.err != nil:
			failed = append(failed, fmt.Errorf("saturation preset %s: %w", f.source, f.err))
			notes = append(notes, fmt.Errorf("preset %s: %s", f.source, sources.Cause(f.err)))
			continue
		}
		for _, s := range f.sats {
			if len(services) > 0 && !slices.Contains(services, s.Service) {
				continue // matched by a later service label than the one it is named by
			}
			k := key{s.Service, s.Resource}
			i, ok := best[k]
			switch {
			case !ok:
				best[k] = len(out)
				out = append(out, s)
			case out[i].Source == s.Source && peakShare(s) > peakShare(out[i]):
				out[i] = s // two pools of one service into one target: the fuller tells
			}
		}
	}
	switch {
	case len(out) > 0:
		slices.SortFunc(out, func(a, b sources.Saturation) int {
			return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.Resource, b.Resource))
		})
		if len(late) > 0 {
			notes = append(notes, fmt.Errorf("presets %s did not answer within %s",
				strings.Join(late, ", "), time.Since(began).Round(100*time.Millisecond)))
		}
		return out, sources.Partial(notes...)
	case len(failed) > 0:
		return nil, errors.Join(failed...)
	case len(tried) == 0:
		return nil, fmt.Errorf("prometheus: conventions.resources names no presets and no custom resources: %w", sources.ErrNotReported)
	case len(unusable) > 0:
		// the series exist: saying the stack reports none would send the
		// reader to the wrong fix
		return nil, notReported(fmt.Sprintf("prometheus: the saturation presets %s have series but every limit is 0, negative or absurd",
			strings.Join(unusable, ", ")))
	}
	return nil, fmt.Errorf("prometheus: no series for the saturation presets %s: %w", strings.Join(tried, ", "), sources.ErrNotReported)
}

// peakShare is the highest share of the limit in force in use.
func peakShare(s sources.Saturation) float64 {
	used, limit, _ := s.Fullest()
	return used.V / limit
}

// saturationByPreset runs every query and returns, per preset in order
// of precedence (custom resources first: the user wrote them for this
// fleet), what it found or its error. The error is for a convention that
// does not compile.
func (c *Client) saturationByPreset(ctx context.Context, services []string, r sources.TimeRange, step time.Duration) ([]presetFound, error) {
	rq, err := c.conv.CompileResources()
	if err != nil {
		return nil, fmt.Errorf("prometheus conventions: %w", err)
	}
	qs := resourceQueries(rq, serviceRegex(services), rateWindow(step))
	cut, cancel := answerBy(ctx)
	defer cancel()
	slots := make(chan struct{}, maxResourceQueries)
	query := func(q string) ([]sources.Series, error) {
		select {
		case slots <- struct{}{}:
		case <-cut.Done():
			return nil, cut.Err()
		}
		defer func() { <-slots }()
		return c.QueryRange(cut, q, r, step)
	}
	answers := make(chan foundAnswer, len(qs)) // buffered: a late preset's answer is dropped, not blocked on
	for i, q := range qs {
		// no shared cancel: one preset failing must not stop the others
		go func() {
			f := presetFound{source: q.source}
			var used, maxes []sources.Series
			var errUsed, errMax error
			var wg sync.WaitGroup
			wg.Go(func() { used, errUsed = query(q.used) })
			wg.Go(func() { maxes, errMax = query(q.max) })
			wg.Wait()
			// the used query's error, else the max's: both say the same of
			// a server that fails, but when they differ both are kept, since
			// one may be the client refusing to send (its breaker opened by
			// the other queries' failures) and the reader wants the failure
			f.err = cmp.Or(errUsed, errMax)
			switch {
			case f.err == nil:
				f.sats, f.unusable = q.join(rq, used, maxes)
			case errUsed != nil && errMax != nil && sources.Cause(errUsed) != sources.Cause(errMax):
				f.err = errors.Join(errUsed, errMax)
			}
			answers <- foundAnswer{i, f}
		}()
	}
	out := make([]presetFound, len(qs))
	got := make([]bool, len(qs))
wait:
	for range qs {
		select {
		case a := <-answers:
			out[a.i], got[a.i] = a.f, true
			out[a.i].late = a.f.err != nil && cut.Err() != nil
		case <-cut.Done():
			break wait
		}
	}
	for i, q := range qs {
		if !got[i] {
			out[i] = presetFound{source: q.source, err: cut.Err(), late: true}
		}
	}
	return out, nil
}

// notReported is a note that wraps sources.ErrNotReported without saying
// "not reported by this stack", for series that are there but unusable.
type notReported string

func (e notReported) Error() string { return string(e) }

// Is says the error is sources.ErrNotReported.
func (e notReported) Is(target error) bool { return target == sources.ErrNotReported }

// foundAnswer is what the i-th preset found.
type foundAnswer struct {
	i int
	f presetFound
}

// maxReading bounds a pool's, a core count's or a byte count's reading:
// no pool has a quadrillion connections nor a container a petabyte of
// memory, so a larger value is an exporter's sentinel or garbage
// (1e308), and printing it would be a 300-digit number.
const maxReading = 1e15

// sensibleReadings is samples without the negative and absurd readings.
func sensibleReadings(samples []sources.Sample) []sources.Sample {
	return slices.DeleteFunc(slices.Clone(samples), func(p sources.Sample) bool { return p.V < 0 || p.V > maxReading })
}

// join pairs each used series with the max series of the same service and
// pool or resource, and counts the pairs whose limit was never usable
// (0 or below, or absurd). Negative and absurd readings are dropped.
func (q resourceQuery) join(rq sources.ResourceQueries, used, maxes []sources.Series) ([]sources.Saturation, int) {
	type key struct{ service, pool, resource string }
	keyOf := func(l sources.Labels) key { return key{l[q.serviceLabel], l[q.poolLabel], l[resourceKey]} }
	limits := map[key]sources.Series{}
	for _, m := range maxes {
		limits[keyOf(m.Labels)] = m
	}
	var out []sources.Saturation
	unusable := 0
	for _, u := range used {
		u.Samples = sensibleReadings(u.Samples)
		k := keyOf(u.Labels)
		limit, ok := limits[k]
		if k.service == "" || !ok {
			continue // no owner, or no limit to measure against
		}
		resource := q.kind
		switch {
		case q.kind == sources.ResourceKindPool && k.pool == "":
			continue // a pool with no name has no target to name
		case q.kind == sources.ResourceKindPool:
			resource = sources.PoolResource(rq.PoolTarget(q.targets, k.service, k.pool))
		case q.kind == "":
			resource = k.resource
		}
		limit.Samples = sensibleReadings(limit.Samples)
		sat := sources.Saturation{Service: k.service, Resource: resource, Used: u, Limit: limit, Source: "prometheus: " + q.source}
		_, m, ok := sat.Fullest()
		if !ok {
			unusable++
			continue // a limit of 0 (or none read) is no limit
		}
		// Max is the limit in force when the pool was fullest: one shrunk
		// from 20 to 5 that then runs 5 of 5 reports 5, not the 20 it had
		// before; readers judging an instant read Limit there (LimitAt)
		sat.Max = m
		out = append(out, sat)
	}
	return out, unusable
}

// resourceQueries writes the used and max queries of the enabled presets,
// custom resources first. svc is an escaped regex, window a rate() range.
func resourceQueries(rq sources.ResourceQueries, svc, window string) []resourceQuery {
	var out []resourceQuery
	for _, cr := range rq.Custom {
		used, limit := cr.Render(sources.ResourceTemplateData{Service: svc, ServiceLabel: cr.ServiceLabel, Window: window})
		out = append(out, resourceQuery{source: cr.Name, kind: cr.Kind, serviceLabel: cr.ServiceLabel,
			poolLabel: cr.TargetLabel, targets: cr.Targets, used: used, max: limit})
	}
	for _, p := range rq.Presets {
		l, read := serviceSelector(rq.ServiceLabels(p), svc)
		// pool sums every instance's pool: the service's pool is the sum of
		// its replicas', as its limit is
		pool := func(metric, matchers string, poolLabels ...string) string {
			inner := read(metric, matchers, nil)
			for _, pl := range poolLabels { // the last label present wins
				inner = fmt.Sprintf(`label_replace(%s, "%s", "$1", "%s", "(.+)")`, inner, poolKey, pl)
			}
			return fmt.Sprintf("sum by (%s, %s) (%s)", l, poolKey, inner)
		}
		rate := func(sel string) string { return fmt.Sprintf("rate(%s[%s])", sel, window) }
		q := resourceQuery{source: p, kind: sources.ResourceKindPool, serviceLabel: l, poolLabel: poolKey}
		switch p {
		case sources.ResourceOTelPool:
			// the current semantic conventions, then the older names
			q.used = pool("db_client_connection_count", `state="used", `, "pool_name", "db_client_connection_pool_name") +
				" or " + pool("db_client_connections_usage", `state="used", `, "pool_name")
			q.max = pool("db_client_connection_max", "", "pool_name", "db_client_connection_pool_name") +
				" or " + pool("db_client_connections_max", "", "pool_name")
		case sources.ResourceHikariCP:
			q.used = pool("hikaricp_connections_active", "", "pool")
			q.max = pool("hikaricp_connections_max", "", "pool")
		case sources.ResourceGoSQL:
			q.used = pool("go_sql_stats_connections_in_use", "", "db_name")
			q.max = pool("go_sql_stats_connections_max_open", "", "db_name")
		case sources.ResourcePgBouncer:
			// a pgbouncer pool is one database and user: the fullest user's
			// pool against the pool size, pools_* keyed by database and
			// databases_* by the same name under "name"
			used := fmt.Sprintf(`label_replace(%s, "%s", "$1", "database", "(.+)")`, read("pgbouncer_pools_server_active_connections", "", nil), poolKey)
			q.used = fmt.Sprintf("max by (%s, %s) (%s)", l, poolKey, used)
			q.max = fmt.Sprintf(`max by (%s, %s) (label_replace(%s, "%s", "$1", "name", "(.+)"))`, l, poolKey, read("pgbouncer_databases_pool_size", "", nil), poolKey)
			if m := rq.PgBouncerMax(); m > 0 {
				q.max = fmt.Sprintf("%s or (%s * 0 + %g)", q.max, q.used, m)
			}
		case sources.ResourceCAdvisor:
			// every pod's containers summed per service, against the sum of
			// their limits; the pause container and cgroup totals excluded
			q.kind, q.poolLabel = "", ""
			ctr := `container!="", container!="POD", `
			q.used = fmt.Sprintf(`label_replace(sum by (%s) (%s), "%s", "cpu", "", "")`, l, read("container_cpu_usage_seconds_total", ctr, rate), resourceKey) +
				fmt.Sprintf(` or label_replace(sum by (%s) (%s), "%s", "memory", "", "")`, l, read("container_memory_working_set_bytes", ctr, nil), resourceKey)
			q.max = fmt.Sprintf(`label_replace(sum by (%s, resource) (%s), "%s", "$1", "resource", "(.+)")`, l, read("kube_pod_container_resource_limits", `resource=~"cpu|memory", `, nil), resourceKey)
		case sources.ResourceProcess:
			// a weaker signal: a process's CPU against its machine's cores,
			// not a cgroup limit it would be throttled at
			q.kind, q.poolLabel = sources.ResourceKindCPU, ""
			q.used = fmt.Sprintf("sum by (%s) (%s)", l, read("process_cpu_seconds_total", "", rate))
			q.max = fmt.Sprintf("sum by (%s) (%s)", l, read("machine_cpu_cores", "", nil))
			if cores := rq.ProcessCores(); cores > 0 {
				q.max = fmt.Sprintf("count by (%s) (%s) * %g", l, read("process_cpu_seconds_total", "", nil), cores)
			}
		}
		out = append(out, q)
	}
	return out
}

// serviceKey is the label a preset's answers name the service by when
// the conventions give it several labels: the first a series has, copied.
const serviceKey = "oncall_service"

// serviceSelector returns the label a preset's answers name the service
// by, and read, which writes the series of metric (with matchers, each
// followed by ", ") of the services svc matches, passed through fn (a
// rate(), or nil) before the service is read. With one label the series
// are selected by it; with several, by any of them, and the first a
// series has is copied into serviceKey.
func serviceSelector(labels []string, svc string) (label string, read func(metric, matchers string, fn func(string) string) string) {
	selectBy := func(l, metric, matchers string, fn func(string) string) string {
		sel := fmt.Sprintf(`%s{%s%s=~"%s"}`, metric, matchers, l, svc)
		if fn == nil {
			return sel
		}
		return fn(sel)
	}
	if len(labels) == 1 {
		return labels[0], func(metric, matchers string, fn func(string) string) string {
			return selectBy(labels[0], metric, matchers, fn)
		}
	}
	return serviceKey, func(metric, matchers string, fn func(string) string) string {
		var each []string
		for _, l := range labels {
			each = append(each, selectBy(l, metric, matchers, fn))
		}
		q := strings.Join(each, " or ")
		for _, l := range slices.Backward(labels) { // the first label present is copied last, and wins
			q = fmt.Sprintf(`label_replace(%s, "%s", "$1", "%s", "(.+)")`, q, serviceKey, l)
		}
		return q
	}
}

// saturationWindow is what the doctor's saturation check reads: long
// enough to hold a few scrapes of a slow exporter.
const saturationWindow = 15 * time.Minute

// saturationCheck is the doctor line saying which resource presets found
// series, for how many services and pools, and which found none or failed.
func (c *Client) saturationCheck(ctx context.Context, now time.Time) sources.Check {
	const name = "saturation"
	found, err := c.saturationByPreset(ctx, nil, sources.TimeRange{Start: now.Add(-saturationWindow), End: now}, time.Minute)
	if err != nil {
		return sources.Check{Name: name, Status: sources.CheckFail, Detail: err.Error(), Err: err}
	}
	results := make([]presetResult, len(found))
	for i, f := range found {
		services, pools := map[string]bool{}, 0
		for _, s := range f.sats {
			services[s.Service] = true
			if _, ok := sources.PoolTarget(s.Resource); ok {
				pools++
			}
		}
		results[i] = presetResult{name: f.source, services: len(services), err: f.err}
		switch {
		case pools > 0:
			results[i].more = plural(pools, "pool")
		case f.unusable > 0 && len(services) == 0:
			// series found, so "no series" would mislead
			results[i].err = fmt.Errorf("%s with limits 0, negative or absurd", plural(f.unusable, "reading"))
		}
	}
	return presetCheck(name, results, "no pool, CPU or memory readings", "conventions.resources")
}
