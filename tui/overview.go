package tui

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// overview is the home view: SLO gauges, firing alerts, services by
// health and the status of each backend. It loads the fleet on every
// refresh tick.
type overview struct {
	base
	data    *overviewData
	loading bool
	// fetching is a read of the series of the rows on screen under way:
	// with loading, the services' panel has a question in flight, and is
	// not asked another. fresh is the rows whose series this round read.
	fetching bool
	fresh    map[string]bool
	// roundStart is when the last round started (wall clock; the first
	// is under way from the cockpit's start), and cadence how long until
	// the next: longer than the refresh when the last round took longer
	// than it.
	roundStart time.Time
	cadence    cadence
	cursor     int  // over SLO gauges, then alerts, then services
	moved      bool // the user moved the cursor; until then it rests on the first alert
	// alertOff and offset are the first alert and service rows shown: set
	// by Update and SetSize, so that the lists scroll only to follow the
	// cursor.
	alertOff, offset int
	sortBy           int // index into sortOrders
	// filter narrows the alerts and services to the rows whose names and
	// labels hold it; editing while it is typed in input.
	filter  string
	editing bool
	input   textinput.Model
	// lastIn is the row each panel's cursor was on, for tab to go back.
	lastIn [panels]int
	// What View and the keys read of the rows, computed by recount when
	// the data, the filter, the order or the size change rather than on
	// every frame and key: the alerts and services shown, each panel's
	// cursor rows, the lines above the alerts and of the proposals, and
	// the sparklines' scale.
	alerts      []sources.Alert
	shown       []correlate.ServiceStatus
	sp          [panels][2]int
	topN, propN int
	serviceRoom int // the compact layout's service rows
	// hidden is the services the compact layout has no room for, counted
	// on its last line so that they are not silently gone
	hidden int
	scale  columnScale
}

// The overview's panels, in their order on screen and for tab.
const (
	panelGauges = iota
	panelAlerts
	panelServices
	panels
)

func newOverview(c *common) *overview {
	in := textinput.New()
	in.Prompt = ""
	in.SetVirtualCursor(false)
	return &overview{base: base{c: c}, input: in, roundStart: c.wall, cadence: cadence{every: c.deps.Refresh}, fresh: map[string]bool{}}
}

func (o *overview) Title() string { return "overview" }

func (o *overview) SetSize(w, h int) {
	o.base.SetSize(w, h)
	o.recount()
	o.follow()
}

// Capturing is true while the filter is typed: keys are text then.
func (o *overview) Capturing() bool { return o.editing }

// ShortHelp is what the alerts' heading offers.
func (o *overview) ShortHelp() []key.Binding {
	k := o.c.keys
	if o.editing {
		return []key.Binding{relabel(k.Open, "enter", "keep"), relabel(k.Cancel, "esc", "clear")}
	}
	return []key.Binding{relabel(k.Open, "enter:", "incident"), relabel(k.Ack, "a:", "acknowledge"), relabel(k.Filter, "/:", "filter")}
}

func (o *overview) FullHelp() [][]key.Binding { return o.c.keys.overviewHelp() }

// gaugeHelp is what the gauges offer, once one is selected.
func (o *overview) gaugeHelp() []key.Binding {
	k := o.c.keys
	return []key.Binding{relabel(k.Open, "enter:", "budget"), relabel(k.Incident, "i:", "incident")}
}

// recount computes what View and the keys read of the rows. The compact
// layout draws services only when every alert fits above them; else a
// line counts them, and the cursor never goes there.
func (o *overview) recount() {
	o.alerts, o.shown = o.passingAlerts(), o.passingServices()
	o.sp, o.topN, o.propN, o.serviceRoom, o.hidden = [panels][2]int{}, 0, 0, 0, 0
	if o.data == nil {
		return
	}
	o.scale = serviceScale(o.data.Services) // the whole table's: a filter does not rescale
	_, g := gaugeLayout(o.data.Budgets, o.width, o.gaugeLines())
	o.topN = len(o.top(-1).lines)
	if ps := o.data.Proposals; len(ps) > 0 {
		o.propN = 1 + len(proposalRows(o.c, ps, o.data.At, o.width, 2))
	}
	if o.compact() && o.data.REDOf.Err == nil && len(o.shown) > 0 {
		o.serviceRoom = max(0, o.height-1-o.topN-max(1, len(o.alerts))-1)
	}
	a, s := len(o.alerts), len(o.shown)
	if o.compact() && o.serviceRoom == 0 {
		o.hidden, s = s, 0
	}
	o.sp[panelGauges] = [2]int{0, g}
	o.sp[panelAlerts] = [2]int{g, g + a}
	o.sp[panelServices] = [2]int{g + a, g + a + s}
}

