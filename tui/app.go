package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/themes"
)

// App is the root model. It routes: global keys, sizes, the component
// stack and the flash line. The components render.
type App struct {
	c      *common
	stack  []Component // stack[0] is the overview; the last is shown
	flash  *flashLine
	width  int
	height int
	// quitting is set when the user chose to quit once the runs in
	// flight have finished: runbooks to their end, experiments aborted
	// and rolled back.
	quitting bool
}

// quitMsg asks the root to quit; it asks first while anything runs.
type quitMsg struct{}

func requestQuit() tea.Msg { return quitMsg{} }

// quitWhenDoneMsg is the answer yes to quitting while something runs.
type quitWhenDoneMsg struct{}

// New builds the cockpit.
func New(d Deps, st *themes.Styles) *App {
	c := newCommon(d, st)
	return &App{c: c, stack: []Component{newOverview(c)}, flash: &flashLine{c: c}}
}

func (a *App) Init() tea.Cmd {
	return tea.Batch(a.stack[0].Update(refreshMsg{}), tick(a.c.deps.Refresh), a.notice())
}

// noticeMsg is a line from outside the cockpit (the demo's autopilot).
type noticeMsg string

// notice waits for the next notice, if the cockpit has a source of them.
func (a *App) notice() tea.Cmd {
	ch := a.c.deps.Notices
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return nil
		}
		return noticeMsg(s)
	}
}

func (a *App) top() Component { return a.stack[len(a.stack)-1] }

func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	a.c.wall = a.c.deps.Wall()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		for _, v := range a.stack {
			v.SetSize(a.width, a.bodyHeight())
		}
		return a, nil
	case tea.KeyPressMsg:
		a.flash.clear()
		if a.top().Capturing() {
			return a, a.top().Update(msg)
		}
		if cmd, ok := a.globalKey(msg); ok {
			return a, cmd
		}
		return a, a.top().Update(msg)
	case tea.PasteMsg, tea.MouseClickMsg:
		return a, a.top().Update(msg)
	case tea.MouseWheelMsg:
		// the wheel scrolls as the arrows do, in whatever is on top
		k := tea.KeyPressMsg{Code: tea.KeyDown}
		if msg.Button == tea.MouseWheelUp {
			k = tea.KeyPressMsg{Code: tea.KeyUp}
		}
		return a, a.top().Update(k)
	case tickMsg:
		a.c.frame++
		return a, tea.Batch(tick(a.c.deps.Refresh), a.broadcast(msg))
	case pushMsg:
		msg.c.SetSize(a.width, a.bodyHeight())
		a.stack = append(a.stack, msg.c)
		return a, msg.start
	case popMsg:
		a.pop()
		return a, msg.then
	case popAllMsg:
		for len(a.stack) > 1 {
			a.pop()
		}
		return a, nil
	case flashMsg:
		a.flash.set(string(msg))
		return a, nil
	case runEventMsg:
		// the root keeps a run's events coming, whether or not its view is
		// still open: leaving the view never stalls the run
		return a, tea.Batch(a.broadcast(msg), msg.next)
	case runDoneMsg:
		a.flash.set("runbook " + msg.name + ": " + msg.out.Result)
		delete(a.c.runs, msg.id)
		if a.quitting && len(a.c.runs) == 0 {
			// the run's record is written before the cockpit goes
			return a, tea.Batch(a.broadcast(msg), tea.Sequence(recordRun(a.c.deps, msg), tea.Quit))
		}
		return a, tea.Batch(a.broadcast(msg), recordRun(a.c.deps, msg))
	case chaosEventMsg:
		// as a runbook's: the run's events keep coming with its view closed
		return a, tea.Batch(a.broadcast(msg), msg.next)
	case chaosDoneMsg:
		a.flash.set(chaosFlash(msg))
		delete(a.c.runs, msg.id)
		delete(a.c.chaos, msg.id)
		if a.quitting && len(a.c.runs) == 0 {
			// as a runbook's: the record is written before the cockpit goes
			return a, tea.Batch(a.broadcast(msg), tea.Sequence(recordChaos(a.c.deps, msg), tea.Quit))
		}
		return a, tea.Batch(a.broadcast(msg), recordChaos(a.c.deps, msg))
	case quitMsg:
		return a, a.quit()
	case quitWhenDoneMsg:
		a.quitting = true
		// an experiment is not waited out (it may have ten minutes to go):
		// it is aborted, and its rollback, which the runner bounds, is
		for _, cancel := range a.c.chaos {
			if cancel != nil {
				cancel(errQuitting)
			}
		}
		a.flash.set(a.quittingNote())
		return a, a.broadcast(chaosAbortingMsg{})
	case noticeMsg:
		// shown until the next key, and the panels reload to show its effect
		a.flash.set(string(msg))
		return a, tea.Batch(a.notice(), a.broadcast(refreshMsg{}))
	}
	return a, a.broadcast(msg)
}

