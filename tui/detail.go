package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/themes"
)

// detailer is a view whose selection can be longer than its row: an
// error, a log line, a label set. The root shows it whole on the Detail
// key (d), as k9s's describe does. Lines are plain text; the pane makes
// them safe and wraps them.
type detailer interface {
	Detail() (title string, lines []string)
}

// detailPane shows one selection in full, wrapped to the width and
// scrolling. It only reads: nothing in it acts, so read-only has nothing
// to disable here. It takes every key while it is open, so that q closes
// it, as it closes a pager, rather than quitting the cockpit.
type detailPane struct {
	base
	title   string
	text    []string // the lines as given, made safe
	wrapped []string // text wrapped to the width
	offset  int
}

// openDetail asks the component on top for its selection in full, and
// says why not when it has none.
func openDetail(c *common, top Component) tea.Cmd {
	d, ok := top.(detailer)
	if !ok {
		return flash("d: nothing here to show in full")
	}
	title, lines := d.Detail()
	if len(lines) == 0 {
		return flash("d: nothing selected to show in full")
	}
	return push(newDetailPane(c, title, lines), nil)
}

func newDetailPane(c *common, title string, lines []string) *detailPane {
	text := make([]string, len(lines))
	for i, l := range lines {
		text[i] = safe(l)
	}
	return &detailPane{base: base{c: c}, title: safe(title), text: text}
}

func (d *detailPane) Title() string   { return "detail" }
func (d *detailPane) Capturing() bool { return true }

func (d *detailPane) ShortHelp() []key.Binding {
	k := d.c.keys
	return []key.Binding{relabel(k.Close, "esc", "close"), either("↑↓", "scroll", k.Up, k.Down), relabel(k.Copy, "y", "copy")}
}

func (d *detailPane) FullHelp() [][]key.Binding { return d.c.keys.detailHelp() }

func (d *detailPane) SetSize(w, h int) {
	d.base.SetSize(w, h)
	d.wrapped = d.wrapped[:0]
	for _, l := range d.text {
		// a wrapped line hangs under its own indent, so that a long query
		// reads as one item of its list; a blank line stays, between parts
		body := strings.TrimLeft(l, " ")
		indent := l[:min(len(l)-len(body), (w-2)/2)]
		for i, part := range strings.Split(ansi.Wrap(body, max(1, w-4-len(indent)), ""), "\n") {
			if i > 0 {
				part = "  " + part
			}
			d.wrapped = append(d.wrapped, indent+part)
		}
	}
	d.offset = min(d.offset, d.last())
}

// room is the lines of text between the title and the footer.
func (d *detailPane) room() int { return max(1, d.height-2) }

// last is the largest offset: the end of the text on the last line.
func (d *detailPane) last() int { return max(0, len(d.wrapped)-d.room()) }

func (d *detailPane) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := d.c.keys
	switch {
	case key.Matches(km, k.Close):
		return pop(nil)
	case key.Matches(km, k.Quit):
		// q closed the pane above; what is left of Quit is ctrl+c
		return requestQuit
	case key.Matches(km, k.Help):
		return push(newHelpView(d.c, "detail", d.FullHelp()), nil)
	case key.Matches(km, k.Copy):
		return copyLines(d.title, d.text)
	case key.Matches(km, k.Down):
		d.offset = min(d.last(), d.offset+1)
	case key.Matches(km, k.Up):
		d.offset = max(0, d.offset-1)
	case key.Matches(km, k.PageDown):
		d.offset = min(d.last(), d.offset+d.room())
	case key.Matches(km, k.PageUp):
		d.offset = max(0, d.offset-d.room())
	case key.Matches(km, k.Bottom):
		d.offset = d.last()
	case key.Matches(km, k.Top):
		d.offset = 0
	}
	return nil
}

func (d *detailPane) View() string {
	st := d.c.styles
	lines := []string{st.Heading.Render(detailHeading(d.title))}
	from := min(d.offset, len(d.wrapped))
	for _, l := range d.wrapped[from:min(len(d.wrapped), from+d.room())] {
		lines = append(lines, "  "+l)
	}
	lead := footerLead(st, from, len(d.wrapped)-from-d.room())
	return fill(lines, d.width, d.height-1) + "\n" + d.c.footer(d.width, lead, d.ShortHelp())
}

// detailKinds are the words that open a detail title, ours to shout; what
// follows them is a backend's name (a span, a path, a label) and keeps
// its case, which can be all that tells two apart.
var detailKinds = []string{"log line", "span", "slo", "alert", "service", "runbook", "incident", "errors"}

// detailHeading is a title with its kind in capitals, as headings are,
// and the rest as the backend wrote it.
func detailHeading(title string) string {
	for _, k := range detailKinds {
		if rest, ok := strings.CutPrefix(title, k); ok && (rest == "" || rest[0] == ' ') {
			return strings.ToUpper(k) + rest
		}
	}
	return title
}

// hiddenLines counts the lines scrolled off above and those still below,
// as the lists count their rows: "↑ 3 more above, ↓ 12 below".
func hiddenLines(above, below int) string {
	switch {
	case above > 0 && below > 0:
		return fmt.Sprintf("↑ %d more above, ↓ %d below", above, below)
	case above > 0:
		return fmt.Sprintf("↑ %d more above", above)
	case below > 0:
		return fmt.Sprintf("↓ %d more below", below)
	}
	return ""
}

// footerLead is hiddenLines at the start of a footer, muted and parted
// from the keys; nothing when nothing is hidden.
func footerLead(st *themes.Styles, above, below int) string {
	if h := hiddenLines(above, below); h != "" {
		return st.Muted.Render(h + " · ")
	}
	return ""
}
