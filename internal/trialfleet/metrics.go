package trialfleet

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// WriteMetrics writes the fleet's /metrics in the Prometheus text format,
// one endpoint for every service with a `service` label, under the names
// real exporters use: HikariCP or database/sql pool gauges, process
// CPU and start time, machine_cpu_cores as each service's CPU limit, and
// the fleet's own <prefix>_deploy_info and worker gauges.
func (f *Fleet) WriteMetrics(w io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	names := make([]string, 0, len(f.nodes))
	for name := range f.nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	p := f.topo.Prefix
	var b strings.Builder
	family := func(name, typ, help string, each func(n *node) string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, s := range names {
			b.WriteString(each(f.nodes[s]))
		}
	}
	family(p+"_deploy_info", "gauge", "The version each service runs.", func(n *node) string {
		return fmt.Sprintf("%s_deploy_info{service=%q,version=%q} 1\n", p, n.svc.Name, n.version)
	})
	family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", func(n *node) string {
		return fmt.Sprintf("process_start_time_seconds{service=%q} %d\n", n.svc.Name, n.started.Unix())
	})
	family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", func(n *node) string {
		return fmt.Sprintf("process_cpu_seconds_total{service=%q} %.3f\n", n.svc.Name, n.cpuSec)
	})
	family("machine_cpu_cores", "gauge", "CPU cores the service may use (its limit).", func(n *node) string {
		return fmt.Sprintf("machine_cpu_cores{service=%q} %d\n", n.svc.Name, n.svc.Cores)
	})
	family(p+"_workers_busy", "gauge", "Request workers busy.", func(n *node) string {
		if n.workers == nil {
			return ""
		}
		return fmt.Sprintf("%s_workers_busy{service=%q} %d\n", p, n.svc.Name, n.workers.InUse())
	})
	family(p+"_workers_max", "gauge", "Request workers in the pool.", func(n *node) string {
		if n.workers == nil {
			return ""
		}
		return fmt.Sprintf("%s_workers_max{service=%q} %d\n", p, n.svc.Name, n.workers.Max())
	})
	pool := func(exporter, name, typ, help string, value func(n *node) int) {
		family(name, typ, help, func(n *node) string {
			if n.pool == nil || n.app.PoolMetrics != exporter {
				return ""
			}
			label := "pool"
			if exporter == "go_sql" {
				label = "db_name"
			}
			return fmt.Sprintf("%s{service=%q,%s=%q} %d\n", name, n.svc.Name, label, n.svc.Pool.Name, value(n))
		})
	}
	pool("hikaricp", "hikaricp_connections_active", "gauge", "Active connections", func(n *node) int { return n.pool.InUse() })
	pool("hikaricp", "hikaricp_connections_max", "gauge", "Max connections", func(n *node) int { return n.pool.Max() })
	pool("hikaricp", "hikaricp_connections_pending", "gauge", "Pending threads", func(n *node) int { return n.pool.Waiting() })
	pool("go_sql", "go_sql_stats_connections_in_use", "gauge", "The number of connections currently in use.", func(n *node) int { return n.pool.InUse() })
	pool("go_sql", "go_sql_stats_connections_max_open", "gauge", "Maximum number of open connections to the database.", func(n *node) int { return n.pool.Max() })
	_, err := io.WriteString(w, b.String())
	return err
}

// MetricsHandler serves WriteMetrics.
func (f *Fleet) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = f.WriteMetrics(w) // a failed write is the scraper's closed connection
	})
}
