package tui

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

// maxLogLines bounds the tail's buffer: a pane left open for a day keeps
// the newest lines only.
const maxLogLines = 2000

// logsView is a live tail of one service's logs (or all), with a pause
// (the global p), a regex filter, wrapping, and a jump to a line's trace.
type logsView struct {
	base
	service  string
	lines    []sources.LogLine
	visible  []sources.LogLine // lines that pass the filter, kept in step with lines
	dropped  int
	status   string // connection state
	history  string // what went wrong reading the earlier lines, if anything
	filter   string
	re       *regexp.Regexp
	invert   bool
	label    [2]string // name, value when the filter is name=value
	editing  bool
	input    textinput.Model
	wrap     bool
	sel      int // index into the visible lines, from the newest
	cancel   context.CancelFunc
	ch       <-chan sources.TailEvent
	filterOK string // the error of the last filter, if any
	// held are the lines that came while paused, shown on resume: a
	// pause stills the view, it loses nothing.
	held []sources.LogLine
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

// openLogs shows a service's last lines in a new view, and tails it.
func openLogs(c *common, service string) tea.Cmd {
	if c.deps.Sources.Logs == nil {
		return flash("no loki datasource: no logs to tail")
	}
	v := newLogsView(c, service)
	return push(v, tea.Batch(loadHistory(c, v), startTail(c, v)))
}

// historyLines is how many lines from before the view opened it shows, so
// a quiet service does not open on a blank screen.
const historyLines = 200

// historyWindow is how far back those lines are looked for.
const historyWindow = time.Hour

type historyMsg struct {
	v     *logsView
	lines []sources.LogLine // oldest first
	err   error
}

// loadHistory reads the newest lines of the last historyWindow.
func loadHistory(c *common, v *logsView) tea.Cmd {
	now := c.deps.Now()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), c.deps.Timeout)
		defer cancel()
		q := sources.LogQuery{Range: sources.TimeRange{Start: now.Add(-historyWindow), End: now}, Limit: historyLines}
		if v.service != "" {
			q.Services = []string{v.service}
		}
		lines, err := c.deps.Sources.Logs.Logs(ctx, q)
		slices.Reverse(lines)
		return historyMsg{v: v, lines: lines, err: err}
	}
}

// addHistory puts the earlier lines before what the tail delivered, once
// each.
func (v *logsView) addHistory(m historyMsg) {
	if m.err != nil {
		v.history = "! earlier lines: " + m.err.Error()
		return
	}
	have := make(map[string]bool, len(v.lines))
	for _, l := range v.lines {
		have[logKey(l)] = true
	}
	merged := make([]sources.LogLine, 0, len(m.lines)+len(v.lines))
	for _, l := range m.lines {
		if !have[logKey(l)] {
			merged = append(merged, l)
		}
	}
	v.lines = append(merged, v.lines...)
	if n := len(v.lines) - maxLogLines; n > 0 {
		v.lines = v.lines[n:]
	}
	v.refilter()
}

func logKey(l sources.LogLine) string { return l.T.String() + "\x00" + l.Service + "\x00" + l.Line }