// spans are the cursor rows of each panel, [first, end).
func (o *overview) spans() [panels][2]int { return o.sp }

func (o *overview) rows() int { return o.spans()[panels-1][1] }

// panelOf is the panel of cursor row i.
func (o *overview) panelOf(i int) int {
	sp := o.spans()
	for p := range panels {
		if i < sp[p][1] {
			return p
		}
	}
	return panels - 1
}

// switchPanel moves the cursor to the next (step 1) or previous (-1)
// panel that has rows, back to the row it was on there.
func (o *overview) switchPanel(step int) {
	sp, cur := o.spans(), o.panelOf(o.cursor)
	o.lastIn[cur] = o.cursor - sp[cur][0]
	for i := 1; i < panels; i++ {
		p := (cur + step*i + panels) % panels
		if n := sp[p][1] - sp[p][0]; n > 0 {
			o.cursor, o.moved = sp[p][0]+min(o.lastIn[p], n-1), true
			return
		}
	}
}

// gauges is how many cursor rows the SLO gauges take: those shown.
func (o *overview) gauges() int { return o.sp[panelGauges][1] }

// gaugeLines is how many lines the gauges may take: in the compact
// layout all but the status and, below them, a saturation line, two
// lines of alerts (one and a line that counts the others) and a line of
// services (or one that counts them), else gaugeRoom.
func (o *overview) gaugeLines() int {
	if o.compact() {
		services := 0
		if o.data.REDOf.Err == nil && len(o.shown) > 0 {
			services = 1
		}
		return max(1, o.height-4-services)
	}
	return gaugeRoom(o.height)
}

// rowKey names the row under the cursor, so it survives a refresh that
// adds or reorders rows, or a filter.
func (o *overview) rowKey() string { return o.rowKeyAt(o.cursor) }

// rowKeyAt names cursor row i.
func (o *overview) rowKeyAt(i int) string {
	sp := o.sp
	switch {
	case i < 0:
	case i < sp[panelGauges][1]:
		return "slo/" + o.data.Budgets[i].SLO.Name
	case i < sp[panelAlerts][1]:
		return "alert/" + o.alerts[i-sp[panelAlerts][0]].Fingerprint
	case i < sp[panelServices][1]:
		return "service/" + o.shown[i-sp[panelServices][0]].Service
	}
	return ""
}

// setData replaces the data. Until the user moves, the cursor rests on
// the first alert (or the first service); after that it stays on the
// same row as rows come and go.
func (o *overview) setData(d *overviewData) {
	key := o.rowKey()
	o.data = d
	o.recount()
	if !o.moved {
		o.cursor = o.gauges()
		o.follow()
		return
	}
	o.keepOn(key)
}

// keepOn puts the cursor back on the row named key, or, when that row is
// gone, on the first alert or service within reach.
func (o *overview) keepOn(key string) {
	defer o.follow()
	for i := range o.rows() {
		if o.rowKeyAt(i) == key {
			o.cursor = i
			return
		}
	}
	o.cursor = min(o.gauges(), o.last())
}

// last is the last row the cursor may be on. When a filter passes no
// alert and no service it is the row after the gauges, where nothing is
// selected: the cursor stays in the lists filtered rather than jumping
// up to a gauge.
func (o *overview) last() int {
	if o.filter != "" && o.rows() == o.gauges() {
		return o.rows()
	}
	return max(0, o.rows()-1)
}

// reload starts a round, a load of the fleet, unless the last one is
// still under way: its load, or the series read after it.
func (o *overview) reload() tea.Cmd {
	if o.loading || o.fetching {
		return nil
	}
	o.loading, o.roundStart = true, o.c.wall
	return loadOverview(o.c.deps, o.data)
}

// firing is the alerts listed, as recount left them.
func (o *overview) firing() []sources.Alert { return o.alerts }

// services is the services listed, as recount left them.
func (o *overview) services() []correlate.ServiceStatus { return o.shown }

// passingAlerts is the alerts not resolved that pass the filter, by
// severity (pages first, so that one never hides below warnings), then
// oldest first. When the alerts could not be read there are none to
// select.
func (o *overview) passingAlerts() []sources.Alert {
	if o.data == nil || o.data.AlertsOf.Err != nil {
		return nil
	}
	var out []sources.Alert
	for _, a := range o.data.Alerts {
		if a.State != sources.AlertResolved && matches(o.filter, alertText(a)) {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := severityRank(out[i]), severityRank(out[j])
		if ri != rj {
			return ri < rj
		}
		if !out[i].StartsAt.Equal(out[j].StartsAt) {
			return out[i].StartsAt.Before(out[j].StartsAt)
		}
		return out[i].Name+out[i].Service < out[j].Name+out[j].Service
	})
	return out
}

