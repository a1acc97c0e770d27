// Package tui is the cockpit: the interactive terminal UI.
//
// Every view and dialog is a Component: Update, View, SetSize, Title (the
// breadcrumbs), ShortHelp and FullHelp (footers and help, from the one
// KeyMap in keys.go), Capturing (true while it takes text) and Close.
// App, the root model, routes by that contract alone: global keys first,
// then keys to the component on top; every other message goes to every
// component, and each takes its own. Components open others by returning
// push, and leave with pop.
//
// All I/O runs in tea.Cmds that return typed messages. View is a pure,
// fast function of the model: scroll offsets are set in Update and
// SetSize, and the wall clock is read once per message into the shared
// common state. Incidents are rendered from the presentation model of
// internal/present; the other renderers are pure functions in render.go,
// which the golden tests call through the real app.
//
// It imports sources, correlate, themes and internal helpers, never a
// backend or the simulated world; cmd wires those in.
package tui