func newLogsView(c *common, service string) *logsView {
	in := textinput.New()
	in.Prompt = ""
	in.SetVirtualCursor(false)
	return &logsView{base: base{c: c}, service: service, input: in}
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

func (v *logsView) Title() string { return "logs" }

func (v *logsView) FullHelp() [][]key.Binding { return v.c.keys.logsHelp() }

func (v *logsView) Close() {
	if v.cancel != nil {
		v.cancel()
	}
}

// Capturing is true while the filter is being typed: keys are text then.
func (v *logsView) Capturing() bool { return v.editing }

// ShortHelp is in the order a footer short of room keeps them: the jump
// to the trace first, then the filter, the whole line and the rest.
func (v *logsView) ShortHelp() []key.Binding {
	k := v.c.keys
	if v.editing {
		return []key.Binding{relabel(k.Open, "enter", "apply"), relabel(k.Cancel, "esc", "cancel")}
	}
	return []key.Binding{relabel(k.Open, "enter", "trace"), relabel(k.Filter, "/", "filter"), relabel(k.Detail, "d", "whole line"),
		relabel(k.Wrap, "w", "wrap"), relabel(k.Copy, "y", "copy"), relabel(k.Link, "o", "link"), relabel(k.Back, "esc", "back")}
}

// selected is the line under the cursor.
func (v *logsView) selected() (sources.LogLine, bool) {
	n := len(v.visible)
	if n == 0 {
		return sources.LogLine{}, false
	}
	return v.visible[n-1-min(v.sel, n-1)], true
}

// Detail is the selected line raw and whole, with its labels.
func (v *logsView) Detail() (string, []string) {
	l, ok := v.selected()
	if !ok {
		return "", nil
	}
	out := []string{v.c.clock(l.T) + " " + l.Level + " " + l.Service, "", l.Line, ""}
	if l.TraceID != "" {
		out = append(out, "trace "+l.TraceID)
	}
	names := slices.Sorted(maps.Keys(l.Labels))
	for _, n := range names {
		out = append(out, n+"="+l.Labels[n])
	}
	return "log line", out
}

func (v *logsView) add(ev sources.TailEvent) {
	v.dropped += ev.Dropped
	switch {
	case ev.Reconnecting != nil:
		v.status = "reconnecting: " + ev.Reconnecting.Error()
	case ev.Connected:
		v.status = "live"
	}
	if v.c.paused {
		v.held = append(v.held, ev.Lines...)
		return // paused: the view holds still; the tail keeps up
	}
	lines := append(v.held, ev.Lines...)
	v.held = nil
	if v.merge(lines) {
		v.refilter()
		return
	}
	for _, l := range lines {
		if v.keep(l) {
			v.visible = append(v.visible, l)
		}
	}
}

// merge puts new lines in time order among the kept ones: streams and
// reconnects deliver out of order (23:40:05 before 23:39:58), and a
// reconnect may deliver a line again, which is kept once. It reports
// whether anything but a plain append happened, when the visible lines
// must be filtered again.
func (v *logsView) merge(lines []sources.LogLine) bool {
	reordered := false
	seen := make(map[string]bool, reorderCheck)
	for i := max(0, len(v.lines)-reorderCheck); i < len(v.lines); i++ {
		seen[logKey(v.lines[i])] = true
	}
	for _, l := range lines {
		k := logKey(l)
		if seen[k] {
			continue
		}
		seen[k] = true
		i := len(v.lines)
		for i > 0 && v.lines[i-1].T.After(l.T) {
			i--
		}
		if i < len(v.lines) {
			reordered = true
		}
		v.lines = slices.Insert(v.lines, i, l)
	}
	if n := len(v.lines) - maxLogLines; n > 0 {
		v.lines = append(v.lines[:0], v.lines[n:]...)
		reordered = true
	}
	return reordered
}

// reorderCheck is how many of the newest kept lines a new line is
// checked against for a repeat: a reconnect resends seconds, not hours.
const reorderCheck = 500

// labelFilter is a filter of the form name=value.
var labelFilter = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)=(\S+)$`)

// setFilter parses "regex", "!regex" (inverse) or "name=value" (label).
func (v *logsView) setFilter(f string) {
	defer v.refilter()
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

// refilter recomputes the visible lines after the filter or the buffer
// changed; View only reads them.
func (v *logsView) refilter() {
	v.visible = v.visible[:0]
	for _, l := range v.lines {
		if v.keep(l) {
			v.visible = append(v.visible, l)
		}
	}
	v.sel = min(v.sel, max(0, len(v.visible)-1))
}

func (v *logsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case historyMsg:
		if msg.v == v {
			v.addHistory(msg)
		}
	case tailStartedMsg:
		if msg.v != v {
			return nil
		}
		if msg.err != nil {
			v.status = "✗ " + msg.err.Error()
			return nil
		}
		v.ch = msg.ch
		return v.next()
	case tailMsg:
		if msg.v != v || !msg.ok {
			return nil // another view's, or the tail ended: the view was closed
		}
		v.add(msg.ev)
		return v.next()
	case tea.PasteMsg:
		if v.editing {
			v.input, _ = v.input.Update(msg)
		}
	case tea.KeyPressMsg:
		if v.editing {
			v.edit(msg)
			return nil
		}
		return v.key(msg)
	}
	return nil
}

// edit handles a key while the filter is typed.
func (v *logsView) edit(km tea.KeyPressMsg) {
	k := v.c.keys
	switch {
	case key.Matches(km, k.Open):
		v.editing = false
		v.setFilter(v.input.Value())
	case key.Matches(km, k.Cancel):
		v.editing = false
	default:
		v.input, _ = v.input.Update(km)
	}
}

func (v *logsView) key(km tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	vis := len(v.visible)
	switch {
	case key.Matches(km, k.Filter):
		v.editing = true
		editFilter(&v.input, v.filter)
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
	case key.Matches(km, k.PageUp):
		v.sel = min(max(0, vis-1), v.sel+max(1, v.height-4))
	case key.Matches(km, k.PageDown):
		v.sel = max(0, v.sel-max(1, v.height-4))
	case key.Matches(km, k.Open):
		l, ok := v.selected()
		switch {
		case !ok:
			return nil
		case l.TraceID == "":
			return flash("this line names no trace")
		case v.c.deps.Sources.Traces == nil:
			return flash("no tempo datasource: no trace to open")
		}
		return openTrace(v.c, l.TraceID, v.lines)
	case key.Matches(km, k.Copy):
		l, ok := v.selected()
		if !ok {
			return copyText("", "")
		}
		return copyText("the line", safe(l.Line))
	case key.Matches(km, k.Link):
		w, ok := v.c.deps.Sources.Logs.(sources.LogQueryWriter)
		if !ok {
			return flash("this log source writes no LogQL to link to")
		}
		q := sources.LogQuery{}
		if v.service != "" {
			q.Services = []string{v.service}
		}
		now := v.c.deps.Now()
		return exploreLink(v.c, grafana.Loki, w.LogQL(q), now.Add(-historyWindow), now)
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
		return pushMsg{c: newTraceView(c, tv)}
	}
}

// inputLine draws a text input's value with a bar at its cursor.
// editFilter opens in on the filter kept so far, the cursor at its end.
func editFilter(in *textinput.Model, kept string) {
	in.SetValue(kept)
	in.CursorEnd()
	in.Focus()
}

func inputLine(in textinput.Model) string {
	r := []rune(in.Value())
	p := min(in.Position(), len(r))
	return safe(string(r[:p])) + "▏" + safe(string(r[p:]))
}

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
	if v.history != "" {
		head += "  " + st.Warn.Render(safe(v.history))
	}
	filt := v.c.footer(w, "", v.ShortHelp())
	switch {
	case v.editing:
		filt = v.c.keyLine(w, st.Accent.Render("/"+inputLine(v.input))+"  ", v.ShortHelp())
	case v.filterOK != "":
		filt = st.Bad.Render("✗ filter " + safe(v.filter) + ": " + safe(v.filterOK))
	case v.filter != "":
		filt = v.c.footer(w, st.Accent.Render("filter: "+safe(v.filter))+"  ", v.ShortHelp())
	}
	lines := []string{fit(head, w), fit(filt, w)}
	return fill(append(lines, v.body(h-len(lines))...), w, h)
}

// body is the lines, newest at the bottom, in room rows: the selected
// line always shows, and the lines cut above and below it are counted.
func (v *logsView) body(room int) []string {
	st, w, n := v.c.styles, v.width, len(v.visible)
	if room <= 0 {
		return nil
	}
	if n == 0 {
		return []string{st.Muted.Render("  no lines yet")}
	}
	sel := min(v.sel, n-1)
	rows := func(i int) []string { return v.rows(v.visible[n-1-i], i == sel, w) }
	if room < 3 {
		// no room to count the lines cut: the selection alone
		r := rows(sel)
		return r[:min(len(r), room)]
	}
	// bottom is the newest line shown: the newest, unless the lines from
	// it to the selection do not fit below the count of older ones
	bottom := 0
	for ; bottom < sel; bottom++ {
		space := room - 1 - min(1, bottom)
		used := 0
		for i := bottom; i <= sel && used <= space; i++ {
			used += len(rows(i))
		}
		if used <= space {
			break
		}
	}
	space := room - 1 - min(1, bottom)
	var body []string
	top := bottom
	for i := bottom; i < n; i++ {
		r := rows(i)
		if len(body)+len(r) > space {
			if i == sel {
				body = append(r[:space-len(body)], body...)
				top = i
			}
			break
		}
		body, top = append(r, body...), i
	}
	if older := n - 1 - top; older > 0 {
		body = append([]string{st.Muted.Render(fmt.Sprintf("  ↑ %d older lines", older))}, body...)
	}
	if bottom > 0 {
		body = append(body, st.Muted.Render(fmt.Sprintf("  ↓ %d newer lines (G)", bottom)))
	}
	for len(body) < room {
		body = append([]string{""}, body...)
	}
	return body
}

// rows draws one line, cut to the width or wrapped (w), after a gutter
// that holds the ▸ of the selection: the mark survives NO_COLOR, and the
// selected row is drawn in the selection style alone, so that no inner
// style ends its background early.
func (v *logsView) rows(l sources.LogLine, selected bool, w int) []string {
	st := v.c.styles
	lvl := map[string]int{"error": 2, "warn": 1}[l.Level]
	level, service := fmt.Sprintf("%-5s", safe(l.Level)), ""
	// the heading names the view's service: a row names only another
	if l.Service != v.service {
		service = safe(l.Service) + " "
	}
	text := safe(present.ShortLogLine(l.Line, l.Level, l.Service))
	plain := v.c.clock(l.T) + " " + level + " " + service + text
	styled := v.c.clock(l.T) + " " + st.Level(lvl).Render(level) + " " + st.Muted.Render(service) + text
	if selected {
		styled = plain
	}
	var rows []string
	if v.wrap {
		rows = strings.Split(ansi.Wrap(styled, max(1, w-2), ""), "\n")
	} else {
		rows = []string{fit(styled, w-2)}
	}
	for j := range rows {
		gutter := "  "
		if selected && j == 0 {
			gutter = "▸ "
		}
		if selected {
			rows[j] = st.Selected.Render(gutter + fit(rows[j], w-2))
		} else {
			rows[j] = gutter + rows[j]
		}
	}
	return rows
}
