package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

// incidentView shows one assembled incident in a scrolling viewport.
type incidentView struct {
	base
	trigger   correlate.Trigger
	inc       *correlate.Incident
	shown     present.Incident // inc as it is presented
	took      time.Duration
	arrived   []correlate.Arrival // the evidence's parts so far, with when
	whole     bool                // every part is in (or reported missing)
	lines     []string            // rendered for the width
	collapsed bool                // the dependency tree shows only the root's callers
	matches   []remediate.Matched // the runbooks that match, best first
	record    string              // the incident's history record, once whole and written
	recordErr error               // why it was not written
	vp        viewport.Model
}

// openIncident assembles the incident of a trigger, whose window ends at
// the data's now, in a new view.
func openIncident(c *common, t correlate.Trigger) tea.Cmd {
	t.At = c.deps.Now()
	v := &incidentView{base: base{c: c}, trigger: t, vp: viewport.New()}
	k := c.keys
	v.vp.KeyMap = viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown}
	return push(v, loadIncident(c.deps, t))
}

// loadIncident gathers and analyses in the background, and sends the
// incident as each part of the evidence arrives: the chain and the
// candidates from the metrics first, then logs and traces fill in.
func loadIncident(d Deps, t correlate.Trigger) tea.Cmd {
	// room for every part's progress and the whole, so that gathering
	// never waits on the screen
	ch := make(chan incidentMsg, 16)
	next := tea.Cmd(func() tea.Msg { return <-ch })
	return func() tea.Msg {
		start := d.Wall()
		go func() {
			progress := func(ev *correlate.Evidence) {
				select {
				case ch <- incidentMsg{trigger: t, inc: correlate.Analyze(ev, d.Meta), took: d.Wall().Sub(start), arrived: ev.Arrived, next: next}:
				default: // a full channel: the whole comes soon enough
				}
			}
			ev := correlate.Gather(context.Background(), d.Sources, t, correlate.GatherOptions{Deadline: d.IncidentDeadline, Progress: progress})
			inc := correlate.Analyze(ev, d.Meta)
			if d.Kit != nil {
				// what was done shows beside what happened; an unreadable
				// log only leaves the actions out (oncall audit says why)
				rows, _, _ := d.Kit.Audit.Read()
				remediate.Timeline(inc, rows)
			}
			ch <- incidentMsg{trigger: t, inc: inc, took: d.Wall().Sub(start), arrived: ev.Arrived, alerts: history.ObservedAlerts(ev)}
		}()
		return next()
	}
}

func (v *incidentView) Title() string { return "incident " + safe(v.trigger.Service) }

func (v *incidentView) FullHelp() [][]key.Binding { return v.c.keys.incidentHelp() }

// ShortHelp is in the order a footer short of room keeps them: where
// the failure is (traces, logs), then what to do about it (acknowledge,
// the runbook), then reading it whole, then the rest.
func (v *incidentView) ShortHelp() []key.Binding {
	k := v.c.keys
	b := []key.Binding{relabel(k.Traces, "t", "traces"), relabel(k.Logs, "l", "logs"), relabel(k.Ack, "a", "ack")}
	if len(v.matches) > 0 {
		b = append(b, relabel(k.Runbook, "R", "runbook"))
	}
	b = append(b, relabel(k.Detail, "d", "in full"), relabel(k.Collapse, "c", "tree"), relabel(k.Copy, "y", "copy"), relabel(k.Link, "o", "link"))
	if v.c.deps.History != nil {
		b = append(b, relabel(k.Note, "n", "note"), relabel(k.Postmortem, "P", "postmortem"))
	}
	return append(b, either("↑↓", "scroll", k.Up, k.Down), relabel(k.Back, "esc", "back"))
}

