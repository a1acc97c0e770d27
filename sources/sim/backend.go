package sim

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	world "github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// Backend serves one simulated fleet through the sources interfaces.
type Backend struct {
	f    *world.Fleet
	conv sources.Conventions
	red  sources.REDQueries
}

// The Backend is every backend at once.
var (
	_ sources.Metrics   = (*Backend)(nil)
	_ sources.Rules     = (*Backend)(nil)
	_ sources.Logs      = (*Backend)(nil)
	_ sources.Traces    = (*Backend)(nil)
	_ sources.Alerting  = (*Backend)(nil)
	_ sources.Doctor    = (*Backend)(nil)
	_ sources.Changes   = (*Backend)(nil)
	_ sources.Resources = (*Backend)(nil)
	_ sources.Prober    = (*Backend)(nil)
)

// New adapts a fleet. The queries it reports are written from the
// default conventions, the names `oncall demo --serve` exposes.
func New(f *world.Fleet) *Backend {
	conv := sources.DefaultConventions()
	red, err := conv.CompileRED()
	if err != nil {
		panic("sources/sim: the default RED templates do not compile: " + err.Error())
	}
	return &Backend{f: f, conv: conv, red: red}
}

// Set is the fleet as every backend at once: what `oncall demo` and every
// command's --demo read.
func (b *Backend) Set() sources.Set {
	return sources.Set{Metrics: b, Logs: b, Traces: b, Alerts: b, Changes: b, Resources: b, SLIs: b}
}

// serviceLabel is the label the simulator's span metrics carry the
// service in, as Tempo's metrics-generator names it.
const serviceLabel = "service"

// origin marks a query as answered by the simulator.
func (b *Backend) origin(q string) string {
	return fmt.Sprintf("sim(seed %d, %s): %s", b.f.Seed(), b.f.Scenario().Name, q)
}

// services resolves a request's service list: empty means every
// instrumented service; an unknown name is an error, as a label value
// with no series is at a real backend's adapter.
func (b *Backend) services(names []string) ([]string, error) {
	if len(names) == 0 {
		return b.f.Instrumented(), nil
	}
	for _, n := range names {
		if _, ok := b.f.Topology().Service(n); !ok {
			return nil, fmt.Errorf("sim: no service %q in topology %q", n, b.f.Topology().Name)
		}
	}
	return names, nil
}

// buckets cuts Step-resolution samples into buckets of step aligned to
// end, as a Prometheus range query stamps each rate with the end of its
// window, and combines each bucket's values with agg.
func buckets(samples []sources.Sample, end time.Time, step time.Duration, agg func([]float64) float64) []sources.Sample {
	step = max(step, world.Step)
	var out []sources.Sample
	var vals []float64
	cur := int64(-1)
	flush := func() {
		if len(vals) > 0 {
			out = append(out, sources.Sample{T: end.Add(-time.Duration(cur) * step), V: agg(vals)})
			vals = vals[:0]
		}
	}
	for _, s := range samples {
		if k := int64(end.Sub(s.T) / step); k != cur {
			flush()
			cur = k
		}
		vals = append(vals, s.V)
	}
	flush()
	return out
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// overRange is the mean of v over a range of n steps that v covers in
// part (missing steps count as nothing), or over v when it has more.
func overRange(v []float64, n int) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(max(n, len(v)))
}

func peak(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// promDuration writes d as Prometheus does: 15s, 1m, 5m30s, 1h, 28d.
func promDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := max(d, world.Step).String()
	s = strings.Replace(s, "m0s", "m", 1)
	return strings.Replace(s, "h0m", "h", 1)
}

