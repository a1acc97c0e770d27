package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// scrollBy moves at, an offset or a selection, by one for the keys given
// for up and down and by page for pgup and pgdn, within 0 to last; it
// says whether the key was one of them.
func scrollBy(km tea.KeyPressMsg, k KeyMap, up, down key.Binding, at, page, last int) (int, bool) {
	switch {
	case key.Matches(km, up):
		return max(0, at-1), true
	case key.Matches(km, down):
		return min(last, at+1), true
	case key.Matches(km, k.PageUp):
		return max(0, at-page), true
	case key.Matches(km, k.PageDown):
		return min(last, at+page), true
	}
	return at, false
}

// moveSelection moves the selection in a list of n rows, room of them
// shown, by the keys of k.moves(); a page keeps two rows of the last one
// in view. It says whether the key was one of them.
func moveSelection(km tea.KeyPressMsg, k KeyMap, sel, n, room int) (int, bool) {
	last := max(0, n-1)
	switch {
	case key.Matches(km, k.Top):
		return 0, true
	case key.Matches(km, k.Bottom):
		return last, true
	}
	return scrollBy(km, k, k.Up, k.Down, sel, max(1, room-2), last)
}
