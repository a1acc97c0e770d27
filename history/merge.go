package history

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/remediate"
)

// Merge folds two versions of one record into one: what a later write
// adds never erases what an earlier one knew. Stores call it under a row
// lock, the recorder to fold an observation into the stored record, and
// reconstruction to join a rebuilt record with the live one.
//
//   - Services, alerts (by name+service+start, starts within GroupGap
//     being one firing seen by two sources; the later End wins, a
//     still-firing span's zero End being the earliest), acks (by silence,
//     else time+by), actions (by audit ID), notes (by time+by+text) and
//     snapshots (by time) are unions, sorted by time.
//   - Onset, Detected and Acked are the earliest known; Resolved is the
//     best known (see resolution).
//   - Severity is the severest of the two: the highest of the alerts'.
//   - The assessment (Title, Root, Mechanism, Summary, Incident and
//     Assessed) comes from the live record over a reconstructed one (it saw
//     the incident as it went on), else from the look nearest the
//     incident's height (see preferNew); an empty field is filled from the
//     other.
//   - Origin is live if either is; ByAutopilot is ResolvedByAutopilot of
//     the merged actions, whatever either side said.
//   - The result is Redacted.
func Merge(old, new Record) Record {
	out := Record{
		ID:          firstNonEmpty(old.ID, new.ID),
		Origin:      OriginReconstructed,
		Severity:    Severest(old.Severity, new.Severity),
		Onset:       earliest(old.Onset, new.Onset),
		OnsetSearch: latestSearch(old.OnsetSearch, new.OnsetSearch),
		Detected:    earliest(old.Detected, new.Detected),
		Acked:       earliest(old.Acked, new.Acked),
		Resolved:    resolution(old.Resolved, new.Resolved),
		Updated:     later(old.Updated, new.Updated),
	}
	out.Actions = union(old.Actions, new.Actions, func(a Action) string { return a.ID }, func(a Action) time.Time { return a.T })
	pref, other := new, old
	if !preferNew(old, new, changedAt(out)) {
		pref, other = old, new
	}
	out.Stack = firstNonEmpty(pref.Stack, other.Stack)
	out.Title = firstNonEmpty(pref.Title, other.Title)
	out.Root = firstNonEmpty(pref.Root, other.Root)
	out.Mechanism = firstNonEmpty(pref.Mechanism, other.Mechanism)
	out.Summary = firstNonEmpty(pref.Summary, other.Summary)
	out.Incident, out.Assessed = pref.Incident, pref.Assessed
	if out.Incident == nil {
		out.Incident = other.Incident
	}
	if out.Assessed.IsZero() {
		out.Assessed = other.Assessed
	}
	// what oncall saw live wins, then a chaos run's own record: the
	// audit log's reconstruction of the same run adds to it and must not
	// make it an ordinary page
	switch {
	case old.Origin == OriginLive || new.Origin == OriginLive:
		out.Origin = OriginLive
	case old.Origin == OriginChaos || new.Origin == OriginChaos:
		out.Origin = OriginChaos
	}
	out.Services = unionServices(old.Services, new.Services)
	out.Alerts = mergeAlerts(old.Alerts, new.Alerts)
	out.Acks = union(old.Acks, new.Acks, func(a Ack) string {
		if a.Silence != "" {
			return "s\x00" + a.Silence
		}
		return "t\x00" + a.T.UTC().Format(time.RFC3339Nano) + "\x00" + a.By
	}, func(a Ack) time.Time { return a.T })
	out.Notes = union(old.Notes, new.Notes, NoteKey, func(n Note) time.Time { return n.T })
	out.Snapshots = union(old.Snapshots, new.Snapshots, SnapshotKey, func(s Snapshot) time.Time { return s.T })
	out.ByAutopilot = ResolvedByAutopilot(out.Actions)
	return Redacted(out) // every write is, so no store keeps a secret a record picked up
}

// NoteKey is a note's identity: its time, author and text. Merge keeps
// one note per key, and stores key their note rows by it.
func NoteKey(n Note) string {
	return n.T.UTC().Format(time.RFC3339Nano) + "\x00" + n.By + "\x00" + n.Text
}

// SnapshotKey is a snapshot's identity: its time, one snapshot per
// moment. Merge keeps one snapshot per key, and stores key their
// snapshot rows by it.
func SnapshotKey(s Snapshot) string {
	return s.T.UTC().Format(time.RFC3339Nano)
}

// resolutionRank orders how a resolution was known, surest first: a
// person's word, then a runbook's verification (it checked the symptom),
// then the recorder's watch (every alert ended and the root recovered,
// seen as it happened), then the alert history's last firing, which a
// burn-rate alert averaging over an hour drags long past the recovery.
// A stamp with an unknown kind ranks last.
var resolutionRank = []string{KindHand, KindVerified, KindRecovered, KindAlert}

