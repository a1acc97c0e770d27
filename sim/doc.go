// Package sim is the built-in simulated fleet that `oncall demo` runs and
// every later capability is tested against.
//
// It is a fluid model of request flow, stepped once per simulated second:
// traffic enters at gateways, flows through the call graph, and each
// service's latency, errors, worker and connection-pool usage follow from
// its capacity and its dependencies. Callers time out, retry with backoff
// and open circuit breakers, so cascades arise from those mechanisms rather
// than from scripted curves. Sampled requests are walked through the same
// state to produce traces and the log lines that carry their trace IDs.
//
// It is a world, not a backend: it records its telemetry the way a real
// stack would (metrics in rings at Step resolution, log lines, spans,
// alert rules and silences, changes) and serves it in its own terms
// (read.go). The adapter in sources/sim implements the sources
// interfaces over a *Fleet, as the other adapters do over Prometheus,
// Loki, Tempo and Alertmanager. Under `oncall demo --serve` the fleet also
// exposes /metrics and pushes OTLP traces and Loki logs to a real stack.
//
// sim imports only the sources types from this module. Only sources/sim
// and cmd/oncall import sim (tests aside). Scenario ground truth is
// exposed through Truth for tests and never through the adapter.
package sim
