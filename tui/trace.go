package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

// traceView is a waterfall: one row per span in tree order, a bar on a
// shared time axis, folding with enter, and the selected span's details
// and log lines below.
type traceView struct {
	base
	traces []correlate.TraceView
	cur    int // which trace
	rows   []present.SpanRow
	folded map[string]bool
	sel    int
	offset int // first span row shown
}

func newTraceView(c *common, traces []correlate.TraceView) *traceView {
	v := &traceView{base: base{c: c}, traces: traces, folded: map[string]bool{}}
	v.layout()
	return v
}

func (v *traceView) Title() string { return "traces" }

func (v *traceView) FullHelp() [][]key.Binding { return v.c.keys.traceHelp() }

// ShortHelp is in the order a footer short of room keeps them.
func (v *traceView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{relabel(k.Open, "enter", "fold"), relabel(k.NextTrace, "n/N", "next/prev trace"), relabel(k.Detail, "d", "whole span"),
		relabel(k.Copy, "y", "copy ID"), relabel(k.Link, "o", "link"), relabel(k.Back, "esc", "back")}
}

func (v *traceView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.clampOffset()
}

// spanRoom is how many rows the spans have between the axis and the
// selected span's details, and whether they are cut, when two of those
// rows count the spans above and below.
func (v *traceView) spanRoom() (room int, cut bool) {
	full := max(1, v.height-2-len(v.detail(&v.traces[v.cur], v.width))-1)
	if len(v.rows) <= full || full < 3 {
		return full, false // all fit, or no room to count what does not
	}
	return full - 2, true
}

// clampOffset scrolls the span rows so that the selected one shows.
func (v *traceView) clampOffset() {
	if len(v.rows) == 0 {
		return
	}
	room, _ := v.spanRoom()
	v.offset = min(v.offset, v.sel, max(0, len(v.rows)-room))
	if v.sel >= v.offset+room {
		v.offset = v.sel - room + 1
	}
}

// layout lists the current trace's spans in tree order, without the
// children of folded spans.
func (v *traceView) layout() {
	v.rows = nil
	if len(v.traces) == 0 {
		return
	}
	v.rows = present.SpanRows(&v.traces[v.cur], v.folded)
	v.sel = min(v.sel, max(0, len(v.rows)-1))
}

func (v *traceView) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || len(v.rows) == 0 {
		return nil
	}
	defer v.clampOffset()
	k := v.c.keys
	switch {
	case key.Matches(km, k.Up):
		v.sel = max(0, v.sel-1)
	case key.Matches(km, k.Down):
		v.sel = min(len(v.rows)-1, v.sel+1)
	case key.Matches(km, k.Top):
		v.sel = 0
	case key.Matches(km, k.Bottom):
		v.sel = len(v.rows) - 1
	case key.Matches(km, k.PageDown):
		room, _ := v.spanRoom()
		v.sel = min(len(v.rows)-1, v.sel+max(1, room))
	case key.Matches(km, k.PageUp):
		room, _ := v.spanRoom()
		v.sel = max(0, v.sel-max(1, room))
	case key.Matches(km, k.Open):
		if r := v.rows[v.sel]; r.Kids > 0 {
			v.folded[r.Span.SpanID] = !v.folded[r.Span.SpanID]
			v.layout()
		}
	case key.Matches(km, k.NextTrace):
		v.cur, v.sel, v.offset = (v.cur+1)%len(v.traces), 0, 0
		v.layout()
	case key.Matches(km, k.PrevTrace):
		v.cur, v.sel, v.offset = (v.cur+len(v.traces)-1)%len(v.traces), 0, 0
		v.layout()
	case key.Matches(km, k.Copy):
		return copyText("the trace ID", v.traces[v.cur].TraceID)
	case key.Matches(km, k.Link):
		t := v.traces[v.cur]
		return exploreLink(v.c, grafana.Tempo, t.TraceID, t.Start.Add(-time.Minute), t.Start.Add(t.Duration+time.Minute))
	}
	return nil
}

func (v *traceView) View() string {
	st, w, h := v.c.styles, v.width, v.height
	if len(v.traces) == 0 {
		return fill([]string{st.Muted.Render("no traces in this incident")}, w, h)
	}
	t := &v.traces[v.cur]
	label := max(20, min(48, w*2/5))
	barW := max(10, w-label-14)
	lines := []string{st.Heading.Render(fmt.Sprintf("TRACE %s", safe(t.TraceID))) +
		st.Muted.Render(fmt.Sprintf("  %d of %d · %s %s · %s", v.cur+1, len(v.traces), safe(t.RootService), safe(t.RootName), t.Duration.Round(time.Millisecond)))}
	lines = append(lines, st.Muted.Render(fmt.Sprintf("  %-*s %s", label, "", present.TimeAxis(t.Duration, barW))))
	room, cut := v.spanRoom()
	end := min(len(v.rows), v.offset+room)
	if cut {
		lines = append(lines, st.Muted.Render(moreRows(v.offset, "above")))
	}
	for i := v.offset; i < end; i++ {
		lines = append(lines, v.spanLine(t, v.rows[i], i == v.sel, label, barW))
	}
	if cut {
		lines = append(lines, st.Muted.Render(moreRows(len(v.rows)-end, "below")))
	}
	detail := v.detail(t, w)
	body := fill(lines, w, h-len(detail)-1)
	return body + "\n" + strings.Join(append(detail, v.c.footer(w, "", v.ShortHelp())), "\n")
}

