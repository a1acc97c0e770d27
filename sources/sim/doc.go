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
// sim implements the sources interfaces in process. It imports only
// sources (and libraries); scenario ground truth is exposed through Truth
// for tests and never through the sources interfaces.
package sim
