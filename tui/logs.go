package tui

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// maxLogLines bounds the tail's buffer: a pane left open for a day keeps
// the newest lines only.
const maxLogLines = 2000

// logsView is a live tail of one service's logs (or all), with a pause
// (the global p), a regex filter, wrapping, and a jump to a line's trace.
type logsView struct {
	c        *common
	service  string
	lines    []sources.LogLine
	dropped  int
	status   string // connection state
	filter   string
	re       *regexp.Regexp
	invert   bool
	label    [2]string // name, value when the filter is name=value
	editing  bool
	input    string
	wrap     bool
	sel      int // index into the visible lines, from the newest
	cancel   context.CancelFunc
	ch       <-chan sources.TailEvent
	width    int
	height   int
	filterOK string // the error of the last filter, if any
}

type tailMsg struct {
	v  *logsView
	ev sources.TailEvent
	ok bool
}

type tailStartedMsg struct {
	v   *logsView
	ch  <-chan sources.TailEvent
	err error
}

// startTail subscribes to the service's lines.
func startTail(c *common, v *logsView) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	return func() tea.Msg {
		q := sources.LogQuery{}
		if v.service != "" {
			q.Services = []string{v.service}
		}
		ch, err := c.deps.Sources.Logs.Tail(ctx, q)
		return tailStartedMsg{v: v, ch: ch, err: err}
	}
}

// next waits for the tail's next event.
func (v *logsView) next() tea.Cmd {
	ch := v.ch
	return func() tea.Msg {
		ev, ok := <-ch
		return tailMsg{v: v, ev: ev, ok: ok}
	}
}

func (v *logsView) close() {
	if v.cancel != nil {
		v.cancel()
	}
}

func (v *logsView) SetSize(w, h int) { v.width, v.height = w, h }

// capturing is true while the filter is being typed: keys are text then.
func (v *logsView) capturing() bool { return v.editing }

func (v *logsView) add(ev sources.TailEvent) {
	v.dropped += ev.Dropped
	switch {
	case ev.Reconnecting != nil:
		v.status = "reconnecting: " + ev.Reconnecting.Error()
	case ev.Connected:
		v.status = "live"
	}
	if v.c.paused {
		return // paused: the view holds still; the tail keeps up
	}
	v.lines = append(v.lines, ev.Lines...)
	if n := len(v.lines) - maxLogLines; n > 0 {
		v.lines = append(v.lines[:0], v.lines[n:]...)
	}
}

