package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
)

// incidentView shows one assembled incident, scrolling.
type incidentView struct {
	c         *common
	trigger   correlate.Trigger
	inc       *correlate.Incident
	shown     present.Incident // inc as it is presented
	took      time.Duration
	lines     []string // rendered for width
	collapsed bool     // the dependency tree shows only the root's callers
	offset    int
	width     int
	height    int
}

func (v *incidentView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.render()
}

func (v *incidentView) render() {
	if v.inc != nil && v.width > 0 {
		v.lines = renderIncident(v.shown, v.collapsed, v.width, v.c.styles)
	}
}

func (v *incidentView) set(inc *correlate.Incident, took time.Duration) {
	v.inc, v.took = inc, took
	runbooks := v.c.deps.Runbooks
	if runbooks == nil {
		runbooks = map[string][]string{} // the panel says none are configured
	}
	v.shown = present.NewIncident(inc, "", runbooks)
	v.render()
}

func (v *incidentView) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := v.c.keys
	last := max(0, len(v.lines)-(v.height-1))
	switch {
	case key.Matches(km, k.Up):
		v.offset = max(0, v.offset-1)
	case key.Matches(km, k.Down):
		v.offset = min(last, v.offset+1)
	case key.Matches(km, k.PageUp):
		v.offset = max(0, v.offset-(v.height-2))
	case key.Matches(km, k.PageDown):
		v.offset = min(last, v.offset+(v.height-2))
	case key.Matches(km, k.Top):
		v.offset = 0
	case key.Matches(km, k.Bottom):
		v.offset = last
	case key.Matches(km, k.Collapse):
		v.collapsed = !v.collapsed
		v.render()
	case key.Matches(km, k.Traces):
		if v.inc != nil && len(v.inc.Traces) > 0 {
			tv := newTraceView(v.c, v.inc.Traces)
			return func() tea.Msg { return pushViewMsg{tv} }
		}
	}
	return nil
}

// pushViewMsg asks the root to show a view above the current one.
type pushViewMsg struct{ v view }

func (v *incidentView) View() string {
	st := v.c.styles
	what := v.trigger.Service
	if v.trigger.Alert != "" {
		what = v.trigger.Alert + " on " + what
	}
	if v.inc == nil {
		return fill([]string{st.Muted.Render(v.c.spinner() + " assembling the incident for " + safe(what) + "…")}, v.width, v.height)
	}
	body := v.lines
	if v.offset < len(body) {
		body = body[v.offset:]
	}
	foot := st.Muted.Render("incident for " + safe(what) + " · assembled in " + v.took.Round(time.Millisecond).String() + " · ↑↓ scroll · t traces · c tree · esc back · ? help")
	return fill(body, v.width, v.height-1) + "\n" + fit(foot, v.width)
}