// passingServices is the service table's rows that pass the filter; none
// when the metrics could not be read.
func (o *overview) passingServices() []correlate.ServiceStatus {
	if o.data == nil || o.data.REDOf.Err != nil {
		return nil
	}
	if o.filter == "" {
		return o.data.Services
	}
	var out []correlate.ServiceStatus
	for _, s := range o.data.Services {
		if matches(o.filter, safe(s.Service)) {
			out = append(out, s)
		}
	}
	return out
}

// alertText is what the filter reads of an alert: its name, service,
// severity, every label as name=value, and its summary, each as drawn,
// so that text hidden in a control sequence (a link's target) never
// makes an alert match.
func alertText(a sources.Alert) string {
	parts := []string{a.Name, a.Service, a.Severity, a.Annotations["summary"]}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		parts = append(parts, k+"="+a.Labels[k])
	}
	for i, p := range parts {
		parts[i] = safe(p)
	}
	return strings.Join(parts, " ")
}

// matches is the overview's filter: a case-insensitive substring, as
// k9s's / is by default (its fuzzy mode is opt-in).
func matches(filter, text string) bool {
	return strings.Contains(strings.ToLower(text), strings.ToLower(filter))
}

// severityRank orders alerts: pages, then warnings and tickets, then the
// rest; silenced ones last.
func severityRank(a sources.Alert) int {
	r := 2
	switch strings.ToLower(a.Severity) {
	case "page", "critical", "error":
		r = 0
	case "warning", "ticket", "warn":
		r = 1
	}
	if a.State == sources.AlertSuppressed {
		r += 3
	}
	return r
}

// selected is the trigger for the row under the cursor.
func (o *overview) selected() (correlate.Trigger, bool) {
	b, al, st := o.selection()
	switch {
	case b != nil:
		return correlate.Trigger{Service: b.SLO.Service}, true
	case al != nil:
		return correlate.Trigger{Service: al.Service, Alert: al.Name}, true
	case st != nil:
		return correlate.Trigger{Service: st.Service}, true
	}
	return correlate.Trigger{}, false
}

func (o *overview) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case overviewMsg:
		return o.gotData(overviewData(msg))
	case seriesMsg:
		return o.gotSeries(msg)
	case tickMsg:
		if o.c.paused {
			return nil
		}
		if !o.due() {
			return o.fetchSeries(false) // the view may have grown
		}
		return o.reload()
	case refreshMsg:
		return o.reload()
	case ackedMsg:
		if msg.err != nil {
			return flash("✗ acknowledging " + msg.alert + " failed: " + msg.err.Error())
		}
		return tea.Batch(flash("✓ "+msg.alert+" acknowledged by "+o.c.deps.User+" (silence "+msg.id+")"+msg.history()), o.reload())
	case tea.KeyPressMsg:
		if o.editing {
			o.edit(msg)
			return o.fetchSeries(false)
		}
		// the rows scrolled to have their series read
		return tea.Batch(o.key(msg), o.fetchSeries(false))
	case tea.PasteMsg:
		if o.editing {
			o.input, _ = o.input.Update(msg)
			o.setFilter(o.input.Value())
		}
		return o.fetchSeries(false)
	case tea.MouseClickMsg:
		return tea.Batch(o.click(msg.X, msg.Y-1), o.fetchSeries(false)) // the title line is above the view
	}
	return nil
}

// edit handles a key while the filter is typed: the lists narrow as it
// is typed, enter keeps it, esc clears it (as in k9s).
func (o *overview) edit(km tea.KeyPressMsg) {
	k := o.c.keys
	switch {
	case key.Matches(km, k.Open):
		o.editing = false
	case key.Matches(km, k.Cancel):
		o.editing = false
		o.setFilter("")
	default:
		o.input, _ = o.input.Update(km)
		o.setFilter(o.input.Value())
	}
	if !o.editing {
		o.filterShown()
	}
}

// filterShown recounts when the filter's note comes or goes: in the
// compact layout it is a line above the alerts.
func (o *overview) filterShown() {
	o.recount()
	o.follow()
}

// setFilter narrows the lists, keeping the cursor on its row when the
// row still passes.
func (o *overview) setFilter(f string) {
	if f == o.filter {
		return
	}
	key := o.rowKey()
	o.filter = f
	o.recount()
	o.keepOn(key)
}