// RED returns requests, errors and p99 per service at step resolution:
// rates are averaged over each step, the p99 is the step's worst.
func (b *Backend) RED(_ context.Context, services []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	names, err := b.services(services)
	if err != nil {
		return nil, err
	}
	out := make([]sources.RED, 0, len(names))
	for _, n := range names {
		m, _ := b.f.ServiceMetrics(n, r.Start, r.End)
		// the rate window the Prometheus backend would use for this step
		qr, qe, ql := b.red.Render(sources.REDTemplateData{Service: n, ServiceLabel: serviceLabel, Window: promDuration(max(2*step, 2*time.Minute))})
		labels := func() sources.Labels { return sources.Labels{serviceLabel: n} }
		out = append(out, sources.RED{Service: n,
			Requests: sources.Series{Labels: labels(), Query: b.origin(qr), Samples: buckets(m.Requests, r.End, step, mean)},
			Errors:   sources.Series{Labels: labels(), Query: b.origin(qe), Samples: buckets(m.Errors, r.End, step, mean)},
			P99:      sources.Series{Labels: labels(), Query: b.origin(ql), Samples: buckets(m.P99, r.End, step, peak)}})
	}
	return out, nil
}

// edgeKind is how Tempo's service graph classes the callee.
func edgeKind(kind string) sources.EdgeKind {
	switch kind {
	case world.KindDatabase, world.KindCache:
		return sources.EdgeDatabase
	case world.KindQueue, world.KindExternal:
		return sources.EdgeVirtualNode
	}
	return sources.EdgeService
}

// ServiceGraph returns every edge with traffic over the window ending at
// at: its mean rates and its worst p99.
func (b *Backend) ServiceGraph(_ context.Context, at time.Time, w time.Duration) ([]sources.Edge, error) {
	w = max(w, world.Step)
	win := promDuration(w)
	var out []sources.Edge
	for _, e := range b.f.EdgeMetrics(at.Add(-w+time.Nanosecond), at) {
		if len(e.Attempts) == 0 {
			return nil, nil // nothing recorded in the window yet
		}
		// as Prometheus's rate does: the increase over the whole range,
		// so a range the history covers in part reads low, as a real
		// one does (correlate scales the baseline back, coverEdgeBaseline)
		steps := int(w / world.Step)
		rate := overRange(values(e.Attempts), steps)
		if rate == 0 {
			continue
		}
		q := fmt.Sprintf(`sum by (client, server) (rate(traces_service_graph_request_total{client=%q, server=%q}[%s]))`, e.Client, e.Server, win)
		out = append(out, sources.Edge{Client: e.Client, Server: e.Server, Kind: edgeKind(e.ServerKind),
			RequestRate: rate, FailedRate: overRange(values(e.Failed), steps), P99Seconds: peak(values(e.P99)), Query: b.origin(q)})
	}
	return out, nil
}

func values(s []sources.Sample) []float64 {
	out := make([]float64, len(s))
	for i, x := range s {
		out[i] = x.V
	}
	return out
}

// exemplarsPerService bounds the exemplars per service, as a histogram
// keeps only a few per bucket.
const exemplarsPerService = 10

// Exemplars returns, per service, traced requests in r: the failed and
// the slowest first.
func (b *Backend) Exemplars(_ context.Context, services []string, r sources.TimeRange) ([]sources.Exemplar, error) {
	names, err := b.services(services)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []sources.Exemplar
	for _, x := range b.f.Exemplars(r.Start, r.End, exemplarsPerService) {
		if !want[x.Service] {
			continue
		}
		out = append(out, sources.Exemplar{
			SeriesLabels: sources.Labels{"__name__": "traces_spanmetrics_latency_bucket", serviceLabel: x.Service},
			Labels:       sources.Labels{"trace_id": x.TraceID}, TraceID: x.TraceID, Value: x.Seconds, T: x.T})
	}
	return out, nil
}

