package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/remediate"
)

// chaosState is where a chaos view is: reading the file (a recovery),
// asking, running, done.
type chaosState int

const (
	chaosLoading chaosState = iota
	chaosAsking
	chaosRunning
	chaosDone
)

func (s chaosState) String() string {
	return [...]string{"loading", "asking", "running", "done"}[s]
}

// chaosView is one experiment: its plan, then the confirmation under the
// runbooks' rules (y for low danger; the target's name typed for high,
// and in a typed context the context's name too; the default answer is
// no), then the run with its live guard panel, then the report. Opened on
// a run that never finished, it offers that run's rollback instead.
type chaosView struct {
	base
	id    int64
	exp   *chaos.Experiment
	plan  chaos.Plan
	state chaosState
	// recovery is the unfinished run whose rollback this view offers;
	// nil for a run of the experiment.
	recovery *chaos.Unfinished
	// note says why nothing runs: read-only, the plan's problems, a file
	// that could not be read
	note    string
	confirm typedConfirm

	cancel   context.CancelCauseFunc // aborts the run, saying why: its rollback runs
	aborting bool
	stage    string
	injected time.Time // the data's clock, when the fault went in
	now      time.Time // the data's clock, as of the last event or tick
	guards   []guardRow
	sel      int
	log      []string // the run's status lines, safe to draw
	report   *chaos.Report

	offset int
	drawn  []string // the scrolling lines, kept until they change
}

// chaosEventMsg is one event of a run, at the data's clock.
type chaosEventMsg struct {
	id   int64
	ev   chaos.Event
	at   time.Time
	next tea.Cmd
}

// chaosDoneMsg is a run's report.
type chaosDoneMsg struct {
	id   int64
	name string
	rep  chaos.Report
}

// chaosRuns are the chaos runs in flight, by view: an experiment's
// cancel, which aborts it (its rollback runs), or nil for a recovery's
// rollback, which nothing cuts short. Quitting reads them.
type chaosRuns map[int64]context.CancelCauseFunc

// The causes an experiment's run is cancelled with: its report says
// which.
var (
	errAbortedByKey = errors.New("aborted from the cockpit (x)")
	errQuitting     = errors.New("aborted: the cockpit is quitting")
)

// chaosAbortingMsg says quitting has aborted the experiments running:
// their views say they roll back.
type chaosAbortingMsg struct{}

// chaosFlash is how a run ended, in the status line: seen whichever
// view is open.
func chaosFlash(m chaosDoneMsg) string {
	s := "chaos " + m.name + ": " + m.rep.Verdict
	if m.rep.Why != "" {
		s += ": " + m.rep.Why
	}
	return s
}

// chaosFileMsg is an unfinished run's experiment, read again from its
// file.
type chaosFileMsg struct {
	id  int64
	exp *chaos.Experiment
	err error
}

// openExperiment plans an experiment and asks.
func openExperiment(c *common, e *chaos.Experiment) tea.Cmd {
	v := &chaosView{base: base{c: c}, id: planIDs.Add(1)}
	v.planned(e)
	return push(v, nil)
}

// openRecovery reads an unfinished run's experiment again and offers its
// rollback.
func openRecovery(c *common, u chaos.Unfinished) tea.Cmd {
	v := &chaosView{base: base{c: c}, id: planIDs.Add(1), recovery: &u}
	id, file := v.id, u.Ref.File
	return push(v, func() tea.Msg {
		if file == "" {
			return chaosFileMsg{id: id, err: fmt.Errorf("the audit log names no file for run %s", u.Ref.Run)}
		}
		e, err := chaos.LoadFile(file)
		return chaosFileMsg{id: id, exp: e, err: err}
	})
}

// planned shows e's plan and asks, unless nothing may run.
func (v *chaosView) planned(e *chaos.Experiment) {
	v.exp, v.plan = e, e.Plan(v.c.deps.User, v.c.deps.Now())
	v.guards = make([]guardRow, len(e.Guards))
	for i, g := range e.Guards {
		v.guards[i] = guardRow{Label: g.Label(), Check: g}
	}
	typedContext := ""
	if v.c.deps.ConfirmTyped {
		typedContext = v.c.deps.Context
	}
	switch {
	case v.c.deps.ReadOnly:
		v.state, v.note = chaosDone, "read-only: nothing runs (--read-only or the context's read_only)"
	case len(v.plan.Problems) > 0 && v.recovery == nil:
		v.state, v.note = chaosDone, "the plan has problems: nothing runs"
	default:
		v.state = chaosAsking
		var want []remediate.Confirmation
		switch {
		case v.recovery == nil:
			want = v.plan.Confirmations(typedContext)
		case typedContext != "":
			// a rollback is low danger: y, or the context's name where typed
			want = []remediate.Confirmation{{Name: typedContext, Why: remediate.ConfirmTypedContext}}
		}
		not := "not run: " + e.Name
		v.confirm = newTypedConfirm(want, "chaos", not, not)
	}
	v.drawn = v.build()
}