// click selects the gauge, alert or service at cell x of line y of the
// view; a click on the row already selected opens it, as enter does.
func (o *overview) click(x, y int) tea.Cmd {
	if o.data == nil {
		return nil
	}
	lay := o.layout()
	if y < 0 || y >= len(lay.rowOf) || lay.rowOf[y] < 0 {
		return nil
	}
	row := lay.rowOf[y]
	if row < o.gauges() {
		// gauges side by side share a line: x picks one
		to := o.gauges()
		if y+1 < len(lay.rowOf) && lay.rowOf[y+1] > row && lay.rowOf[y+1] < to {
			to = lay.rowOf[y+1]
		}
		row = gaugeAt(o.data.Budgets, row, to, x)
	}
	if row == o.cursor && o.moved {
		return o.open()
	}
	o.cursor, o.moved = row, true
	o.follow()
	return nil
}

func (o *overview) key(km tea.KeyPressMsg) tea.Cmd {
	k := o.c.keys
	last := o.last()
	if key.Matches(km, k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.NextPanel, k.PrevPanel) {
		o.moved = true
		defer o.follow()
	}
	switch {
	case key.Matches(km, k.Up):
		o.cursor = max(0, o.cursor-1)
	case key.Matches(km, k.Down):
		o.cursor = min(last, o.cursor+1)
	case key.Matches(km, k.Top):
		o.cursor = 0
	case key.Matches(km, k.Bottom):
		o.cursor = last
	case key.Matches(km, k.PageDown):
		o.cursor = min(last, o.cursor+10)
	case key.Matches(km, k.PageUp):
		o.cursor = max(0, o.cursor-10)
	case key.Matches(km, k.NextPanel):
		o.switchPanel(1)
	case key.Matches(km, k.PrevPanel):
		o.switchPanel(-1)
	case key.Matches(km, k.Filter):
		o.editing = true
		editFilter(&o.input, o.filter)
		o.filterShown()
	case key.Matches(km, k.Back):
		// esc on the overview clears a kept filter, as in k9s
		o.setFilter("")
	case key.Matches(km, k.Sort):
		o.sortBy = (o.sortBy + 1) % len(sortOrders)
		if o.data != nil {
			key := o.rowKey()
			sortServices(o.data.Services, o.sortBy)
			o.recount()
			o.keepOn(key)
		}
	case key.Matches(km, k.Open):
		return o.open()
	case key.Matches(km, k.Incident):
		if t, ok := o.selected(); ok {
			return openIncident(o.c, t)
		}
	case key.Matches(km, k.Logs):
		if t, ok := o.selected(); ok {
			return openLogs(o.c, t.Service)
		}
	case key.Matches(km, k.Ack):
		return o.acknowledge()
	case key.Matches(km, k.Approve, k.Reject):
		return o.decide(key.Matches(km, k.Approve))
	case key.Matches(km, k.Copy):
		return o.copySelection()
	case key.Matches(km, k.Link):
		return o.linkSelection()
	}
	return nil
}

// open opens the selection: a gauge's budget, an alert's or a service's
// incident.
func (o *overview) open() tea.Cmd {
	if b, _, _ := o.selection(); b != nil {
		return openSLO(o.c, *b)
	}
	if t, ok := o.selected(); ok {
		return openIncident(o.c, t)
	}
	return nil
}

// selection is what the cursor is on: a gauge's budget (with its
// service's status), an alert or a service's status.
func (o *overview) selection() (b *slo.Budget, al *sources.Alert, st *correlate.ServiceStatus) {
	if o.data == nil {
		return nil, nil, nil
	}
	sp, i := o.sp, o.cursor
	switch {
	case i < sp[panelGauges][1]:
		return &o.data.Budgets[i], nil, o.status(o.data.Budgets[i].SLO.Service)
	case i < sp[panelAlerts][1]:
		return nil, &o.alerts[i-sp[panelAlerts][0]], nil
	case i < sp[panelServices][1]:
		return nil, nil, &o.shown[i-sp[panelServices][0]]
	}
	return nil, nil, nil
}

func (o *overview) status(service string) *correlate.ServiceStatus {
	for i := range o.data.Services {
		if o.data.Services[i].Service == service {
			return &o.data.Services[i]
		}
	}
	return nil
}

// copySelection copies the queries behind a gauge or a service, or an
// alert's matchers as amtool and silences take them.
func (o *overview) copySelection() tea.Cmd {
	b, al, st := o.selection()
	switch {
	case b != nil:
		return copyLines("the budget's queries", b.Queries)
	case al != nil:
		m := []sources.Matcher{{Name: "alertname", Value: al.Name, IsEqual: true}}
		if al.ServiceLabel != "" {
			m = append(m, sources.Matcher{Name: al.ServiceLabel, Value: al.Service, IsEqual: true})
		}
		var parts []string
		for _, x := range m {
			parts = append(parts, x.String())
		}
		return copyText("the alert's matchers", strings.Join(parts, ", "))
	case st != nil:
		return copyText("the query", st.Query)
	}
	return copyText("", "")
}

