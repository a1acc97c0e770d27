package tui

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/themes"
)

// ackRequest is the silence an acknowledgement creates: it matches the
// alert's name and service (by the label the alert names it with), is
// signed by the user, and lasts AckFor.
func ackRequest(d Deps, a sources.Alert) sources.Silence {
	now := d.Now()
	m := []sources.Matcher{{Name: "alertname", Value: a.Name, IsEqual: true}}
	if a.ServiceLabel != "" {
		m = append(m, sources.Matcher{Name: a.ServiceLabel, Value: a.Service, IsEqual: true})
	}
	return sources.Silence{Matchers: m, StartsAt: now, EndsAt: now.Add(d.AckFor), CreatedBy: d.User,
		Comment: history.AckCommentPrefix + d.User + " is on it (oncall)"}
}

// ackLines shows the exact request an acknowledgement sends.
func ackLines(st *themes.Styles, zone *time.Location, alert string, s sources.Silence) []string {
	var m []string
	for _, x := range s.Matchers {
		m = append(m, x.Name+"="+quote(x.Value))
	}
	return []string{
		st.Heading.Render("ACKNOWLEDGE " + safe(alert) + "?"),
		"",
		"This creates an Alertmanager silence:",
		"",
		"  POST /api/v2/silences",
		"  matchers:   " + safe(strings.Join(m, ", ")),
		"  starts at:  " + s.StartsAt.In(zone).Format("2006-01-02 15:04:05 MST"),
		"  ends at:    " + s.EndsAt.In(zone).Format("2006-01-02 15:04:05 MST") + " (" + s.EndsAt.Sub(s.StartsAt).String() + ")",
		"  created by: " + safe(s.CreatedBy),
		"  comment:    " + safe(s.Comment),
	}
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }

// askToAcknowledge shows the exact silence an acknowledgement creates and
// asks; only y goes ahead.
func askToAcknowledge(c *common, al sources.Alert) tea.Cmd {
	if c.deps.Sources.Alerts == nil {
		return flash("no alertmanager datasource: nothing to acknowledge with")
	}
	s := ackRequest(c.deps, al)
	return push(newConfirm(c, ackLines(c.styles, c.zone(), al.Name, s), "Acknowledge?", acknowledge(c.deps, s, al.Name), "not acknowledged"), nil)
}

type ackedMsg struct {
	alert string
	id    string
	err   error
	// records are the history records the acknowledgement was added to;
	// unrecorded why it could not be.
	records    []string
	unrecorded error
}

// history says what the history made of the acknowledgement, for the
// line that reports it: nothing when nothing records or no record was
// open for the alert.
func (m ackedMsg) history() string {
	switch {
	case m.unrecorded != nil:
		return "; not recorded in history: " + m.unrecorded.Error()
	case len(m.records) > 0:
		return "; recorded in " + strings.Join(m.records, ", ")
	}
	return ""
}

// acknowledge creates the silence and tells the history, so the
// record's acknowledgement time is the one oncall made; the overview
// then reloads.
func acknowledge(d Deps, s sources.Silence, alert string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		id, err := d.Sources.Alerts.CreateSilence(ctx, s)
		msg := ackedMsg{alert: alert, id: id, err: err}
		if err == nil && d.History != nil {
			s.ID = id
			msg.records, msg.unrecorded = d.History.Acked(ctx, s)
		}
		return msg
	}
}
