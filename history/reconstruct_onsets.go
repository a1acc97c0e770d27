package history

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// Assemble assembles the incident a trigger points at, as the incident
// view does (correlate.Gather, then correlate.Analyze with the config's
// meta). cmd passes its own assembly, so a reconstructed record's onset
// and root are the ones `oncall incident --at` would show.
type Assemble func(ctx context.Context, t correlate.Trigger) (*correlate.Incident, error)

// OnsetLookback is how far before a record's first alert its onset is
// looked for. Page alerts fire minutes after their cause (a burn-rate
// page waits 2m on a 5m window; a latency rule's `for:` is typically
// 5–10m); half an hour holds those with room, and the incident widens
// its window by itself when the root's anomaly began earlier still.
const OnsetLookback = 30 * time.Minute

// onsetReaders is how many incidents FindOnsets assembles at once: each
// assembly is a burst of queries, and a month of incidents must not
// become a burst of bursts on the stack's backends.
const onsetReaders = 2

// OnsetSearchesPerRun is how many onsets FindOnsets looks for in one
// run, newest first; the rest wait for the next run. An assembly is
// about 40 queries: on a 2,000-service Prometheus a month of 13,775
// searched in one go took ten minutes, some 44ms each at onsetReaders at
// once, so 200 is 8,000 queries and about ten seconds. A stack with fewer
// incidents a day keeps up with one run a day; that one (some 460 a day)
// catches up over a few runs, the newest first: those are the ones
// people ask about.
const OnsetSearchesPerRun = 200

// Why no onset was found, for OnsetReport's counts. Each is data about
// the incident, not a failure of the stack.
const (
	NoCandidate = "the incident names no root-cause candidate"
	OnsetAfter  = "the top candidate's anomaly began after the first alert"
)

// OnsetReport is what FindOnsets did: how many onsets it found, how
// many it looked for in vain and why, how many failed because the stack
// could not be read (searched again next run), and how many it left for
// the next run.
type OnsetReport struct {
	Searched int
	Found    int
	NotFound []OnsetMiss // by reason, the most frequent first, then by reason
	Failed   int         // the error FindOnsets returns says why
	Left     int         // over OnsetSearchesPerRun: searched by a later run
}

// OnsetMiss is how many searches ended for one reason, and the first
// record it was.
type OnsetMiss struct {
	Reason  string
	Count   int
	Example string // the first record's ID and title
}

// String is the report as one line, e.g. "200 searched, 150 found; not
// found (…): 50 the incident names no root-cause candidate (first
// inc-… (title)); 13,575 left for the next runs (…)".
func (r OnsetReport) String() string {
	parts := []string{commas(r.Searched) + " searched, " + commas(r.Found) + " found"}
	if len(r.NotFound) > 0 {
		var why []string
		for _, m := range r.NotFound {
			why = append(why, fmt.Sprintf("%s %s (first %s)", commas(m.Count), m.Reason, m.Example))
		}
		parts = append(parts, "not found (no earlier anomaly: kept as data, not searched again): "+strings.Join(why, ", "))
	}
	if r.Failed > 0 {
		parts = append(parts, commas(r.Failed)+" failed (the stack could not be read: searched again next run)")
	}
	if r.Left > 0 {
		parts = append(parts, fmt.Sprintf("%s left for the next runs (at most %d a run, newest first)", commas(r.Left), OnsetSearchesPerRun))
	}
	return strings.Join(parts, "; ")
}

func commas(n int) string { return humanize.Commas(float64(n)) }

// NeedsOnset reports whether FindOnsets would look for r's onset: it has
// a first alert, no onset, and no search that found none from that same
// first alert. Later firings of the record do not change what lies
// before its first alert, so they do not search again; an earlier
// firing that joins it moves the first alert, and does.
func NeedsOnset(r Record) bool {
	return r.Onset.IsZero() && !r.Detected.IsZero() && !r.OnsetSearch.T.Equal(r.Detected.T)
}

