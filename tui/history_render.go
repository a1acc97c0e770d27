package tui

import (
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/themes"
)

// historyList is what the history list draws: the records, the store's
// error, the selection and the scroll.
type historyList struct {
	Records []history.Record
	Err     error
	Loaded  bool // false until the first load answers
	Sel     int
	Offset  int
	Room    int // lines for the rows
	Zone    *time.Location
}

// historyColumn is one column of the history list. The list keeps the
// columns of lowest rank that fit the width, the root taking what is
// left, so that at 80 columns it drops the detection and ack figures
// (the record view has them) before the root is cut to nothing.
type historyColumn struct {
	head  string
	width int // cells; the root's least
	rank  int
	flex  bool
	cell  func(r history.Record, zone *time.Location) string
}

// minRoot is the fewest cells the root column keeps: a service name.
const minRoot = 14

var historyColumns = []historyColumn{
	{head: "ID", width: 12, rank: 0, cell: func(r history.Record, _ *time.Location) string { return r.ID }},
	{head: "STACK", width: 8, rank: 2, cell: func(r history.Record, _ *time.Location) string { return r.Stack }},
	{head: "DETECTED", width: 11, rank: 0, cell: func(r history.Record, z *time.Location) string {
		if t := r.When(); !t.IsZero() {
			return t.In(z).Format("01-02 15:04")
		}
		return "–"
	}},
	{head: "LASTED", width: 6, rank: 0, cell: func(r history.Record, _ *time.Location) string {
		if r.Open() {
			return "open"
		}
		return span(r.When(), r.Resolved.T)
	}},
	{head: "SEVERITY", width: 8, rank: 1, cell: func(r history.Record, _ *time.Location) string { return orDefault(r.Severity, "–") }},
	{head: "ROOT", width: minRoot, rank: 0, flex: true, cell: func(r history.Record, _ *time.Location) string { return recordRoot(r) }},
	{head: "MTTD", width: 6, rank: 4, cell: func(r history.Record, _ *time.Location) string { return figure(history.RecordFigures(r).Detect) }},
	{head: "MTTA", width: 6, rank: 4, cell: func(r history.Record, _ *time.Location) string { return figure(history.RecordFigures(r).Ack) }},
	{head: "MTTR", width: 6, rank: 3, cell: func(r history.Record, _ *time.Location) string { return figure(history.RecordFigures(r).Resolve) }},
	// resolved by the autopilot, in four cells: the record view says it whole
	{head: "BY", width: 4, rank: 3, cell: func(r history.Record, _ *time.Location) string {
		if r.ByAutopilot {
			return "auto"
		}
		return ""
	}},
}

// shownColumns are the columns that fit width (less the cursor's two
// cells), in their order, the root's widened to the rest.
func shownColumns(width int) []historyColumn {
	room := width - 2
	used := 0
	keep := map[int]bool{}
	for rank := 0; rank <= 4; rank++ {
		for i, c := range historyColumns {
			if c.rank == rank && used+c.width+1 <= room {
				used += c.width + 1
				keep[i] = true
			}
		}
	}
	var out []historyColumn
	for i, c := range historyColumns {
		if keep[i] {
			if c.flex {
				c.width += room - used
			}
			out = append(out, c)
		}
	}
	return out
}

// historyRow lays out the cells of one row, each cut or padded to its
// column, made safe: a record's text is the stack's and the store's.
func historyRow(cols []historyColumn, cell func(c historyColumn) string) string {
	var b strings.Builder
	for _, c := range cols {
		b.WriteString(fit(cell(c), c.width) + " ")
	}
	return b.String()
}

