package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/themes"
)

// common is what every view shares.
type common struct {
	deps   Deps
	styles *themes.Styles
	keys   KeyMap
	paused bool
	frame  int // spinner frame, advanced by the refresh tick
}

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (c *common) spinner() string { return spinFrames[c.frame%len(spinFrames)] }

// view is the contract of every screen.
type view interface {
	Update(tea.Msg) tea.Cmd
	View() string
	SetSize(w, h int)
}

// App is the root model. It routes; the views render.
type App struct {
	c        *common
	overview *overview
	stack    []view // views above the overview; the last is shown
	help     bool
	loading  bool
	confirm  *sources.Silence // an acknowledgement waiting for y/N
	ackAlert string
	flash    string // the outcome of the last action, in the status area
	width    int
	height   int
}

// New builds the cockpit.
func New(d Deps, st *themes.Styles) *App {
	keys := DefaultKeyMap()
	if d.ReadOnly {
		keys = keys.ReadOnly()
	}
	c := &common{deps: d, styles: st, keys: keys}
	return &App{c: c, overview: &overview{c: c}, loading: true}
}

func (a *App) Init() tea.Cmd {
	return tea.Batch(loadOverview(a.c.deps, a.overview.data), tick(a.c.deps.Refresh))
}

func (a *App) top() view {
	if len(a.stack) > 0 {
		return a.stack[len(a.stack)-1]
	}
	return a.overview
}

func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.overview.SetSize(a.width, a.bodyHeight())
		for _, v := range a.stack {
			v.SetSize(a.width, a.bodyHeight())
		}
		return a, nil
	case tea.KeyPressMsg:
		k := a.c.keys
		a.flash = ""
		if c, ok := a.top().(interface{ capturing() bool }); ok && c.capturing() {
			return a, a.top().Update(msg) // typing: keys are text
		}
		if a.confirm != nil {
			// only y goes ahead; anything else is the default answer, no
			s := *a.confirm
			a.confirm = nil
			if key.Matches(msg, k.Yes) {
				a.flash = "acknowledging " + a.ackAlert + "…"
				return a, acknowledge(a.c.deps, s, a.ackAlert)
			}
			a.flash = "not acknowledged"
			return a, nil
		}
		switch {
		case key.Matches(msg, k.Quit):
			return a, tea.Quit
		case key.Matches(msg, k.Help):
			a.help = !a.help
			return a, nil
		case a.help && key.Matches(msg, k.Back):
			a.help = false
			return a, nil
		case key.Matches(msg, k.Back):
			a.pop()
			return a, nil
		case key.Matches(msg, k.Palette):
			p := &palette{c: a.c, items: a.paletteItems()}
			p.SetSize(a.width, a.bodyHeight())
			a.stack = append(a.stack, p)
			return a, nil
		case key.Matches(msg, k.Logs) && a.logsTarget() != nil:
			if a.c.deps.Sources.Logs == nil {
				a.flash = "no loki datasource: no logs to tail"
				return a, nil
			}
			v := &logsView{c: a.c, service: *a.logsTarget()}
			v.SetSize(a.width, a.bodyHeight())
			a.stack = append(a.stack, v)
			return a, startTail(a.c, v)
		case key.Matches(msg, k.Pause):
			a.c.paused = !a.c.paused
			return a, nil
		case key.Matches(msg, k.Ack) && len(a.stack) == 0:
			al, ok := a.overview.selectedAlert()
			switch {
			case !ok:
				a.flash = "select a firing alert to acknowledge"
			case a.c.deps.Sources.Alerts == nil:
				a.flash = "no alertmanager datasource: nothing to acknowledge with"
			default:
				s := ackRequest(a.c.deps, al)
				a.confirm, a.ackAlert = &s, al.Name
			}
			return a, nil
		case msg.String() == "a" && a.c.deps.ReadOnly:
			a.flash = "read-only: acknowledgements are disabled"
			return a, nil
		case key.Matches(msg, k.Refresh):
			if !a.loading {
				a.loading = true
				return a, loadOverview(a.c.deps, a.overview.data)
			}
			return a, nil
		}
		return a, a.top().Update(msg)
	case tickMsg:
		a.c.frame++
		cmds := []tea.Cmd{tick(a.c.deps.Refresh)}
		if !a.c.paused && !a.loading {
			a.loading = true
			cmds = append(cmds, loadOverview(a.c.deps, a.overview.data))
		}
		return a, tea.Batch(cmds...)
	case overviewMsg:
		d := overviewData(msg)
		sortServices(d.Services, a.overview.sortBy)
		a.overview.setData(&d)
		a.loading = false
		return a, nil
	case openIncidentMsg:
		v := &incidentView{c: a.c, trigger: openTrigger(msg, a.c.deps)}
		v.SetSize(a.width, a.bodyHeight())
		a.stack = append(a.stack, v)
		return a, loadIncident(a.c.deps, v.trigger)
	case tailStartedMsg:
		if msg.err != nil {
			msg.v.status = "✗ " + msg.err.Error()
			return a, nil
		}
		msg.v.ch = msg.ch
		return a, msg.v.next()
	case tailMsg:
		if !msg.ok {
			return a, nil // the tail ended: its view was closed
		}
		msg.v.add(msg.ev)
		return a, msg.v.next()
	case paletteChoiceMsg:
		a.pop()
		return a, tea.Cmd(msg.act)
	case popViewMsg:
		a.pop()
		return a, nil
	case popAllMsg:
		for len(a.stack) > 0 {
			a.pop()
		}
		return a, nil
	case helpMsg:
		a.help = true
		return a, nil
	case flashMsg:
		a.flash = string(msg)
		return a, nil
	case pushViewMsg:
		msg.v.SetSize(a.width, a.bodyHeight())
		a.stack = append(a.stack, msg.v)
		return a, nil
	case ackedMsg:
		if msg.err != nil {
			a.flash = "✗ acknowledging " + msg.alert + " failed: " + msg.err.Error()
			return a, nil
		}
		a.flash = "✓ " + msg.alert + " acknowledged by " + a.c.deps.User + " (silence " + msg.id + ")"
		a.loading = true
		return a, loadOverview(a.c.deps, a.overview.data)
	case incidentMsg:
		for _, v := range a.stack {
			if iv, ok := v.(*incidentView); ok && iv.inc == nil && iv.trigger == msg.trigger {
				iv.set(msg.inc, msg.took)
			}
		}
		return a, nil
	}
	return a, nil
}

