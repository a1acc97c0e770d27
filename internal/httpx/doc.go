// Package httpx builds the *http.Client each backend is given: credentials,
// tenant and extra headers, TLS, a per-request timeout, bounded retries with
// jittered backoff for idempotent requests, a circuit breaker and a
// concurrency limit. Backends never see credentials; they are set here.
// With a RequestLog it also writes one line per request sent (-v), which
// ParseRequestLine reads back.
//
// It must not import sources or any backend: cmd wires it in.
package httpx
