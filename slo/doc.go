// Package slo is the maths of service level objectives: an Objective over
// a rolling window, its error Budget and burn rates, the multiwindow
// BurnPolicy that pages or opens a ticket, the budget's history, and the
// Forecasts of when a budget runs out or a resource fills.
//
// The Load functions read through the sources interfaces (sources.SLIs,
// sources.Resources); everything else is a pure function of what they
// read. It imports only sources: correlate, the cockpit and the commands
// build on it.
package slo
