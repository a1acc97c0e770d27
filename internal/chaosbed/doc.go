// Package chaosbed is a small real HTTP service pair to run chaos
// experiments against: ledger, an upstream that answers in a few
// milliseconds, and orders, a frontend whose every request calls ledger
// through a fault injector (Toxiproxy's proxy), under a steady load, with
// /metrics in the OpenTelemetry HTTP convention that oncall's otel-http
// RED preset reads.
//
// The chaos package's integration tests run it behind a real Toxiproxy
// scraped by a real Prometheus; cmd/chaosbed runs the same for users
// (make chaos-testbed). It imports nothing from the module.
package chaosbed
