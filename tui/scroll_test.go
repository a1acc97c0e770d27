package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestMoveSelection: every key that help lists under moves moves a
// list's selection, within the list, and a page keeps two rows in view;
// the chaos list once ignored pgup and pgdn though its help listed them.
func TestMoveSelection(t *testing.T) {
	k := DefaultKeyMap()
	cases := []struct {
		key          tea.KeyPressMsg
		sel, n, room int
		want         int
		moved        bool
	}{
		{tea.KeyPressMsg{Code: tea.KeyDown}, 3, 10, 6, 4, true},
		{press("k"), 0, 10, 6, 0, true},
		{press("G"), 2, 10, 6, 9, true},
		{press("g"), 7, 10, 6, 0, true},
		{tea.KeyPressMsg{Code: tea.KeyPgDown}, 1, 10, 6, 5, true},
		{tea.KeyPressMsg{Code: tea.KeyPgDown}, 8, 10, 6, 9, true},
		{tea.KeyPressMsg{Code: tea.KeyPgUp}, 3, 10, 6, 0, true},
		{tea.KeyPressMsg{Code: tea.KeyPgDown}, 0, 10, 2, 1, true}, // a page is a row at least
		{tea.KeyPressMsg{Code: tea.KeyDown}, 0, 0, 6, 0, true},    // an empty list stays at 0
		{press("x"), 4, 10, 6, 4, false},
	}
	for _, c := range cases {
		got, moved := moveSelection(c.key, k, c.sel, c.n, c.room)
		if got != c.want || moved != c.moved {
			t.Errorf("%s from %d of %d (room %d): got %d, %v; want %d, %v", c.key, c.sel, c.n, c.room, got, moved, c.want, c.moved)
		}
	}
}
