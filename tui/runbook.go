package tui

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/themes"
)

// planState is where a plan view is: planning, asking, running, done.
type planState int

const (
	planLoading planState = iota
	planAsking
	planRunning
	planDone
)

func (s planState) String() string {
	return [...]string{"planning", "asking", "running", "done"}[s]
}

// planIDs tells the messages of one plan view from another's.
var planIDs atomic.Int64

// planView shows a runbook's plan (the diagnosis and its branch, each
// action exactly as it will run, the guardrails, the verification), asks,
// and then streams the run and its verification. While it asks, y runs
// it; n, esc, enter (the default answer) and ctrl+c do not; j/k, the
// arrows and pgup/pgdn scroll; every other key does nothing: a vim user
// reading the plan with j never cancels it. For high danger the target's name,
// and in a typed context the context's name as well, are each typed in
// turn and entered; esc is no, and only the arrows scroll, as j and k
// are text then.
type planView struct {
	base
	id       int64
	name     string // runbook
	state    planState
	plan     *remediate.Plan
	shown    present.Plan        // the plan as presented, with its outcome once run
	proposal *remediate.Proposal // set when approving one
	confirm  typedConfirm
	output   []string // the run's events, safe to draw
	offset   int
	drawn    []string // lines(), kept until the plan, the output or the outcome change
	record   string   // the history record of the incident it runs for; "" for none
}

type planMsg struct {
	id   int64
	plan *remediate.Plan
	err  error
}

type runEventMsg struct {
	id   int64
	ev   remediate.Event
	next tea.Cmd
}

type runDoneMsg struct {
	id   int64
	name string // the runbook
	out  remediate.Outcome
	// record is the history record the run was for, and approval who
	// said yes, for the record's actions
	record, approval string
}

// openPlan plans a matched runbook for an incident, whose history
// record is record ("" when it has none).
func openPlan(c *common, m remediate.Matched, inc *correlate.Incident, record string) tea.Cmd {
	v := &planView{base: base{c: c}, id: planIDs.Add(1), name: m.Name, record: record}
	kit, id, timeout := c.deps.Kit, v.id, 3*c.deps.Timeout
	return push(v, func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return planMsg{id: id, plan: kit.Planner.Plan(ctx, m, inc)}
	})
}

// openApproval plans a proposal's runbook anew, for its target, to be
// approved with the usual confirmation.
func openApproval(c *common, p remediate.Proposal) tea.Cmd {
	v := &planView{base: base{c: c}, id: planIDs.Add(1), name: p.Runbook, proposal: &p}
	kit, id, timeout := c.deps.Kit, v.id, 3*c.deps.Timeout
	return push(v, func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		rb, err := kit.Find(p.Runbook)
		if err != nil {
			return planMsg{id: id, err: err}
		}
		s, err := kit.Look(ctx)
		if err != nil {
			return planMsg{id: id, err: err}
		}
		m, _ := kit.MatchFor(rb, s, p.Target)
		return planMsg{id: id, plan: kit.Planner.Plan(ctx, m, s.Incident)}
	})
}

func (v *planView) Title() string   { return "runbook " + safe(v.name) }
func (v *planView) Capturing() bool { return v.state == planAsking }

func (v *planView) ShortHelp() []key.Binding {
	k := v.c.keys
	if v.state == planAsking {
		return v.confirm.shortHelp(k)
	}
	return []key.Binding{either("↑↓", "scroll", k.Up, k.Down), relabel(k.Back, "esc", "back")}
}

func (v *planView) FullHelp() [][]key.Binding { return v.c.keys.planHelp() }

// Detail is the whole plan, and the run so far, with no line cut to the
// width: a long command or query reads in full before y.
func (v *planView) Detail() (string, []string) {
	lines := v.lines()
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = ansi.Strip(l)
	}
	return "runbook " + v.name, out
}

func (v *planView) Update(msg tea.Msg) tea.Cmd {
	cmd := v.update(msg)
	// drawn here, not in View: the lines change only with these
	switch m := msg.(type) {
	case planMsg:
		if m.id == v.id {
			v.drawn = v.build()
		}
	case runEventMsg:
		if m.id == v.id {
			v.drawn = v.build()
			v.offset = v.last() // follow the output
		}
	case runDoneMsg:
		if m.id == v.id {
			v.drawn = v.build()
			v.offset = v.last()
		}
	}
	return cmd
}

