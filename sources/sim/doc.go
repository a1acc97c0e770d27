// Package sim adapts the simulated fleet (the top-level package sim) to
// the sources interfaces: Metrics, Rules, Logs, Traces, Alerting, Doctor,
// Changes and Resources. It is a backend like sources/prometheus or
// sources/loki, over an in-process world instead of a server.
//
// Like the other adapters it turns domain queries into the backend's
// reads (here the fleet's Step-resolution rings, log and span records),
// validates what it is given, and writes for every number the query a
// real stack would have answered it with: the PromQL that a Prometheus
// scraping `oncall demo --serve` answers, or the LogQL for Loki, each
// prefixed with the simulator's seed and scenario.
//
// It imports sources and sim, and nothing else from this module.
package sim
