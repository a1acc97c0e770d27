package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

// ChaosDeps is what the chaos view (C) runs experiments with.
type ChaosDeps struct {
	// Experiments are the experiments cmd loaded (chaos.LoadDir of the
	// config's directory); LoadErr names the files that did not load,
	// and Dir is where they were read, for the list's footer.
	Experiments []*chaos.Experiment
	LoadErr     error
	Dir         string
	// Runner makes a runner for one run: the cockpit's executor (audit
	// log, read-only switch, data clock), metrics, SLIs, SLOs and traces.
	// The view sets its Events. Its executor's audit log is where the
	// list finds the runs that never finished.
	Runner func() *chaos.Runner
}

// noChaos is what C says without experiments configured.
func noChaos() tea.Cmd {
	return flash("chaos is not configured: no experiments directory (the config's chaos: experiments)")
}

// chaosListView lists the experiments, name, target, duration, guards
// and schedule, with the runs the audit log shows never finished at the
// top: their fault may still be in place, so they come first.
type chaosListView struct {
	base
	unfinished []chaos.Unfinished
	// live are the unfinished runs running now in another process (their
	// experiment lock held), by run ID: who runs them. Their rollback is
	// that process's, not offered here.
	live     map[string]string
	auditErr error // the audit log's, when it could not be read
	loading  bool
	sel      int
	offset   int
}

// unfinishedMsg is a read of the audit log's unfinished runs.
type unfinishedMsg struct {
	runs []chaos.Unfinished
	live map[string]string
	err  error
}

// openChaos pushes the experiment list and reads the audit log for runs
// that never finished.
func openChaos(c *common) tea.Cmd {
	if c.deps.Chaos == nil {
		return noChaos()
	}
	return push(&chaosListView{base: base{c: c}, loading: true}, loadUnfinished(c.deps.Chaos, c.deps.Timeout))
}

// loadUnfinished reads the runner's audit log for runs with a start and
// no end, and asks of each whether it is running now in another process.
func loadUnfinished(d *ChaosDeps, timeout time.Duration) tea.Cmd {
	r := d.Runner()
	return func() tea.Msg {
		if r.Exec == nil || r.Exec.Audit == nil {
			return unfinishedMsg{}
		}
		// a torn line is the audit command's to report; the rows around it
		// are read all the same
		rows, _, err := r.Exec.Audit.Read()
		msg := unfinishedMsg{runs: chaos.FindUnfinished(rows), live: map[string]string{}, err: err}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		for _, u := range msg.runs {
			// one that cannot be told is offered: Recover takes the run's
			// lock first, and refuses if its process holds it
			live, by, err := r.Live(ctx, u)
			switch {
			case err != nil:
				msg.err = errors.Join(msg.err, err)
			case live:
				msg.live[u.Ref.Run] = by
			}
		}
		return msg
	}
}

func (v *chaosListView) Title() string { return "chaos" }

func (v *chaosListView) FullHelp() [][]key.Binding { return v.c.keys.chaosListHelp() }

func (v *chaosListView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{relabel(k.Open, "enter", "plan"), relabel(k.Back, "esc", "back"), either("↑↓", "move", k.Up, k.Down), relabel(k.Detail, "d", "in full")}
}

// rows are how many rows the list has: the unfinished runs, the
// experiments, then the problems of the files that did not load.
func (v *chaosListView) rows() int {
	return len(v.unfinished) + len(v.c.deps.Chaos.Experiments) + len(loadProblems(v.c.deps.Chaos.LoadErr))
}

func (v *chaosListView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case unfinishedMsg:
		v.loading, v.unfinished, v.live, v.auditErr = false, msg.runs, msg.live, msg.err
		v.sel = min(v.sel, max(0, v.rows()-1))
	case refreshMsg, chaosDoneMsg:
		// a run that ended (or was recovered) leaves the unfinished list
		if !v.loading {
			v.loading = true
			return loadUnfinished(v.c.deps.Chaos, v.c.deps.Timeout)
		}
	case tea.KeyPressMsg:
		return v.key(msg)
	}
	return nil
}