// logsTarget is whose logs l opens: the selected service in the
// overview, the incident's root cause in an incident; nil elsewhere.
func (a *App) logsTarget() *string {
	switch v := a.top().(type) {
	case *overview:
		t, _ := v.selected()
		return &t.Service
	case *incidentView:
		s := v.trigger.Service
		if v.inc != nil && len(v.inc.Candidates) > 0 {
			s = v.inc.Candidates[0].Service
		}
		return &s
	}
	return nil
}

// pop closes the view on top, ending its subscriptions.
func (a *App) pop() {
	if len(a.stack) == 0 {
		return
	}
	if c, ok := a.top().(interface{ close() }); ok {
		c.close()
	}
	a.stack = a.stack[:len(a.stack)-1]
}

// bodyHeight is the screen minus the title line.
func (a *App) bodyHeight() int { return max(1, a.height-1) }

// View draws the title line, then the top view or the help.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	return v
}

func (a *App) render() string {
	if a.width == 0 || a.height == 0 {
		return ""
	}
	st := a.c.styles
	crumbs := "overview"
	for _, v := range a.stack {
		switch v := v.(type) {
		case *incidentView:
			crumbs += " › incident " + safe(v.trigger.Service)
		case *traceView:
			crumbs += " › traces"
		case *logsView:
			crumbs += " › logs"
		case *palette:
			crumbs += " › find"
		}
	}
	clock := ""
	if d := a.overview.data; d != nil {
		clock = d.At.UTC().Format("15:04:05 UTC")
	}
	left := st.Heading.Render("oncall") + st.Muted.Render(" · "+safe(a.c.deps.Title)+" · "+crumbs)
	right := st.Muted.Render(clock + "  ? help  q quit")
	gap := a.width - lipgloss.Width(left) - lipgloss.Width(right)
	title := fit(left+strings.Repeat(" ", max(1, gap))+right, a.width)
	body := a.top().View()
	switch {
	case a.help:
		body = a.helpView()
	case a.confirm != nil:
		body = a.confirmView()
	}
	if a.flash != "" && a.confirm == nil && !a.help {
		// the outcome of the last action replaces the last line once
		lines := strings.Split(body, "\n")
		lines[len(lines)-1] = fit(st.Accent.Render(safe(a.flash)), a.width)
		body = strings.Join(lines, "\n")
	}
	return title + "\n" + body
}

// confirmView shows the exact request an acknowledgement sends, and asks.
func (a *App) confirmView() string {
	st, s := a.c.styles, a.confirm
	var m []string
	for _, x := range s.Matchers {
		m = append(m, x.Name+"="+strconvQuote(x.Value))
	}
	lines := []string{
		st.Heading.Render("ACKNOWLEDGE " + safe(a.ackAlert) + "?"),
		"",
		"This creates an Alertmanager silence:",
		"",
		"  POST /api/v2/silences",
		"  matchers:   " + safe(strings.Join(m, ", ")),
		"  starts at:  " + s.StartsAt.UTC().Format("2006-01-02 15:04:05 UTC"),
		"  ends at:    " + s.EndsAt.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + s.EndsAt.Sub(s.StartsAt).String() + ")",
		"  created by: " + safe(s.CreatedBy),
		"  comment:    " + safe(s.Comment),
		"",
		st.Warn.Render("Acknowledge? [y/N]") + st.Muted.Render("  (y: yes; any other key: no)"),
	}
	return fill(lines, a.width, a.bodyHeight())
}

func strconvQuote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }

// helpView lists every binding, generated from the key map.
func (a *App) helpView() string {
	st := a.c.styles
	lines := []string{st.Heading.Render("KEYS"), ""}
	for _, col := range a.c.keys.FullHelp() {
		for _, b := range col {
			if !b.Enabled() {
				continue
			}
			h := b.Help()
			lines = append(lines, "  "+st.Accent.Render(fit(h.Key, 10))+" "+h.Desc)
		}
	}
	lines = append(lines, "", st.Muted.Render("Every state is shown by a symbol and a word: ✓ ok, ! warning, ✗ failing."),
		st.Muted.Render("Numbers come from the queries shown in `oncall incident -o json` and `oncall slo -o json`."),
		"", st.Muted.Render("esc or ? closes this help"))
	return fill(lines, a.width, a.bodyHeight())
}
