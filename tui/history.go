package tui

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/present"
)

// historyLimit is how many records the history view lists: months of a
// busy fleet's incidents. Older ones are for `oncall history --since`.
const historyLimit = 500

// noHistory is what H and S say when the cockpit has no history store:
// why it could not be opened, when one was configured.
func noHistory(d Deps) tea.Cmd {
	if d.HistoryUnavailable != "" {
		return flash(d.HistoryUnavailable)
	}
	return flash("history is not configured: no history store to read")
}

// historyView lists the incidents the history store remembers, newest
// first, one row each; enter opens one. It reads the store when it opens
// and on r, in the background.
type historyView struct {
	base
	records []history.Record
	err     error // the store's, with its name: it greys the list alone
	loading bool
	loaded  bool
	sel     int
	offset  int // first record row shown, set by Update and SetSize
	where   string
}

// recordsMsg is a load of the history list.
type recordsMsg struct {
	records []history.Record
	err     error
}

// openHistory pushes the history list and starts its load.
func openHistory(c *common) tea.Cmd {
	if c.deps.historyStore() == nil {
		return noHistory(c.deps)
	}
	return push(&historyView{base: base{c: c}, loading: true, where: storeName(c.deps.historyStore())}, loadRecords(c.deps))
}

// loadRecords reads the newest records from the store.
func loadRecords(d Deps) tea.Cmd {
	st := d.historyStore()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		// the store's errors name it (history.Store)
		recs, err := st.List(ctx, history.Filter{Limit: historyLimit})
		return recordsMsg{records: recs, err: err}
	}
}

func (v *historyView) Title() string { return "history" }

func (v *historyView) FullHelp() [][]key.Binding { return v.c.keys.historyHelp() }

func (v *historyView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{relabel(k.Open, "enter", "open"), relabel(k.Postmortem, "P", "postmortem"), relabel(k.Stats, "S", "stats"),
		relabel(k.Back, "esc", "back"), either("↑↓", "move", k.Up, k.Down)}
}

func (v *historyView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.follow()
}

func (v *historyView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case recordsMsg:
		v.loading, v.loaded, v.err = false, true, msg.err
		if msg.err == nil {
			v.records = msg.records
			v.sel = min(v.sel, max(0, len(v.records)-1))
		}
		v.follow()
	case refreshMsg:
		if !v.loading {
			v.loading = true
			return loadRecords(v.c.deps)
		}
	case tea.KeyPressMsg:
		return v.key(msg)
	}
	return nil
}

func (v *historyView) key(km tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	if sel, ok := moveSelection(km, k, v.sel, len(v.records), v.room()); ok {
		v.sel = sel
		v.follow()
		return nil
	}
	switch {
	case key.Matches(km, k.Open):
		if len(v.records) > 0 {
			return openRecord(v.c, v.records[v.sel])
		}
	case key.Matches(km, k.Postmortem):
		if len(v.records) > 0 {
			return writeDraft(v.c.deps, v.records[v.sel].ID)
		}
	default:
		return nil
	}
	v.follow()
	return nil
}

// room is how many lines the rows have: the view less the heading, the
// column heads and the footer.
func (v *historyView) room() int { return max(1, v.height-3) }

// follow scrolls the rows so that the selected one shows.
func (v *historyView) follow() {
	from, _ := scrollWindow(len(v.records), v.room(), v.offset, v.sel)
	v.offset = from
}

// Detail is the selected record as the record view shows it, whole.
func (v *historyView) Detail() (string, []string) {
	if v.err != nil {
		return "history", []string{v.err.Error()}
	}
	if len(v.records) == 0 {
		return "", nil
	}
	r := v.records[v.sel]
	return "incident " + r.ID, present.PlainLines(v.c.presentRecord(r).Lines())
}

