package tui

import (
	"fmt"
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

func (v *traceView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{relabel(k.Open, "enter", "folds"), relabel(k.NextTrace, "n/N", "next/prev trace")}
}

func (v *traceView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.clampOffset()
}

// room is how many span rows fit above the selected span's details.
func (v *traceView) room() int {
	return max(3, v.height-2-len(v.detail(&v.traces[v.cur], v.width))-1)
}

// clampOffset scrolls the span rows so that the selected one shows.
func (v *traceView) clampOffset() {
	if len(v.rows) == 0 {
		return
	}
	room := v.room()
	if v.sel < v.offset {
		v.offset = v.sel
	}
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
	barW := max(10, w-label-12)
	lines := []string{st.Heading.Render(fmt.Sprintf("TRACE %s", safe(t.TraceID))) +
		st.Muted.Render(fmt.Sprintf("  %d of %d · %s %s · %s · ", v.cur+1, len(v.traces), safe(t.RootService), safe(t.RootName), t.Duration.Round(time.Millisecond))) +
		v.c.hint(v.ShortHelp())}
	axis := fmt.Sprintf("%-*s %s", label, "", present.TimeAxis(t.Duration, barW))
	lines = append(lines, st.Muted.Render(axis))
	detail := v.detail(t, w)
	room := v.room()
	for i := v.offset; i < len(v.rows) && i < v.offset+room; i++ {
		r := v.rows[i]
		sp := r.Span
		fold := "  "
		if r.Kids > 0 {
			fold = "▾ "
			if v.folded[sp.SpanID] {
				fold = "▸ "
			}
		}
		mark := "  "
		if sp.Status == sources.StatusError {
			mark = st.Bad.Render("✗ ")
		}
		name := strings.Repeat(" ", r.Depth) + fold + safe(sp.Service) + " " + safe(sp.Name)
		row := mark + fit(name, label-2) + " " + st.SeriesOf(sp.Service).Render(present.Bar(t, sp, barW)) + " " + fmt.Sprintf("%8s", sp.Duration.Round(time.Millisecond))
		if i == v.sel {
			row = st.Selected.Render(fit(row, w))
		}
		lines = append(lines, row)
	}
	if len(detail) > h/2 {
		detail = detail[:h/2]
	}
	for i := range detail {
		detail[i] = fit(detail[i], w)
	}
	body := fill(lines, w, h-len(detail))
	return body + "\n" + strings.Join(detail, "\n")
}

// detail is the selected span and the log lines joined to it.
func (v *traceView) detail(t *correlate.TraceView, w int) []string {
	st := v.c.styles
	if len(v.rows) == 0 {
		return nil
	}
	sp := v.rows[v.sel].Span
	out := []string{st.Border.Render(strings.Repeat("─", w)),
		fit(fmt.Sprintf("%s %s · %s · %s · started +%s · %s", st.Heading.Render(safe(sp.Service)), safe(sp.Name), sp.Kind,
			sp.Status, sp.Start.Sub(t.Start).Round(time.Millisecond), sp.Duration.Round(time.Millisecond)), w)}
	if sp.Message != "" {
		out = append(out, fit(st.Bad.Render("✗ "+safe(sp.Message)), w))
	}
	n := 0
	for _, l := range sp.Logs {
		if n == 3 {
			out = append(out, st.Muted.Render(fmt.Sprintf("  … %d more lines", len(sp.Logs)-3)))
			break
		}
		out = append(out, fit(st.Muted.Render("  log "+v.c.clock(l.T)+" "+safe(l.Line)), w))
		n++
	}
	if len(sp.Logs) == 0 {
		out = append(out, st.Muted.Render("  no log lines joined to this span"))
	}
	return out
}
