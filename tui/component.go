package tui

import (
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/themes"
)

// Component is the one contract of every view and dialog of the cockpit.
// The root model routes by it alone.
type Component interface {
	// Update handles a message and returns the command it starts. Keys go
	// to the top component only; every other message goes to them all,
	// and each takes what is its own.
	Update(tea.Msg) tea.Cmd
	// View renders exactly the size SetSize gave. It does no I/O.
	View() string
	SetSize(width, height int)
	// Title names the component in the breadcrumbs; "" keeps it out, as
	// for help and dialogs that sit above a view.
	Title() string
	// ShortHelp is its footer; FullHelp is what the help overlay lists.
	help.KeyMap
	// Capturing is true while it takes text input: every key is its own,
	// q included.
	Capturing() bool
	// Close ends what it started (a live tail) as it leaves the screen.
	Close()
}

// common is what every component shares: the world it reads, the styles
// and keys, and the cockpit's clocks and switches.
type common struct {
	deps   Deps
	styles *themes.Styles
	keys   KeyMap
	hints  help.Model // renders ShortHelp as footers
	// hinted memoises rendered footers: they change with the bindings,
	// not with every frame.
	hinted map[string]string
	paused bool
	frame  int // spinner frame, advanced by the refresh tick
	// wall is the wall clock as of the last message: View reads it, so
	// that View stays a pure function of the model.
	wall time.Time
	// fleet is the overview's last load; the title's clock and the
	// palette read it.
	fleet *overviewData
	// traces are the traces of the open incidents, for the palette.
	traces map[Component][]correlate.TraceView
	// runs are the runbooks running from this cockpit, by plan view:
	// quitting asks while there is one.
	runs  map[int64]string
	chaos chaosRuns // the chaos runs among runs: quitting aborts their experiments
}

func newCommon(d Deps, st *themes.Styles) *common {
	keys := DefaultKeyMap()
	if d.ReadOnly {
		keys = keys.ReadOnly()
	}
	h := help.New()
	h.ShortSeparator = " · "
	h.Styles.ShortKey, h.Styles.ShortDesc, h.Styles.ShortSeparator, h.Styles.Ellipsis = st.Muted, st.Muted, st.Muted, st.Muted
	return &common{deps: d, styles: st, keys: keys, hints: h, hinted: map[string]string{}, wall: d.Wall(), traces: map[Component][]correlate.TraceView{},
		runs: map[int64]string{}}
}

// zone is where the cockpit writes times: the --timezone, else UTC.
func (c *common) zone() *time.Location {
	if c.deps.Zone == nil {
		return time.UTC
	}
	return c.deps.Zone
}

// clock writes a time of day in the cockpit's zone.
func (c *common) clock(t time.Time) string { return t.In(c.zone()).Format("15:04:05") }

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (c *common) spinner() string { return spinFrames[c.frame%len(spinFrames)] }

// hint renders bindings as a footer, "key desc · key desc"; sep replaces
// the separator when given.
func (c *common) hint(bindings []key.Binding, sep ...string) string {
	h := c.hints
	if len(sep) > 0 {
		h.ShortSeparator = sep[0]
	}
	var k strings.Builder
	k.WriteString(h.ShortSeparator)
	for _, b := range bindings {
		if b.Enabled() {
			k.WriteString("\x00" + b.Help().Key + "\x01" + b.Help().Desc)
		}
	}
	if out, ok := c.hinted[k.String()]; ok {
		return out
	}
	out := h.ShortHelpView(bindings)
	c.hinted[k.String()] = out
	return out
}

// footer is a view's last line, exactly width cells: lead (the view's
// state, cut first when short of room) then its keys, as many as fit
// whole, most important first, and "? help" whatever the width, so that
// every other key is one key away.
func (c *common) footer(width int, lead string, bindings []key.Binding) string {
	if !slices.ContainsFunc(bindings, c.isHelp) {
		bindings = append(bindings[:len(bindings):len(bindings)], c.keys.Help)
	}
	return c.keyLine(width, lead, bindings)
}

// keyLine is a footer without the help key added, for text input, where
// ? is a character.
func (c *common) keyLine(width int, lead string, bindings []key.Binding) string {
	// the keys keep at least half the line from the lead
	hints := c.fitKeys(width-min(lipgloss.Width(lead), width/2), bindings, " · ")
	if room := width - lipgloss.Width(hints); lipgloss.Width(lead) > room {
		lead = ansi.Truncate(lead, room, "…")
	}
	return fit(lead+hints, width)
}

// isHelp is true of a binding that opens or closes the help.
func (c *common) isHelp(b key.Binding) bool {
	return slices.ContainsFunc(b.Keys(), func(k string) bool { return slices.Contains(c.keys.Help.Keys(), k) })
}

// fitKeys renders the bindings that fit in width, each whole or not at
// all: the help key always, the others in their order until one does not
// fit, so that a less important key never takes the place of a more
// important one.
func (c *common) fitKeys(width int, bindings []key.Binding, sep string) string {
	cell := func(b key.Binding) int { return lipgloss.Width(b.Help().Key) + 1 + lipgloss.Width(b.Help().Desc) }
	used := 0
	for _, b := range bindings {
		if b.Enabled() && c.isHelp(b) {
			used += cell(b)
		}
	}
	shown := make([]key.Binding, 0, len(bindings))
	full := false
	for _, b := range bindings {
		switch {
		case !b.Enabled():
			continue
		case c.isHelp(b):
		case full || used+lipgloss.Width(sep)+cell(b) > width:
			full = true
			continue
		default:
			used += lipgloss.Width(sep) + cell(b)
		}
		shown = append(shown, b)
	}
	return c.hint(shown, sep)
}

// pushMsg puts a component on top of the stack, then runs start (a load
// or a subscription that needs the component in place).
type pushMsg struct {
	c     Component
	start tea.Cmd
}

func push(c Component, start tea.Cmd) tea.Cmd {
	return func() tea.Msg { return pushMsg{c, start} }
}

// popMsg closes the component on top, then runs then.
type popMsg struct{ then tea.Cmd }

func pop(then tea.Cmd) tea.Cmd { return func() tea.Msg { return popMsg{then} } }

// popAllMsg goes back to the overview.
type popAllMsg struct{}

// flashMsg puts a one-line outcome in the status area until the next key.
type flashMsg string

func flash(s string) tea.Cmd { return func() tea.Msg { return flashMsg(s) } }

// refreshMsg asks the views to reload now.
type refreshMsg struct{}

// tickMsg is the refresh timer.
type tickMsg time.Time

func tick(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// base is what most components share: their size, and no text input and
// no subscription. Components embed it and override what they do
// differently; each has its own FullHelp, its keys first.
type base struct {
	c             *common
	width, height int
}

func (b *base) SetSize(w, h int) { b.width, b.height = w, h }
func (b *base) Capturing() bool  { return false }
func (b *base) Close()           {}
