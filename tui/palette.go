package tui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/sahilm/fuzzy"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// paletteItem is one thing the palette can go to.
type paletteItem struct {
	kind  string // service, alert, slo, trace, runbook, view
	label string
	act   func() tea.Cmd // built when chosen, not for every item shown
}

// palette is the command palette (:) and fuzzy finder (ctrl+k): one
// list of services, alerts, SLOs, the open incidents' traces, runbooks
// and views, narrowed as you type. It takes every key while it is open.
type palette struct {
	base
	items []paletteItem
	input textinput.Model
	sel   int
}

func newPalette(c *common) *palette {
	in := textinput.New()
	in.Prompt = ""
	in.SetVirtualCursor(false)
	in.Focus()
	return &palette{base: base{c: c}, items: paletteItems(c), input: in}
}

func (p *palette) Title() string   { return "find" }
func (p *palette) Capturing() bool { return true }

func (p *palette) ShortHelp() []key.Binding {
	k := p.c.keys
	return []key.Binding{either("↑↓", "choose", k.PickUp, k.PickDown), relabel(k.Open, "enter", "go"), relabel(k.Cancel, "esc", "close")}
}

func (p *palette) FullHelp() [][]key.Binding {
	k := p.c.keys
	return [][]key.Binding{{relabel(k.Open, "enter", "go to the selection, or run :q, :quit or :q! (quit)")},
		{relabel(k.PickUp, "↑/ctrl+p", "previous"), relabel(k.PickDown, "↓/ctrl+n", "next"), relabel(k.Cancel, "esc", "close")}}
}

// commands are what the palette runs when typed exactly, as k9s's
// command line does; only an exact name runs one, so a fuzzy match never
// quits.
var commands = map[string]paletteItem{
	"q":    {"command", "quit", func() tea.Cmd { return requestQuit }},
	"quit": {"command", "quit", func() tea.Cmd { return requestQuit }},
	"q!":   {"command", "quit", func() tea.Cmd { return requestQuit }},
}

// matches are the items that fit the input, best first: a command typed
// exactly, then the fuzzy matches.
func (p *palette) matches() []paletteItem {
	q := p.input.Value()
	if q == "" {
		return p.items
	}
	var out []paletteItem
	if c, ok := commands[strings.TrimSpace(q)]; ok {
		out = append(out, c)
	}
	labels := make([]string, len(p.items))
	for i, it := range p.items {
		labels[i] = it.kind + " " + it.label
	}
	for _, m := range fuzzy.Find(q, labels) {
		out = append(out, p.items[m.Index])
	}
	return out
}

func (p *palette) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		p.input, _ = p.input.Update(msg)
		p.sel = 0
	case tea.KeyPressMsg:
		k := p.c.keys
		ms := p.matches()
		switch {
		case key.Matches(msg, k.Cancel):
			return pop(nil)
		case key.Matches(msg, k.Open):
			if len(ms) == 0 {
				return nil
			}
			return pop(ms[min(p.sel, len(ms)-1)].act())
		case key.Matches(msg, k.PickUp):
			p.sel = max(0, p.sel-1)
		case key.Matches(msg, k.PickDown):
			p.sel = min(max(0, len(ms)-1), p.sel+1)
		default:
			before := p.input.Value()
			p.input, _ = p.input.Update(msg)
			if p.input.Value() != before {
				p.sel = 0
			}
		}
	}
	return nil
}

func (p *palette) View() string {
	st := p.c.styles
	lines := []string{p.c.keyLine(p.width, st.Accent.Render(": "+inputLine(p.input))+st.Muted.Render("  type to narrow · "), p.ShortHelp())}
	lines = append(lines, "")
	ms := p.matches()
	if len(ms) == 0 {
		lines = append(lines, st.Muted.Render("  nothing matches"))
	}
	for i, it := range ms {
		if len(lines) >= p.height {
			break
		}
		row := fmt.Sprintf("%-8s %s", it.kind, safe(it.label))
		if i == p.sel {
			row = st.Selected.Render("▸ " + fit(row, p.width-2))
		} else {
			row = "  " + row
		}
		lines = append(lines, row)
	}
	return fill(lines, p.width, p.height)
}

// paletteItems gathers what the palette offers from what the cockpit
// knows now: the fleet's last load, the open incidents' traces, the
// config's runbooks and the views.
func paletteItems(c *common) []paletteItem {
	var items []paletteItem
	open := func(t correlate.Trigger) func() tea.Cmd { return func() tea.Cmd { return openIncident(c, t) } }
	items = append(items,
		paletteItem{"view", "overview", func() tea.Cmd { return func() tea.Msg { return popAllMsg{} } }},
		paletteItem{"view", "help", func() tea.Cmd { return push(newHelpView(c, "all", c.keys.FullHelp()), nil) }},
	)
	if d := c.fleet; d != nil {
		for _, al := range d.Alerts {
			if al.State == sources.AlertResolved {
				continue
			}
			items = append(items, paletteItem{"alert", al.Name + " " + al.Service, open(correlate.Trigger{Service: al.Service, Alert: al.Name})})
		}
		for _, b := range d.Budgets {
			items = append(items, paletteItem{"slo", b.SLO.Name + " (" + b.SLO.Service + ")", func() tea.Cmd { return openSLO(c, b) }})
		}
		for _, s := range d.Services {
			items = append(items, paletteItem{"service", s.Service, open(correlate.Trigger{Service: s.Service})})
		}
	}
	var sets [][]correlate.TraceView
	for _, ts := range c.traces {
		sets = append(sets, ts)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i][0].TraceID < sets[j][0].TraceID })
	for _, ts := range sets {
		for i := range ts {
			from := ts[i:]
			items = append(items, paletteItem{"trace", ts[i].TraceID + " " + ts[i].RootService, func() tea.Cmd { return push(newTraceView(c, from), nil) }})
		}
	}
	names := make([]string, 0, len(c.deps.Runbooks))
	for svc := range c.deps.Runbooks {
		names = append(names, svc)
	}
	sort.Strings(names)
	for _, svc := range names {
		for _, link := range c.deps.Runbooks[svc] {
			items = append(items, paletteItem{"runbook", svc + " " + link, func() tea.Cmd { return flash("runbook for " + svc + ": " + link) }})
		}
	}
	return items
}