// linkSelection opens a service's (or a gauge's service's) error query in
// Explore over the sparklines' half hour, or an alert at its source.
func (o *overview) linkSelection() tea.Cmd {
	_, al, st := o.selection()
	if al != nil {
		if al.GeneratorURL == "" {
			return flash("the alert carries no link to where it was raised")
		}
		return copyLink("the alert's source", al.GeneratorURL)
	}
	if st == nil {
		return flash("no metrics for this selection")
	}
	return exploreLink(o.c, grafana.Prometheus, st.Query, o.data.At.Add(-30*time.Minute), o.data.At)
}

// acknowledge asks before it silences the selected alert.
func (o *overview) acknowledge() tea.Cmd {
	al, ok := o.selectedAlert()
	if !ok {
		return flash("select a firing alert to acknowledge")
	}
	return askToAcknowledge(o.c, al)
}

// selectedAlert is the alert under the cursor, if the cursor is on one.
func (o *overview) selectedAlert() (sources.Alert, bool) {
	if _, al, _ := o.selection(); al != nil {
		return *al, true
	}
	return sources.Alert{}, false
}

// compact is the layout of small panes: the gauges, the alerts without a
// heading, the services only in the room the alerts leave, the status.
func (o *overview) compact() bool { return o.height < 20 || o.c.deps.Pane }

// decide approves (after the plan and its confirmation) or rejects (after
// asking) the first proposal waiting.
func (o *overview) decide(approve bool) tea.Cmd {
	if o.data == nil || len(o.data.Proposals) == 0 || o.c.deps.Kit == nil {
		return flash("no proposal is waiting for approval")
	}
	p := o.data.Proposals[0]
	if approve {
		return openApproval(o.c, p)
	}
	kit, user := o.c.deps.Kit, o.c.deps.User
	lines := []string{o.c.styles.Heading.Render("REJECT PROPOSAL " + safe(p.ID) + "?"), "",
		"  " + safe(p.Runbook) + " on " + safe(p.Target) + ", proposed by " + safe(p.By) + ": " + safe(p.Why)}
	for _, a := range p.Actions {
		lines = append(lines, "    "+safe(a))
	}
	lines = append(lines, "", "Rejecting ends the proposal for every cockpit; nothing runs.")
	return push(newConfirm(o.c, lines, "Reject?", func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), o.c.deps.Timeout)
		defer cancel()
		if err := remediate.Decide(ctx, kit.Ledger, kit.Audit, p, false, user, kit.Exec.Host); err != nil {
			return flashMsg("not rejected: " + err.Error())
		}
		return tea.Batch(flash("rejected "+p.Runbook+" on "+p.Target), func() tea.Msg { return refreshMsg{} })()
	}, "not rejected"), nil)
}

// overviewLayout is the overview above its status line: its lines and
// the cursor row drawn on each (-1 for none).
type overviewLayout struct {
	lines []string
	rowOf []int
}

func (l *overviewLayout) add(row int, lines ...string) {
	for _, s := range lines {
		l.lines = append(l.lines, s)
		l.rowOf = append(l.rowOf, row)
	}
}

// top is the lines above the alerts: the gauges (each line with its
// first gauge as its cursor row), the selected one's keys (but in the
// compact layout, short of room), the resources filling up, and in the
// compact layout the filter.
func (o *overview) top(selGauge int) overviewLayout {
	st, w, d := o.c.styles, o.width, o.data
	var l overviewLayout
	gauges, first := renderGauges(d.Budgets, d.BudgetOf, selGauge, w, o.gaugeLines(), st)
	for i, line := range o.greyIfStale(d.BudgetOf, gauges) {
		l.add(first[i], line)
	}
	if selGauge >= 0 && !o.compact() {
		l.add(-1, st.Muted.Render("  ")+o.c.hint(o.gaugeHelp(), ", "))
	}
	if sat := saturationLine(d.Saturating, w, st); sat != "" {
		l.add(-1, o.greyIfStale(d.SatOf, []string{sat})...)
	}
	if note := o.filterNote(w); note != "" && o.compact() {
		l.add(-1, note)
	}
	return l
}

// rooms is how many lines the alerts' and the services' rows have below
// the lines above them (with the selected gauge's keys when sel is one):
// in the compact layout the alerts have the rest, and the services what
// every alert leaves; else the alerts keep at least alertShare of it when
// both do not fit.
func (o *overview) rooms(sel int) (alerts, services int) {
	top := o.topN
	if sel >= 0 && !o.compact() {
		top++ // the selected gauge's keys
	}
	if o.compact() {
		if o.hidden > 0 {
			top++ // the line that counts the services hidden
		}
		return o.height - 1 - top, o.serviceRoom
	}
	// below the gauges: a blank, the alerts' heading, the alerts, the
	// proposals, a blank, the services' heading, the services
	avail := o.height - 1 - top - 4 - o.propN
	na, ns := len(o.alerts), max(1, len(o.shown))
	a := na
	if na+ns > avail {
		a = min(na, max(avail-ns, int(alertShare*float64(avail))))
	}
	a = max(0, min(a, avail-1))
	return a, avail - a
}

