package tui

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/humanize"
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
	cursor  int  // over SLO gauges, then alerts, then services
	moved   bool // the user moved the cursor; until then it rests on the first alert
	offset  int  // first service row shown
	sortBy  int  // index into sortOrders
}

func newOverview(c *common) *overview { return &overview{base: base{c: c}} }

func (o *overview) Title() string { return "overview" }

func (o *overview) SetSize(w, h int) {
	o.base.SetSize(w, h)
	o.clampOffset()
}

// ShortHelp is what the alerts' heading offers.
func (o *overview) ShortHelp() []key.Binding {
	k := o.c.keys
	return []key.Binding{relabel(k.Open, "enter:", "incident"), relabel(k.Ack, "a:", "acknowledge")}
}

// gaugeHelp is what the gauges offer, once one is selected.
func (o *overview) gaugeHelp() []key.Binding {
	k := o.c.keys
	return []key.Binding{relabel(k.Open, "enter:", "budget"), relabel(k.Incident, "i:", "incident")}
}

func (o *overview) rows() int {
	if o.data == nil {
		return 0
	}
	return len(o.data.Budgets) + len(o.firing()) + len(o.data.Services)
}

// gauges is how many cursor rows the SLO gauges take: those shown.
func (o *overview) gauges() int {
	if o.data == nil {
		return 0
	}
	_, shown := gaugeLayout(o.data.Budgets, o.width, o.gaugeLines())
	return shown
}

