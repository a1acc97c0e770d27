package tui

import (
	"fmt"
	"sort"

	tea "charm.land/bubbletea/v2"
	"github.com/sahilm/fuzzy"

	"github.com/oncall-cockpit/oncall/correlate"
)

// paletteItem is one thing the palette can go to.
type paletteItem struct {
	kind  string // service, alert, slo, trace, runbook, view
	label string
	act   func() tea.Msg
}

// palette is the command palette (:) and fuzzy finder (ctrl+k): one
// list of services, alerts, SLOs, the open incident's traces, runbooks
// and views, narrowed as you type.
type palette struct {
	c      *common
	items  []paletteItem
	input  string
	sel    int
	width  int
	height int
}

func (p *palette) SetSize(w, h int) { p.width, p.height = w, h }
func (p *palette) capturing() bool  { return true }

// matches are the items that fit the input, best first.
func (p *palette) matches() []paletteItem {
	if p.input == "" {
		return p.items
	}
	labels := make([]string, len(p.items))
	for i, it := range p.items {
		labels[i] = it.kind + " " + it.label
	}
	var out []paletteItem
	for _, m := range fuzzy.Find(p.input, labels) {
		out = append(out, p.items[m.Index])
	}
	return out
}

func (p *palette) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	ms := p.matches()
	switch km.String() {
	case "esc", "ctrl+c":
		return func() tea.Msg { return popViewMsg{} }
	case "enter":
		if len(ms) == 0 {
			return nil
		}
		it := ms[min(p.sel, len(ms)-1)]
		return func() tea.Msg { return paletteChoiceMsg{it.act} }
	case "up", "ctrl+p":
		p.sel = max(0, p.sel-1)
	case "down", "ctrl+n":
		p.sel = min(max(0, len(ms)-1), p.sel+1)
	case "backspace":
		if r := []rune(p.input); len(r) > 0 {
			p.input, p.sel = string(r[:len(r)-1]), 0
		}
	default:
		if km.Text != "" {
			p.input, p.sel = p.input+km.Text, 0
		}
	}
	return nil
}

// popViewMsg closes the view on top.
type popViewMsg struct{}

// paletteChoiceMsg closes the palette, then does what was chosen.
type paletteChoiceMsg struct{ act func() tea.Msg }

func (p *palette) View() string {
	st := p.c.styles
	lines := []string{st.Accent.Render(": "+safe(p.input)+"▏") + st.Muted.Render("  type to narrow · ↑↓ choose · enter go · esc close"), ""}
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

// paletteItems gathers what the palette offers from the current state.
func (a *App) paletteItems() []paletteItem {
	var items []paletteItem
	open := func(t correlate.Trigger) func() tea.Msg {
		return func() tea.Msg { return openIncidentMsg(t) }
	}
	items = append(items,
		paletteItem{"view", "overview", func() tea.Msg { return popAllMsg{} }},
		paletteItem{"view", "help", func() tea.Msg { return helpMsg{} }},
	)
	if d := a.overview.data; d != nil {
		for _, al := range a.overview.firing() {
			items = append(items, paletteItem{"alert", al.Name + " " + al.Service, open(correlate.Trigger{Service: al.Service, Alert: al.Name})})
		}
		for _, b := range d.Budgets {
			items = append(items, paletteItem{"slo", b.SLO.Name + " (" + b.SLO.Service + ")", open(correlate.Trigger{Service: b.SLO.Service})})
		}
		for _, s := range d.Services {
			items = append(items, paletteItem{"service", s.Service, open(correlate.Trigger{Service: s.Service})})
		}
	}
	for _, v := range a.stack {
		iv, ok := v.(*incidentView)
		if !ok || iv.inc == nil {
			continue
		}
		for i := range iv.inc.Traces {
			traces := iv.inc.Traces[i:]
			items = append(items, paletteItem{"trace", iv.inc.Traces[i].TraceID + " " + iv.inc.Traces[i].RootService, func() tea.Msg {
				return pushViewMsg{newTraceView(a.c, traces)}
			}})
		}
	}
	names := make([]string, 0, len(a.c.deps.Runbooks))
	for svc := range a.c.deps.Runbooks {
		names = append(names, svc)
	}
	sort.Strings(names)
	for _, svc := range names {
		for _, link := range a.c.deps.Runbooks[svc] {
			link := link
			items = append(items, paletteItem{"runbook", svc + " " + link, func() tea.Msg { return flashMsg("runbook for " + svc + ": " + link) }})
		}
	}
	return items
}

type popAllMsg struct{}
type helpMsg struct{}
