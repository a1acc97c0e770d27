package testenv

import (
	"fmt"
	"strings"
	"time"
)

// FleetService is one service of the seeded fleet: requests and errors per
// second, and the share of requests under each latency bucket.
type FleetService struct {
	Name            string
	RPS, ErrorsPerS float64
	BucketShares    [5]float64 // le 0.05, 0.1, 0.25, 0.5, 1 (cumulative); +Inf is 1
}

// FleetEdge is one service-graph edge.
type FleetEdge struct {
	Client, Server, ConnectionType string
	RPS, FailedPerS                float64
}

// Fleet is the data set seeded into test Prometheus servers, in the shape
// Tempo's metrics-generator writes.
var Fleet = struct {
	Services []FleetService
	Edges    []FleetEdge
}{
	Services: []FleetService{
		{"web-gateway", 20, 0.5, [5]float64{0.2, 0.5, 0.8, 0.95, 0.99}},
		{"checkout", 10, 0.5, [5]float64{0.1, 0.4, 0.7, 0.9, 0.99}},
		{"payments", 5, 1, [5]float64{0.05, 0.2, 0.5, 0.8, 0.9}},
	},
	Edges: []FleetEdge{
		{"user", "web-gateway", "virtual_node", 20, 0.5},
		{"web-gateway", "checkout", "", 10, 0.5},
		{"checkout", "payments", "", 5, 1},
		{"checkout", "inventory", "virtual_node", 10, 0},
		{"payments", "payments-db", "database", 5, 0.2},
	},
}

var les = []string{"0.05", "0.1", "0.25", "0.5", "1", "+Inf"}

// FleetOpenMetrics renders the fleet as OpenMetrics text for `promtool tsdb
// create-blocks-from openmetrics`: counters sampled every 15s over the span
// ending at end.
func FleetOpenMetrics(end time.Time, span time.Duration) string {
	var b strings.Builder
	start := end.Add(-span)
	var times []time.Time
	for t := start; !t.After(end); t = t.Add(15 * time.Second) {
		times = append(times, t)
	}
	counter := func(family string, series []string, perSecond []float64) {
		fmt.Fprintf(&b, "# TYPE %s counter\n", family)
		for i, labels := range series {
			for _, t := range times {
				fmt.Fprintf(&b, "%s_total{%s} %g %d\n", family, labels, perSecond[i]*t.Sub(start).Seconds(), t.Unix())
			}
		}
	}
	bucketed := func(name string, series []string, perSecond []float64, shares [][5]float64) {
		fmt.Fprintf(&b, "# TYPE %s unknown\n", name)
		for i, labels := range series {
			for j, le := range les {
				share := 1.0
				if j < 5 {
					share = shares[i][j]
				}
				for _, t := range times {
					fmt.Fprintf(&b, "%s{%s,le=%q} %g %d\n", name, labels, le, share*perSecond[i]*t.Sub(start).Seconds(), t.Unix())
				}
			}
		}
	}
	var ok, errs, server []string
	var okRate, errRate, rps []float64
	var shares [][5]float64
	for _, s := range Fleet.Services {
		base := fmt.Sprintf(`service=%q,span_kind="SPAN_KIND_SERVER",span_name="handle"`, s.Name)
		ok = append(ok, base+`,status_code="STATUS_CODE_OK"`)
		errs = append(errs, base+`,status_code="STATUS_CODE_ERROR"`)
		server = append(server, base)
		okRate, errRate, rps = append(okRate, s.RPS-s.ErrorsPerS), append(errRate, s.ErrorsPerS), append(rps, s.RPS)
		shares = append(shares, s.BucketShares)
	}
	counter("traces_spanmetrics_calls", append(ok, errs...), append(okRate, errRate...))
	bucketed("traces_spanmetrics_latency_bucket", server, rps, shares)
	var edges []string
	var edgeRPS, edgeFailed []float64
	var edgeShares [][5]float64
	for _, e := range Fleet.Edges {
		l := fmt.Sprintf("client=%q,server=%q", e.Client, e.Server)
		if e.ConnectionType != "" {
			l += fmt.Sprintf(",connection_type=%q", e.ConnectionType)
		}
		edges = append(edges, l)
		edgeRPS, edgeFailed = append(edgeRPS, e.RPS), append(edgeFailed, e.FailedPerS)
		edgeShares = append(edgeShares, [5]float64{0.3, 0.6, 0.9, 0.97, 0.99})
	}
	counter("traces_service_graph_request", edges, edgeRPS)
	counter("traces_service_graph_request_failed", edges, edgeFailed)
	bucketed("traces_service_graph_request_server_seconds_bucket", edges, edgeRPS, edgeShares)
	b.WriteString("# EOF\n")
	return b.String()
}