// selGauge is the gauge under the cursor, or -1.
func (o *overview) selGauge() int {
	if o.cursor < o.gauges() {
		return o.cursor
	}
	return -1
}

// alertShare is the least share of the room below the gauges that the
// alerts keep when alerts and services do not both fit: the services
// have the rest, and scroll.
const alertShare = 0.4

// layout lays the overview out at its size: the gauges, then the alerts
// and the services, each list scrolled from its offset just enough to
// show the cursor, with the rows it hides counted.
func (o *overview) layout() overviewLayout {
	st, w, d := o.c.styles, o.width, o.data
	sp, selGauge := o.sp, o.selGauge()
	lay := o.top(selGauge)
	firing, services := o.alerts, o.shown
	aRoom, sRoom := o.rooms(selGauge)
	alertRow := func(i int) string { return renderAlertRow(firing[i], d.At, d.AckedBy, w-2, st) }
	serviceRow := func(i int) string { return renderServiceRow(services[i], o.scale, w-2, st) }
	if o.compact() {
		switch {
		case d.AlertsOf.Err != nil:
			lay.add(-1, st.Bad.Render("✗ alerts: "+safe(d.AlertsOf.Err.Error())))
		case len(firing) == 0 && o.filter != "":
			lay.add(-1, st.Muted.Render("no alert matches"))
		case len(firing) == 0:
			lay.add(-1, st.OK.Render("✓ no alerts firing"))
		default:
			o.list(&lay, len(firing), aRoom, o.alertOff, sp[panelAlerts][0], alertRow)
		}
		switch {
		case sRoom > 0:
			lay.add(-1, st.Heading.Render("SERVICES")+st.Muted.Render(" by "+sortOrders[o.sortBy].name+" (s)"))
			o.list(&lay, len(services), sRoom, o.offset, sp[panelServices][0], serviceRow)
		case o.hidden > 0:
			lay.add(-1, st.Muted.Render("… "+humanize.Count(o.hidden, "service")+" hidden: the alerts fill the view"))
		}
		return lay
	}
	lay.add(-1, "")
	// the heading's end (what the alerts are, or their keys) comes
	// first: the filter takes the room it leaves
	var end string
	switch {
	case errors.Is(d.AlertsOf.Err, errNotConfigured):
		// absent, not down: said as the status line says it
		end = "  " + st.Muted.Render("– "+d.AlertsOf.Err.Error())
	case d.AlertsOf.Err != nil:
		end = "  " + st.Bad.Render("✗ "+safe(d.AlertsOf.Err.Error()))
	case len(firing) == 0 && o.filter != "":
		end = "  " + st.Muted.Render("no alert matches")
	case len(firing) == 0:
		end = "  " + st.OK.Render("✓ none")
	default:
		hint := o.c.hint(o.ShortHelp(), ", ")
		if o.c.deps.ReadOnly {
			hint += st.Muted.Render("; read-only")
		}
		end = st.Muted.Render("  (") + hint + st.Muted.Render(")")
	}
	heading := st.Heading.Render("FIRING ALERTS")
	stale := o.staleNote(d.AlertsOf)
	alerts := overviewLayout{}
	alerts.add(-1, heading+o.filterNote(w-lipgloss.Width(heading+stale+end))+stale+end)
	if d.AlertsOf.Err == nil {
		o.list(&alerts, len(firing), aRoom, o.alertOff, sp[panelAlerts][0], alertRow)
	}
	o.appendGreyed(&lay, d.AlertsOf, alerts)
	if len(d.Proposals) > 0 {
		lay.add(-1, "")
		lay.add(-1, o.greyIfStale(d.ProposalsOf, proposalRows(o.c, d.Proposals, d.At, w, 2))...)
	}
	lay.add(-1, "")

	table := overviewLayout{}
	heading, stale = st.Heading.Render("SERVICES"), o.staleNote(d.REDOf)
	by := "  by " + sortOrders[o.sortBy].name + " (s)"
	table.add(-1, heading+o.filterNote(w-lipgloss.Width(heading+by+stale))+st.Muted.Render(by+": rate, errors, p99 over 30 minutes")+stale)
	switch {
	case errors.Is(d.REDOf.Err, errNotConfigured):
		table.add(-1, st.Muted.Render("– "+d.REDOf.Err.Error()))
	case d.REDOf.Err != nil:
		table.add(-1, st.Bad.Render("✗ "+safe(d.REDOf.Err.Error())))
	case len(services) == 0 && o.filter != "":
		table.add(-1, st.Muted.Render("  no service matches"))
	default:
		o.list(&table, len(services), sRoom, o.offset, sp[panelServices][0], serviceRow)
	}
	o.appendGreyed(&lay, d.REDOf, table)
	return lay
}

