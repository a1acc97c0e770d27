package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// lineOf is line i of the screen.
func lineOf(a *App, i int) string { return strings.Split(screen(a), "\n")[i] }

// lastLine is the screen's last line.
func lastLine(a *App) string {
	lines := strings.Split(screen(a), "\n")
	return lines[len(lines)-1]
}

// openSLOOf opens the first SLO's view, its budget read.
func openSLOOf(t *testing.T, a *App) *sloView {
	t.Helper()
	b := ov(a).data.Budgets[0]
	run(a, openSLO(a.c, b))
	run(a, loadSLO(a.c.deps, b.SLO))
	v, ok := a.top().(*sloView)
	if !ok {
		t.Fatalf("no SLO view: %T", a.top())
	}
	return v
}

// The header keeps "? help" and the clock at every width; the
// breadcrumbs shorten first, and nothing is cut mid-word at the right.
func TestHeaderKeepsHelpAtEveryWidth(t *testing.T) {
	for _, w := range []int{60, 80, 200} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			a := started(t, w, 24)
			openSLOOf(t, a)
			head := lineOf(a, 0)
			clock := a.c.clock(a.c.fleet.At)
			if lipgloss.Width(head) != w || strings.HasSuffix(head, "…") {
				t.Fatalf("the header is cut:\n%q", head)
			}
			if !strings.Contains(head, "? help") || !strings.Contains(head, clock) || !strings.Contains(head, "slo ") {
				t.Errorf("the header lacks ? help, the clock %s or the view:\n%q", clock, head)
			}
			if w == 200 && (!strings.Contains(head, "overview › slo ") || !strings.Contains(head, "q quit")) {
				t.Errorf("at 200 columns the header is whole:\n%q", head)
			}
			if w == 60 && strings.Contains(head, "overview ›") {
				t.Errorf("at 60 columns the breadcrumbs shorten to the last:\n%q", head)
			}
		})
	}
}

// Footers drop keys whole, from the least important, and keep ? help.
func TestFootersDropKeysWholeAndKeepHelp(t *testing.T) {
	a := started(t, 80, 24)
	k := a.c.keys
	keys := []key.Binding{relabel(k.Back, "esc", "back"), relabel(k.Detail, "d", "detail"), relabel(k.Traces, "t", "traces"),
		relabel(k.Logs, "l", "logs"), relabel(k.Collapse, "c", "collapse the dependency tree")}
	lead := a.c.styles.Muted.Render("incident for email-queue · assembled in 120ms · ")
	for _, w := range []int{60, 80, 200} {
		out := ansi.Strip(a.c.footer(w, lead, keys))
		if lipgloss.Width(out) != w || !strings.HasSuffix(strings.TrimRight(out, " "), "? help") {
			t.Errorf("at %d the footer does not end in ? help:\n%q", w, out)
		}
		if !strings.Contains(out, "esc back · d detail") {
			t.Errorf("at %d the most important keys are gone:\n%q", w, out)
		}
		// a key is shown whole or not at all, and in its order
		shown := strings.Contains(out, "collapse the dependency tree")
		if shown != (w == 200) || strings.Contains(out, "collapse…") || !shown && strings.Contains(out, "c collapse") {
			t.Errorf("at %d the last key is cut or out of order:\n%q", w, out)
		}
	}
	// the same through a view: the SLO's footer at each width
	for _, w := range []int{60, 80, 200} {
		a := started(t, w, 24)
		openSLOOf(t, a)
		foot := lastLine(a)
		if !strings.HasSuffix(strings.TrimRight(foot, " "), "? help") || !strings.Contains(foot, "esc back") {
			t.Errorf("the SLO footer at %d:\n%q", w, foot)
		}
	}
}