func (v *planView) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case planMsg:
		if msg.id != v.id {
			return nil
		}
		if msg.err != nil {
			v.state, v.output = planDone, []string{v.c.styles.Bad.Render("✗ " + safe(msg.err.Error()))}
			return nil
		}
		v.plan, v.shown = msg.plan, present.NewPlan(msg.plan)
		if !v.plan.Runnable() {
			v.state = planDone
			return nil
		}
		v.state = planAsking
		typedContext := ""
		if v.c.deps.ConfirmTyped {
			typedContext = v.c.deps.Context
		}
		v.confirm = newTypedConfirm(v.plan.Confirmations(typedContext), "runbook", "not run: "+v.name, "not run")
	case runEventMsg:
		if msg.id != v.id {
			return nil
		}
		line := safe(msg.ev.Line)
		if msg.ev.Status {
			line = v.c.styles.Accent.Render("▸ " + line)
		} else {
			line = v.c.styles.Muted.Render("  │ ") + line
		}
		v.output = append(v.output, line)
	case runDoneMsg:
		if msg.id != v.id {
			return nil
		}
		o := present.NewOutcome(msg.out)
		v.state, v.shown.Outcome = planDone, &o
	case tea.PasteMsg:
		if v.state == planAsking {
			v.confirm.paste(msg)
		}
	case tea.KeyPressMsg:
		return v.key(msg)
	}
	return nil
}

func (v *planView) key(km tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	if v.state != planAsking {
		switch {
		case v.scroll(km, k.Up, k.Down):
		case key.Matches(km, k.Back):
			// a run goes on when its view is left: the root keeps its
			// events coming and flashes how it ended
			return pop(nil)
		}
		return nil
	}
	if cmd, yes := v.confirm.answer(v.c, km, v); !yes {
		return cmd
	}
	return v.run()
}

// scroll moves the plan by the keys given for up and down, and by pgup
// and pgdn; it says whether the key was one of them.
func (v *planView) scroll(km tea.KeyPressMsg, up, down key.Binding) bool {
	var ok bool
	v.offset, ok = scrollBy(km, v.c.keys, up, down, v.offset, v.height-2, v.last())
	return ok
}

// run starts the plan: its events come back one message each.
func (v *planView) run() tea.Cmd {
	v.state = planRunning
	kit, plan, id := v.c.deps.Kit, v.plan, v.id
	v.c.runs[id] = plan.Runbook + " on " + plan.Target // until its runDoneMsg
	approval := v.confirm.approval(v.c.deps.User)
	// room for a long run's output; beyond it lines are dropped, never
	// waited for (the audit log keeps the digest of all of it)
	ch := make(chan tea.Msg, 4096)
	var next tea.Cmd
	next = func() tea.Msg {
		m := <-ch
		if e, ok := m.(runEventMsg); ok {
			e.next = next
			return e
		}
		return m
	}
	proposal, record := v.proposal, v.record
	go func() {
		ctx := context.Background()
		if proposal != nil {
			if err := remediate.Decide(ctx, kit.Ledger, kit.Audit, *proposal, true, v.c.deps.User, kit.Exec.Host); err != nil {
				ch <- runDoneMsg{id: id, name: plan.Runbook, out: remediate.Outcome{Result: remediate.ResultRefused, Actions: []remediate.ActionOutcome{{Name: plan.Runbook, Target: plan.Target, Error: err.Error(), Result: remediate.ResultRefused}}}}
				return
			}
			approval = "proposal " + proposal.ID + " approved; " + approval
		}
		out := kit.Run(ctx, plan, approval, false, func(ev remediate.Event) {
			select {
			case ch <- runEventMsg{id: id, ev: ev}:
			default:
			}
		})
		ch <- runDoneMsg{id: id, name: plan.Runbook, out: out, record: record, approval: approval}
	}()
	return next
}

// lines are the plan, then the run, then the outcome, as last drawn;
// while planning, the spinner's line.
func (v *planView) lines() []string {
	if v.plan == nil && v.state == planLoading {
		return v.build()
	}
	return v.drawn
}

// build draws the lines for Update to keep.
func (v *planView) build() []string {
	st := v.c.styles
	if v.plan == nil {
		if v.state == planLoading {
			return []string{st.Muted.Render(v.c.spinner() + " diagnosing " + safe(v.name) + "…")}
		}
		return v.output
	}
	var out []string
	if v.proposal != nil {
		out = append(out, st.Warn.Render("APPROVING PROPOSAL "+safe(v.proposal.ID)+" by "+safe(v.proposal.By)+": "+safe(v.proposal.Why)), "")
	}
	out = append(out, renderPlan(v.shown, st)...)
	if len(v.output) > 0 {
		out = append(out, "", st.Heading.Render("RUN"))
		out = append(out, v.output...)
	}
	if o := v.shown.Outcome; o != nil {
		out = append(out, "")
		out = append(out, renderOutcome(*o, st)...)
	} else if v.state == planDone && !v.shown.Runnable {
		out = append(out, "", st.Warn.Render("Nothing to run: "+safe(v.shown.Branch)))
	}
	return out
}

// renderPlan draws a plan's sections: each title a heading in capitals,
// as the cockpit's headings are, its lines indented under it.
func renderPlan(p present.Plan, st *themes.Styles) []string {
	var out []string
	for i, s := range p.Sections {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, st.Heading.Render(strings.ToUpper(s.Title)))
		for _, l := range s.Lines {
			out = append(out, "  "+safe(l))
		}
	}
	return out
}