func (v *chaosListView) key(km tea.KeyPressMsg) tea.Cmd {
	switch sel, moved := moveSelection(km, v.c.keys, v.sel, v.rows(), v.room()); {
	case moved:
		v.sel = sel
	case key.Matches(km, v.c.keys.Open):
		return v.open()
	}
	v.offset, _ = scrollWindow(v.rows(), v.room(), v.offset, v.sel)
	return nil
}

// room is about how many rows show: the view less the headings and the
// footer.
func (v *chaosListView) room() int { return max(1, v.height-4) }

// open plans the selected experiment, or offers the selected unfinished
// run's rollback.
func (v *chaosListView) open() tea.Cmd {
	if v.sel < len(v.unfinished) {
		u := v.unfinished[v.sel]
		if by, live := v.live[u.Ref.Run]; live {
			return flash(u.Ref.Name + " is running now (by " + by + "): its own process rolls it back")
		}
		return openRecovery(v.c, u)
	}
	if i := v.sel - len(v.unfinished); i < len(v.c.deps.Chaos.Experiments) {
		return openExperiment(v.c, v.c.deps.Chaos.Experiments[i])
	}
	return nil
}

// Detail is the selection whole: an unfinished run's audit trail, an
// experiment's hypothesis and file, or a file's problem.
func (v *chaosListView) Detail() (string, []string) {
	if v.sel < len(v.unfinished) {
		u := v.unfinished[v.sel]
		lines := unfinishedLines(u, v.c.zone())
		if by, live := v.live[u.Ref.Run]; live {
			lines = append(lines, "running now, by "+by+": its own process rolls it back")
		}
		return "chaos " + u.Ref.Name, lines
	}
	i := v.sel - len(v.unfinished)
	if n := len(v.c.deps.Chaos.Experiments); i >= n {
		if ps := loadProblems(v.c.deps.Chaos.LoadErr); i-n < len(ps) {
			return "chaos: not loaded", []string{ps[i-n]}
		}
		return "", nil
	}
	e := v.c.deps.Chaos.Experiments[i]
	return "chaos " + e.Name, []string{e.Name, "hypothesis: " + e.Hypothesis, "target: " + e.Target, fmt.Sprintf("file: %s:%d", e.File, e.Line)}
}

// unfinishedLines say what the audit log knows of a run that never
// ended.
func unfinishedLines(u chaos.Unfinished, zone *time.Location) []string {
	out := []string{fmt.Sprintf("%s: run %s started %s by %s and never finished: its fault may still be in place.",
		u.Ref.Name, u.Ref.Run, u.Started.In(zone).Format("2006-01-02 15:04:05 MST"), u.By)}
	if len(u.Injected) > 0 {
		out = append(out, "injected: "+strings.Join(u.Injected, ", "))
	}
	if u.Ref.File != "" {
		out = append(out, "file: "+u.Ref.File)
	}
	return out
}

func (v *chaosListView) View() string {
	st := v.c.styles
	body := renderChaosList(chaosList{
		Experiments: v.c.deps.Chaos.Experiments, LoadErr: v.c.deps.Chaos.LoadErr, Dir: v.c.deps.Chaos.Dir, Unfinished: v.unfinished, Live: v.live, AuditErr: v.auditErr,
		Sel: v.sel, Offset: v.offset, Zone: v.c.zone(),
	}, v.width, v.height-1, st)
	lead := ""
	if v.loading {
		lead = v.c.spinner() + " reading the audit log… · "
	} else if v.c.deps.Chaos.Dir != "" {
		lead = safe(v.c.deps.Chaos.Dir) + " · "
	}
	return fill(body, v.width, v.height-1) + "\n" + v.c.footer(v.width, st.Muted.Render(lead), v.ShortHelp())
}

// fmtDuration writes an experiment's duration or interval as its file
// does ("10m").
func fmtDuration(d timeparse.Duration) string {
	if d == 0 {
		return "-"
	}
	return timeparse.FormatDuration(time.Duration(d))
}
