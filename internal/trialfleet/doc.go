// Package trialfleet is a second, independent test fleet: about 25
// services in five apps whose requests, worker pools, connection pools,
// client timeouts and retries are played by a small discrete-event model
// in wall-clock time. It emits real telemetry (OTLP traces, Loki pushes,
// a Prometheus /metrics endpoint under its own names), injects faults,
// and writes a ledger of each fault's truth so that oncall's diagnosis
// can be graded on a fleet the simulator did not generate.
//
// It must share no code with sim/ and must not import it, nor anything
// above sources: it grades oncall from the outside, through the built
// binary and real backends.
package trialfleet
