package tui

import (
	"errors"
	"net/url"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// copyText puts s on the clipboard as one line with OSC 52, which reaches
// the terminal's clipboard over SSH too, and says what was copied. An ID,
// a query or a log line copied is pasted, often into a shell: it must hold
// nothing but what the flash shows (see pasteSafe).
func copyText(what, s string) tea.Cmd {
	return copyLines(what, []string{s})
}

// copyLines copies several lines (a budget's queries, a pane's text),
// each made as safe as copyText makes its one.
func copyLines(what string, lines []string) tea.Cmd {
	clean := make([]string, 0, len(lines))
	for _, l := range lines {
		clean = append(clean, pasteSafe(l))
	}
	s := strings.Join(clean, "\n")
	if strings.TrimSpace(s) == "" {
		return flash("nothing to copy here")
	}
	return tea.Batch(tea.SetClipboard(s), flash("copied "+what+": "+s))
}

// pasteSafe is s as one line of printable text. A paste is typed into
// whatever has focus: an escape sequence in it can end bracketed paste
// (ESC [201~) or write the clipboard again (OSC 52), and a newline runs
// what came before it, so neither may survive; tabs and newlines become
// spaces, which queries read as they read the original.
func pasteSafe(s string) string {
	return strings.NewReplacer("\n", " ", "\t", " ").Replace(termsafe.Text(s))
}

// copyLink copies a link to open in a browser, or says why it will not:
// only an http(s) URL of printable text is a link.
func copyLink(what, link string) tea.Cmd {
	if err := checkLink(link); err != nil {
		return flash("✗ " + what + " is not copied, " + err.Error() + ": " + safe(link))
	}
	return tea.Batch(tea.SetClipboard(link), flash("copied "+link))
}

// shownLink is link as a pane shows it: itself when it is one copyLink
// copies, else marked as not a link, so that no one opens it by hand.
func shownLink(link string) string {
	if err := checkLink(link); err != nil {
		return safe(link) + " (not a link: " + err.Error() + ")"
	}
	return link
}

// checkLink says why link is not an http(s) URL made of printable text
// alone. Links come from backends (an alert's generatorURL) and are
// opened by pasting into a browser: any other scheme (javascript:, file:)
// or a hidden character is refused rather than cleaned into something
// that is not what the backend sent.
func checkLink(link string) error {
	if link != pasteSafe(link) || strings.ContainsAny(link, " ") {
		return errors.New("it holds spaces or control characters")
	}
	u, err := url.Parse(link)
	switch {
	case err != nil:
		return errors.New("it is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("it is not http(s)")
	case u.Host == "":
		return errors.New("it names no host")
	}
	return nil
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
	return copyLink("the Explore link", link)
}