// resolution is the better of two resolutions: the one known the surer
// way (resolutionRank), the earlier of two known the same way; the
// non-zero one when only one is. A reconstruction after a live or
// verified resolution so never moves it to its alerts' tail.
func resolution(a, b Stamp) Stamp {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	}
	rank := func(s Stamp) int {
		if i := slices.Index(resolutionRank, s.Kind); i >= 0 {
			return i
		}
		return len(resolutionRank)
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		if rb < ra {
			return b
		}
		return a
	}
	return earliest(a, b)
}

// preferNew reports whether new's assessment wins. A live record wins
// over a reconstructed one. Between two looks, the one nearest the
// incident's height wins: the latest taken before the record's first
// change to the system (see changedAt), else, when both came after it,
// the earliest. A look after a runbook's fix sees its aftermath (the
// retries a storm was made of are gone, only the saturation they left
// remains) and would have the postmortem explain the wrong failure; the
// people who acted did so on the assessment before it.
//
// Looks are placed by Assessed, else by their latest snapshot (records
// written before Assessed was kept), both the data's clock; a record
// with no look at all (a note, an action) loses to one with a look.
// Records with no look on either side compare by Updated, the wall's
// clock. On a tie the new record wins, as the later write.
func preferNew(old, new Record, cutoff time.Time) bool {
	if (old.Origin == OriginLive) != (new.Origin == OriginLive) {
		return new.Origin == OriginLive
	}
	ot, nt := assessedAt(old), assessedAt(new)
	switch {
	case ot.IsZero() && nt.IsZero():
		return !new.Updated.Before(old.Updated)
	case ot.IsZero() != nt.IsZero():
		return !nt.IsZero()
	}
	oBefore := cutoff.IsZero() || !ot.After(cutoff)
	nBefore := cutoff.IsZero() || !nt.After(cutoff)
	switch {
	case oBefore != nBefore:
		return nBefore
	case oBefore:
		return !nt.Before(ot)
	default:
		return !nt.After(ot)
	}
}

// assessedAt is when a record's assessment was made, on the data's clock.
func assessedAt(r Record) time.Time {
	if !r.Assessed.IsZero() {
		return r.Assessed
	}
	return latestSnapshot(r)
}

// changedAt is when the system was first changed for the record: its
// first action that may have changed something, else its resolution;
// zero while neither happened.
func changedAt(r Record) time.Time {
	for _, a := range r.Actions { // sorted by time
		if changes(a) {
			return earlierNonZero(a.T, r.Resolved.T)
		}
	}
	return r.Resolved.T
}

// changes reports whether an action may have changed the system: a
// runbook step that ran a command. Escalations, verifications (they
// name no command), refusals and dry runs only looked or asked people.
// A failed or rolled-back step may have changed something on its way.
func changes(a Action) bool {
	if a.Action == "" || a.Command == "" {
		return false
	}
	return !strings.HasPrefix(a.Result, remediate.ResultRefused) && !strings.HasPrefix(a.Result, remediate.ResultDryRun)
}

func earlierNonZero(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latestSnapshot(r Record) time.Time {
	var t time.Time
	for _, s := range r.Snapshots {
		t = later(t, s.T)
	}
	return t
}

// mergeAlerts joins the spans of one firing: one alert (name and
// service) starting within GroupGap of another span's start. The live
// recorder's span starts at Alertmanager's startsAt, a reconstructed one
// at the ALERTS series' first sample, a step or an evaluation later: one
// firing, two starts. The earliest span is kept, with the later End.
func mergeAlerts(old, new []AlertSpan) []AlertSpan {
	all := slices.Concat(old, new)
	slices.SortStableFunc(all, func(a, b AlertSpan) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Service, b.Service), a.Start.Compare(b.Start))
	})
	var out []AlertSpan
	for _, a := range all {
		if n := len(out); n > 0 {
			if p := &out[n-1]; p.Name == a.Name && p.Service == a.Service && !a.Start.After(p.Start.Add(GroupGap)) {
				p.End = later(p.End, a.End)
				p.Step = max(p.Step, a.Step) // a live span has none; the history's says when acks count from (ackFrom)
				continue
			}
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(a, b AlertSpan) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Service, b.Service))
	})
	return out
}

// union keeps the first of each key, old before new, sorted by time.
func union[T any](old, new []T, key func(T) string, at func(T) time.Time) []T {
	seen := map[string]bool{}
	var out []T
	for _, x := range slices.Concat(old, new) {
		if k := key(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	slices.SortStableFunc(out, func(a, b T) int { return at(a).Compare(at(b)) })
	return out
}

// unionServices is never nil: a record's services are a list, empty
// when its alerts name none.
func unionServices(a, b []string) []string {
	out := []string{}
	for _, s := range slices.Concat(a, b) {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func earliest(a, b Stamp) Stamp {
	if a.IsZero() || (!b.IsZero() && b.T.Before(a.T)) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