// globalKey handles the keys that mean the same everywhere.
func (a *App) globalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := a.c.keys
	switch {
	case key.Matches(msg, k.Quit):
		return a.quit(), true
	case key.Matches(msg, k.Help):
		return push(newHelpView(a.c, viewName(a.top()), a.top().FullHelp()), nil), true
	case key.Matches(msg, k.Detail):
		return openDetail(a.c, a.top()), true
	case key.Matches(msg, k.Back) && len(a.stack) > 1:
		a.pop()
		return nil, true
	case key.Matches(msg, k.Palette):
		return push(newPalette(a.c), nil), true
	case key.Matches(msg, k.Pause):
		a.c.paused = !a.c.paused
		return nil, true
	case key.Matches(msg, k.Refresh):
		return func() tea.Msg { return refreshMsg{} }, true
	case key.Matches(msg, k.History):
		if a.raise(is[*historyView]) {
			return nil, true
		}
		return openHistory(a.c), true
	case key.Matches(msg, k.Stats):
		if a.raise(is[*statsView]) {
			return nil, true
		}
		return openStats(a.c), true
	case key.Matches(msg, k.Chaos):
		if a.raise(is[*chaosListView]) {
			return nil, true
		}
		return openChaos(a.c), true
	}
	if why, ok := k.refused(msg); ok {
		return flash(why), true
	}
	return nil, false
}

// quit ends the cockpit, unless something runs from it. A runbook (or
// a chaos rollback) stopped half-way would leave its audit entry
// UNFINISHED, so quitting waits for it; an experiment stopped by exiting
// would leave its fault in, so quitting aborts it and waits for its
// rollback. Either way it asks first, and says meanwhile what it waits
// for.
func (a *App) quit() tea.Cmd {
	if len(a.c.runs) == 0 {
		return tea.Quit
	}
	if a.quitting {
		return flash(a.quittingNote())
	}
	st := a.c.styles
	runbooks, experiments, rollbacks := a.runKinds()
	lines := []string{st.Heading.Render(runningHeading(runbooks, experiments, rollbacks)), ""}
	for _, r := range a.running() {
		lines = append(lines, "  "+safe(r))
	}
	lines = append(lines, "")
	question := "Quit when it has finished?"
	if runbooks+rollbacks > 0 {
		lines = append(lines, "Quitting now would stop it half-way, and the audit log would show it UNFINISHED.")
	}
	switch {
	case experiments == 0:
		lines = append(lines, "y quits as soon as it has finished and its audit entry is written; n, enter or esc stays.")
	case runbooks+rollbacks == 0:
		question = "Abort it and quit once it has rolled back?"
		lines = append(lines, "y aborts the experiment: its rollback runs, and the cockpit quits once that has finished and its audit entry is written; n, enter or esc stays.")
	default:
		question = "Abort the experiment and quit when all have finished?"
		lines = append(lines, "y aborts the experiment (its rollback runs), and the cockpit quits once every run has finished and written its audit entry; n, enter or esc stays.")
	}
	return push(newQuestion(a.c, lines, question, func() tea.Msg { return quitWhenDoneMsg{} },
		"not quitting: "+strings.Join(a.running(), ", ")+" still running"), nil)
}

// runKinds counts the runs in flight: runbooks, chaos experiments, and
// chaos rollbacks of unfinished runs.
func (a *App) runKinds() (runbooks, experiments, rollbacks int) {
	for id := range a.c.runs {
		cancel, isChaos := a.c.chaos[id]
		switch {
		case !isChaos:
			runbooks++
		case cancel != nil:
			experiments++
		default:
			rollbacks++
		}
	}
	return runbooks, experiments, rollbacks
}

// runningHeading says what runs: "A RUNBOOK IS RUNNING", "AN EXPERIMENT
// AND 2 RUNBOOKS ARE RUNNING".
func runningHeading(runbooks, experiments, rollbacks int) string {
	var parts []string
	for _, k := range []struct {
		n         int
		one, noun string
	}{{runbooks, "A", "RUNBOOK"}, {experiments, "AN", "EXPERIMENT"}, {rollbacks, "A", "ROLLBACK"}} {
		switch {
		case k.n == 1:
			parts = append(parts, k.one+" "+k.noun)
		case k.n > 1:
			parts = append(parts, fmt.Sprintf("%d %sS", k.n, k.noun))
		}
	}
	verb := " ARE RUNNING"
	if runbooks+experiments+rollbacks == 1 {
		verb = " IS RUNNING"
	}
	return strings.Join(parts, " AND ") + verb
}

// running names the runs in flight, in a stable order.
func (a *App) running() []string {
	return slices.Sorted(maps.Values(a.c.runs))
}

