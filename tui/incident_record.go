package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/sources"
)

// The incident view keeps the incident's history record: it observes
// the incident as it loads, n adds a note, P writes a postmortem draft,
// and a runbook run from it that verifies resolved resolves the record.
// Notes and drafts are allowed read-only: they change oncall's own
// history and files, never the stack.

// recordedMsg is the history record an incident was written to, or why
// it was not.
type recordedMsg struct {
	trigger correlate.Trigger
	id      string
	err     error
}

// recordIncident opens or updates the incident's record once the whole
// of it has loaded; alerts are those its evidence read.
func recordIncident(d Deps, t correlate.Trigger, inc *correlate.Incident, alerts []sources.Alert) tea.Cmd {
	rec := *d.History
	if rec.AlertSource == "" {
		rec.AlertSource = alertSourceName(d.Sources)
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		r, err := rec.Observe(ctx, inc, alerts)
		return recordedMsg{trigger: t, id: r.ID, err: err}
	}
}

// alertSourceName names where the cockpit reads alerts, as the records'
// alert spans say.
func alertSourceName(s sources.Set) string {
	if s.Alerts == nil && s.RuleAlerts != nil {
		return "prometheus"
	}
	return "alertmanager"
}

// noRecord says why the incident on screen has no record to add to, or "".
func (v *incidentView) noRecord() string {
	switch {
	case v.c.deps.History == nil:
		return "no incident history: set history: in the config to record incidents"
	case !v.whole:
		return "the incident is still being assembled: its record is written once it is in"
	case v.recordErr != nil:
		return "this incident was not recorded: " + v.recordErr.Error()
	case v.record == "":
		return "the incident's record is being written: try again in a moment"
	}
	return ""
}

// openNote asks for a one-line note to the incident's record.
func (v *incidentView) openNote() tea.Cmd {
	if why := v.noRecord(); why != "" {
		return flash(why)
	}
	return push(newNoteDialog(v.c, v.record, v.Title()), nil)
}

// noteDialog takes one line of text for a record: enter saves it, esc
// cancels. It takes every key while it is open.
type noteDialog struct {
	base
	id    string // the record's
	about string // the view it was opened over, "incident checkout"
	where string // the store's name, asked once as the dialog opens: View does no I/O
	input textinput.Model
}

func newNoteDialog(c *common, id, about string) *noteDialog {
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = maxNote
	in.SetVirtualCursor(false)
	in.Focus()
	return &noteDialog{base: base{c: c}, id: id, about: about, where: storeName(c.deps.historyStore()), input: in}
}

// maxNote bounds a note: one line of a postmortem's timeline.
const maxNote = 500

func (d *noteDialog) Title() string   { return "" }
func (d *noteDialog) Capturing() bool { return true }

func (d *noteDialog) ShortHelp() []key.Binding {
	k := d.c.keys
	return []key.Binding{relabel(k.Open, "enter", "save"), relabel(k.Cancel, "esc", "cancel")}
}

func (d *noteDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }

func (d *noteDialog) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		d.input, _ = d.input.Update(msg)
	case tea.KeyPressMsg:
		k := d.c.keys
		switch {
		case key.Matches(msg, k.Cancel):
			return pop(flash("note not saved"))
		case key.Matches(msg, k.Open):
			text := strings.TrimSpace(d.input.Value())
			if text == "" {
				return pop(flash("empty note: not saved"))
			}
			dp := d.c.deps
			return pop(saveNote(dp, d.id, history.Note{T: dp.Now().UTC(), By: dp.User, Text: text}))
		default:
			d.input, _ = d.input.Update(msg)
		}
	}
	return nil
}

func (d *noteDialog) View() string {
	st := d.c.styles
	lines := []string{
		st.Heading.Render("NOTE TO " + d.id + " (" + safe(d.about) + ")"),
		"",
		"One line, signed " + safe(d.c.deps.User) + " at the data's time, kept in " + d.where + ".",
		"It goes into the record's timeline and its postmortem draft.",
	}
	lead := st.Warn.Render("note: ")
	keys := lipgloss.Width(d.c.fitKeys(d.width, d.ShortHelp(), " · "))
	room := max(4, d.width-lipgloss.Width(lead)-keys-2)
	ask := d.c.keyLine(d.width, lead+st.Accent.Render(inputIn(d.input, room))+"  ", d.ShortHelp())
	return fill(wrapIndented(lines, d.width), d.width, d.height-1) + "\n" + ask
}

// saveNote adds the note, and flashes where it went.
func saveNote(d Deps, id string, n history.Note) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		if err := d.History.Note(ctx, id, n); err != nil {
			return flashMsg("note not saved: " + err.Error())
		}
		return flashMsg("note saved to " + id)
	}
}

// writePostmortem writes the record's postmortem draft (writeDraft).
func (v *incidentView) writePostmortem() tea.Cmd {
	if why := v.noRecord(); why != "" {
		return flash(why)
	}
	return writeDraft(v.c.deps, v.record)
}

// draftPostmortem drafts a record's postmortem (history.DraftFrom, as
// oncall postmortem does) and writes it into PostmortemDir beside any
// earlier draft (writeDraftFile); it returns the path written.
func draftPostmortem(ctx context.Context, d Deps, id string) (string, error) {
	if !history.ValidID(id) {
		// refused before anything is read: the file would be named after it
		return "", fmt.Errorf("record ID %s %w", strconv.QuoteToASCII(id), errNotAFileName)
	}
	// the data's clock, as the record's: an open incident runs to it
	o := history.PostmortemOptions{Now: d.Now(), Zone: d.Zone, Owner: d.User, Stack: d.History.Stack, ReadBudgets: d.Budgets}
	if d.Explore.URL != "" {
		o.Explore = &d.Explore
	}
	draft, err := history.DraftFrom(ctx, d.History.Store, id, o)
	if err != nil {
		return "", err
	}
	return writeDraftFile(d.PostmortemDir, id, draft.Markdown())
}

// recordRun adds a run's actions to the record it was run for, and
// resolves the record when the run's verification said resolved.
func recordRun(d Deps, msg runDoneMsg) tea.Cmd {
	if d.History == nil || msg.record == "" {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		acts, resolved := history.RunActions(msg.name, d.User, msg.approval, msg.out, d.Now())
		for _, a := range acts {
			if err := d.History.Acted(ctx, msg.record, a); err != nil {
				return flashMsg("runbook " + msg.name + " not recorded: " + err.Error())
			}
		}
		if resolved.IsZero() {
			return nil
		}
		if err := d.History.Resolve(ctx, msg.record, resolved); err != nil {
			return flashMsg("runbook " + msg.name + " resolved it, but the record was not: " + err.Error())
		}
		return flashMsg("runbook " + msg.name + ": " + msg.out.Result + "; " + msg.record + " resolved")
	}
}