func (v *historyView) View() string {
	st := v.c.styles
	var state string
	switch {
	case v.loading:
		state = v.c.spinner() + " reading " + v.where + "…"
	case v.err != nil:
		state = "✗ history store unread"
	case len(v.records) >= historyLimit:
		state = fmt.Sprintf("the newest %d · %s", historyLimit, v.where)
	default:
		state = countRecords(len(v.records)) + " · " + v.where
	}
	lines := renderHistoryList(historyList{
		Records: v.records, Err: v.err, Loaded: v.loaded, Sel: v.sel, Offset: v.offset, Room: v.room(), Zone: v.c.zone(),
	}, v.width, st)
	foot := v.c.footer(v.width, st.Muted.Render(state+" · "), v.ShortHelp())
	return fill(lines, v.width, v.height-1) + "\n" + foot
}

// presentRecord lays a record out as `oncall history show` does, in the
// cockpit's zone.
func (c *common) presentRecord(r history.Record) present.Record {
	return present.NewRecord(r, present.RecordOptions{Zone: c.zone()})
}

// storeName is where the store keeps its records, as the footers say
// it: asked once, as a view opens, since View does no I/O.
func storeName(st history.Store) string { return safe(st.Where()) }

// recordView is one record in full: its timeline with each time's
// source, its alerts, acknowledgements, actions, notes and snapshots.
// It shows the list's copy at once and reads the record afresh.
type recordView struct {
	base
	record  history.Record
	err     error
	loading bool
	vp      viewport.Model
	lines   []string
	where   string
}

// recordMsg is a load of one record.
type recordMsg struct {
	id     string
	record history.Record
	err    error
}

// openRecord pushes the record's view and reads it afresh from the store.
func openRecord(c *common, r history.Record) tea.Cmd {
	v := &recordView{base: base{c: c}, record: r, loading: true, vp: viewport.New(), where: storeName(c.deps.historyStore())}
	k := c.keys
	v.vp.KeyMap = viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown}
	return push(v, loadRecord(c.deps, r.ID))
}

// loadRecord reads one record from the store.
func loadRecord(d Deps, id string) tea.Cmd {
	st := d.historyStore()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		r, err := st.Get(ctx, id)
		if err != nil {
			err = fmt.Errorf("%s: %w", id, err)
		}
		return recordMsg{id: id, record: r, err: err}
	}
}

func (v *recordView) Title() string { return "incident " + safe(v.record.ID) }

func (v *recordView) FullHelp() [][]key.Binding { return v.c.keys.recordHelp() }

func (v *recordView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{relabel(k.Back, "esc", "back"), relabel(k.Postmortem, "P", "postmortem"), relabel(k.Detail, "d", "in full"),
		either("↑↓", "scroll", k.Up, k.Down)}
}

// Detail is the record whole, no line cut.
func (v *recordView) Detail() (string, []string) {
	lines := present.PlainLines(v.c.presentRecord(v.record).Lines())
	if v.err != nil {
		lines = append([]string{v.err.Error(), ""}, lines...)
	}
	return "incident " + v.record.ID, lines
}

func (v *recordView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.vp.SetWidth(w)
	v.vp.SetHeight(max(0, h-1))
	v.render()
}

func (v *recordView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case recordMsg:
		if msg.id == v.record.ID {
			v.loading, v.err = false, msg.err
			if msg.err == nil {
				v.record = msg.record
			}
			v.render()
		}
	case refreshMsg:
		if !v.loading {
			v.loading = true
			return loadRecord(v.c.deps, v.record.ID)
		}
	case tea.KeyPressMsg:
		if key.Matches(msg, v.c.keys.Postmortem) {
			return writeDraft(v.c.deps, v.record.ID)
		}
		scroll(&v.vp, v.c.keys, msg)
	}
	return nil
}

// render lays the record out for the width.
func (v *recordView) render() {
	if v.width <= 0 {
		return
	}
	v.lines = renderRecord(v.c.presentRecord(v.record), v.err, v.width, v.c.styles)
	v.vp.SetContentLines(v.lines)
}

func (v *recordView) View() string {
	st := v.c.styles
	state := v.where
	if v.loading {
		state = v.c.spinner() + " reading…"
	}
	from := min(v.vp.YOffset(), len(v.lines))
	to := min(len(v.lines), from+v.vp.Height())
	foot := v.c.footer(v.width, footerLead(st, from, len(v.lines)-to)+st.Muted.Render(state+" · "), v.ShortHelp())
	return fill(v.lines[from:to], v.width, v.height-1) + "\n" + foot
}
