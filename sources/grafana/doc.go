// Package grafana reads Grafana's annotations API as a source of changes:
// the deploy, rollback, restart and scaling annotations many pipelines
// post there. It implements sources.Changes and sources.Doctor and imports
// only sources, internal/httpcall and internal/termsafe from this module;
// the links into Grafana's Explore are internal/grafana's.
package grafana