// ? lists the keys of the view on top first, then the global ones, under
// the view's name.
func TestHelpIsTheViewsOwn(t *testing.T) {
	a := started(t, 100, 60)
	drive(t, a, press("?"))
	out := screen(a)
	if !strings.Contains(out, "KEYS: OVERVIEW") || !strings.Contains(out, "sort services") {
		t.Fatalf("the overview's help:\n%s", out)
	}
	drive(t, a, press("esc"))
	openSLOOf(t, a)
	drive(t, a, press("?"))
	out = screen(a)
	if !strings.Contains(out, "KEYS: SLO") || strings.Contains(out, "sort services") || strings.Contains(out, "waterfall") {
		t.Fatalf("the SLO's help lists another view's keys:\n%s", out)
	}
	own, global := strings.Index(out, "the incident of the SLO's service"), strings.Index(out, "find anything")
	if own < 0 || global < 0 || own > global {
		t.Errorf("the view's keys come first, then the global ones:\n%s", out)
	}
}

// :q, :quit and :q! quit, as in k9s; q alone in the palette used to open
// the fuzzy match "incident email-queue". A near miss is still fuzzy.
func TestColonQQuits(t *testing.T) {
	for _, typed := range []string{"q", "quit", "q!"} {
		a := started(t, 120, 30)
		drive(t, a, press(":"))
		for _, r := range typed {
			a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		if _, cmd := a.Update(press("enter")); !quits(a, cmd) {
			t.Errorf(":%s did not quit: %T on top", typed, a.top())
		}
	}
	a := started(t, 120, 30)
	drive(t, a, press(":"))
	for _, r := range "qu" {
		a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if ms := a.top().(*palette).matches(); len(ms) > 0 && ms[0].kind == "command" {
		t.Errorf(":qu is not a command, yet it is offered first: %+v", ms[0])
	}
}

// The plan's question takes y, n, enter and esc only: j and k scroll it,
// d shows it in full, any other key does nothing, n, esc and enter do
// not run it, y does.
func TestPlanQuestionScrollsWithJAndK(t *testing.T) {
	a, f := kitted(t, "db-pool-exhaustion", 5*time.Minute, 80, 24, false)
	openIncidentOf(t, a, "payment-api")
	before := len(f.ChangesBetween(f.Onset(), f.Now()))
	drive(t, a, press("R"))
	v, ok := a.top().(*planView)
	if !ok || v.state != planAsking || v.last() == 0 {
		t.Fatalf("no long plan asking at 80×24: %T", a.top())
	}
	drive(t, a, press("j"), press("j"))
	if a.top() != v || v.offset != 2 {
		t.Fatalf("j cancelled or did not scroll: offset %d, %T on top", v.offset, a.top())
	}
	drive(t, a, press("k"))
	if v.offset != 1 {
		t.Errorf("k did not scroll back: %d", v.offset)
	}
	drive(t, a, press("x"))
	if a.top() != v || !strings.Contains(screen(a), "y runs it, n does not") {
		t.Errorf("another key cancelled, or said nothing:\n%s", screen(a))
	}
	// d shows the plan with no line cut, and leaves the question open
	drive(t, a, press("d"))
	p, ok := a.top().(*detailPane)
	if !ok || !strings.Contains(strings.Join(p.text, "\n"), "sum(db_client_connection_count{service=") {
		t.Fatalf("d did not show the plan in full: %T\n%s", a.top(), screen(a))
	}
	drive(t, a, press("esc"))
	if a.top() != v || v.state != planAsking {
		t.Fatalf("closing the detail left the question: %T", a.top())
	}
	for _, no := range []tea.KeyPressMsg{press("n"), press("esc"), press("enter"), ctrlC} {
		drive(t, a, press("R"), no)
		if _, open := a.top().(*planView); open || !strings.Contains(screen(a), "not run: pool-full") {
			t.Fatalf("%s did not answer no:\n%s", no, screen(a))
		}
	}
	if len(f.ChangesBetween(f.Onset(), f.Now())) != before {
		t.Fatal("something ran before y")
	}
	drive(t, a, press("R"), press("y"))
	if !strings.Contains(screen(a), "runbook pool-full: resolved") {
		t.Fatalf("y did not run it:\n%s", screen(a))
	}
}

// The acknowledgement asks the same way: j neither acknowledges nor
// cancels; enter is no.
func TestAckQuestionTakesOnlyItsAnswers(t *testing.T) {
	a, f := aliceAcks(t)
	drive(t, a, press("a"), press("j"), press("k"), press("x"))
	if _, open := a.top().(*confirmDialog); !open || len(f.Silences()) != 0 {
		t.Fatalf("j, k or x answered the question: %T on top", a.top())
	}
	drive(t, a, press("enter"))
	if _, open := a.top().(*confirmDialog); open || len(f.Silences()) != 0 || !strings.Contains(screen(a), "not acknowledged") {
		t.Fatalf("enter is not no:\n%s", screen(a))
	}
}

// ctrl+c is a key pressed to get out: in a question it answers no, the
// answer that does nothing, and says so; pressed again it quits, as
// anywhere.
func TestCtrlCInAQuestionIsNoThenQuits(t *testing.T) {
	a, f := aliceAcks(t)
	drive(t, a, press("a"))
	_, cmd := a.Update(ctrlC)
	if quits(a, cmd) {
		t.Fatal("ctrl+c in the question quit at once")
	}
	run(a, cmd)
	if _, open := a.top().(*confirmDialog); open || len(f.Silences()) != 0 || !strings.Contains(screen(a), "not acknowledged (ctrl+c answers no; again, it quits)") {
		t.Fatalf("ctrl+c did not answer no:\n%s", screen(a))
	}
	if _, cmd := a.Update(ctrlC); !quits(a, cmd) {
		t.Errorf("a second ctrl+c did not quit: %T on top", a.top())
	}
}

// ctrlC is the key ctrl+c.
var ctrlC = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}

// errLong is a dead Prometheus's error, longer than any screen's width.
var errLong = errors.New(`prometheus query_range sum by (service) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (service) (rate(http_requests_total[5m])): Post "http://prometheus:9090/api/v1/query_range": dial tcp 10.0.0.7:9090: connect: connection refused`)

// d shows an SLO's error whole, wrapped to the width; j/k scroll; y
// copies; esc closes. Where the top has nothing to detail, d says so.
func TestDetailShowsTheWholeError(t *testing.T) {
	a := started(t, 60, 20)
	v := openSLOOf(t, a)
	b := v.budget
	b.Err, b.Status = errLong.Error(), "unread"
	drive(t, a, sloMsg{name: b.SLO.Name, budget: b})
	drive(t, a, press("d"))
	p, ok := a.top().(*detailPane)
	if !ok {
		t.Fatalf("d opened no detail: %T\n%s", a.top(), screen(a))
	}
	all := strings.Join(p.wrapped, "")
	for _, want := range []string{"connection refused", `{code=~"5.."}`, "window queries:"} {
		if !strings.Contains(all, want) {
			t.Errorf("the detail lacks %q:\n%s", want, strings.Join(p.wrapped, "\n"))
		}
	}
	for _, l := range strings.Split(screen(a), "\n") {
		if lipgloss.Width(l) != 60 {
			t.Fatalf("a line is not 60 wide: %q", l)
		}
	}
	if p.last() == 0 {
		t.Fatal("the detail should scroll at 60×20")
	}
	drive(t, a, press("j"), press("j"), press("k"))
	if p.offset != 1 {
		t.Errorf("j j k: offset %d", p.offset)
	}
	_, cmd := a.Update(press("y"))
	run(a, cmd)
	if !strings.Contains(screen(a), "copied slo ") {
		t.Errorf("y did not copy:\n%s", screen(a))
	}
	drive(t, a, press("q"))
	if a.top() != v {
		t.Fatalf("q did not close the detail: %T", a.top())
	}
	drive(t, a, press("?"), press("d"))
	if _, ok := a.top().(*helpView); !ok {
		t.Fatalf("d over help: %T", a.top())
	}
	drive(t, a, press("esc"))
	run(a, push(&planView{base: base{c: a.c}, state: planDone, name: "none"}, nil))
	drive(t, a, press("d"))
	if !strings.Contains(screen(a), "d: nothing selected to show in full") {
		t.Errorf("d over an empty plan says nothing:\n%s", screen(a))
	}
	run(a, push(&plainView{base{c: a.c}}, nil))
	drive(t, a, press("d"))
	if !strings.Contains(screen(a), "d: nothing here to show in full") {
		t.Errorf("d over a view without detail says nothing:\n%s", screen(a))
	}
}

// plainView is a view with no detail.
type plainView struct{ base }

func (plainView) Title() string             { return "plain" }
func (plainView) ShortHelp() []key.Binding  { return nil }
func (plainView) FullHelp() [][]key.Binding { return nil }
func (plainView) Update(tea.Msg) tea.Cmd    { return nil }
func (v plainView) View() string            { return fill(nil, v.width, v.height) }

// Read-only: the detail pane offers no action and takes none.
func TestReadOnlyDetailActsOnNothing(t *testing.T) {
	d := deps(testFleet(t))
	d.ReadOnly = true
	a := startedWith(t, d, 120, 30)
	openSLOOf(t, a)
	drive(t, a, press("d"))
	p, ok := a.top().(*detailPane)
	if !ok {
		t.Fatalf("no detail: %T", a.top())
	}
	for _, g := range p.FullHelp() {
		for _, b := range g {
			for _, act := range a.c.keys.actions() {
				if b.Enabled() && key.Matches(press(b.Keys()[0]), *act.b) {
					t.Errorf("the detail offers %s", act.what)
				}
			}
		}
	}
	drive(t, a, press("A"), press("R"), press("a"))
	if a.top() != p {
		t.Errorf("a key of an action left the detail: %T", a.top())
	}
}

// At 60×20 and 80×24 every view fills the screen exactly, and the header
// and the footer fit on their one line.
func TestFrameFitsSmallScreens(t *testing.T) {
	for _, size := range [][2]int{{60, 20}, {80, 24}} {
		a := started(t, size[0], size[1])
		for _, step := range []func(){
			func() {},
			func() { openSLOOf(t, a) },
			func() { drive(t, a, press("d")) },
			func() { drive(t, a, press("?")) },
		} {
			step()
			lines := strings.Split(screen(a), "\n")
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Errorf("%dx%d %T: %s", size[0], size[1], a.top(), bad)
			}
			if !strings.Contains(lines[0], "? help") {
				t.Errorf("%dx%d %T header: %q", size[0], size[1], a.top(), lines[0])
			}
		}
	}
}

