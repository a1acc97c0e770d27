package history

import (
	"context"
	"errors"
	"fmt"
)

// LastID names the newest record of any stack, for DraftFrom.
const LastID = "last"

// ErrNoRecords is what DraftFrom returns for LastID when the store holds
// no record yet.
var ErrNoRecords = errors.New("no incidents recorded yet")

// similarPool bounds the past records a draft looks through for similar
// incidents: those naming the root, newest first. Similar keeps
// maxSimilar of them, the ones sharing the mechanism first; five hundred
// is years of one service's incidents, so the match is on the service's
// whole memory without reading the whole store.
const similarPool = 500

// DraftFrom drafts the postmortem of the record id names (LastID: the
// newest) from st: the record, the past records with its root for
// similar incidents, and the SLO budgets o.ReadBudgets reads. It is the
// one way P in the cockpit and oncall postmortem draft. A budget that
// cannot be read does not stop the draft: the draft says so. An unknown
// id is an error wrapping ErrNotFound.
func DraftFrom(ctx context.Context, st Store, id string, o PostmortemOptions) (Draft, error) {
	r, err := recordNamed(ctx, st, id)
	if err != nil {
		return Draft{}, err
	}
	var past []Record
	if r.Root != "" {
		if past, err = st.List(ctx, Filter{Service: r.Root, Limit: similarPool}); err != nil {
			return Draft{}, fmt.Errorf("past incidents of %s in %s: %w", r.Root, st.Where(), err)
		}
	}
	if r.Stack != o.Stack {
		// the writer's Grafana and SLOs are its own stack's: they say
		// nothing of another's incidents
		o.Explore, o.Budgets = nil, nil
		o.BudgetNote = fmt.Sprintf("the record is of stack %s, and this draft was written from %s: budgets are read from the record's own stack", r.Stack, firstNonEmpty(o.Stack, "no stack"))
	} else if o.ReadBudgets != nil {
		o.Budgets, err = o.ReadBudgets(ctx, r)
		switch {
		case err != nil && o.Budgets == nil:
			o.BudgetNote = "no SLO budget could be read: " + err.Error()
		case err != nil:
			o.BudgetNote = err.Error()
		case o.Budgets == nil:
			o.BudgetNote = "stack " + r.Stack + " has no SLOs to read"
		}
	}
	return Postmortem(r, past, o), nil
}

// recordNamed is the record id names: LastID is the newest.
func recordNamed(ctx context.Context, st Store, id string) (Record, error) {
	if id != LastID {
		r, err := st.Get(ctx, id)
		if err != nil {
			return r, fmt.Errorf("incident %s in %s: %w", id, st.Where(), err)
		}
		return r, nil
	}
	rs, err := st.List(ctx, Filter{Limit: 1})
	if err != nil {
		return Record{}, fmt.Errorf("the last incident in %s: %w", st.Where(), err)
	}
	if len(rs) == 0 {
		return Record{}, fmt.Errorf("%s: %w", st.Where(), ErrNoRecords)
	}
	return rs[0], nil
}
