// Package history remembers incidents: records built live (the cockpit,
// `oncall incident --record`, the autopilot) and reconstructed from the
// stack's own past (Prometheus's ALERTS series, Alertmanager's silences,
// oncall's audit log); the on-call figures counted from them; and
// postmortem drafts written from them.
//
// It is pure functions over domain data plus the Store interface: the
// SQL stores live in history/sqlstore, and cmd wires one in. It imports
// sources, slo, correlate and remediate (for the audit log's rows), never
// a backend, the TUI or a database driver.
package history