// A detail's heading shouts only our word for what it is: the span's
// name and path keep their case, which can be all that tells two apart.
func TestDetailHeadingKeepsTheBackendsCase(t *testing.T) {
	a := started(t, 80, 24)
	run(a, push(newDetailPane(a.c, "span web-gateway POST /Cart/{ID}", []string{"web-gateway POST /Cart/{ID} · server · error"}), nil))
	if got := lineOf(a, 1); !strings.Contains(got, "SPAN web-gateway POST /Cart/{ID}") {
		t.Errorf("the heading: %q", got)
	}
	for title, want := range map[string]string{
		"log line": "LOG LINE", "log line x": "LOG LINE x", "slo Checkout-Avail": "SLO Checkout-Avail",
		"spanner db": "spanner db", "incident Payment-API": "INCIDENT Payment-API",
	} {
		if got := detailHeading(title); got != want {
			t.Errorf("detailHeading(%q) = %q, want %q", title, got, want)
		}
	}
}

// The detail counts the lines scrolled off above and those below, as the
// lists count their rows.
func TestDetailCountsTheHiddenLines(t *testing.T) {
	a := started(t, 80, 20)
	lines := make([]string, 40)
	for i := range lines {
		lines[i] = fmt.Sprint("line ", i)
	}
	run(a, push(newDetailPane(a.c, "errors", lines), nil))
	p := a.top().(*detailPane)
	if got := lastLine(a); !strings.Contains(got, fmt.Sprintf("↓ %d more below", 40-p.room())) || strings.Contains(got, "above") {
		t.Fatalf("at the top: %q", got)
	}
	drive(t, a, press("j"), press("j"), press("j"))
	if got := lastLine(a); !strings.Contains(got, fmt.Sprintf("↑ 3 more above, ↓ %d below", 40-p.room()-3)) {
		t.Errorf("after j j j: %q", got)
	}
	drive(t, a, press("G"))
	if got := lastLine(a); !strings.Contains(got, fmt.Sprintf("↑ %d more above", 40-p.room())) || strings.Contains(got, "below") {
		t.Errorf("at the bottom: %q", got)
	}
}

