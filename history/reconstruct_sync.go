package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// SyncReport is what Sync did: the records as stored, and the onset
// search's counts (see OnsetReport).
type SyncReport struct {
	Records []Record
	Onsets  OnsetReport
}

// Sync reconstructs the records of in, matches each to the stored record
// it is (the one with its ID, else an open or resolved record of the
// stack it is Related to: a live record's alerts start when Alertmanager
// saw them, a step away from the ALERTS series', so their IDs differ),
// looks for the onsets of those whose stored record has none and was not
// searched already (FindOnsets; assemble nil: none are looked for), and
// saves each whose merge with the stored record changes it: the store
// merges it into what it holds, so a live record keeps what it saw and
// gains what it missed, and a second run over the same history writes
// nothing. A record whose onset was not found is still saved; the error
// says which searches the stack could not answer and which saves failed.
func Sync(ctx context.Context, st Store, in Inputs, assemble Assemble) (SyncReport, error) {
	recs := Reconstruct(in)
	if len(recs) == 0 {
		return SyncReport{}, nil
	}
	stored, err := st.List(ctx, Filter{Since: recs[0].Detected.T.Add(-MatchLookback)})
	if err != nil {
		return SyncReport{}, fmt.Errorf("reconstruct: list the records in %s: %w", st.Where(), err)
	}
	byID := make(map[string]Record, len(stored))
	for _, s := range stored {
		byID[s.ID] = s
	}
	matched := make([]*Record, len(recs))
	// the records with no onset stored, and where each is in recs
	var missing []Record
	var at []int
	for i := range recs {
		r := &recs[i]
		if s, ok := storedMatch(byID, stored, *r, in.Near); ok {
			r.ID, matched[i] = s.ID, &s
			// later records match what this one makes of it: a live record
			// left open takes its rebuilt alerts' ends and resolution, and
			// a later fault is then no part of it
			merged := Merge(s, *r)
			byID[s.ID] = merged
			for j := range stored {
				if stored[j].ID == s.ID {
					stored[j] = merged
				}
			}
			if !s.Onset.IsZero() {
				continue
			}
			r.OnsetSearch = s.OnsetSearch
		}
		missing, at = append(missing, *r), append(at, i)
	}
	var rep SyncReport
	var errs []error
	if assemble != nil && len(missing) > 0 {
		if rep.Onsets, err = FindOnsets(ctx, missing, assemble); err != nil {
			errs = append(errs, err)
		}
		for j, i := range at {
			recs[i] = missing[j]
		}
	}
	var failed int
	var firstFailure error
	for i, r := range recs {
		if s := matched[i]; s != nil && unchanged(*s, Merge(*s, r)) {
			rep.Records = append(rep.Records, *s)
			continue
		}
		saved, err := st.Save(ctx, r)
		if err != nil {
			// a store that fails, fails for every record: one line
			if failed++; firstFailure == nil {
				firstFailure = fmt.Errorf("save %s (%s) in %s: %w", r.ID, r.Title, st.Where(), err)
			}
			continue
		}
		rep.Records = append(rep.Records, saved)
	}
	if failed > 1 {
		firstFailure = fmt.Errorf("%s not saved; first: %w", humanize.Count(failed, "record"), firstFailure)
	}
	return rep, errors.Join(append(errs, firstFailure)...)
}

// unchanged reports whether a merge left the stored record as it was,
// as its JSON (what stores keep) says: a save would only cost a
// transaction.
func unchanged(stored, merged Record) bool {
	a, errA := json.Marshal(stored)
	b, errB := json.Marshal(merged)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// storedMatch is the stored record r is: the one with its ID, else the
// newest of the stack's it is Related to. stored is every record since a
// day before the first reconstructed one, so it holds r's own: a record
// with r's ID began with r's first alert, or a step before it when a
// live record saw it first.
func storedMatch(byID map[string]Record, stored []Record, r Record, near Neighbours) (Record, bool) {
	if s, ok := byID[r.ID]; ok {
		return s, true
	}
	for _, s := range stored {
		// a record left open (its end never seen) would be Related to
		// every later page of its service: only one begun within
		// MatchLookback before r is matched, as the recorder does
		start, _ := firing(s)
		if s.Stack == r.Stack && r.Detected.T.Sub(start) <= MatchLookback && Related(s, r, near) {
			return s, true
		}
	}
	return Record{}, false
}
