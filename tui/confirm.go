package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/remediate"
)

// typedConfirm is the question a plan asks before it runs, under the
// runbooks' rules: y for low danger; for high, each name in want typed in
// turn and entered. The default answer is no. The runbook plan view and
// the chaos view ask it alike.
type typedConfirm struct {
	want  []remediate.Confirmation // the names to type, in turn; none for y
	typed int                      // how many of want have been typed
	input textinput.Model
	topic string // the help view's name: "runbook"
	no    string // the flash when the answer is no: "not run: pool-full"
	wrong string // what the flash for a wrong name starts with
}

func newTypedConfirm(want []remediate.Confirmation, topic, no, wrong string) typedConfirm {
	t := typedConfirm{want: want, topic: topic, no: no, wrong: wrong}
	if len(want) > 0 {
		t.input = textinput.New()
		t.input.Prompt = ""
		t.input.SetVirtualCursor(false)
		t.input.Focus()
	}
	return t
}

// typing says whether names are typed, not y.
func (t *typedConfirm) typing() bool { return len(t.want) > 0 }

// asker is the view that asks: it scrolls what it asks about and shows
// it in full.
type asker interface {
	Component
	scroll(km tea.KeyPressMsg, up, down key.Binding) bool
	FullHelp() [][]key.Binding
}

// answer takes a key while the view asks, and says whether the answer
// is yes (the view runs then). With y: n, esc, enter and ctrl+c are no;
// j/k, the arrows and pgup/pgdn scroll; every other key does nothing, so
// that a vim user reading the plan with j never cancels it. Typing: esc
// is no, only the arrows scroll (j and k are text), and enter takes the
// name typed.
func (t *typedConfirm) answer(c *common, km tea.KeyPressMsg, v asker) (tea.Cmd, bool) {
	k := c.keys
	if !t.typing() {
		switch {
		case key.Matches(km, k.Yes):
			return nil, true
		case key.Matches(km, k.No, k.Cancel):
			return pop(flash(t.no + cancelNote(km, k))), false
		case key.Matches(km, k.Help):
			return push(newHelpView(c, t.topic, v.FullHelp()), nil), false
		case key.Matches(km, k.Detail):
			return openDetail(c, v), false
		case v.scroll(km, k.Up, k.Down):
			return nil, false
		}
		return flash("y runs it, n does not"), false
	}
	if v.scroll(km, k.PickUp, k.PickDown) {
		return nil, false
	}
	switch {
	case key.Matches(km, k.Cancel):
		return pop(flash(t.no + cancelNote(km, k))), false
	case key.Matches(km, k.Open):
		if w := t.want[t.typed].Name; t.input.Value() != w {
			return pop(flash(t.wrong + ": the name typed was not " + w)), false
		}
		if t.typed++; t.typed == len(t.want) {
			return nil, true
		}
		t.input.Reset()
	default:
		t.input, _ = t.input.Update(km)
	}
	return nil, false
}

// paste takes pasted text into the name being typed.
func (t *typedConfirm) paste(msg tea.PasteMsg) {
	if t.typing() {
		t.input, _ = t.input.Update(msg)
	}
}

// shortHelp is the keys while it asks.
func (t *typedConfirm) shortHelp(k KeyMap) []key.Binding {
	if t.typing() {
		return []key.Binding{relabel(k.Open, "enter", "run"), relabel(k.Cancel, "esc", "no"), either("↑↓", "scroll", k.PickUp, k.PickDown)}
	}
	return []key.Binding{relabel(k.Yes, "y", "run"), relabel(k.No, "n", "no"), either("j/k", "scroll", k.Up, k.Down), relabel(k.Detail, "d", "in full")}
}

// footer is the question, ask ("Run it? ") then how to answer, with the
// name typed so far.
func (t *typedConfirm) footer(c *common, width int, ask string, help []key.Binding) string {
	st := c.styles
	if !t.typing() {
		return c.footer(width, st.Warn.Render(ask+"[y/N]  "), help)
	}
	w := t.want[t.typed]
	name := safe(w.Name)
	which := "Type " + name
	if w.Why == remediate.ConfirmTypedContext {
		which = "This is " + name + ": type " + name
	}
	return c.keyLine(width, st.Warn.Render(ask+which+" and enter: ")+st.Accent.Render(inputLine(t.input))+"  ", help)
}

// approval says who said yes, and the names typed, for the audit log.
func (t *typedConfirm) approval(user string) string {
	s := "confirmed by " + user + " in the cockpit"
	if t.typing() {
		names := make([]string, len(t.want))
		for i, c := range t.want {
			names[i] = c.Name
		}
		s += ", " + strings.Join(names, " and ") + " typed"
	}
	return s
}