// moreRows counts the spans cut above or below; none is a blank row.
func moreRows(n int, where string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("  %s %d more %s", map[string]string{"above": "↑", "below": "↓"}[where], n, where)
}

// spanLine is one row of the waterfall, after a gutter that holds the ▸
// of the selection. The selected row is drawn in the selection style
// alone, so that the ✗ and the bar's colour do not end its background
// early, and the ▸ marks it under NO_COLOR.
func (v *traceView) spanLine(t *correlate.TraceView, r present.SpanRow, selected bool, label, barW int) string {
	st := v.c.styles
	sp := r.Span
	fold := "  "
	if r.Kids > 0 {
		fold = "▾ "
		if v.folded[sp.SpanID] {
			fold = "▹ "
		}
	}
	mark, failed := "  ", sp.Status == sources.StatusError
	if failed {
		mark = "✗ "
	}
	name := fit(strings.Repeat(" ", r.Depth)+fold+safe(sp.Service)+" "+safe(sp.Name), label-2)
	bar, took := present.Bar(t, sp, barW), fmt.Sprintf("%8s", sp.Duration.Round(time.Millisecond))
	if selected {
		return st.Selected.Render(fit("▸ "+mark+name+" "+bar+" "+took, v.width))
	}
	if failed {
		mark = st.Bad.Render(mark)
	}
	return "  " + mark + name + " " + st.SeriesOf(sp.Service).Render(bar) + " " + took
}

// detail is the selected span and the log lines joined to it, cut to
// the width and to half the height: d shows them whole.
func (v *traceView) detail(t *correlate.TraceView, w int) []string {
	if len(v.rows) == 0 {
		return nil
	}
	out := v.detailLines(t, w)
	out = out[:min(len(out), v.height/2)]
	for i := range out {
		out[i] = fit(out[i], w)
	}
	return out
}

func (v *traceView) detailLines(t *correlate.TraceView, w int) []string {
	st := v.c.styles
	sp := v.rows[v.sel].Span
	out := []string{st.Border.Render(strings.Repeat("─", w)),
		fit(fmt.Sprintf("%s %s · %s · %s · started +%s · %s", st.Heading.Render(safe(sp.Service)), safe(sp.Name), sp.Kind,
			sp.Status, sp.Start.Sub(t.Start).Round(time.Millisecond), sp.Duration.Round(time.Millisecond)), w)}
	if sp.Message != "" {
		out = append(out, fit(st.Bad.Render("✗ "+safe(sp.Message)), w))
	}
	for i, l := range sp.Logs {
		if i == 3 {
			out = append(out, st.Muted.Render(fmt.Sprintf("  … %d more lines (d shows them)", len(sp.Logs)-3)))
			break
		}
		out = append(out, fit(st.Muted.Render("  log "+v.c.clock(l.T)+" "+safe(present.ShortLogLine(l.Line, l.Level, l.Service))), w))
	}
	if len(sp.Logs) == 0 {
		out = append(out, st.Muted.Render("  no log lines joined to this span"))
	}
	return out
}

// Detail is the selected span whole: every attribute, its error and
// the log lines joined to it, raw.
func (v *traceView) Detail() (string, []string) {
	if len(v.rows) == 0 {
		return "", nil
	}
	t := &v.traces[v.cur]
	sp := v.rows[v.sel].Span
	out := []string{fmt.Sprintf("%s %s · %s · %s · started +%s · %s", sp.Service, sp.Name, sp.Kind, sp.Status,
		sp.Start.Sub(t.Start).Round(time.Millisecond), sp.Duration.Round(time.Millisecond)),
		"trace " + t.TraceID + " · span " + sp.SpanID}
	if sp.Message != "" {
		out = append(out, "", "✗ "+sp.Message)
	}
	if len(sp.Attributes) > 0 {
		out = append(out, "", "attributes:")
		for _, k := range slices.Sorted(maps.Keys(sp.Attributes)) {
			out = append(out, "  "+k+"="+sp.Attributes[k])
		}
	}
	if len(sp.Logs) > 0 {
		out = append(out, "", "log lines:")
		for _, l := range sp.Logs {
			out = append(out, "  "+v.c.clock(l.T)+" "+l.Level+" "+l.Service+" "+l.Line)
		}
	}
	return "span " + sp.Service + " " + sp.Name, out
}