// quittingNote says what the cockpit waits for to quit.
func (a *App) quittingNote() string {
	names := strings.Join(a.running(), ", ")
	switch runbooks, experiments, rollbacks := a.runKinds(); {
	case experiments > 0 && runbooks+rollbacks == 0:
		return "aborted: quitting once " + names + " has rolled back"
	case experiments > 0:
		return "experiments aborted: quitting when " + names + " have finished (their audit entries are written first)"
	}
	return "quitting when " + names + " has finished (its audit entry is written first)"
}

// broadcast hands a message to every component, bottom first.
func (a *App) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(a.stack))
	for _, v := range a.stack {
		cmds = append(cmds, v.Update(msg))
	}
	return tea.Batch(cmds...)
}

// pop closes the component on top, ending its subscriptions. The
// overview is never popped.
func (a *App) pop() {
	if len(a.stack) == 1 {
		return
	}
	a.top().Close()
	a.stack = a.stack[:len(a.stack)-1]
}

// raise shows the view of the stack that match accepts, closing those
// above it, and reports whether there was one: H and S go back to their
// view rather than stack a second copy of it (H from a record opened in
// the history list returns to the list).
func (a *App) raise(match func(Component) bool) bool {
	for i := len(a.stack) - 1; i > 0; i-- {
		if match(a.stack[i]) {
			for len(a.stack) > i+1 {
				a.pop()
			}
			return true
		}
	}
	return false
}

// is reports whether a component is a T: the views' kinds, for routing.
func is[T Component](c Component) bool {
	_, ok := c.(T)
	return ok
}

// bodyHeight is the screen minus the title line.
func (a *App) bodyHeight() int { return max(1, a.height-1) }

// contextBadge is the context's name in its own colour, so nobody acts in
// the wrong stack; with how carefully the cockpit acts in it.
func (a *App) contextBadge() string {
	d := a.c.deps
	if d.Context == "" {
		return ""
	}
	style := a.c.styles.SeriesOf(d.Context).Bold(true)
	if d.ContextColor != "" {
		style = lipgloss.NewStyle().Foreground(lipgloss.Color(d.ContextColor)).Bold(true)
	}
	word := ""
	switch {
	case d.ReadOnly:
		word = " read-only"
	case d.ConfirmTyped:
		word = " typed"
	}
	return " " + style.Render("["+safe(d.Context)+word+"]")
}

// View draws the title line, then the top component.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	if !a.c.deps.NoMouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

func (a *App) render() string {
	if a.width == 0 || a.height == 0 {
		return ""
	}
	return a.header() + "\n" + a.flash.over(a.top().View(), a.width)
}

// viewName is the kind of a component, the first word of its title
// ("incident" of "incident email-queue"), for the help's title.
func viewName(c Component) string {
	name, _, _ := strings.Cut(c.Title(), " ")
	return name
}

// minSource is the fewest cells worth giving the source's name in the
// header: " · prod-eu…".
const minSource = 12

// minCrumb is the fewest cells the breadcrumbs keep before q quit leaves
// the header: enough for " · overview".
const minCrumb = 12

// header is the title line, exactly the width: the name, the context
// badge, the source and the breadcrumbs on the left; the data's clock
// and the global keys on the right. "? help" stays whatever the width:
// the source shortens first, then the breadcrumbs (to the last), then q.
func (a *App) header() string {
	st := a.c.styles
	var crumbs []string
	for _, v := range a.stack {
		if t := v.Title(); t != "" {
			crumbs = append(crumbs, t)
		}
	}
	clock := ""
	if d := a.c.fleet; d != nil {
		clock = a.c.clock(d.At) + " " + d.At.In(a.c.zone()).Format("MST") + "  "
	}
	name := st.Heading.Render("oncall") + a.contextBadge()
	// q gives way before the last breadcrumb is cut to nothing
	right := st.Muted.Render(clock) + a.c.fitKeys(a.width-lipgloss.Width(name)-lipgloss.Width(clock)-1-minCrumb, a.c.keys.Global(), "  ")
	room := a.width - lipgloss.Width(name) - lipgloss.Width(right) - 1
	trail := " · " + strings.Join(crumbs, " › ")
	if len(crumbs) > 1 && lipgloss.Width(trail) > room-minSource {
		trail = " · … › " + crumbs[len(crumbs)-1]
	}
	// the source takes what the breadcrumbs leave, or nothing when that
	// is too little to read
	source := ""
	if left := room - lipgloss.Width(trail); left >= minSource {
		source = ansi.Truncate(" · "+safe(a.c.deps.Title), left, "…")
	}
	left := name + st.Muted.Render(ansi.Truncate(source+trail, max(0, room), "…"))
	gap := a.width - lipgloss.Width(left) - lipgloss.Width(right)
	return fit(left+strings.Repeat(" ", max(1, gap))+right, a.width)
}
