package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// copyText puts s on the clipboard with OSC 52, which reaches the
// terminal's clipboard over SSH too, and says what was copied.
func copyText(what, s string) tea.Cmd {
	if s == "" {
		return flash("nothing to copy here")
	}
	return tea.Batch(tea.SetClipboard(s), flash("copied "+what+": "+s))
}

// exploreLink shows and copies a Grafana Explore link for a query, or
// says what is missing to make one.
func exploreLink(c *common, kind, query string, from, to time.Time) tea.Cmd {
	if query == "" {
		return flash("nothing here to open in Grafana")
	}
	link, err := c.deps.Explore.Link(kind, query, from, to)
	if err != nil {
		return flash("✗ " + err.Error())
	}
	return tea.Batch(tea.SetClipboard(link), flash("copied "+link))
}
