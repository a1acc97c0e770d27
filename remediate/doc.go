// Package remediate acts on what correlate found: runbooks that match an
// alert or an incident, a diagnosis that branches on what the sources
// show, actions rendered exactly as they will run (an argv exec'd without
// a shell, an HTTP request, a silence, a simulator action), the
// guardrails that may refuse them, the executor, verification, the
// append-only audit log, escalation, approvals and the headless autopilot.
//
// It imports sources and correlate, never a backend, the TUI or cmd. Its
// only I/O is through the sources interfaces, the audit file, the ledger
// file (FileLedger, without Alertmanager) and the flock of its ".lock"
// file beside it, the processes it execs, and the HTTP client it is given.
package remediate