// Detail is every part of the evidence that did not arrive and why, in
// full, then the incident's heading lines uncut.
func (v *incidentView) Detail() (string, []string) {
	if v.inc == nil {
		return "", nil
	}
	p := v.shown
	var out []string
	if len(p.Incomplete) > 0 {
		out = append(out, "Evidence that did not arrive:")
		for _, m := range p.Incomplete {
			out = append(out, "  ✗ "+m)
		}
		out = append(out, "")
	}
	out = append(out, summaryText(p))
	if p.Blast != nil {
		out = append(out, blastLine(p.Blast))
	}
	if len(p.Notes) > 0 {
		out = append(out, "", "Notes:")
		for _, n := range p.Notes {
			out = append(out, "  "+n)
		}
	}
	return v.Title(), out
}

func (v *incidentView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.vp.SetWidth(w)
	v.vp.SetHeight(max(0, h-1)) // the footer takes a line
	v.render()
}

// render lays the incident out for the width; the offset is kept.
func (v *incidentView) render() {
	if v.inc == nil || v.width <= 0 {
		return
	}
	v.lines = append(runbookLines(v.c, v.matches, v.width), renderIncident(v.shown, v.collapsed, v.width, v.c.styles)...)
	v.vp.SetContentLines(v.lines)
}

func (v *incidentView) Close() { delete(v.c.traces, v) }

func (v *incidentView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case incidentMsg:
		if v.whole || msg.trigger != v.trigger {
			return nil
		}
		v.arrived, v.whole = msg.arrived, msg.next == nil
		v.set(msg.inc, msg.took)
		if v.whole && v.c.deps.History != nil {
			// the whole incident only: a partial one would snapshot a
			// chain the next part of the evidence changes
			return recordIncident(v.c.deps, v.trigger, msg.inc, msg.alerts)
		}
		return msg.next
	case recordedMsg:
		if msg.trigger != v.trigger {
			return nil
		}
		v.record, v.recordErr = msg.id, msg.err
		if msg.err != nil {
			return flash("not recorded in the incident history: " + msg.err.Error())
		}
		return nil
	case tea.KeyPressMsg:
		return v.key(msg)
	}
	return nil
}

func (v *incidentView) set(inc *correlate.Incident, took time.Duration) {
	v.inc, v.took = inc, took
	runbooks := v.c.deps.Runbooks
	if runbooks == nil {
		runbooks = map[string][]string{} // the panel says none are configured
	}
	v.shown = present.NewIncident(inc, present.Options{Runbooks: runbooks, Zone: v.c.deps.Zone})
	v.c.traces[v] = inc.Traces
	v.matches = matchRunbooks(v.c, inc)
	v.render()
}

func (v *incidentView) key(km tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	if scroll(&v.vp, k, km) {
		return nil
	}
	switch {
	case key.Matches(km, k.Collapse):
		v.collapsed = !v.collapsed
		v.render()
	case key.Matches(km, k.Traces):
		switch {
		case v.inc != nil && len(v.inc.Traces) > 0:
			return push(newTraceView(v.c, v.inc.Traces), nil)
		case !v.whole:
			return flash("the traces are still coming: try again in a moment")
		default:
			return flash("no traces in this incident (see its notes)")
		}
	case key.Matches(km, k.Logs):
		return openLogs(v.c, v.logsTarget())
	case key.Matches(km, k.Ack):
		return v.acknowledge()
	case key.Matches(km, k.Copy):
		if v.inc == nil {
			return nil
		}
		return copyText("the incident's summary", summaryText(v.shown))
	case key.Matches(km, k.Link):
		return v.link()
	case key.Matches(km, k.Runbook, k.RunbookN):
		return v.planRunbook(km)
	case key.Matches(km, k.Note):
		return v.openNote()
	case key.Matches(km, k.Postmortem):
		return v.writePostmortem()
	}
	return nil
}

// planRunbook opens the plan of the first matching runbook (R) or of the
// one numbered (1-9).
func (v *incidentView) planRunbook(km tea.KeyPressMsg) tea.Cmd {
	if v.c.deps.Kit == nil {
		return flash("no runbooks: set runbooks: in the config to a directory of runbook files")
	}
	if !v.whole {
		return flash("the incident is still being assembled: runbooks match the whole of it")
	}
	i := 0
	if key.Matches(km, v.c.keys.RunbookN) {
		i = int(km.Code - '1')
	}
	if i < 0 || i >= len(v.matches) {
		return flash(fmt.Sprintf("no runbook %d: %d match", i+1, len(v.matches)))
	}
	return openPlan(v.c, v.matches[i], v.inc, v.record)
}

