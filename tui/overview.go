package tui

import (
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/sources"
)

// overview is the home view: SLO gauges, firing alerts, services by
// health and the status of each backend.
type overview struct {
	c      *common
	data   *overviewData
	cursor int  // over SLO gauges, then alerts, then services
	moved  bool // the user moved the cursor; until then it rests on the first alert
	offset int  // first service row shown
	sortBy int  // index into sortOrders
	width  int
	height int
}

func (o *overview) SetSize(w, h int) { o.width, o.height = w, h }

func (o *overview) rows() int {
	if o.data == nil {
		return 0
	}
	return len(o.data.Budgets) + len(o.firing()) + len(o.data.Services)
}

// gauges is how many cursor rows the SLO gauges take.
func (o *overview) gauges() int {
	if o.data == nil {
		return 0
	}
	return len(o.data.Budgets)
}

// rowKey names the row under the cursor, so it survives a refresh that
// adds or reorders rows.
func (o *overview) rowKey() string {
	if o.data == nil {
		return ""
	}
	g, al := o.gauges(), o.firing()
	switch i := o.cursor; {
	case i < g:
		return "slo/" + o.data.Budgets[i].SLO.Name
	case i < g+len(al):
		return "alert/" + al[i-g].Fingerprint
	case i-g-len(al) < len(o.data.Services):
		return "service/" + o.data.Services[i-g-len(al)].Service
	}
	return ""
}

// setData replaces the data. Until the user moves, the cursor rests on
// the first alert (or the first service); after that it stays on the
// same row as rows come and go.
func (o *overview) setData(d *overviewData) {
	key := o.rowKey()
	o.data = d
	if !o.moved {
		o.cursor = o.gauges()
		return
	}
	for i := 0; i < o.rows(); i++ {
		o.cursor = i
		if o.rowKey() == key {
			return
		}
	}
	o.cursor = min(o.gauges(), max(0, o.rows()-1))
}

func (o *overview) firing() []sources.Alert {
	var out []sources.Alert
	for _, a := range o.data.Alerts {
		if a.State != sources.AlertResolved {
			out = append(out, a)
		}
	}
	return out
}

// selected is the trigger for the row under the cursor.
func (o *overview) selected() (correlate.Trigger, bool) {
	if o.data == nil || o.rows() == 0 {
		return correlate.Trigger{}, false
	}
	g, al := o.gauges(), o.firing()
	switch i := o.cursor; {
	case i < g:
		return correlate.Trigger{Service: o.data.Budgets[i].SLO.Service}, true
	case i < g+len(al):
		return correlate.Trigger{Service: al[i-g].Service, Alert: al[i-g].Name}, true
	case i-g-len(al) < len(o.data.Services):
		return correlate.Trigger{Service: o.data.Services[i-g-len(al)].Service}, true
	}
	return correlate.Trigger{}, false
}

func (o *overview) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := o.c.keys
	n := o.rows()
	if key.Matches(km, k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown) {
		o.moved = true
	}
	switch {
	case key.Matches(km, k.Up):
		o.cursor = max(0, o.cursor-1)
	case key.Matches(km, k.Down):
		o.cursor = min(max(0, n-1), o.cursor+1)
	case key.Matches(km, k.Top):
		o.cursor = 0
	case key.Matches(km, k.Bottom):
		o.cursor = max(0, n-1)
	case key.Matches(km, k.PageDown):
		o.cursor = min(max(0, n-1), o.cursor+10)
	case key.Matches(km, k.PageUp):
		o.cursor = max(0, o.cursor-10)
	case key.Matches(km, k.Sort):
		o.sortBy = (o.sortBy + 1) % len(sortOrders)
		if o.data != nil {
			sortServices(o.data.Services, o.sortBy)
		}
	case key.Matches(km, k.Open):
		if t, ok := o.selected(); ok {
			return func() tea.Msg { return openIncidentMsg(t) }
		}
	}
	return nil
}

type openIncidentMsg correlate.Trigger

// selectedAlert is the alert under the cursor, if the cursor is on one.
func (o *overview) selectedAlert() (sources.Alert, bool) {
	if o.data == nil {
		return sources.Alert{}, false
	}
	g, al := o.gauges(), o.firing()
	if i := o.cursor - g; i >= 0 && i < len(al) {
		return al[i], true
	}
	return sources.Alert{}, false
}

