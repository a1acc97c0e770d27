// Package sources holds the domain types every other package speaks (series,
// log lines, spans and traces, alerts, silences, service-graph edges), the
// small interfaces the backends implement, and the conventions that tell a
// backend how this fleet names things.
//
// It must not import any backend package, correlate or tui. Backend packages
// (sources/prometheus, sources/loki, sources/tempo, sources/alertmanager)
// import only this package and internal/httpcall, their shared HTTP
// helper; they alone write PromQL, LogQL or TraceQL.
package sources