// renderHistoryList draws the list as lines of at most width cells: a
// heading, the column heads, the rows scrolled to show the selection
// with lines that count those hidden. A store's error greys the rows it
// could not refresh and says which store.
func renderHistoryList(l historyList, width int, st *themes.Styles) []string {
	zone := l.Zone
	if zone == nil {
		zone = time.UTC
	}
	lines := []string{st.Heading.Render("INCIDENT HISTORY") + st.Muted.Render(" · newest first · times in "+zone.String())}
	if l.Err != nil {
		lines = append(lines, st.Bad.Render("✗ ")+st.Muted.Render(safe(l.Err.Error())))
	}
	switch {
	case !l.Loaded:
		return append(lines, st.Muted.Render("reading the history…"))
	case len(l.Records) == 0 && l.Err == nil:
		return append(lines, st.Muted.Render("No incident remembered yet: records open as incidents are opened here,"),
			st.Muted.Render("by `oncall incident --record`, by the autopilot, and by `oncall history` from the stack's past."))
	case len(l.Records) == 0:
		return lines
	}
	cols := shownColumns(width)
	lines = append(lines, st.Muted.Render("  "+historyRow(cols, func(c historyColumn) string { return c.head })))
	room := max(1, l.Room-(len(lines)-2))
	from, to := scrollWindow(len(l.Records), room, l.Offset, l.Sel)
	more := func(s string) { lines = append(lines, st.Muted.Render("  … "+s)) }
	above, below := from > 0, to < len(l.Records)
	both := above && below && to-from+2 > room
	if above && !both && room > 1 {
		more(humanize.Commas(float64(from)) + " more above")
	}
	for i := from; i < to; i++ {
		r := l.Records[i]
		text := historyRow(cols, func(c historyColumn) string { return safe(c.cell(r, zone)) })
		switch {
		case i == l.Sel:
			// the selection in its style alone, so that no inner colour
			// ends its background part way; ▸ marks it without colour
			lines = append(lines, st.Selected.Render("▸ "+fit(text, width-2)))
		case l.Err != nil:
			lines = append(lines, st.Muted.Render("  "+text))
		default:
			lines = append(lines, "  "+historyRowStyled(cols, r, zone, st))
		}
	}
	switch {
	case room == 1:
	case both:
		more(humanize.Commas(float64(from)) + " more above, " + humanize.Commas(float64(len(l.Records)-to)) + " below")
	case below:
		more(humanize.Commas(float64(len(l.Records)-to)) + " more below")
	}
	return lines
}

// historyRowStyled is a row with its state in colour: an open incident
// and a paging severity stand out, the ID is muted.
func historyRowStyled(cols []historyColumn, r history.Record, zone *time.Location, st *themes.Styles) string {
	return historyRow(cols, func(c historyColumn) string {
		text := fit(safe(c.cell(r, zone)), c.width)
		switch c.head {
		case "ID":
			return st.Muted.Render(text)
		case "LASTED":
			if r.Open() {
				return st.Warn.Render(text)
			}
		case "SEVERITY":
			return severityStyle(r.Severity, st).Render(text)
		case "ROOT":
			return st.SeriesOf(recordRoot(r)).Render(text)
		}
		return text
	})
}

// severityStyle is a severity's colour: pages are bad, warnings warn.
func severityStyle(sev string, st *themes.Styles) lipgloss.Style {
	switch strings.ToLower(sev) {
	case "critical", "page":
		return st.Bad
	case "warning", "warn":
		return st.Warn
	}
	return st.Text
}

// recordRoot is the service a record is listed under: its root cause,
// else the first service its alerts name.
func recordRoot(r history.Record) string {
	switch {
	case r.Root != "":
		return r.Root
	case len(r.Services) > 0:
		return r.Services[0]
	}
	return "–"
}

// figure writes a duration for a column, "–" when it is unknown.
func figure(m history.Measure) string {
	if !m.OK {
		return "–"
	}
	return fmtAge(m.D)
}

// span writes to-from for a column.
func span(from, to time.Time) string {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return "–"
	}
	return fmtAge(to.Sub(from))
}

// countRecords writes a count of records.
func countRecords(n int) string { return humanize.Count(n, "record") }

// renderRecord draws a record as styled lines of exactly width cells,
// with the store's error first when the fresh read failed. The layout is
// present's, shared with `oncall history show`.
func renderRecord(p present.Record, err error, width int, st *themes.Styles) []string {
	var out []string
	if err != nil {
		out = append(out, fit(st.Bad.Render("✗ ")+st.Muted.Render(safe(err.Error())+" (showing the list's copy)"), width))
	}
	for _, l := range p.Lines() {
		var b strings.Builder
		b.WriteString(strings.Repeat(" ", l.Indent))
		for _, s := range l.Parts {
			b.WriteString(styleTone(s.Text, s.Tone, st))
		}
		out = append(out, fit(b.String(), width))
	}
	return out
}
