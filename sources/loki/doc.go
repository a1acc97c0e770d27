// Package loki is a thin client over Loki's HTTP API: query_range (streams
// and matrix), labels and label values, buildinfo, and live tail over
// WebSocket with reconnection. It implements sources.Logs and
// sources.Doctor and writes LogQL from the conventions. It imports only
// sources from this module; it deliberately does not use Loki's logcli
// client (see docs/testing.md, Dependencies).
package loki
