package present

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// SpanRow is one span of a waterfall, in tree order.
type SpanRow struct {
	Span  *correlate.SpanView
	Depth int
	Kids  int // direct children, shown or folded
}

// SpanRows lists a trace's spans depth first, children in the order the
// trace holds them, leaving out the children of folded spans. A span whose
// parent is not in the trace is a root.
func SpanRows(t *correlate.TraceView, folded map[string]bool) []SpanRow {
	kids := map[string][]int{}
	ids := make(map[string]bool, len(t.Spans))
	for i := range t.Spans {
		ids[t.Spans[i].SpanID] = true
	}
	var roots []int
	for i := range t.Spans {
		if p := t.Spans[i].ParentSpanID; p == "" || !ids[p] {
			roots = append(roots, i)
		} else {
			kids[p] = append(kids[p], i)
		}
	}
	var rows []SpanRow
	var walk func(i, depth int)
	walk = func(i, depth int) {
		sp := &t.Spans[i]
		rows = append(rows, SpanRow{Span: sp, Depth: depth, Kids: len(kids[sp.SpanID])})
		if folded[sp.SpanID] {
			return
		}
		for _, k := range kids[sp.SpanID] {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return rows
}

// Bar places a span on the trace's time axis, width cells wide.
func Bar(t *correlate.TraceView, sp *correlate.SpanView, width int) string {
	if t.Duration <= 0 {
		return strings.Repeat("█", width)
	}
	from := int(float64(sp.Start.Sub(t.Start)) / float64(t.Duration) * float64(width))
	n := max(1, int(float64(sp.Duration)/float64(t.Duration)*float64(width)))
	from = min(max(0, from), width-1)
	n = min(n, width-from)
	return strings.Repeat(" ", from) + strings.Repeat("█", n) + strings.Repeat(" ", width-from-n)
}

// TimeAxis labels the start, the middle and the end of a trace.
func TimeAxis(d time.Duration, width int) string {
	mid := (d / 2).Round(time.Millisecond).String()
	end := d.Round(time.Millisecond).String()
	left := "0"
	gap1 := max(1, width/2-len(left)-len(mid)/2)
	gap2 := max(1, width-len(left)-gap1-len(mid)-len(end))
	return left + strings.Repeat(" ", gap1) + mid + strings.Repeat(" ", gap2) + end
}

// TraceText writes a trace as a text waterfall, width cells wide: each
// span on the shared time axis with ✗ on failed ones, then the failures
// and the log lines joined to each span. Every string is made safe.
func TraceText(w io.Writer, t correlate.TraceView, width int, zone *time.Location) error {
	var b strings.Builder
	label := max(24, min(60, width*2/5))
	bar := max(10, width-label-12)
	fmt.Fprintf(&b, "TRACE %s  %s %s · %s · %d spans · starts %s\n", Safe(t.TraceID), Safe(t.RootService), Safe(t.RootName),
		t.Duration.Round(time.Millisecond), len(t.Spans), t.Start.In(zoneOr(zone)).Format("2006-01-02 15:04:05.000 MST"))
	if t.Origin != nil {
		fmt.Fprintf(&b, "error starts at %s (%s): %s\n", Safe(t.Origin.Service), Safe(t.Origin.Span), Safe(t.Origin.Message))
	}
	fmt.Fprintf(&b, "\n%-*s %s\n", label, "", TimeAxis(t.Duration, bar))
	rows := SpanRows(&t, nil)
	for _, r := range rows {
		sp := r.Span
		mark := "  "
		if sp.Status == sources.StatusError {
			mark = "✗ "
		}
		name := strings.Repeat(" ", r.Depth) + Safe(sp.Service) + " " + Safe(sp.Name)
		if n := []rune(name); len(n) > label-2 {
			name = string(n[:label-3]) + "…"
		}
		fmt.Fprintf(&b, "%s%-*s %s %8s\n", mark, label-2, name, Bar(&t, sp, bar), sp.Duration.Round(time.Millisecond))
	}
	for _, r := range rows {
		sp := r.Span
		if sp.Status != sources.StatusError && len(sp.Logs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s · %s · %s · +%s · %s\n", Safe(sp.Service), Safe(sp.Name), sp.Kind, sp.Status,
			sp.Start.Sub(t.Start).Round(time.Millisecond), sp.Duration.Round(time.Millisecond))
		if sp.Message != "" {
			fmt.Fprintf(&b, "  ✗ %s\n", Safe(sp.Message))
		}
		for _, l := range sp.Logs {
			fmt.Fprintf(&b, "  log %s %-5s %s\n", Clock(l.T, zone), l.Level, Safe(l.Line))
		}
	}
	if len(t.Unattached) > 0 {
		b.WriteString("\nlog lines of this trace that fit no span:\n")
		for _, l := range t.Unattached {
			fmt.Fprintf(&b, "  log %s %-5s %s %s\n", Clock(l.T, zone), l.Level, Safe(l.Service), Safe(l.Line))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func zoneOr(z *time.Location) *time.Location {
	if z == nil {
		return time.UTC
	}
	return z
}