// Services names every service of the topology, sorted.
func (b *Backend) Services(context.Context) ([]string, error) {
	var out []string
	for _, s := range b.f.Topology().Services {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out, nil
}

// Changes lists deploys and operator changes in r.
func (b *Backend) Changes(_ context.Context, r sources.TimeRange) ([]sources.Change, error) {
	cs := b.f.ChangesBetween(r.Start, r.End)
	for i := range cs {
		cs[i].Source = source
	}
	return cs, nil
}

// source is what the simulator's changes and saturation say they were
// read from.
const source = "simulator"

// Saturation reports worker pools, connection pools, database
// connections and CPU per service, averaged per step.
func (b *Backend) Saturation(_ context.Context, services []string, r sources.TimeRange, step time.Duration) ([]sources.Saturation, error) {
	names, err := b.services(services)
	if err != nil {
		return nil, err
	}
	var out []sources.Saturation
	for _, n := range names {
		res, _ := b.f.Resources(n, r.Start, r.End)
		for _, x := range res {
			used := buckets(x.Used, r.End, step, mean)
			out = append(out, sources.Saturation{Service: n, Resource: x.Name, Max: x.Max, Source: source,
				Used: sources.Series{Labels: sources.Labels{serviceLabel: n, "resource": x.Name}, Query: b.origin(saturationQuery(n, x.Name)),
					Samples: used},
				Limit: sources.Series{Labels: sources.Labels{serviceLabel: n, "resource": x.Name}, Query: b.origin(limitQuery(n, x.Name, x.Max)),
					Samples: constantAt(used, x.Max)}})
		}
	}
	return out, nil
}

// saturationQuery is the PromQL behind a resource, in the names the
// simulator exposes.
func saturationQuery(service, resource string) string {
	switch {
	case resource == world.ResWorkers:
		return fmt.Sprintf(`sum(sim_workers_busy{service=%q})`, service)
	case resource == world.ResCPU:
		return fmt.Sprintf(`sum(sim_cpu_cores{service=%q})`, service)
	case resource == world.ResConnections:
		return fmt.Sprintf(`pg_stat_activity_count{datname=%q}`, service)
	default:
		return fmt.Sprintf(`sum(db_client_connection_count{service=%q, pool_name=%q, state="used"})`, service, strings.TrimPrefix(resource, world.ResPoolPrefix))
	}
}

// limitQuery is the PromQL behind a resource's limit, in the names the
// simulator exposes; it exposes no CPU limit, so that one is the number.
func limitQuery(service, resource string, limit float64) string {
	switch {
	case resource == world.ResWorkers:
		return fmt.Sprintf(`sum(sim_workers_max{service=%q})`, service)
	case resource == world.ResCPU:
		return fmt.Sprintf(`vector(%g)`, limit)
	case resource == world.ResConnections:
		return fmt.Sprintf(`pg_settings_max_connections{datname=%q}`, service)
	default:
		return fmt.Sprintf(`sum(db_client_connection_max{service=%q, pool_name=%q})`, service, strings.TrimPrefix(resource, world.ResPoolPrefix))
	}
}

// constantAt is the limit now at each of the used series' steps: the
// simulator keeps no history of its limits (a pool's size follows its
// owner's ready replicas, and only today's count is kept), so its limit
// series is flat, as its single Max was before.
func constantAt(used []sources.Sample, limit float64) []sources.Sample {
	out := make([]sources.Sample, len(used))
	for i, p := range used {
		out[i] = sources.Sample{T: p.T, V: limit}
	}
	return out
}

// BuildInfo says the simulator answers: it is in process, always up.
func (b *Backend) BuildInfo(context.Context) (sources.BuildInfo, error) {
	return sources.BuildInfo{Version: "simulator", Revision: b.f.Topology().Name}, nil
}

// Doctor reports the simulator's state: it is always reachable.
func (b *Backend) Doctor(context.Context) []sources.Check {
	t := b.f.Topology()
	return []sources.Check{
		{Name: "simulator", Status: sources.CheckOK, Detail: fmt.Sprintf("topology %q, %d services, scenario %s, seed %d", t.Name, len(t.Services), b.f.Scenario().Name, b.f.Seed())},
		{Name: "clock", Status: sources.CheckOK, Detail: "simulated time " + b.f.Now().UTC().Format(time.RFC3339)},
	}
}