// labelFilter is a filter of the form name=value.
var labelFilter = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)=(\S+)$`)

// setFilter parses "regex", "!regex" (inverse) or "name=value" (label).
func (v *logsView) setFilter(f string) {
	v.filter, v.re, v.invert, v.label, v.filterOK = f, nil, false, [2]string{}, ""
	if f == "" {
		return
	}
	if strings.HasPrefix(f, "!") {
		v.invert, f = true, f[1:]
	}
	if m := labelFilter.FindStringSubmatch(f); m != nil {
		v.label = [2]string{m[1], m[2]}
		return
	}
	re, err := regexp.Compile(f)
	if err != nil {
		v.filterOK = err.Error()
		return
	}
	v.re = re
}

func (v *logsView) keep(l sources.LogLine) bool {
	match := true
	switch {
	case v.label[0] != "":
		val := l.Labels[v.label[0]]
		switch v.label[0] {
		case "level":
			val = l.Level
		case "service":
			val = l.Service
		}
		match = val == v.label[1]
	case v.re != nil:
		match = v.re.MatchString(l.Line)
	}
	return match != v.invert
}

func (v *logsView) visible() []sources.LogLine {
	var out []sources.LogLine
	for _, l := range v.lines {
		if v.keep(l) {
			out = append(out, l)
		}
	}
	return out
}

func (v *logsView) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if v.editing {
		switch km.String() {
		case "enter":
			v.editing = false
			v.setFilter(v.input)
		case "esc":
			v.editing = false
		case "backspace":
			if r := []rune(v.input); len(r) > 0 {
				v.input = string(r[:len(r)-1])
			}
		default:
			if km.Text != "" {
				v.input += km.Text
			}
		}
		return nil
	}
	k := v.c.keys
	vis := len(v.visible())
	switch {
	case key.Matches(km, k.Filter):
		v.editing, v.input = true, v.filter
	case key.Matches(km, k.Wrap):
		v.wrap = !v.wrap
	case key.Matches(km, k.Up):
		v.sel = min(max(0, vis-1), v.sel+1)
	case key.Matches(km, k.Down):
		v.sel = max(0, v.sel-1)
	case key.Matches(km, k.Bottom):
		v.sel = 0
	case key.Matches(km, k.Top):
		v.sel = max(0, vis-1)
	case key.Matches(km, k.Open):
		lines := v.visible()
		if len(lines) == 0 {
			return nil
		}
		l := lines[len(lines)-1-min(v.sel, len(lines)-1)]
		if l.TraceID == "" || v.c.deps.Sources.Traces == nil {
			return nil
		}
		return openTrace(v.c, l.TraceID, v.lines)
	}
	return nil
}

// openTrace fetches a trace, joins the buffered lines to it and shows it.
func openTrace(c *common, id string, logs []sources.LogLine) tea.Cmd {
	buffered := append([]sources.LogLine(nil), logs...)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), c.deps.Timeout)
		defer cancel()
		t, err := c.deps.Sources.Traces.Trace(ctx, id)
		if err != nil {
			return flashMsg("✗ trace " + id + ": " + err.Error())
		}
		tv := correlate.JoinTraces([]sources.Trace{t}, buffered, correlate.ErrorOrigins([]sources.Trace{t}))
		return pushViewMsg{newTraceView(c, tv)}
	}
}

// flashMsg puts a one-line outcome in the status area.
type flashMsg string

func (v *logsView) View() string {
	st, w, h := v.c.styles, v.width, v.height
	who := v.service
	if who == "" {
		who = "all services"
	}
	state := st.OK.Render("✓ " + v.status)
	if v.status != "live" {
		state = st.Warn.Render("! " + orDefault(v.status, "connecting"))
	}
	if v.c.paused {
		state = st.Warn.Render("! paused (p)")
	}
	head := st.Heading.Render("LOGS "+safe(who)) + "  " + state + st.Muted.Render(fmt.Sprintf("  %d lines kept (max %d)", len(v.lines), maxLogLines))
	if v.dropped > 0 {
		head += "  " + st.Warn.Render(fmt.Sprintf("! %d dropped by the server", v.dropped))
	}
	filt := st.Muted.Render("/ filter (regex, !inverse, label=value) · w wrap · enter: the line's trace · esc back")
	switch {
	case v.editing:
		filt = st.Accent.Render("/"+safe(v.input)+"▏") + st.Muted.Render("  enter apply · esc cancel")
	case v.filterOK != "":
		filt = st.Bad.Render("✗ filter " + safe(v.filter) + ": " + safe(v.filterOK))
	case v.filter != "":
		filt = st.Accent.Render("filter: "+safe(v.filter)) + st.Muted.Render("  (/ to change)")
	}
	lines := []string{fit(head, w), fit(filt, w)}
	vis := v.visible()
	room := h - len(lines)
	var body []string
	// newest at the bottom; the selection counts up from it
	for i := len(vis) - 1; i >= 0 && len(body) < room; i-- {
		l := vis[i]
		lvl := map[string]int{"error": 2, "warn": 1}[l.Level]
		text := l.T.UTC().Format("15:04:05") + " " + st.Level(lvl).Render(fmt.Sprintf("%-5s", l.Level)) + " " + safe(l.Service) + " " + safe(l.Line)
		var rows []string
		if v.wrap {
			rows = strings.Split(lipgloss.NewStyle().Width(w).Render(text), "\n")
		} else {
			rows = []string{fit(text, w)}
		}
		if len(vis)-1-i == v.sel {
			for j := range rows {
				rows[j] = st.Selected.Render(fit(rows[j], w))
			}
		}
		body = append(rows, body...)
	}
	if len(body) > room {
		body = body[len(body)-room:]
	}
	for len(body) < room {
		body = append([]string{""}, body...)
	}
	return fill(append(lines, body...), w, h)
}
