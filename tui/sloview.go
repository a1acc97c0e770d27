package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/slo"
)

// sloView is one SLO in full: its budget, the burn rate of every alert
// window with page and ticket status, the forecast, the burn-down over
// the window and the incidents that spent the budget. It opens on the
// overview's budget and reads the rest in the background.
type sloView struct {
	base
	budget  slo.Budget
	account *slo.BudgetHistory
	accErr  error
	loading bool
	loaded  time.Time // data clock of the last load
	vp      viewport.Model
	lines   []string
}

// sloMsg is a load of one SLO's budget and account.
type sloMsg struct {
	name    string
	budget  slo.Budget
	account *slo.BudgetHistory
	err     error
}

func openSLO(c *common, b slo.Budget) tea.Cmd {
	v := &sloView{base: base{c: c}, budget: b, loading: true, vp: viewport.New()}
	k := c.keys
	v.vp.KeyMap = viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown}
	return push(v, loadSLO(c.deps, b.SLO))
}

// loadSLO reads the budget afresh, its forecast and its account.
func loadSLO(d Deps, s slo.Objective) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		now := d.Now()
		if d.Sources.SLIs == nil {
			return sloMsg{name: s.Name, budget: slo.Budget{SLO: s, Err: errNoSource("metrics").Error(), Status: slo.StatusUnread}}
		}
		bs := loadBudgets(ctx, d.Sources.SLIs, []slo.Objective{s}, now)
		m := sloMsg{name: s.Name, budget: bs[0]}
		if m.budget.Err == "" {
			a, err := slo.LoadAccount(ctx, d.Sources.SLIs, m.budget)
			if err != nil {
				m.err = err
			} else {
				m.account = &a
			}
		}
		return m
	}
}

func (v *sloView) Title() string { return "slo " + safe(v.budget.SLO.Name) }

func (v *sloView) FullHelp() [][]key.Binding { return v.c.keys.sloHelp() }

func (v *sloView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{relabel(k.Back, "esc", "back"), relabel(k.Detail, "d", "error & queries"), relabel(k.Incident, "i", "incident"),
		relabel(k.Copy, "y", "copy queries"), either("↑↓", "scroll", k.Up, k.Down), relabel(k.Help, "?", "help")}
}

// Detail is the SLO's error in full (the view cuts it to the width) and
// where its numbers come from: the path and every query, the window's
// and each burn window's.
func (v *sloView) Detail() (string, []string) {
	b := v.budget
	lines := []string{"SLO " + b.SLO.Name + " of " + b.SLO.Service}
	if b.Err != "" {
		lines = append(lines, "", "error: "+b.Err)
	}
	if v.accErr != nil {
		lines = append(lines, "", "account: "+v.accErr.Error())
	}
	if b.Path != "" {
		lines = append(lines, "", "computed: "+b.Path)
	}
	if len(b.Queries) > 0 {
		lines = append(lines, "", "window queries:")
		for _, q := range b.Queries {
			lines = append(lines, "  "+q)
		}
	}
	for _, bu := range b.Burns {
		how := ""
		if bu.Recorded {
			how = ", recorded"
		}
		lines = append(lines, "", "burn over "+bu.Window.String()+how+":")
		for _, q := range bu.Queries {
			lines = append(lines, "  "+q)
		}
	}
	return "slo " + b.SLO.Name, lines
}

func (v *sloView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.vp.SetWidth(w)
	v.vp.SetHeight(max(0, h-1))
	v.render()
}

func (v *sloView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case sloMsg:
		if msg.name == v.budget.SLO.Name {
			v.budget, v.account, v.accErr, v.loading = msg.budget, msg.account, msg.err, false
			v.loaded = msg.budget.At
			v.render()
		}
	case tickMsg:
		if !v.c.paused && !v.loading && v.c.deps.Now().Sub(v.loaded) >= budgetEvery {
			v.loading = true
			return loadSLO(v.c.deps, v.budget.SLO)
		}
	case refreshMsg:
		if !v.loading {
			v.loading = true
			return loadSLO(v.c.deps, v.budget.SLO)
		}
	case tea.KeyPressMsg:
		return v.key(msg)
	}
	return nil
}

func (v *sloView) key(km tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	if scroll(&v.vp, k, km) {
		return nil
	}
	switch {
	case key.Matches(km, k.Incident, k.Open):
		return openIncident(v.c, correlate.Trigger{Service: v.budget.SLO.Service})
	case key.Matches(km, k.Logs):
		return openLogs(v.c, v.budget.SLO.Service)
	case key.Matches(km, k.Copy):
		return copyLines("the budget's queries", v.budget.Queries)
	}
	return nil
}

// render lays the SLO out for the width.
func (v *sloView) render() {
	if v.width <= 0 {
		return
	}
	o := present.SLODetailOptions{Source: v.c.deps.Title, Currency: v.c.deps.Meta.Currency, Zone: v.c.zone()}
	d := present.NewSLODetail(v.budget, v.account, v.accErr, o)
	v.lines = renderSLO(d, v.width, v.c.styles)
	v.vp.SetContentLines(v.lines)
}

func (v *sloView) View() string {
	st := v.c.styles
	state := "as of " + v.c.clock(v.budget.At)
	if v.loading {
		state = v.c.spinner() + " reading…"
	}
	foot := v.c.footer(v.width, st.Muted.Render(state+" · "), v.ShortHelp())
	from := min(v.vp.YOffset(), len(v.lines))
	return fill(v.lines[from:min(len(v.lines), from+v.vp.Height())], v.width, v.height-1) + "\n" + foot
}
