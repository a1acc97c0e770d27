package tui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/history"
)

// statsSpan is the span the figures' table counts: the same as `oncall
// stats` without --since, so that the cockpit and the CLI agree.
const statsSpan = 30 * 24 * time.Hour

// statsWeeks is how many weeks the charts draw: a quarter, long enough to
// see a trend that the thirty days of the table would not.
const statsWeeks = 12

const week = 7 * 24 * time.Hour

// statsView is the on-call figures counted from the history store: the
// fleet's MTTD, MTTA and MTTR with the incidents they stand on, pages,
// the autopilot's share, charts per week and a row per service.
type statsView struct {
	base
	figures *statsFigures
	err     error
	loading bool
	vp      viewport.Model
	lines   []string
	where   string
}

// statsFigures is one load of the figures: the table's span and the
// charts' weeks, oldest first. Both are history.Figures's, counted on the
// data's clock.
type statsFigures struct {
	Stats history.Stats
	Weeks []history.Stats
}

// statsMsg is a load of the figures.
type statsMsg struct {
	figures statsFigures
	err     error
}

// openStats pushes the figures and starts their load.
func openStats(c *common) tea.Cmd {
	if c.deps.historyStore() == nil {
		return noHistory(c.deps)
	}
	v := &statsView{base: base{c: c}, loading: true, vp: viewport.New(), where: storeName(c.deps.historyStore())}
	k := c.keys
	v.vp.KeyMap = viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown}
	return push(v, loadStats(c.deps))
}

// loadStats reads the records of the charts' weeks, and the demo's, and
// counts the figures: the table's over statsSpan, and each week's.
func loadStats(d Deps) tea.Cmd {
	st := d.historyStore()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		now := d.Now()
		read := max(statsSpan, statsWeeks*week)
		from := now.Add(-read)
		if !d.DemoEpoch.IsZero() && d.DemoEpoch.Add(-read).Before(from) {
			from = d.DemoEpoch.Add(-read)
		}
		recs, err := st.List(ctx, history.Filter{Since: from})
		if err != nil {
			return statsMsg{err: err} // the store's errors name it
		}
		return statsMsg{figures: countFigures(recs, now, d.Stats, d.Zone)}
	}
}

// countFigures counts the table's figures and each week's, ending at now
// (or, when o's scope is the demo's, at the demo's latest record), with
// o's stack and working hours.
func countFigures(recs []history.Record, now time.Time, o history.StatsOptions, zone *time.Location) statsFigures {
	o.Since, o.Now, o.Zone = now.Add(-statsSpan), now, zone
	o, _ = o.Scope(recs)
	f := statsFigures{Stats: history.Figures(recs, o)}
	for i := statsWeeks; i > 0; i-- {
		w := o
		w.Since = o.Now.Add(-time.Duration(i) * week)
		// Figures counts both ends: a week ends just before the next begins
		w.Now = w.Since.Add(week - time.Nanosecond)
		f.Weeks = append(f.Weeks, history.Figures(recs, w))
	}
	return f
}

func (v *statsView) Title() string { return "stats" }

func (v *statsView) FullHelp() [][]key.Binding { return v.c.keys.statsHelp() }

func (v *statsView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{relabel(k.Back, "esc", "back"), relabel(k.History, "H", "history"), relabel(k.Detail, "d", "as text"),
		either("↑↓", "scroll", k.Up, k.Down)}
}

// Detail is the figures as `oncall stats` writes them, to compare or
// copy.
func (v *statsView) Detail() (string, []string) {
	if v.err != nil {
		return "stats", []string{v.err.Error()}
	}
	if v.figures == nil {
		return "", nil
	}
	var b strings.Builder
	if err := history.WriteStats(&b, v.figures.Stats, v.c.zone()); err != nil {
		return "stats", []string{err.Error()}
	}
	return "stats", strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
}

func (v *statsView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.vp.SetWidth(w)
	v.vp.SetHeight(max(0, h-1))
	v.render()
}

func (v *statsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case statsMsg:
		v.loading, v.err = false, msg.err
		if msg.err == nil {
			v.figures = &msg.figures
		}
		v.render()
	case refreshMsg:
		if !v.loading {
			v.loading = true
			return loadStats(v.c.deps)
		}
	case tea.KeyPressMsg:
		scroll(&v.vp, v.c.keys, msg)
	}
	return nil
}

// render lays the figures out for the width.
func (v *statsView) render() {
	if v.width <= 0 {
		return
	}
	v.lines = renderStats(v.figures, v.err, v.c.zone(), v.width, v.c.styles)
	v.vp.SetContentLines(v.lines)
}

func (v *statsView) View() string {
	st := v.c.styles
	state := v.where
	if v.loading {
		state = v.c.spinner() + " reading " + v.where + "…"
	}
	from := min(v.vp.YOffset(), len(v.lines))
	to := min(len(v.lines), from+v.vp.Height())
	foot := v.c.footer(v.width, footerLead(st, from, len(v.lines)-to)+st.Muted.Render(state+" · "), v.ShortHelp())
	return fill(v.lines[from:to], v.width, v.height-1) + "\n" + foot
}
