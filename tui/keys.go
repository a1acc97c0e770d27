package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap is every binding of the cockpit. Help is generated from it.
type KeyMap struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Open, Back, Refresh, Pause, Help, Quit  key.Binding
	Incident                                key.Binding
	Ack, Yes                                key.Binding
	Traces, NextTrace, PrevTrace            key.Binding
	Logs, Filter, Wrap                      key.Binding
	Palette, Collapse, Sort                 key.Binding
	Copy, Link                              key.Binding
	// Detail shows the selection whole (k9s's describe); Close leaves
	// that pane, as q leaves a pager.
	Detail, Close key.Binding
	// NextPanel and PrevPanel move between a view's panels, as tab does
	// in k9s and lazygit.
	NextPanel, PrevPanel key.Binding
	// Runbook plans the first matching runbook, RunbookN the one of that
	// number; Approve and Reject decide the first proposal waiting.
	Runbook, RunbookN, Approve, Reject key.Binding
	// While typing: Cancel leaves the input, PickUp and PickDown move a
	// selection (j and k are text then).
	Cancel, PickUp, PickDown key.Binding
	// No is the explicit answer no to a confirmation; enter answers its
	// default, which is no too.
	No key.Binding
	// History lists the incidents remembered, Stats the on-call figures
	// counted from them: views that read the history store, from anywhere.
	History, Stats key.Binding
	// Note adds a line to the incident's history record; Postmortem
	// writes its postmortem draft to a file.
	Note, Postmortem key.Binding
	// Chaos lists the chaos experiments, from anywhere; Abort stops the
	// one running (its rollback runs).
	Chaos, Abort key.Binding
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
		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open the selection: an SLO's budget, an alert's or service's incident; fold a span")),
		Incident:  key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "the incident of the selection (an SLO's service too)")),
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
		Copy:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy the selection (a query, a trace ID, a log line) by OSC 52")),
		Link:      key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "a Grafana Explore link for the selection, shown and copied")),
		Detail:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "the whole of the selection: an error, a log line, a label set")),
		Close:     key.NewBinding(key.WithKeys("esc", "q", "d"), key.WithHelp("esc/q/d", "close")),
		NextPanel: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next panel")),
		PrevPanel: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous panel")),
		Runbook:   key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "incident: plan the first matching runbook (shows it all, then asks)")),
		RunbookN:  key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "incident: plan the runbook of that number")),
		Approve:   key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "overview: approve the first proposal waiting (shows its plan, then asks)")),
		Reject:    key.NewBinding(key.WithKeys("X"), key.WithHelp("X", "overview: reject the first proposal waiting (asks first)")),
		Yes:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		No:        key.NewBinding(key.WithKeys("n", "enter", "esc"), key.WithHelp("n/enter/esc", "no")),
		Cancel:    key.NewBinding(key.WithKeys("esc", "ctrl+c"), key.WithHelp("esc", "cancel")),
		PickUp:    key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "previous")),
		PickDown:  key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "next")),
		History:   key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "incident history: past incidents, newest first")),
		Stats:     key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "on-call figures: MTTD, MTTA, MTTR, pages")),
		// allowed read-only: they change oncall's own history, not the stack
		Note:       key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "incident: add a note to its history record (read-only too: it changes only oncall's history)")),
		Postmortem: key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "incident: write its postmortem draft to a file")),
		// allowed read-only: the list and the plans only read; running is refused there
		Chaos: key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "chaos experiments: plans, runs with live guards, unfinished runs")),
		Abort: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "chaos: abort the run (its rollback runs)")),
	}
}

// ReadOnly removes every action from the map, so neither the keys nor
// the help offer them.
func (k KeyMap) ReadOnly() KeyMap {
	for _, a := range k.actions() {
		a.b.SetEnabled(false)
	}
	return k
}

// action is a binding that changes something, and what to call it when
// read-only refuses it.
type action struct {
	b    *key.Binding
	what string
}

// actions are the bindings that change something; read-only disables them.
func (k *KeyMap) actions() []action {
	return []action{{&k.Ack, "acknowledgements"}, {&k.Runbook, "runbooks"}, {&k.RunbookN, "runbooks"}, {&k.Approve, "approvals"}, {&k.Reject, "approvals"}}
}

// refused says, for a key of a disabled action, why nothing happens.
func (k KeyMap) refused(msg tea.KeyPressMsg) (string, bool) {
	for _, a := range k.actions() {
		if a.b.Enabled() {
			continue
		}
		probe := *a.b
		probe.SetEnabled(true)
		if key.Matches(msg, probe) {
			return "read-only: " + a.what + " are disabled", true
		}
	}
	return "", false
}

// relabel is b under another help text: the same keys, described as a
// view's footer says them.
func relabel(b key.Binding, label, desc string) key.Binding {
	r := key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(label, desc))
	r.SetEnabled(b.Enabled())
	return r
}

