// Package chaos runs chaos experiments: a fault injected through the
// remediation actions (audited, confirmed, read-only aware), guarded by
// live RED and SLO-burn checks read every few seconds on the data's
// clock, and rolled back whatever happens: passed, a guard tripped, a
// guard's backend stopped answering, or the operator interrupted. A run
// killed outright is found in the audit log (FindUnfinished) and its
// rollback offered (Recover). The daemon starts scheduled experiments
// only while every SLO keeps its budget floor and no incident is open.
//
// It imports sources, slo, remediate and history, never a backend: the
// command wires those in.
package chaos
