package tui

import (
	"testing"

	"github.com/oncall-cockpit/oncall/history"
)

// H and S go back to their view when it is already open: H from a record
// opened in the history list returns to the list, S then H from there
// returns to it too; the stack never holds two of either.
func TestHistoryAndStatsKeysReturnToTheirView(t *testing.T) {
	a := withHistory(t, 120, 30)
	count := func() (hist, stats int) {
		for _, v := range a.stack {
			hist += btoi(is[*historyView](v))
			stats += btoi(is[*statsView](v))
		}
		return hist, stats
	}
	drive(t, a, press("H"), press("enter"))
	if _, ok := a.top().(*recordView); !ok {
		t.Fatalf("enter in the history list opened %T:\n%s", a.top(), screen(a))
	}
	drive(t, a, press("H"))
	if _, ok := a.top().(*historyView); !ok {
		t.Fatalf("H from a record shows %T, not the list:\n%s", a.top(), screen(a))
	}
	if h, _ := count(); h != 1 || len(a.stack) != 2 {
		t.Fatalf("H from a record: %d history views in a stack of %d", h, len(a.stack))
	}
	drive(t, a, press("S"), press("H"), press("S"), press("S"))
	if h, s := count(); h != 1 || s != 1 || len(a.stack) != 3 {
		t.Fatalf("S, H, S, S from the list: %d history and %d stats views in a stack of %d", h, s, len(a.stack))
	}
	if _, ok := a.top().(*statsView); !ok {
		t.Fatalf("S shows %T, not the stats", a.top())
	}
}

// The note dialog asks the store where it keeps records once, as it
// opens: View, called every frame, does no I/O.
func TestNoteDialogAsksWhereOnce(t *testing.T) {
	st := &countingWhere{Store: fakeHistory{}}
	d := historyDeps(t, st)
	a := startedWith(t, d, 120, 30)
	nd := newNoteDialog(a.c, "inc-3f9a1c07", "incident checkout-api")
	nd.SetSize(120, 29)
	for range 5 {
		nd.View()
	}
	if st.asked != 1 {
		t.Errorf("the store was asked where it is %d times for one dialog and five frames", st.asked)
	}
}

// countingWhere counts the calls to Where.
type countingWhere struct {
	history.Store
	asked int
}

func (c *countingWhere) Where() string {
	c.asked++
	return c.Store.Where()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