func (v *chaosView) Title() string {
	if v.recovery != nil {
		return "chaos rollback " + safe(v.recovery.Ref.Name)
	}
	return "chaos " + safe(v.exp.Name)
}

func (v *chaosView) Capturing() bool { return v.state == chaosAsking }

func (v *chaosView) ShortHelp() []key.Binding {
	k := v.c.keys
	switch v.state {
	case chaosAsking:
		return v.confirm.shortHelp(k)
	case chaosRunning:
		return []key.Binding{relabel(k.Abort, "x", "abort"), relabel(k.NextPanel, "tab", "guard"), either("↑↓", "scroll", k.Up, k.Down), relabel(k.Back, "esc", "back")}
	}
	return []key.Binding{either("↑↓", "scroll", k.Up, k.Down), relabel(k.Detail, "d", "in full"), relabel(k.Back, "esc", "back")}
}

func (v *chaosView) FullHelp() [][]key.Binding { return v.c.keys.chaosHelp() }

// Detail is the plan, the run and the report, no line cut.
func (v *chaosView) Detail() (string, []string) {
	lines := append(v.pinned(), v.drawn...)
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = ansi.Strip(l)
	}
	return v.Title(), out
}

func (v *chaosView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case chaosFileMsg:
		if msg.id != v.id {
			return nil
		}
		if msg.err != nil {
			v.state, v.note = chaosDone, "its rollback cannot be offered: "+msg.err.Error()+"; undo its fault by hand"
			v.drawn = v.build()
			return nil
		}
		v.planned(msg.exp)
	case chaosEventMsg:
		if msg.id != v.id {
			return nil
		}
		v.event(msg.ev, msg.at)
		v.drawn = v.build()
		v.offset = v.last() // follow the log
	case chaosDoneMsg:
		if msg.id != v.id {
			return nil
		}
		v.state, v.report, v.cancel = chaosDone, &msg.rep, nil
		if !msg.rep.Ended.IsZero() {
			v.now = msg.rep.Ended
		}
		// the report's series are whole; the events may have dropped some
		for i, g := range msg.rep.Guards {
			if i < len(v.guards) {
				v.guards[i].Readings = g.Readings
			}
		}
		if t := msg.rep.Trip; t != nil && t.Guard >= 0 && t.Guard < len(v.guards) {
			v.guards[t.Guard].Tripped = true
		}
		v.drawn = v.build()
		v.offset = 0 // the report first
	case chaosAbortingMsg:
		if v.state == chaosRunning && v.recovery == nil {
			v.aborting = true
		}
	case tickMsg:
		if v.state == chaosRunning && !v.injected.IsZero() {
			v.now = v.c.deps.Now()
		}
	case tea.PasteMsg:
		if v.state == chaosAsking {
			v.confirm.paste(msg)
		}
	case tea.KeyPressMsg:
		return v.key(msg)
	}
	return nil
}

// event takes one event of the run into the panel and the log.
func (v *chaosView) event(ev chaos.Event, at time.Time) {
	v.stage = ev.Stage
	if ev.Stage == chaos.StageInject && v.injected.IsZero() {
		v.injected = at
	}
	if at.After(v.now) {
		v.now = at
	}
	if r := ev.Reading; r != nil && ev.Guard && r.Check >= 0 && r.Check < len(v.guards) {
		g := &v.guards[r.Check]
		g.Readings = append(g.Readings, *r)
		if !r.OK && r.Err == "" {
			g.Tripped = true
			v.sel = r.Check // its query shows under the panel
		}
	}
	if ev.Line != "" {
		v.log = append(v.log, v.c.styles.Muted.Render(v.c.clock(at)+" ")+safe(ev.Line))
	}
}

func (v *chaosView) key(km tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	if v.state != chaosAsking {
		switch {
		case v.scroll(km, k.Up, k.Down):
		case key.Matches(km, k.Abort) && v.state == chaosRunning && v.cancel != nil:
			if !v.aborting {
				v.aborting = true
				v.cancel(errAbortedByKey)
				return flash("aborting " + v.exp.Name + ": its rollback runs")
			}
		case key.Matches(km, k.NextPanel) && len(v.guards) > 0:
			v.sel = (v.sel + 1) % len(v.guards)
		case key.Matches(km, k.PrevPanel) && len(v.guards) > 0:
			v.sel = (v.sel + len(v.guards) - 1) % len(v.guards)
		}
		return nil
	}
	if cmd, yes := v.confirm.answer(v.c, km, v); !yes {
		return cmd
	}
	return v.run()
}