// FindOnsets fills each record's onset, root, mechanism, summary and
// incident from the incident assembled at its first alert, looking back
// OnsetLookback: the onset is the top root-cause candidate's. It looks
// for at most OnsetSearchesPerRun of the records that NeedsOnset, newest
// first, onsetReaders at once. A search that finds no onset (no
// candidate, or the candidate began after the first alert) is data: the
// record keeps it in OnsetSearch and is not searched again. A search the
// stack could not answer (the assembly failed, or a backend it needs was
// down) leaves the record as it was for the next run, and the error
// says how many, with the first.
func FindOnsets(ctx context.Context, recs []Record, assemble Assemble) (OnsetReport, error) {
	var todo []int
	for i := range recs {
		if NeedsOnset(recs[i]) {
			todo = append(todo, i)
		}
	}
	slices.SortStableFunc(todo, func(a, b int) int { return recs[b].Detected.T.Compare(recs[a].Detected.T) })
	rep := OnsetReport{Left: max(0, len(todo)-OnsetSearchesPerRun)}
	todo = todo[:min(len(todo), OnsetSearchesPerRun)]
	rep.Searched = len(todo)

	results := make([]onsetResult, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(onsetReaders, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				results[j] = findOnset(ctx, &recs[todo[j]], assemble)
			}
		}()
	}
	for j := range todo {
		next <- j
	}
	close(next)
	wg.Wait()

	var firstFailure error
	for j, res := range results {
		r := recs[todo[j]]
		switch {
		case res.err != nil:
			rep.Failed++
			if firstFailure == nil {
				firstFailure = res.err
			}
		case res.miss == "":
			rep.Found++
		default:
			i := slices.IndexFunc(rep.NotFound, func(m OnsetMiss) bool { return m.Reason == res.miss })
			if i < 0 {
				rep.NotFound = append(rep.NotFound, OnsetMiss{Reason: res.miss, Example: r.ID + " (" + r.Title + ")"})
				i = len(rep.NotFound) - 1
			}
			rep.NotFound[i].Count++
		}
	}
	slices.SortFunc(rep.NotFound, func(a, b OnsetMiss) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	if firstFailure != nil {
		return rep, fmt.Errorf("onsets of %s not found, the stack could not be read (searched again next run); first: %w", humanize.Count(rep.Failed, "incident"), firstFailure)
	}
	return rep, nil
}

// onsetResult is one search's outcome: err when the stack could not
// answer, else miss the reason no onset was found, empty when found.
type onsetResult struct {
	miss string
	err  error
}

// findOnset assembles one record's incident and takes what it says.
func findOnset(ctx context.Context, r *Record, assemble Assemble) onsetResult {
	if err := ctx.Err(); err != nil {
		return onsetResult{err: fmt.Errorf("%s (%s): not searched: %w", r.ID, r.Title, err)}
	}
	t := correlate.Trigger{At: r.Detected.T, Window: OnsetLookback}
	if len(r.Alerts) > 0 {
		t.Alert, t.Service = r.Alerts[0].Name, r.Alerts[0].Service
	}
	inc, err := assemble(ctx, t)
	if err != nil {
		return onsetResult{err: fmt.Errorf("%s (%s): %w", r.ID, r.Title, err)}
	}
	var top correlate.Candidate
	if inc != nil && len(inc.Candidates) > 0 {
		top = inc.Candidates[0]
	}
	found := !top.Onset.IsZero() && !top.Onset.After(r.Detected.T)
	if !found && inc != nil {
		// no onset with evidence missing: the answer is the stack's
		// failure, not the incident's
		if down := inc.Down(); len(down) > 0 {
			return onsetResult{err: fmt.Errorf("%s (%s): %s: %s", r.ID, r.Title, down[0].What, down[0].Why)}
		}
	}
	if !found {
		miss, detail := NoCandidate, NoCandidate
		if top.Service != "" {
			miss = OnsetAfter
			detail = fmt.Sprintf("the top candidate %s began at %s, after the first alert", top.Service, top.Onset.UTC().Format(time.RFC3339))
		}
		r.OnsetSearch = Stamp{T: r.Detected.T, Kind: KindAnomaly,
			Source: fmt.Sprintf("no earlier anomaly found: %s (oncall anomaly detection, looking back %s from the first alert)", detail, Span(OnsetLookback))}
		return onsetResult{miss: miss}
	}
	r.Onset = onsetStamp(inc, top)
	r.Root, r.Mechanism, r.Summary, r.Incident = top.Service, mechanisms(inc.Mechanisms), inc.Summary, trimmed(inc)
	if len(r.Alerts) > 0 {
		r.Title = alertTitle(r.Alerts[0], r.Root)
	}
	return onsetResult{}
}

// latestSearch is the onset search Merge keeps: the newer write's, as
// FindOnsets searches again only from a new first alert; a write that
// made no search (a note, a resolution) keeps the stored one.
func latestSearch(old, new Stamp) Stamp {
	if new.IsZero() {
		return old
	}
	return new
}
