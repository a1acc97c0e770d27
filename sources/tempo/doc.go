// Package tempo is a client over Tempo's HTTP API: trace by ID (protobuf by
// default, JSON fallback, the v2 endpoint where the server has it), TraceQL
// search, tag and tag-value discovery, and buildinfo. Spans are decoded with
// the OTLP protobuf types; every ID is normalised to lowercase hex. It
// implements sources.Traces and sources.Doctor and imports only sources
// from this module.
package tempo
