package tui

import (
	"strings"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/themes"
)

// renderSLO draws an SLO's laid-out detail as styled lines of exactly
// width cells for the scrolling view: each part in the style of its tone,
// each chart as wide as the view. The layout is present's, shared with
// `oncall slo show`.
func renderSLO(d present.SLODetail, width int, st *themes.Styles) []string {
	lines := d.Lines()
	out := make([]string, len(lines))
	for i, l := range lines {
		var b strings.Builder
		b.WriteString(strings.Repeat(" ", l.Indent))
		for _, s := range l.Parts {
			b.WriteString(styleTone(s.Text, s.Tone, st))
		}
		if c := l.Chart; c != nil {
			// two cells short of the edge, as the view's other lines end
			b.WriteString(styleTone(c.Draw(max(10, width-l.Indent-2)), c.Tone, st))
		}
		out[i] = fit(b.String(), width)
	}
	return out
}

// styleTone renders text in the theme's style of its tone; plain text is
// left in the terminal's own colour.
func styleTone(text string, t present.Tone, st *themes.Styles) string {
	switch t {
	case present.ToneMuted:
		return st.Muted.Render(text)
	case present.ToneHeading:
		return st.Heading.Render(text)
	case present.ToneOK:
		return st.OK.Render(text)
	case present.ToneWarn:
		return st.Warn.Render(text)
	case present.ToneBad:
		return st.Bad.Render(text)
	}
	return text
}