// appendGreyed adds a panel's lines to l, muted when its data is stale.
func (o *overview) appendGreyed(l *overviewLayout, p part, panel overviewLayout) {
	l.lines = append(l.lines, o.greyIfStale(p, panel.lines)...)
	l.rowOf = append(l.rowOf, panel.rowOf...)
}

// list adds to l the rows of a list of n in room lines, scrolled from
// off to show the cursor, with lines that count the rows hidden above
// and below; first is the cursor row of row 0.
func (o *overview) list(l *overviewLayout, n, room, off, first int, row func(int) string) {
	if n == 0 || room <= 0 {
		return
	}
	from, to := scrollWindow(n, room, off, o.cursor-first)
	more := func(s string) { l.add(-1, o.c.styles.Muted.Render("  … "+s)) }
	above, below := from > 0, to < n
	both := above && below && to-from+2 > room // one line counts both
	if above && !both && room > 1 {
		more(humanize.Commas(float64(from)) + " more above")
	}
	for i := from; i < to; i++ {
		l.add(first+i, o.mark(first+i, row(i)))
	}
	switch {
	case room == 1:
	case both:
		more(humanize.Commas(float64(from)) + " more above, " + humanize.Commas(float64(n-to)) + " below")
	case below:
		more(humanize.Commas(float64(n-to)) + " more below")
	}
}

// firstShown is the first row list shows of a list of n in room lines,
// scrolled from off to show the cursor; first is the cursor row of row 0.
func (o *overview) firstShown(n, room, off, first int) int {
	if n == 0 || room <= 0 {
		return 0
	}
	from, _ := scrollWindow(n, room, off, o.cursor-first)
	return from
}

// scrollWindow picks the rows [from, to) of a list of n shown in room lines,
// scrolled from off just enough to show row sel (when sel is a row of
// it). A line above counts the rows hidden above, one below those below;
// with less than three lines of room, one row shows and one line counts
// both.
func scrollWindow(n, room, off, sel int) (from, to int) {
	if n <= room {
		return 0, n
	}
	in := sel >= 0 && sel < n
	if room < 3 {
		if !in {
			sel = max(0, min(off, n-1))
		}
		return sel, sel + 1
	}
	// past n-room+1 the list would end above blank lines
	off = max(0, min(off, n-room+1))
	if in && sel < off {
		off = sel
	}
	for {
		to := off + room
		if off > 0 {
			to-- // the line counting those above
		}
		if to < n {
			to-- // the line counting those below
		}
		if !in || sel < to {
			return off, min(to, n)
		}
		off++
	}
}

// follow scrolls the lists so that the cursor's row shows, keeping the
// cursor on a row.
func (o *overview) follow() {
	if o.data == nil {
		return
	}
	o.cursor = max(0, min(o.cursor, o.last()))
	aRoom, sRoom := o.rooms(o.selGauge())
	o.alertOff = o.firstShown(len(o.alerts), aRoom, o.alertOff, o.sp[panelAlerts][0])
	o.offset = o.firstShown(len(o.shown), sRoom, o.offset, o.sp[panelServices][0])
}

// filterNote is the filter as a panel heading shows it in width cells:
// being typed (the alerts' heading then offers enter and esc), or kept.
// A long filter shows its end, where it is typed.
func (o *overview) filterNote(width int) string {
	st := o.c.styles
	// a heading with little room still shows some of the filter
	room := max(width, 12) - len("  /")
	switch {
	case o.editing:
		return st.Accent.Render("  /" + inputIn(o.input, room))
	case o.filter != "":
		clears := " (esc clears)"
		return st.Accent.Render("  /"+keepEnd(safe(o.filter), room-len(clears))) + st.Muted.Render(clears)
	}
	return ""
}

// View renders the overview in exactly width × height cells.
func (o *overview) View() string {
	st, w, h := o.c.styles, o.width, o.height
	if o.data == nil {
		return fill([]string{st.Muted.Render(o.c.spinner() + " loading the fleet…")}, w, h)
	}
	status := statusLine(o.data, o.c.wall, o.cadence, o.c.paused, w, st)
	return fill(o.layout().lines, w, h-1) + "\n" + status
}