// gaugeLines is how many lines the gauges may take: in the compact
// layout all but the alert and the status, else gaugeRoom.
func (o *overview) gaugeLines() int {
	if o.compact() {
		return max(1, o.height-3)
	}
	return gaugeRoom(o.height)
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
	defer o.clampOffset()
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

// reload starts a load of the fleet, unless one is under way.
func (o *overview) reload() tea.Cmd {
	if o.loading {
		return nil
	}
	o.loading = true
	return loadOverview(o.c.deps, o.data)
}

// firing is the alerts not resolved, by severity (pages first, so that
// one never hides under "… 4 more" below warnings), then oldest first.
func (o *overview) firing() []sources.Alert {
	var out []sources.Alert
	for _, a := range o.data.Alerts {
		if a.State != sources.AlertResolved {
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
	switch msg := msg.(type) {
	case overviewMsg:
		d := overviewData(msg)
		sortServices(d.Services, o.sortBy)
		o.setData(&d)
		o.c.fleet = o.data
		o.loading = false
		return nil
	case tickMsg:
		if o.c.paused {
			return nil
		}
		return o.reload()
	case refreshMsg:
		return o.reload()
	case ackedMsg:
		if msg.err != nil {
			return flash("✗ acknowledging " + msg.alert + " failed: " + msg.err.Error())
		}
		return tea.Batch(flash("✓ "+msg.alert+" acknowledged by "+o.c.deps.User+" (silence "+msg.id+")"), o.reload())
	case tea.KeyPressMsg:
		return o.key(msg)
	case tea.MouseClickMsg:
		return o.click(msg.Y - 1) // the title line is above the view
	}
	return nil
}

// click selects the alert or service row at line y of the view; a click
// on the row already selected opens its incident.
func (o *overview) click(y int) tea.Cmd {
	row, ok := o.rowAt(y)
	if !ok {
		return nil
	}
	if row == o.cursor && o.moved {
		if t, ok := o.selected(); ok {
			return openIncident(o.c, t)
		}
	}
	o.cursor, o.moved = row, true
	o.clampOffset()
	return nil
}

// rowAt maps a line of the view to the cursor row drawn there: the alert
// and service rows, as View lays them out.
func (o *overview) rowAt(y int) (int, bool) {
	if o.data == nil {
		return 0, false
	}
	g, a := o.top()
	gauges, firing := o.gauges(), o.firing()
	if o.compact() {
		if y == len(g) && len(firing) > 0 {
			return gauges, true
		}
		return 0, false
	}
	if i := y - len(g) - 2; i >= 0 && i < len(a)-1 && i < len(firing) { // past a blank and the alerts' heading
		return gauges + i, true
	}
	if i := y - len(g) - len(a) - 3; i >= 0 && i < o.serviceRoom(len(g), len(a)) && o.offset+i < len(o.data.Services) {
		return gauges + len(firing) + o.offset + i, true
	}
	return 0, false
}

func (o *overview) key(km tea.KeyPressMsg) tea.Cmd {
	k := o.c.keys
	n := o.rows()
	if key.Matches(km, k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown) {
		o.moved = true
		defer o.clampOffset()
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
		if b, _, _ := o.selection(); b != nil {
			return openSLO(o.c, *b)
		}
		if t, ok := o.selected(); ok {
			return openIncident(o.c, t)
		}
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

// selection is what the cursor is on: a gauge's budget, an alert or a
// service's status (one of them set).
func (o *overview) selection() (b *slo.Budget, al *sources.Alert, st *correlate.ServiceStatus) {
	if o.data == nil {
		return nil, nil, nil
	}
	g, firing := o.gauges(), o.firing()
	switch i := o.cursor; {
	case i < g:
		return &o.data.Budgets[i], nil, o.status(o.data.Budgets[i].SLO.Service)
	case i < g+len(firing):
		return nil, &firing[i-g], nil
	case i-g-len(firing) < len(o.data.Services):
		return nil, nil, &o.data.Services[i-g-len(firing)]
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
		return copyText("the budget's queries", strings.Join(b.Queries, "\n"))
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
		return copyText("the alert's source", al.GeneratorURL)
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
	if o.data == nil {
		return sources.Alert{}, false
	}
	g, al := o.gauges(), o.firing()
	if i := o.cursor - g; i >= 0 && i < len(al) {
		return al[i], true
	}
	return sources.Alert{}, false
}

// compact is the layout of small panes: the gauges, the top alert, the
// status.
func (o *overview) compact() bool { return o.height < 20 || o.c.deps.Pane }

// top renders the gauges and the firing alerts: their height sets how
// many service rows fit below.
func (o *overview) top() (gauges, alerts []string) {
	st, w, h, d := o.c.styles, o.width, o.height, o.data
	g := o.gauges()
	selGauge := -1
	if o.cursor < g {
		selGauge = o.cursor
	}
	gauges = o.greyIfStale(d.BudgetOf, renderGauges(d.Budgets, d.BudgetOf, selGauge, w, o.gaugeLines(), st))
	if selGauge >= 0 {
		gauges = append(gauges, st.Muted.Render("  ")+o.c.hint(o.gaugeHelp(), ", "))
	}
	if sat := saturationLine(d.Saturating, w, st); sat != "" {
		gauges = append(gauges, o.greyIfStale(d.SatOf, []string{sat})...)
	}
	al := o.firing()
	if o.compact() {
		if len(al) > 0 {
			return gauges, []string{o.mark(g, renderAlertRow(al[0], d.At, d.AckedBy, w-2, st))}
		}
		return gauges, []string{st.OK.Render("✓ no alerts firing")}
	}
	title := st.Heading.Render("FIRING ALERTS") + o.staleNote(d.AlertsOf)
	switch {
	case d.AlertsOf.Err != nil:
		alerts = append(alerts, title+"  "+st.Bad.Render("✗ "+safe(d.AlertsOf.Err.Error())))
	case len(al) == 0:
		alerts = append(alerts, title+"  "+st.OK.Render("✓ none"))
	default:
		hint := o.c.hint(o.ShortHelp(), ", ")
		if o.c.deps.ReadOnly {
			hint += st.Muted.Render("; read-only")
		}
		alerts = append(alerts, title+st.Muted.Render("  (")+hint+st.Muted.Render(")"))
		maxAlerts := max(1, (h-len(gauges)-2-6)/3)
		for i, a := range al {
			if i == maxAlerts {
				alerts = append(alerts, st.Muted.Render("  … "+humanize.Commas(float64(len(al)-maxAlerts))+" more"))
				break
			}
			alerts = append(alerts, o.mark(g+i, renderAlertRow(a, d.At, d.AckedBy, w-2, st)))
		}
	}
	if len(d.Proposals) > 0 {
		alerts = append(alerts, "")
		alerts = append(alerts, o.greyIfStale(d.ProposalsOf, proposalRows(o.c, d.Proposals, d.At, w, 2))...)
	}
	return gauges, o.greyIfStale(d.AlertsOf, alerts)
}

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

// serviceRoom is how many service rows fit under the top part: the
// screen less the gauges, a blank, the alerts, a blank, the services'
// heading and the status line.
func (o *overview) serviceRoom(gauges, alerts int) int { return o.height - gauges - alerts - 4 }

// clampOffset scrolls the service table so that the cursor's row shows.
func (o *overview) clampOffset() {
	if o.data == nil || o.compact() || o.data.REDOf.Err != nil {
		return
	}
	sel := o.cursor - o.gauges() - len(o.firing())
	if sel < 0 {
		return
	}
	g, a := o.top()
	room := o.serviceRoom(len(g), len(a))
	if sel < o.offset {
		o.offset = sel
	}
	if sel >= o.offset+room {
		o.offset = sel - room + 1
	}
}

// View renders the overview in exactly width × height cells.
func (o *overview) View() string {
	st, w, h := o.c.styles, o.width, o.height
	if o.data == nil {
		return fill([]string{st.Muted.Render(o.c.spinner() + " loading the fleet…")}, w, h)
	}
	d := o.data
	gauges, alerts := o.top()
	status := statusLine(d, o.c.wall, o.c.deps.Refresh, o.c.paused, w, st)
	if o.compact() {
		return fill(append(gauges, alerts...), w, h-1) + "\n" + status
	}
	lines := append(append(append(gauges, ""), alerts...), "")
	hdr := st.Heading.Render("SERVICES") + st.Muted.Render("  by "+sortOrders[o.sortBy].name+" (s): rate, errors, p99 over 30 minutes") + o.staleNote(d.REDOf)
	services := []string{hdr}
	if d.REDOf.Err != nil {
		services = append(services, st.Bad.Render("✗ "+safe(d.REDOf.Err.Error())))
	} else {
		room := o.serviceRoom(len(gauges), len(alerts))
		first := o.gauges() + len(o.firing()) // the first service's cursor row
		for i := o.offset; i < len(d.Services) && i < o.offset+room; i++ {
			services = append(services, o.mark(first+i, renderServiceRow(d.Services[i], w-2, st)))
		}
	}
	lines = append(lines, o.greyIfStale(d.REDOf, services)...)
	return fill(lines, w, h-1) + "\n" + status
}

// stale is whether a panel's data is older than three of its reloads.
func (o *overview) stale(p part) bool {
	return !p.LoadedAt.IsZero() && o.c.wall.Sub(p.LoadedAt) > 3*max(o.c.deps.Refresh, p.Every)
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
