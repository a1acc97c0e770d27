package sources

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrPartial is wrapped by a backend that answered with part of what was
// asked: a preset or a source that failed or did not answer in time, or a
// read cut at a bound. What arrived is returned with it and is evidence;
// the error is a note on what it lacks, not a missing part.
var ErrPartial = errors.New("partial answer")

// partialError is parts' messages as one line, which errors.Is reads as
// ErrPartial.
type partialError struct{ parts []error }

func (e *partialError) Error() string {
	msgs := make([]string, len(e.parts))
	for i, p := range e.parts {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the parts, so that errors.Is and errors.As see them.
func (e *partialError) Unwrap() []error { return e.parts }

// Is says the error is ErrPartial.
func (e *partialError) Is(target error) bool { return target == ErrPartial }

// Partial is parts (nil ones skipped) as one error wrapping ErrPartial,
// their messages joined on one line, or nil when every part is nil.
func Partial(parts ...error) error {
	var kept []error
	for _, p := range parts {
		if p != nil {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return &partialError{kept}
}

// Brief is err in one short line for a note: a backend's name, the first
// word of what was asked and the Cause ("grafana annotations: HTTP 401"),
// a partial answer as it is, else the Cause alone.
func Brief(err error) string {
	var be *BackendError
	switch {
	case errors.Is(err, ErrPartial):
		return err.Error()
	case errors.As(err, &be):
		op, _, _ := strings.Cut(be.Op, " ")
		return fmt.Sprintf("%s %s: %s", be.Backend, op, Cause(err))
	}
	return Cause(err)
}

// MaxChangeText bounds a change's version and detail, in runes: a label
// value or an annotation's text may be a whole release note (or an
// attack), and the timeline gives a change one line.
const MaxChangeText = 200

// MaxVersionText bounds a change's version, in runes: a semver, a git
// SHA (40) or an image tag fits, and the version is printed before the
// detail on the change's one line.
const MaxVersionText = 64

// CapText cuts s to n runes, the last one an ellipsis when cut.
func CapText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// MaxChangesPerKind bounds the changes of one kind kept per service: a
// version flapping every step would otherwise print a line per step; the
// latest ones are those closest to an incident being diagnosed now.
const MaxChangesPerKind = 10

// FoldChanges keeps, per service and kind, the latest MaxChangesPerKind
// changes and says on the earliest kept how many earlier ones were folded
// into it ("239 rollbacks in range, the 229 earliest folded"). Versions are
// capped at MaxVersionText, details at MaxChangeText. The order of cs is kept.
func FoldChanges(cs []Change) []Change {
	type key struct {
		service string
		kind    ChangeKind
	}
	count := map[key]int{}
	for _, c := range cs {
		count[key{c.Service, c.Kind}]++
	}
	byTime := slices.Clone(cs)
	slices.SortStableFunc(byTime, func(a, b Change) int { return b.T.Compare(a.T) }) // latest first
	seen := map[key]int{}
	cut := map[key]time.Time{} // the earliest kept change's time
	for _, c := range byTime {
		k := key{c.Service, c.Kind}
		if seen[k]++; seen[k] == MaxChangesPerKind {
			cut[k] = c.T
		}
	}
	var out []Change
	marked := map[key]bool{}
	for _, c := range cs {
		k := key{c.Service, c.Kind}
		c.Version = CapText(c.Version, MaxVersionText)
		c.Detail = CapText(c.Detail, MaxChangeText)
		if at, ok := cut[k]; ok && count[k] > MaxChangesPerKind {
			if c.T.Before(at) || (c.T.Equal(at) && marked[k]) {
				continue
			}
			if c.T.Equal(at) {
				marked[k] = true
				c.Detail += fmt.Sprintf(" (%d %ss in range, the %d earliest folded)", count[k], c.Kind, count[k]-MaxChangesPerKind)
			}
		}
		out = append(out, c)
	}
	return out
}

// SameChangeWithin is how close in time two sources' reports of one
// change are taken to be the same change: a deploy annotation is posted by
// the pipeline within seconds of the rollout that build_info sees, and a
// scrape interval or two later.
const SameChangeWithin = time.Minute

// MergeChanges asks every one of cs at once and keeps what each found: a
// source that fails does not hide what the others read, and is named in
// an error wrapping ErrPartial returned with them. It fails only when
// every source failed; when all of them answered that this stack reports
// no changes, the error wraps ErrNotReported. The same change reported by
// two sources is kept once, the report with a version preferred
// (DedupeChanges, as exact as a metrics backend's ChangeStep(r)).
func MergeChanges(cs ...Changes) Changes {
	if len(cs) == 1 {
		return cs[0]
	}
	return mergedChanges(cs)
}

type mergedChanges []Changes

func (m mergedChanges) Changes(ctx context.Context, r TimeRange) ([]Change, error) {
	found := make([][]Change, len(m))
	errs := make([]error, len(m))
	var wg sync.WaitGroup
	for i, c := range m {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i], errs[i] = c.Changes(ctx, r)
		}()
	}
	wg.Wait()
	var groups [][]Change
	var failed, notReported, partial []error
	for i, err := range errs {
		switch {
		case err == nil:
			groups = append(groups, found[i])
		case errors.Is(err, ErrPartial):
			// what arrived is kept; what did not is said
			groups = append(groups, found[i])
			partial = append(partial, err)
		case errors.Is(err, ErrNotReported):
			notReported = append(notReported, err)
		default:
			failed = append(failed, err)
		}
	}
	switch {
	case len(groups) > 0:
		for _, err := range failed {
			partial = append(partial, errors.New(Brief(err)))
		}
		return DedupeChanges(groups, ChangeStep(r)), Partial(partial...)
	case len(failed) == 0:
		return nil, errors.Join(notReported...)
	}
	// a source that failed is what the incident must name, not the ones
	// that report nothing
	return nil, errors.Join(failed...)
}

// DedupeChanges keeps once each change that several sources reported.
// groups are the sources' reads in order of precedence; two changes of
// one service and kind from different groups, within max(SameChangeWithin,
// step) of each other, are one change: the report with a version is kept,
// else the one of the earlier group. Two changes of one group are two
// changes, however close. step is how exact the reads' times are (a
// metrics backend reads a change at the step after it happened; 0 for
// exact times). The result is sorted by time, then service, and folded
// (FoldChanges).
func DedupeChanges(groups [][]Change, step time.Duration) []Change {
	within := max(SameChangeWithin, step)
	type key struct {
		service string
		kind    ChangeKind
	}
	type kept struct {
		Change
		group int
	}
	var out []kept
	at := map[key][]int{} // indexes into out
	for g, cs := range groups {
		for _, c := range cs {
			k := key{c.Service, c.Kind}
			dup := slices.IndexFunc(at[k], func(i int) bool {
				d := c.T.Sub(out[i].T).Abs()
				return out[i].group != g && d <= within
			})
			switch {
			case dup < 0:
				at[k] = append(at[k], len(out))
				out = append(out, kept{c, g})
			case out[at[k][dup]].Version == "" && c.Version != "":
				out[at[k][dup]] = kept{c, out[at[k][dup]].group}
			}
		}
	}
	changes := make([]Change, len(out))
	for i, c := range out {
		changes[i] = c.Change
	}
	slices.SortStableFunc(changes, func(a, b Change) int {
		return cmp.Or(a.T.Compare(b.T), strings.Compare(a.Service, b.Service))
	})
	return FoldChanges(changes)
}

// changeSteps is how many steps a metrics backend reads a range of
// changes at: a change's time is exact to one step (the range over
// changeSteps), which keeps each range query's answer to a few hundred
// points per series.
const changeSteps = 240

// minChangeStep is the finest step changes are read at: a usual scrape
// interval, below which a finer step reads the same sample twice.
const minChangeStep = 15 * time.Second

// ChangeStep is the step a metrics backend reads changes over r at, and
// so how exact each change's time is: the range over changeSteps, rounded
// up to a second, and at least minChangeStep. MergeChanges takes two
// sources' reports this close as one change.
func ChangeStep(r TimeRange) time.Duration {
	return max((r.End.Sub(r.Start)/changeSteps + time.Second - 1).Truncate(time.Second), minChangeStep)
}