// Each view's ? lists the moves it makes, and every move it lists moves
// it: a key the help offers that does nothing teaches the reader to
// distrust the help, and one it leaves out is never learnt.
func TestEachViewMakesTheMovesItsHelpLists(t *testing.T) {
	const w, h = 80, 16
	views := map[string]func(t *testing.T) *App{
		"overview": func(t *testing.T) *App { return started(t, w, h) },
		"incident": func(t *testing.T) *App { return drive(t, started(t, w, h), press("enter")) },
		"trace":    func(t *testing.T) *App { return drive(t, started(t, w, h), press("enter"), press("t")) },
		"logs":     func(t *testing.T) *App { a, _ := openLogsAt(t, w, h); return a },
		"slo":      func(t *testing.T) *App { a := started(t, w, h); openSLOOf(t, a); return a },
		"detail": func(t *testing.T) *App {
			a := started(t, w, h)
			lines := make([]string, 40)
			for i := range lines {
				lines[i] = fmt.Sprint("error ", i)
			}
			run(a, push(newDetailPane(a.c, "errors", lines), nil))
			return a
		},
		"plan": func(t *testing.T) *App {
			a, _ := kitted(t, "db-pool-exhaustion", 5*time.Minute, w, h, false)
			openIncidentOf(t, a, "payment-api")
			return drive(t, a, press("R"))
		},
	}
	// each move is tried three lines from where it goes, so it has room
	moves := []struct {
		key tea.KeyPressMsg
		up  bool
	}{{press("j"), false}, {press("G"), false}, {tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl}, false},
		{press("k"), true}, {press("g"), true}, {tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}, true}}
	for name, open := range views {
		t.Run(name, func(t *testing.T) {
			a := open(t)
			for _, m := range moves {
				if m.up {
					drive(t, a, press("j"), press("j"), press("j"))
				} else {
					drive(t, a, press("k"), press("k"), press("k")) // the logs start at the tail
				}
				// the last line is left out: a flash there says a key did nothing
				top, before := a.top(), aboveLastLine(a)
				drive(t, a, m.key)
				moved := a.top() == top && aboveLastLine(a) != before
				switch help := listed(top.FullHelp(), m.key); {
				case help && !moved:
					t.Errorf("%s lists %s, which does nothing there (%T on top):\n%s", name, m.key, a.top(), screen(a))
				case !help && moved:
					t.Errorf("%s moves on %s, which its help does not list", name, m.key)
				}
			}
		})
	}
}

// aboveLastLine is the screen but its last line.
func aboveLastLine(a *App) string {
	s := screen(a)
	return s[:strings.LastIndex(s, "\n")]
}

// listed says whether a help lists a binding for the key.
func listed(groups [][]key.Binding, km tea.KeyPressMsg) bool {
	for _, g := range groups {
		for _, b := range g {
			if b.Enabled() && key.Matches(km, b) {
				return true
			}
		}
	}
	return false
}
