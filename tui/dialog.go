package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// confirmDialog shows exactly what an action will do and asks. y goes
// ahead; n, esc and enter (the default answer) are no, and so is ctrl+c:
// the answer that does nothing, after which a second ctrl+c quits as it
// does anywhere; j/k and the arrows scroll a long text; every other key
// does nothing but say so,
// so that a key pressed from habit neither acts nor cancels. In a
// context that wants its name typed, only the typed name and enter go
// ahead, esc is no and the arrows scroll. It takes every key while it is
// open.
type confirmDialog struct {
	base
	lines []string // what will happen, already safe to draw
	// wrapped is lines wrapped to the width, so that no word of what
	// will happen, nor of how to answer, is cut off
	wrapped []string
	ask     string  // the question, "Acknowledge?"
	yes     tea.Cmd // what runs on yes
	no      string  // the flash when the answer is no
	typed   string  // the name to type, in a typed context
	input   textinput.Model
	offset  int // lines scrolled off the top
}

func newConfirm(c *common, lines []string, ask string, yes tea.Cmd, no string) *confirmDialog {
	d := newQuestion(c, lines, ask, yes, no)
	if c.deps.ConfirmTyped {
		d.typed = c.deps.Context
		d.input = textinput.New()
		d.input.Prompt = ""
		d.input.SetVirtualCursor(false)
		d.input.Focus()
	}
	return d
}

// newQuestion asks a question that acts on nothing outside the cockpit
// (whether to quit): y or no, whatever the context.
func newQuestion(c *common, lines []string, ask string, yes tea.Cmd, no string) *confirmDialog {
	return &confirmDialog{base: base{c: c}, lines: lines, ask: ask, yes: yes, no: no}
}

func (d *confirmDialog) Title() string   { return "" }
func (d *confirmDialog) Capturing() bool { return true }

func (d *confirmDialog) ShortHelp() []key.Binding {
	if d.typed != "" {
		return []key.Binding{relabel(d.c.keys.Open, "enter", "go ahead"), relabel(d.c.keys.Cancel, "esc", "no")}
	}
	return []key.Binding{relabel(d.c.keys.Yes, "y", "yes"), relabel(d.c.keys.No, "n", "no")}
}

func (d *confirmDialog) FullHelp() [][]key.Binding {
	k := d.c.keys
	if d.typed != "" {
		return [][]key.Binding{{relabel(k.Open, "enter", "go ahead if the name typed is "+safe(d.typed)), relabel(k.Cancel, "esc", "no")},
			{either("↑↓", "scroll", k.PickUp, k.PickDown)}}
	}
	return [][]key.Binding{{k.Yes, either("n/enter/esc", "no (enter's answer is no; ctrl+c is no too)", k.No, k.Cancel)}, {k.Up, k.Down, k.PageUp, k.PageDown}}
}

func (d *confirmDialog) Update(msg tea.Msg) tea.Cmd {
	if d.typed != "" {
		return d.updateTyped(msg)
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := d.c.keys
	switch {
	case key.Matches(km, k.Yes):
		return pop(d.yes)
	case key.Matches(km, k.No, k.Cancel):
		return pop(flash(d.no + cancelNote(km, k)))
	case key.Matches(km, k.Help):
		return push(newHelpView(d.c, "question", d.FullHelp()), nil)
	case d.scroll(km, k.Up, k.Down):
		return nil
	}
	return flash("y or n")
}

// noQuitNote follows the answer no that ctrl+c gave: the key quits
// everywhere else, so the one pressed from habit is told how.
const noQuitNote = " (ctrl+c answers no; again, it quits)"

// cancelNote is noQuitNote when the key was ctrl+c (of Cancel and
// Quit both), not esc or n.
func cancelNote(km tea.KeyPressMsg, k KeyMap) string {
	if key.Matches(km, k.Quit) {
		return noQuitNote
	}
	return ""
}

// scroll moves the text by the keys given for up and down, and by pgup
// and pgdn; it says whether the key was one of them.
func (d *confirmDialog) scroll(km tea.KeyPressMsg, up, down key.Binding) bool {
	k := d.c.keys
	last := max(0, len(d.wrapped)-d.room())
	switch {
	case key.Matches(km, up):
		d.offset = max(0, d.offset-1)
	case key.Matches(km, down):
		d.offset = min(last, d.offset+1)
	case key.Matches(km, k.PageUp):
		d.offset = max(0, d.offset-d.room())
	case key.Matches(km, k.PageDown):
		d.offset = min(last, d.offset+d.room())
	default:
		return false
	}
	return true
}

func (d *confirmDialog) SetSize(w, h int) {
	d.base.SetSize(w, h)
	d.wrapped = wrapIndented(d.lines, w)
	d.offset = min(d.offset, max(0, len(d.wrapped)-d.room()))
}

// wrapIndented wraps each line at its words to width cells, its
// continuation lines indented as it is.
func wrapIndented(lines []string, width int) []string {
	var out []string
	for _, l := range lines {
		plain := ansi.Strip(l)
		indent := len(plain) - len(strings.TrimLeft(plain, " "))
		if indent >= width/2 {
			indent = 0
		}
		for i, part := range strings.Split(ansi.Wrap(l, max(1, width-indent), ""), "\n") {
			if i > 0 {
				part = strings.Repeat(" ", indent) + part
			}
			out = append(out, part)
		}
	}
	return out
}

// room is the lines of text above the blank line and the question.
func (d *confirmDialog) room() int { return max(1, d.height-2) }

// updateTyped takes the typed name: enter goes ahead only on an exact
// match, esc is no.
func (d *confirmDialog) updateTyped(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		d.input, _ = d.input.Update(msg)
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, d.c.keys.Cancel):
			return pop(flash(d.no + cancelNote(msg, d.c.keys)))
		case d.scroll(msg, d.c.keys.PickUp, d.c.keys.PickDown):
		case key.Matches(msg, d.c.keys.Open):
			if d.input.Value() == d.typed {
				return pop(d.yes)
			}
			return pop(flash(d.no + ": the name typed was not " + d.typed))
		default:
			d.input, _ = d.input.Update(msg)
		}
	}
	return nil
}

