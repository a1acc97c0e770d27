package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every binding of the cockpit. Help is generated from it.
type KeyMap struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Open, Back, Refresh, Pause, Help, Quit  key.Binding
	Ack, Yes                                key.Binding
	Traces, NextTrace, PrevTrace            key.Binding
	Logs, Filter, Wrap                      key.Binding
	Palette, Collapse, Sort                 key.Binding
}

// DefaultKeyMap has arrows and vim keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:       key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:    key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("ctrl+u", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("ctrl+d", "page down")),
		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open the selected alert's or service's incident; fold a span")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Refresh:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh now")),
		Pause:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause or resume refresh")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Ack:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "acknowledge the selected alert (asks first)")),
		Traces:    key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "incident: open its traces as a waterfall")),
		NextTrace: key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "waterfall: next or previous trace")),
		PrevTrace: key.NewBinding(key.WithKeys("N")),
		Logs:      key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "live logs of the selected service (or the incident's)")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "logs: filter by regex, !inverse or label=value")),
		Wrap:      key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "logs: wrap long lines")),
		Palette:   key.NewBinding(key.WithKeys(":", "ctrl+k"), key.WithHelp(":/ctrl+k", "find anything: services, alerts, SLOs, traces, runbooks, views")),
		Collapse:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "incident: collapse or expand the dependency tree")),
		Sort:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "overview: sort services by health, name, rate, errors or p99")),
		Yes:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
	}
}

// ReadOnly removes every action from the map, so neither the keys nor
// the help offer them.
func (k KeyMap) ReadOnly() KeyMap {
	k.Ack.SetEnabled(false)
	return k
}

// ShortHelp is the one-line hint of the footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Palette, k.Back, k.Help, k.Quit}
}

// FullHelp is the help overlay, in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Open, k.Ack, k.Sort, k.Traces, k.NextTrace, k.Collapse, k.Logs, k.Filter, k.Wrap},
		{k.Palette, k.Back, k.Refresh, k.Pause, k.Help, k.Quit},
	}
}
