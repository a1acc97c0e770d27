// Package correlate turns domain data from the sources interfaces into one
// incident: what broke first and why, the dependency graph around it, and
// the blast radius.
//
// Gather is the only part that does I/O, and only through the sources
// interfaces: it collects evidence in parallel under a deadline and names
// what did not arrive. Everything else (Analyze and the functions it calls)
// is a pure function of that evidence, so it is tested on recorded or
// generated data without a backend.
package correlate
