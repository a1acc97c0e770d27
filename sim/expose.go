package sim

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The metrics `oncall demo --serve` exposes, named as the Grafana stack
// names them, so a real Prometheus scraping the simulator answers the
// same queries oncall sends to a production one.
var (
	descCalls = prometheus.NewDesc("traces_spanmetrics_calls_total",
		"Server spans by service and status (Tempo metrics-generator span metrics).", []string{"service", "span_kind", "status_code"}, nil)
	descLatency = prometheus.NewDesc("traces_spanmetrics_latency",
		"Server span duration in seconds (Tempo metrics-generator span metrics).", []string{"service", "span_kind"}, nil)
	descGraphReq = prometheus.NewDesc("traces_service_graph_request_total",
		"Requests between two services (Tempo service graphs).", []string{"client", "server", "connection_type"}, nil)
	descGraphFail = prometheus.NewDesc("traces_service_graph_request_failed_total",
		"Failed requests between two services (Tempo service graphs).", []string{"client", "server", "connection_type"}, nil)
	descGraphSec = prometheus.NewDesc("traces_service_graph_request_server_seconds",
		"Request duration seen by the server side of an edge.", []string{"client", "server", "connection_type"}, nil)
	descPoolUsed = prometheus.NewDesc("db_client_connection_count",
		"Connections of a client pool by state (OpenTelemetry database client metrics).", []string{"service", "pool_name", "state"}, nil)
	descPoolMax = prometheus.NewDesc("db_client_connection_max",
		"Maximum connections a client pool may open.", []string{"service", "pool_name"}, nil)
	descDBConns = prometheus.NewDesc("pg_stat_activity_count",
		"Server-side connections to a database (postgres_exporter).", []string{"datname"}, nil)
	descDBMax = prometheus.NewDesc("pg_settings_max_connections",
		"A database's max_connections (postgres_exporter).", []string{"datname"}, nil)
	descWorkers = prometheus.NewDesc("sim_workers_busy",
		"Requests being worked on, across a service's replicas.", []string{"service"}, nil)
	descWorkersMax = prometheus.NewDesc("sim_workers_max",
		"Concurrent requests a service's ready replicas can work on.", []string{"service"}, nil)
	descCPU = prometheus.NewDesc("sim_cpu_cores",
		"CPU cores a service is using.", []string{"service"}, nil)
	descReady = prometheus.NewDesc("kube_deployment_status_replicas_available",
		"Ready replicas of a service (kube-state-metrics).", []string{"deployment"}, nil)
	descRestarts = prometheus.NewDesc("kube_pod_container_status_restarts_total",
		"Container restarts (kube-state-metrics).", []string{"deployment", "pod"}, nil)
	descHit = prometheus.NewDesc("sim_cache_hit_ratio",
		"Share of cache reads that hit.", []string{"service"}, nil)
	descInfo = prometheus.NewDesc("oncall_sim_info",
		"The simulated fleet: topology, scenario and seed.", []string{"topology", "scenario", "seed"}, nil)
)

// Collector exposes the fleet to a Prometheus registry.
func (f *Fleet) Collector() prometheus.Collector { return collector{f} }