// either is one binding for the keys of several, for a footer that names
// them together ("↑↓ scroll").
func either(label, desc string, bs ...key.Binding) key.Binding {
	var keys []string
	for _, b := range bs {
		keys = append(keys, b.Keys()...)
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(label, desc))
}

// Global are the keys the root handles, whatever is on top, most
// important first: a footer short of room drops from the end.
func (k KeyMap) Global() []key.Binding { return []key.Binding{k.Help, k.Quit} }

// Each view's help lists its own keys first, then the global ones, as
// lazygit's does: what ? shows is what works where it was pressed.

// moves are the keys that move a cursor or scroll.
func (k KeyMap) moves() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown}
}

// everywhere are the keys the root handles over any view.
func (k KeyMap) everywhere() []key.Binding {
	return []key.Binding{k.Palette, k.History, k.Stats, k.Chaos, k.Back, k.Refresh, k.Pause, k.Help, k.Quit}
}

func (k KeyMap) overviewHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Open, "enter", "open the selection: an SLO's budget, an alert's or a service's incident"), k.Incident, k.Logs, k.Ack, k.Sort,
			relabel(k.Filter, "/", "filter the alerts and services"), k.Detail, k.Copy, k.Link, k.Approve, k.Reject},
		append(k.moves(), k.NextPanel, k.PrevPanel), k.everywhere(),
	}
}

func (k KeyMap) incidentHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Traces, k.Logs, k.Collapse, k.Ack, k.Runbook, k.RunbookN, k.Note, k.Postmortem, k.Detail, k.Copy, k.Link},
		k.moves(), k.everywhere(),
	}
}

func (k KeyMap) traceHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Open, "enter", "fold or unfold the span"), k.NextTrace, k.Detail, k.Copy, k.Link},
		k.moves(), k.everywhere(),
	}
}

func (k KeyMap) logsHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Open, "enter", "open the line's trace"), k.Filter, k.Wrap, k.Detail, k.Copy, k.Link},
		k.moves(), k.everywhere(),
	}
}

func (k KeyMap) sloHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Open, "enter/i", "the incident of the SLO's service"), k.Logs, k.Detail, relabel(k.Copy, "y", "copy the budget's queries")},
		k.moves(), k.everywhere(),
	}
}

func (k KeyMap) historyHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Open, "enter", "the selected incident in full: its timeline, alerts, acks, actions, notes"),
			relabel(k.Postmortem, "P", "write the selected incident's postmortem draft to a file"), relabel(k.Detail, "d", "the selected incident whole")},
		k.moves(), k.everywhere(),
	}
}

func (k KeyMap) recordHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Postmortem, "P", "write its postmortem draft to a file"), relabel(k.Detail, "d", "the whole record, no line cut")},
		k.moves(), k.everywhere(),
	}
}

func (k KeyMap) statsHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Detail, "d", "the figures as `oncall stats` writes them")},
		k.moves(), k.everywhere(),
	}
}

// planHelp is the runbook plan's: while it asks, only the answers and
// scrolling; no other key does anything.
func (k KeyMap) planHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Yes, "y", "run it"), either("n/enter/esc", "do not run it (enter's answer is no; ctrl+c is no too)", k.No, k.Cancel), relabel(k.Detail, "d", "the whole plan, no line cut")},
		{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Back, k.Help, k.Quit},
	}
}

func (k KeyMap) chaosListHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Open, "enter", "the selected experiment's plan, or an unfinished run's rollback"), relabel(k.Detail, "d", "the selection whole")},
		k.moves(), k.everywhere(),
	}
}

// chaosHelp is the chaos run view's: asking as the runbook plan asks,
// then the guard panel's keys.
func (k KeyMap) chaosHelp() [][]key.Binding {
	return [][]key.Binding{
		{relabel(k.Yes, "y", "run it (low danger; high danger wants the target's name typed)"),
			either("n/enter/esc", "do not run it (enter's answer is no)", k.No, k.Cancel), k.Abort,
			relabel(k.NextPanel, "tab", "the next guard: its query below the panel"), relabel(k.Detail, "d", "the whole plan, run and report, no line cut")},
		{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Back, k.Help, k.Quit},
	}
}

func (k KeyMap) detailHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Close, relabel(k.Copy, "y", "copy the whole text")},
		k.moves(),
	}
}

// FullHelp is every key of the cockpit, for the palette's "help".
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		append(k.moves(), k.NextPanel, k.PrevPanel),
		{k.Open, k.Incident, k.Ack, k.Sort, k.Traces, k.NextTrace, k.Collapse, k.Logs, k.Filter, k.Wrap, k.Detail},
		{k.Runbook, k.RunbookN, k.Approve, k.Reject, k.Note, k.Postmortem},
		{k.Chaos, k.Abort},
		{k.Palette, k.History, k.Stats, k.Copy, k.Link, k.Back, k.Refresh, k.Pause, k.Help, k.Quit},
	}
}