// View renders the overview in exactly width × height cells.
func (o *overview) View() string {
	st, w, h := o.c.styles, o.width, o.height
	if o.data == nil {
		return fill([]string{st.Muted.Render(o.c.spinner() + " loading the fleet…")}, w, h)
	}
	d := o.data
	g := o.gauges()
	selGauge := -1
	if o.cursor < g {
		selGauge = o.cursor
	}
	lines := o.greyIfStale(d.BudgetOf, renderGauges(d.Budgets, d.BudgetOf, selGauge, w, st))
	al := o.firing()
	compact := h < 20 || o.c.deps.Pane
	if compact {
		// small panes: the gauges, the top alert, the status
		if len(al) > 0 {
			lines = append(lines, o.mark(g, renderAlertRow(al[0], d.At, d.AckedBy, w-2, st)))
		} else {
			lines = append(lines, st.OK.Render("✓ no alerts firing"))
		}
		body := fill(lines, w, h-1)
		return body + "\n" + statusLine(d, o.c.deps.Wall(), o.c.deps.Refresh, o.c.paused, w, st)
	}
	lines = append(lines, "")
	title := st.Heading.Render("FIRING ALERTS") + o.staleNote(d.AlertsOf)
	alertsFrom := len(lines)
	if d.AlertsOf.Err != nil {
		lines = append(lines, title+"  "+st.Bad.Render("✗ "+safe(d.AlertsOf.Err.Error())))
	} else if len(al) == 0 {
		lines = append(lines, title+"  "+st.OK.Render("✓ none"))
	} else {
		hint := "  (enter: incident, a: acknowledge)"
		if o.c.deps.ReadOnly {
			hint = "  (enter: incident; read-only)"
		}
		lines = append(lines, title+st.Muted.Render(hint))
		maxAlerts := max(1, (h-len(lines)-6)/3)
		for i, a := range al {
			if i == maxAlerts {
				lines = append(lines, st.Muted.Render("  … "+humanize.Commas(float64(len(al)-maxAlerts))+" more"))
				break
			}
			lines = append(lines, o.mark(g+i, renderAlertRow(a, d.At, d.AckedBy, w-2, st)))
		}
	}
	lines = append(lines[:alertsFrom], o.greyIfStale(d.AlertsOf, lines[alertsFrom:])...)
	lines = append(lines, "")
	hdr := st.Heading.Render("SERVICES") + st.Muted.Render("  by "+sortOrders[o.sortBy].name+" (s): rate, errors, p99 over 30 minutes") + o.staleNote(d.REDOf)
	servicesFrom := len(lines)
	if d.REDOf.Err != nil {
		lines = append(lines, hdr, st.Bad.Render("✗ "+safe(d.REDOf.Err.Error())))
	} else {
		lines = append(lines, hdr)
		room := h - len(lines) - 1
		sel := o.cursor - g - len(al)
		if sel >= 0 {
			if sel < o.offset {
				o.offset = sel
			}
			if sel >= o.offset+room {
				o.offset = sel - room + 1
			}
		}
		for i := o.offset; i < len(d.Services) && i < o.offset+room; i++ {
			lines = append(lines, o.mark(g+len(al)+i, renderServiceRow(d.Services[i], w-2, st)))
		}
	}
	lines = append(lines[:servicesFrom], o.greyIfStale(d.REDOf, lines[servicesFrom:])...)
	body := fill(lines, w, h-1)
	return body + "\n" + statusLine(d, o.c.deps.Wall(), o.c.deps.Refresh, o.c.paused, w, st)
}

// stale is whether a panel's data is older than three of its reloads.
func (o *overview) stale(p part) bool {
	return !p.LoadedAt.IsZero() && o.c.deps.Wall().Sub(p.LoadedAt) > 3*max(o.c.deps.Refresh, p.Every)
}

// staleNote says how old a stale panel's data is.
func (o *overview) staleNote(p part) string {
	if !o.stale(p) {
		return ""
	}
	return o.c.styles.Warn.Render("  ! stale: " + fmtAge(o.c.deps.Wall().Sub(p.LoadedAt)) + " old")
}

// greyIfStale mutes a stale panel's lines, so old numbers do not pass
// for current ones.
func (o *overview) greyIfStale(p part, lines []string) []string {
	if !o.stale(p) {
		return lines
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if i == 0 && strings.Contains(l, "stale:") {
			out[i] = l
			continue
		}
		out[i] = o.c.styles.Muted.Render(ansi.Strip(l))
	}
	return out
}

// mark draws the cursor on row i.
func (o *overview) mark(i int, line string) string {
	if i == o.cursor {
		return o.c.styles.Selected.Render("▸ " + line)
	}
	return "  " + line
}

// fill pads or cuts lines to exactly h lines of width w.
func fill(lines []string, w, h int) string {
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// sortOrders are the service table's orders; s cycles through them.
var sortOrders = []struct {
	name string
	less func(a, b correlate.ServiceStatus) bool
}{
	{"health", func(a, b correlate.ServiceStatus) bool {
		if a.Health != b.Health {
			return a.Health > b.Health
		}
		return a.ErrorRatio > b.ErrorRatio
	}},
	{"name", func(a, b correlate.ServiceStatus) bool { return a.Service < b.Service }},
	{"rate", func(a, b correlate.ServiceStatus) bool { return a.Rate > b.Rate }},
	{"errors", func(a, b correlate.ServiceStatus) bool { return a.ErrorRatio > b.ErrorRatio }},
	{"p99", func(a, b correlate.ServiceStatus) bool { return a.P99 > b.P99 }},
}

func sortServices(rows []correlate.ServiceStatus, by int) {
	sort.SliceStable(rows, func(i, j int) bool {
		if sortOrders[by].less(rows[i], rows[j]) != sortOrders[by].less(rows[j], rows[i]) {
			return sortOrders[by].less(rows[i], rows[j])
		}
		return rows[i].Service < rows[j].Service
	})
}
