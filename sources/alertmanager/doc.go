// Package alertmanager is a thin client over Alertmanager's API v2: alerts,
// silences (list, create, expire) and status. It implements
// sources.Alerting and sources.Doctor and imports only sources from this
// module. The generated go-openapi client is not used: it would bring in
// the whole alertmanager module for five JSON endpoints.
package alertmanager
