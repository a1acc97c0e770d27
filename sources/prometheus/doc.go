// Package prometheus implements sources.Metrics, sources.Rules and
// sources.Doctor over the Prometheus HTTP API (client_golang api/v1). It
// turns domain queries into PromQL from the conventions. It imports only
// sources from this module.
package prometheus