func (d *confirmDialog) View() string {
	st := d.c.styles
	ask := d.c.footer(d.width, st.Warn.Render(d.ask+" [y/N]  "), d.ShortHelp())
	if d.typed != "" {
		// what is typed stays in view: narrow, the lead says less (the
		// dialog's heading still asks), and a long input shows its end
		keys := lipgloss.Width(d.c.fitKeys(d.width, d.ShortHelp(), " · "))
		name := safe(d.typed)
		var lead string
		for _, lead = range []string{d.ask + " This is " + name + ": type " + name + " to go ahead: ",
			d.ask + " type " + name + " to go ahead: ", "type " + name + ": "} {
			if lipgloss.Width(lead)+min(lipgloss.Width(name), 8)+3+keys <= d.width {
				break
			}
		}
		room := max(4, d.width-lipgloss.Width(lead)-keys-2)
		ask = d.c.keyLine(d.width, st.Warn.Render(lead)+st.Accent.Render(inputIn(d.input, room))+"  ", d.ShortHelp())
	}
	from := min(d.offset, len(d.wrapped))
	shown := d.wrapped[from:min(len(d.wrapped), from+d.room())]
	return fill(append(append([]string(nil), shown...), "", ask), d.width, d.height)
}

// flashLine is the outcome of the last action, drawn over the last line
// of the screen until the next key.
type flashLine struct {
	c    *common
	text string
}

func (f *flashLine) set(s string) { f.text = s }
func (f *flashLine) clear()       { f.text = "" }

// over draws the flash over the body's last line.
func (f *flashLine) over(body string, width int) string {
	if f.text == "" {
		return body
	}
	i := len(body)
	for i > 0 && body[i-1] != '\n' {
		i--
	}
	return body[:i] + fit(f.c.styles.Accent.Render(safe(f.text)), width)
}

// helpView lists the bindings of the component it was opened over,
// generated from the one KeyMap, scrolling when the screen is short.
// Every other key closes it; q still quits (asking first while a
// runbook runs).
type helpView struct {
	base
	name   string // the view it was opened over
	groups [][]key.Binding
	offset int
}

func newHelpView(c *common, name string, groups [][]key.Binding) *helpView {
	return &helpView{base: base{c: c}, name: name, groups: groups}
}

func (h *helpView) Title() string   { return "" }
func (h *helpView) Capturing() bool { return true }

func (h *helpView) ShortHelp() []key.Binding {
	k := h.c.keys
	return []key.Binding{either("esc or ?", "closes this help", k.Back, k.Help), either("↑↓", "scroll", k.Up, k.Down)}
}

func (h *helpView) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }

func (h *helpView) SetSize(w, hh int) {
	h.base.SetSize(w, hh)
	h.offset = min(h.offset, h.last())
}

// last is the largest offset: the end of the list on the last line above
// the footer.
func (h *helpView) last() int { return max(0, len(h.lines())-(h.height-1)) }

func (h *helpView) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	k := h.c.keys
	switch {
	case !ok:
		return nil
	case key.Matches(km, k.Quit):
		return requestQuit
	case key.Matches(km, k.Down):
		h.offset = min(h.last(), h.offset+1)
	case key.Matches(km, k.Up):
		h.offset = max(0, h.offset-1)
	case key.Matches(km, k.PageDown, k.Bottom):
		h.offset = h.last()
	case key.Matches(km, k.PageUp, k.Top):
		h.offset = 0
	case key.Matches(km, k.Back, k.Help):
		return pop(nil)
	}
	return nil
}

// lines are the whole list, before scrolling.
func (h *helpView) lines() []string {
	st := h.c.styles
	// the name is a view's kind, ours ("incident", not its service), so
	// it is shouted with the rest of the heading
	lines := []string{st.Heading.Render("KEYS: " + strings.ToUpper(h.name))}
	const keyW = 10
	room := max(10, h.width-keyW-3)
	for _, col := range h.groups {
		lines = append(lines, "") // the view's own keys, then the others
		for _, b := range col {
			if !b.Enabled() {
				continue
			}
			hp := b.Help()
			// "incident: open its traces" says where a key works; over
			// that view, it is said already
			desc := strings.TrimPrefix(hp.Desc, h.name+": ")
			for i, part := range strings.Split(ansi.Wrap(desc, room, ""), "\n") {
				k := ""
				if i == 0 {
					k = hp.Key
				}
				lines = append(lines, "  "+st.Accent.Render(fit(k, keyW))+" "+part)
			}
		}
	}
	return append(lines, "", st.Muted.Render("Every state is shown by a symbol and a word: ✓ ok, ! warning, ✗ failing."),
		st.Muted.Render("Numbers come from the queries shown in `oncall incident -o json` and `oncall slo -o json`."))
}

func (h *helpView) View() string {
	lines := h.lines()
	from := min(h.offset, len(lines))
	lead := footerLead(h.c.styles, from, len(lines)-from-(h.height-1))
	return fill(lines[from:], h.width, h.height-1) + "\n" + h.c.footer(h.width, lead, h.ShortHelp())
}