// renderOutcome draws how a run went: its result beside a symbol, so that
// it reads without colour, then each action and each escalation.
func renderOutcome(o present.Outcome, st *themes.Styles) []string {
	head := st.OK.Render("✓ " + o.Result)
	if !o.OK {
		head = st.Bad.Render("✗ " + o.Result)
	}
	out := []string{head}
	for _, a := range o.Actions {
		out = append(out, "  "+safe(a))
	}
	for _, x := range o.Escalation {
		out = append(out, "  escalation: "+safe(x))
	}
	return out
}

// last is the largest offset: the end on the last line above the ask.
func (v *planView) last() int { return max(0, len(v.lines())-(v.height-2)) }

func (v *planView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.offset = min(v.offset, v.last())
}

func (v *planView) View() string {
	st := v.c.styles
	lines := v.lines()
	from := min(v.offset, len(lines))
	var foot string
	switch v.state {
	case planAsking:
		foot = v.confirm.footer(v.c, v.width, "Run it? ", v.ShortHelp())
	case planRunning:
		foot = v.c.footer(v.width, st.Muted.Render(v.c.spinner()+" running · "), v.ShortHelp())
	default:
		foot = v.c.footer(v.width, "", v.ShortHelp())
	}
	more := ""
	if h := hiddenLines(from, len(lines)-from-(v.height-2)); h != "" {
		more = st.Muted.Render("  " + h)
	}
	return fill(lines[from:], v.width, v.height-2) + "\n" + fit(more, v.width) + "\n" + fit(foot, v.width)
}

// runbookLines list the runbooks that match an incident, best first, for
// the top of the incident view.
func runbookLines(c *common, ms []remediate.Matched, width int) []string {
	st := c.styles
	if c.deps.Kit == nil {
		return nil
	}
	head := st.Heading.Render("RUNBOOKS")
	var broken []string
	if err := c.deps.Kit.LoadErr; err != nil {
		// a runbook that did not load is said, not silently missing
		first, _, _ := strings.Cut(err.Error(), "\n")
		broken = []string{fit(st.Bad.Render("  ✗ not loaded: "+safe(first))+st.Muted.Render(" (oncall runbook validate lists all)"), width)}
	}
	if len(ms) == 0 {
		n := len(c.deps.Kit.Runbooks)
		return append(append([]string{head + st.Muted.Render(fmt.Sprintf("  none of the %d match this incident", n))}, broken...), "")
	}
	hint := c.hint([]key.Binding{relabel(c.keys.Runbook, "R", "plan the first"), relabel(c.keys.RunbookN, "1-9", "plan that one")}, ", ")
	if c.deps.ReadOnly {
		hint = st.Muted.Render("read-only: nothing runs")
	}
	out := append([]string{head + st.Muted.Render("  (") + hint + st.Muted.Render(")")}, broken...)
	for i, m := range ms {
		if i == 9 {
			out = append(out, st.Muted.Render(fmt.Sprintf("  … %d more", len(ms)-9)))
			break
		}
		out = append(out, fit(fmt.Sprintf("  %d. %s on %s: %s", i+1, safe(m.Name), safe(m.Service), safe(m.Why)), width))
	}
	return append(out, "")
}

// matchRunbooks lists the runbooks that match an incident and the alerts
// firing now.
func matchRunbooks(c *common, inc *correlate.Incident) []remediate.Matched {
	if c.deps.Kit == nil || inc == nil {
		return nil
	}
	var alerts []sources.Alert
	if c.fleet != nil {
		alerts = c.fleet.Alerts
	}
	return remediate.MatchAll(c.deps.Kit.Runbooks, remediate.NewSituation(alerts, inc, c.deps.Meta.BurnRateAlerts))
}

// proposalRows are the overview's "waiting for approval" panel.
func proposalRows(c *common, ps []remediate.Proposal, now time.Time, width, room int) []string {
	st := c.styles
	hint := c.hint([]key.Binding{relabel(c.keys.Approve, "A", "approve the first"), relabel(c.keys.Reject, "X", "reject it")}, ", ")
	if c.deps.ReadOnly {
		hint = st.Muted.Render("read-only")
	}
	out := []string{st.Warn.Render("WAITING FOR APPROVAL") + st.Muted.Render("  (") + hint + st.Muted.Render(")")}
	for i, p := range ps {
		if i == room {
			out = append(out, st.Muted.Render(fmt.Sprintf("  … %d more", len(ps)-room)))
			break
		}
		left := p.Expires.Sub(now).Round(time.Second)
		out = append(out, fit(fmt.Sprintf("  %s on %s, %s danger: %s · expires in %s", safe(p.Runbook), safe(p.Target), p.Danger, safe(p.Why), left), width))
	}
	return out
}