// scroll moves a viewport by the scrolling keys, and reports whether km
// was one of them.
func scroll(vp *viewport.Model, k KeyMap, km tea.KeyPressMsg) bool {
	switch {
	case key.Matches(km, k.Top):
		vp.GotoTop()
	case key.Matches(km, k.Bottom):
		vp.GotoBottom()
	case key.Matches(km, k.PageUp):
		vp.ScrollUp(max(1, vp.Height()-1))
	case key.Matches(km, k.PageDown):
		vp.ScrollDown(max(1, vp.Height()-1))
	case key.Matches(km, k.Up, k.Down):
		*vp, _ = vp.Update(km)
	default:
		return false
	}
	return true
}

// link opens the likeliest cause's anomaly query in Explore over the
// incident's window and baseline.
func (v *incidentView) link() tea.Cmd {
	if v.inc == nil || len(v.inc.Candidates) == 0 {
		return flash("no cause to link to yet")
	}
	for _, r := range v.inc.Candidates[0].Reasons {
		if r.Kind == correlate.ReasonAnomaly && r.Source != "" {
			return exploreLink(v.c, grafana.Prometheus, r.Source, v.inc.Baseline.Start, v.inc.Window.End)
		}
	}
	return flash("the likeliest cause has no query to link to")
}

// acknowledge asks to silence the alert the incident was opened from.
func (v *incidentView) acknowledge() tea.Cmd {
	if v.trigger.Alert == "" {
		return flash("this incident was not opened from an alert: nothing to acknowledge")
	}
	if d := v.c.fleet; d != nil {
		for _, al := range d.Alerts {
			if al.Name == v.trigger.Alert && al.Service == v.trigger.Service && al.State != sources.AlertResolved {
				return askToAcknowledge(v.c, al)
			}
		}
	}
	return flash(v.trigger.Alert + " is no longer firing: nothing to acknowledge")
}

// logsTarget is whose logs l tails: the root cause once it is known.
func (v *incidentView) logsTarget() string {
	if v.inc != nil && len(v.inc.Candidates) > 0 {
		return v.inc.Candidates[0].Service
	}
	return v.trigger.Service
}

func (v *incidentView) View() string {
	st := v.c.styles
	what := v.trigger.Service
	if v.trigger.Alert != "" {
		what = v.trigger.Alert + " on " + what
	}
	if v.inc == nil {
		return fill([]string{st.Muted.Render(v.c.spinner() + " assembling the incident for " + safe(what) + "…")}, v.width, v.height)
	}
	state := "assembled in " + v.took.Round(time.Millisecond).String()
	if !v.whole {
		state = v.c.spinner() + " assembling, " + arrivals(v.arrived)
	}
	foot := v.c.footer(v.width, st.Muted.Render(state+" · "), v.ShortHelp())
	// the viewport keeps the offset; the lines are drawn here, already cut
	// to the width, which is cheaper than the viewport's own restyling
	from := min(v.vp.YOffset(), len(v.lines))
	return fill(v.lines[from:min(len(v.lines), from+v.vp.Height())], v.width, v.height-1) + "\n" + fit(foot, v.width)
}

// arrivals says which parts of the evidence are in, and when each came:
// "RED 120ms, service graph 130ms, logs 210ms in".
func arrivals(a []correlate.Arrival) string {
	if len(a) == 0 {
		return "nothing in yet"
	}
	parts := make([]string, len(a))
	for i, x := range a {
		parts[i] = strings.TrimPrefix(x.What, "metrics: ") + " " + x.After.Round(time.Millisecond).String()
	}
	return strings.Join(parts, ", ") + " in"
}
