// Package tui is the cockpit: the interactive terminal UI.
//
// App, the root model, only routes: global keys, window sizes, the view
// stack (overview, then incidents opened from it) and the help overlay.
// Each view is a component with Update, View and SetSize. All I/O runs in
// tea.Cmds that return typed messages; View does none and renders with
// the pure functions in render.go, which the golden tests call directly.
package tui