// scroll moves the lines below the panel by the keys given for up and
// down, and by pgup and pgdn; it says whether the key was one of them.
func (v *chaosView) scroll(km tea.KeyPressMsg, up, down key.Binding) bool {
	var ok bool
	v.offset, ok = scrollBy(km, v.c.keys, up, down, v.offset, v.room()-1, v.last())
	return ok
}

// run starts the experiment (or the recovery's rollback) in the
// background: its events come back one message each, read from a
// channel by a command, and the run never waits for the cockpit.
func (v *chaosView) run() tea.Cmd {
	v.state = chaosRunning
	r := v.c.deps.Chaos.Runner()
	id, e, now := v.id, v.exp, v.c.deps.Now
	approval := v.confirm.approval(v.c.deps.User)
	what := "experiment " + e.Name + " on " + e.Target
	if v.recovery != nil {
		what = "rollback of " + e.Name + " on " + e.Target
	}
	v.c.runs[id] = what // until its chaosDoneMsg
	// room for a long run's events; beyond it they are dropped, never
	// waited for: the report carries every reading
	ch := make(chan tea.Msg, 4096)
	r.Events = func(ev chaos.Event) {
		select {
		case ch <- chaosEventMsg{id: id, ev: ev, at: now()}:
		default:
		}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	v.cancel = cancel
	recovery := v.recovery
	if v.c.chaos == nil {
		v.c.chaos = chaosRuns{}
	}
	// quitting aborts an experiment; a recovery is a rollback already,
	// which quitting waits for
	v.c.chaos[id] = nil
	if recovery == nil {
		v.c.chaos[id] = cancel
	}
	go func() {
		defer cancel(nil)
		var rep chaos.Report
		if recovery != nil {
			rep = r.Recover(ctx, *recovery, e, approval)
		} else {
			rep = r.Run(ctx, e, approval, false)
		}
		ch <- chaosDoneMsg{id: id, name: e.Name, rep: rep}
	}()
	var next tea.Cmd
	next = func() tea.Msg {
		m := <-ch
		if ev, ok := m.(chaosEventMsg); ok {
			ev.next = next
			return ev
		}
		return m
	}
	v.drawn = v.build()
	return next
}

// pinned are the lines that stay on top while it runs and after: the
// stage and the guard panel.
func (v *chaosView) pinned() []string {
	if v.state < chaosRunning || v.note != "" || v.recovery != nil {
		return nil
	}
	return append([]string{v.stageLine()}, append(renderGuardPanel(v.guards, v.sel, v.width, v.c.styles), "")...)
}

// stageLine says where the run is: steady state, injected since when and
// how long is left, rolling back, ended.
func (v *chaosView) stageLine() string {
	st := v.c.styles
	switch {
	case v.report != nil:
		verdict := strings.ToUpper(v.report.Verdict)
		if v.report.OK() {
			return st.Heading.Render("ENDED ") + st.OK.Render("✓ "+verdict)
		}
		return st.Heading.Render("ENDED ") + st.Bad.Render("✗ "+verdict)
	case v.stage == chaos.StageRollback || v.stage == chaos.StageEnd || v.aborting:
		return st.Warn.Render(v.c.spinner() + " ROLLING BACK")
	case v.stage == chaos.StageGuard || (v.stage == chaos.StageInject && !v.injected.IsZero()):
		d := time.Duration(v.exp.Duration)
		left := max(0, d-v.now.Sub(v.injected)).Round(time.Second)
		return st.Warn.Render(v.c.spinner()+" INJECTED") + fmt.Sprintf(" since %s · %s of %s left", v.c.clock(v.injected), fmtLeft(left), fmtDuration(v.exp.Duration))
	default:
		return st.Accent.Render(v.c.spinner()+" STEADY STATE") + " · checked before the fault goes in"
	}
}

// fmtLeft writes a countdown: "9m55s", "45s".
func fmtLeft(d time.Duration) string {
	if d >= time.Minute {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// build draws the scrolling lines wrapped to the width: nothing of a
// command is cut, however long its URL or body. The commands come cut to
// the width already, at the cell, and a line that fits is left as it is.
func (v *chaosView) build() []string {
	var out []string
	for _, l := range v.lines() {
		if ansi.StringWidth(l) <= v.width {
			out = append(out, l)
			continue
		}
		out = append(out, wrapIndented([]string{l}, v.width)...)
	}
	return out
}

// lines are the scrolling lines: the report once there is one, the plan
// (or the recovery's offer), then the run's log.
func (v *chaosView) lines() []string {
	st := v.c.styles
	var out []string
	if v.report != nil {
		out = append(renderChaosReport(*v.report, v.c.zone(), st), "")
	}
	switch {
	case v.exp == nil:
		if v.note != "" {
			return []string{st.Bad.Render("✗ " + safe(v.recovery.Ref.Name) + ": " + safe(v.note))}
		}
		return []string{st.Muted.Render(v.c.spinner() + " reading " + safe(v.recovery.Ref.File) + "…")}
	case v.recovery != nil:
		out = append(out, v.recoveryLines()...)
	case v.state >= chaosRunning && v.note == "":
		// the plan was read before the yes; the run's own lines follow
	default:
		out = append(out, renderChaosPlan(v.plan, v.width, st)...)
	}
	if v.note != "" {
		out = append(out, "", st.Warn.Render(safe(v.note)))
	}
	if len(v.log) > 0 {
		out = append(out, st.Heading.Render("LOG"))
		out = append(out, v.log...)
	}
	return out
}

// recoveryLines offer an unfinished run's rollback: what the audit log
// knows of it, whether the file changed since, and the rollback as it
// will run.
func (v *chaosView) recoveryLines() []string {
	st := v.c.styles
	u := v.recovery
	out := []string{st.Warn.Render("NEVER FINISHED")}
	for _, l := range unfinishedLines(*u, v.c.zone()) {
		out = append(out, "  "+safe(l))
	}
	if u.Ref.SHA256 != "" && v.exp.SHA256 != u.Ref.SHA256 {
		out = append(out, st.Warn.Render("  ! the file changed since the run: its rollback now is not the one it ran with"))
	}
	out = append(out, "", st.Heading.Render("ROLLBACK")+st.Muted.Render("  runs now, from "+safe(v.exp.File)))
	return append(out, plannedLines(v.plan.Rollback, v.width)...)
}

// room is the scrolling lines' height: the view less the pinned lines,
// the line that counts hidden lines, and the footer.
func (v *chaosView) room() int { return max(1, v.height-len(v.pinned())-2) }

// last is the largest offset.
func (v *chaosView) last() int { return max(0, len(v.drawn)-v.room()) }

func (v *chaosView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	if v.exp != nil || v.recovery != nil {
		v.drawn = v.build()
	}
	v.offset = min(v.offset, v.last())
}

func (v *chaosView) View() string {
	st := v.c.styles
	pinned := v.pinned()
	lines := v.drawn
	from := min(v.offset, len(lines))
	room := v.room()
	ask := "Run it? "
	if v.recovery != nil {
		ask = "Roll it back? "
	}
	var foot string
	switch v.state {
	case chaosAsking:
		foot = v.confirm.footer(v.c, v.width, ask, v.ShortHelp())
	case chaosRunning:
		foot = v.c.footer(v.width, st.Muted.Render(v.c.spinner()+" running · "), v.ShortHelp())
	default:
		foot = v.c.footer(v.width, "", v.ShortHelp())
	}
	more := ""
	if h := hiddenLines(from, len(lines)-from-room); h != "" {
		more = st.Muted.Render("  " + h)
	}
	body := append(append([]string(nil), pinned...), lines[from:]...)
	return fill(body, v.width, v.height-2) + "\n" + fit(more, v.width) + "\n" + fit(foot, v.width)
}

// recordChaos keeps a run that failed, or was aborted once its fault was
// in, in the history as an incident a postmortem can start from, as
// oncall chaos run does; a passed run, or one that injected nothing, is
// in the audit log only. The flash says the record's ID, or why it was
// not written.
func recordChaos(d Deps, m chaosDoneMsg) tea.Cmd {
	rep := m.rep
	if d.History == nil || !rep.Incident() {
		return nil
	}
	return func() tea.Msg {
		// the run has happened: quitting or not, its record is written
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		rec, err := d.History.Store.Save(ctx, rep.Record(d.History.Stack))
		// the verdict first, the ID next: the why is the report's to say
		if err != nil {
			return flashMsg("chaos " + m.name + ": " + rep.Verdict + ", not recorded in the history: " + err.Error())
		}
		return flashMsg("chaos " + m.name + ": " + rep.Verdict + ", recorded as " + rec.ID + " in the history (H)")
	}
}