// Detail is the overview in full where its rows cut it short: every
// error of the current data, then the selection, whole.
func (o *overview) Detail() (string, []string) {
	if o.data == nil {
		return "", nil
	}
	d := o.data
	var errs []string
	for _, p := range append(d.backendParts(), namedPart{"saturation", &d.SatOf}, namedPart{"proposals", &d.ProposalsOf}) {
		if p.p != nil && p.p.Err != nil && !errors.Is(p.p.Err, errNotConfigured) {
			errs = append(errs, "✗ "+p.name+": "+p.p.Err.Error())
		}
		if p.p != nil && p.p.Partial != nil {
			errs = append(errs, "! "+p.name+" incomplete: "+p.p.Partial.Error())
		}
	}
	for _, b := range d.Budgets {
		if b.Err != "" {
			errs = append(errs, "✗ slo "+b.SLO.Name+": "+b.Err)
		}
	}
	title, sel := "errors", []string(nil)
	b, al, st := o.selection()
	switch {
	case b != nil:
		title, sel = "slo "+b.SLO.Name, budgetDetail(*b)
	case al != nil:
		title, sel = "alert "+al.Name, alertDetail(*al, d.At)
	case st != nil:
		title, sel = "service "+st.Service, serviceDetail(*st)
	}
	if len(errs) == 0 {
		return title, sel
	}
	lines := append([]string{"ERRORS"}, errs...)
	if len(sel) > 0 {
		lines = append(append(lines, "", strings.ToUpper(title)), sel...)
	}
	return title, lines
}

// budgetDetail is a gauge's whole line, then what it is made of.
func budgetDetail(b slo.Budget) []string {
	obj, window := present.ObjectiveWords(b.SLO) // "99.9%", "28d", as the slo command writes them
	lines := []string{gaugeText(b, 0), "service: " + b.SLO.Service, "objective: " + obj + " over " + window}
	if b.Err != "" {
		lines = append(lines, "error: "+b.Err)
	}
	if len(b.Queries) > 0 {
		lines = append(append(lines, "queries:"), b.Queries...)
	}
	return lines
}

// alertDetail is an alert with every label and annotation.
func alertDetail(a sources.Alert, now time.Time) []string {
	lines := []string{"state: " + string(a.State), "severity: " + a.Severity, "service: " + a.Service}
	if !a.StartsAt.IsZero() {
		lines = append(lines, "since: "+a.StartsAt.UTC().Format(time.RFC3339)+" ("+fmtAge(now.Sub(a.StartsAt))+" ago)")
	}
	lines = append(lines, "labels:")
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		lines = append(lines, "  "+k+"="+a.Labels[k])
	}
	if len(a.Annotations) > 0 {
		lines = append(lines, "annotations:")
		for _, k := range slices.Sorted(maps.Keys(a.Annotations)) {
			lines = append(lines, "  "+k+": "+a.Annotations[k])
		}
	}
	if len(a.SilencedBy) > 0 {
		lines = append(lines, "silenced by: "+strings.Join(a.SilencedBy, ", "))
	}
	if a.GeneratorURL != "" {
		lines = append(lines, "source: "+shownLink(a.GeneratorURL))
	}
	return lines
}

// serviceDetail is a service's row, its name uncut, and its query.
func serviceDetail(s correlate.ServiceStatus) []string {
	lines := []string{"health: " + [...]string{"ok", "degraded", "failing"}[s.Health],
		"rate: " + humanize.Rate(s.Rate), "errors: " + humanize.Percent(s.ErrorRatio), "p99: " + humanize.SecondsShort(s.P99)}
	if s.FromEdges {
		lines = append(lines, "from its callers' calls: it has no series of its own")
	}
	if s.Query != "" {
		lines = append(lines, "query: "+s.Query)
	}
	return lines
}

// stale is whether a panel's data is older than three of its reloads.
func (o *overview) stale(p part) bool {
	return !p.LoadedAt.IsZero() && o.c.wall.Sub(p.LoadedAt) > 3*max(o.cadence.every, p.Every)
}

// staleNote says how old a stale panel's data is.
func (o *overview) staleNote(p part) string {
	if !o.stale(p) {
		return ""
	}
	return o.c.styles.Warn.Render("  ! stale: " + fmtAge(o.c.wall.Sub(p.LoadedAt)) + " old")
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

// mark draws the cursor on row i. The selected row is drawn in the
// selection style alone, so that an inner colour does not end its
// background part way, and the ▸ marks it under NO_COLOR.
func (o *overview) mark(i int, line string) string {
	if i == o.cursor {
		return o.c.styles.Selected.Render("▸ " + fit(ansi.Strip(line), o.width-2))
	}
	return "  " + line
}

// fill pads or cuts lines to exactly h lines of width w.
func fill(lines []string, w, h int) string {
	// into a new slice: the caller's lines (a view's kept lines) stay
	// uncut, for its detail
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], w)
		} else {
			out[i] = fit("", w)
		}
	}
	return strings.Join(out, "\n")
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