type collector struct{ f *Fleet }

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	f := c.f
	f.mu.RLock()
	defer f.mu.RUnlock()
	st := f.store
	counter, gauge := prometheus.CounterValue, prometheus.GaugeValue
	for i, s := range f.m.services {
		n := s.spec.Name
		// span metrics exist once a span was seen, as Tempo's
		// metrics-generator makes them: an idle service has none
		spans := st.reqTotal[i] > 0
		if instrumented(s) {
			ok := st.reqTotal[i] - st.errTotal[i]
			if spans {
				ch <- prometheus.MustNewConstMetric(descCalls, counter, ok, n, "SPAN_KIND_SERVER", "STATUS_CODE_UNSET")
				ch <- prometheus.MustNewConstMetric(descCalls, counter, st.errTotal[i], n, "SPAN_KIND_SERVER", "STATUS_CODE_ERROR")
				ch <- prometheus.MustNewConstHistogram(descLatency, uint64(st.reqTotal[i]), st.sumTotal[i], histogram(st.bucketTotal[i]), n, "SPAN_KIND_SERVER")
			}
			ch <- prometheus.MustNewConstMetric(descWorkers, gauge, s.workersUsed, n)
			ch <- prometheus.MustNewConstMetric(descWorkersMax, gauge, s.workersMax, n)
			ch <- prometheus.MustNewConstMetric(descReady, gauge, s.ready, n)
			if s.crashPod != "" {
				ch <- prometheus.MustNewConstMetric(descRestarts, counter, float64(st.restarts[i]), n, s.crashPod)
			}
		}
		ch <- prometheus.MustNewConstMetric(descCPU, gauge, s.cpu, n)
		for _, p := range s.pools {
			ch <- prometheus.MustNewConstMetric(descPoolUsed, gauge, p.used, n, p.target.spec.Name, "used")
			ch <- prometheus.MustNewConstMetric(descPoolUsed, gauge, p.size()-p.used, n, p.target.spec.Name, "idle")
			ch <- prometheus.MustNewConstMetric(descPoolMax, gauge, p.size(), n, p.target.spec.Name)
		}
		if s.spec.MaxConnections > 0 {
			ch <- prometheus.MustNewConstMetric(descDBConns, gauge, s.dbConns, n)
			ch <- prometheus.MustNewConstMetric(descDBMax, gauge, float64(s.maxConnections()), n)
		}
		if s.spec.Kind == KindCache {
			ch <- prometheus.MustNewConstMetric(descHit, gauge, s.hitRatio, n)
		}
		// Tempo names the caller of a root span "user", a virtual node
		if s.spec.Entry > 0 && instrumented(s) && spans {
			ch <- prometheus.MustNewConstMetric(descGraphReq, counter, st.reqTotal[i], "user", n, "virtual_node")
			ch <- prometheus.MustNewConstMetric(descGraphFail, counter, st.errTotal[i], "user", n, "virtual_node")
			ch <- prometheus.MustNewConstHistogram(descGraphSec, uint64(st.reqTotal[i]), st.sumTotal[i], histogram(st.bucketTotal[i]), "user", n, "virtual_node")
		}
	}
	for i, e := range f.m.edges {
		if st.edgeReqTotal[i] == 0 {
			continue // no span has crossed it: Tempo has no edge yet
		}
		ct := connectionType(e.to.spec.Kind)
		cl, sv := e.from.spec.Name, e.to.spec.Name
		ch <- prometheus.MustNewConstMetric(descGraphReq, counter, st.edgeReqTotal[i], cl, sv, ct)
		ch <- prometheus.MustNewConstMetric(descGraphFail, counter, st.edgeFailTotal[i], cl, sv, ct)
		ch <- prometheus.MustNewConstHistogram(descGraphSec, uint64(st.edgeReqTotal[i]), 0, histogram(st.edgeBucketTotal[i]), cl, sv, ct)
	}
	ch <- prometheus.MustNewConstMetric(descInfo, gauge, 1, f.m.topo.Name, f.sc.Name, uitoa(f.seed))
}

// connectionType is the connection_type label Tempo's service graphs give
// an edge into a service of this kind: databases and caches are seen from
// their clients' db spans, queues and external APIs are virtual nodes.
func connectionType(kind string) string {
	switch kind {
	case KindDatabase, KindCache:
		return "database"
	case KindQueue, KindExternal:
		return "virtual_node"
	}
	return ""
}

func histogram(cum []float64) map[float64]uint64 {
	out := make(map[float64]uint64, len(buckets))
	for i, le := range buckets {
		out[le] = uint64(cum[i])
	}
	return out
}

func uitoa(u uint64) string {
	if u == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	return string(b[i:])
}
