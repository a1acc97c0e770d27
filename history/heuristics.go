package history

import (
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// GroupGap is how long after an alert's last firing another firing still
// belongs to the same incident. Five minutes is Alertmanager's default
// group_interval, the time within which it would notify about the same
// group again: an alert that clears and fires again inside it is the same
// trouble flapping, not a new page.
const GroupGap = 5 * time.Minute

// Neighbours reports whether two services call each other (either way)
// in the service graph. A nil Neighbours means no graph is known.
type Neighbours func(a, b string) bool

// GraphNeighbours is Neighbours over service-graph edges: a client and
// its server are neighbours, whichever way the call goes.
func GraphNeighbours(edges []sources.Edge) Neighbours {
	near := map[[2]string]bool{}
	for _, e := range edges {
		near[[2]string{e.Client, e.Server}] = true
		near[[2]string{e.Server, e.Client}] = true
	}
	return func(a, b string) bool { return near[[2]string{a, b}] }
}

// Related reports whether two records (a single alert firing is a record
// with one AlertSpan) are one incident: their firing overlaps or one
// starts within GroupGap of the other's last firing, AND they share a
// service, or two of their services are neighbours in the service graph
// (near; nil when no graph is given), or, when either names no service,
// they share an alert name. A firing with no service label says nothing
// about which service is in trouble: a fleet-wide alert that overlaps
// thirty services' pages would otherwise make them one incident. So it
// joins only firings of its own alert, and Reconstruct never lets it
// bridge two services' incidents.
//
// A resolved record's firing ends, for this, at its resolution when one
// of its spans has no End (see firing), and nothing starting more than
// GroupGap after the resolution is Related to it, whatever tail its
// alerts fired on with: as absorbs has it, that is a new page.
func Related(a, b Record, near Neighbours) bool {
	aStart, aEnd := firing(a)
	bStart, bEnd := firing(b)
	if aStart.IsZero() || bStart.IsZero() {
		return false // a record with no time at all cannot be placed
	}
	if !withinGap(bStart, aEnd) || !withinGap(aStart, bEnd) {
		return false
	}
	if !withinGap(bStart, a.Resolved.T) || !withinGap(aStart, b.Resolved.T) {
		return false
	}
	return servicesRelated(a, b, near)
}

// servicesRelated is Related's test of services alone: a shared service
// or two services next to each other; for a record naming none, a shared
// alert name.
func servicesRelated(a, b Record, near Neighbours) bool {
	if len(a.Services) == 0 || len(b.Services) == 0 {
		return slices.ContainsFunc(a.Alerts, func(x AlertSpan) bool {
			return slices.ContainsFunc(b.Alerts, func(y AlertSpan) bool { return x.Name == y.Name })
		})
	}
	for _, s := range a.Services {
		if slices.Contains(b.Services, s) {
			return true
		}
		if near != nil && slices.ContainsFunc(b.Services, func(t string) bool { return near(s, t) }) {
			return true
		}
	}
	return false
}

// absorbs reports whether a resolved record takes in a later look at the
// incident rather than a new record opening. An incident's tail outlives
// its fix: SLO burn-rate alerts average over an hour or more and fire on
// after the errors stopped, and the cockpit keeps looking; a new record
// for each look would leave the fixed incident behind a row of copies,
// and `oncall postmortem last` would draft one of them. So it does when
// the look sees one of the record's own alert firings (the same name and
// service, starting within GroupGap of its start, as Merge joins them);
// when the look's first alert began within GroupGap either side of the
// resolution on a related service (the trouble flapping as it was
// fixed); or, for a look with no alert, when it names the record's root
// with its anomaly begun no later than GroupGap after the resolution.
// An alert that began while the record was open and that none of its
// looks took in is another trouble's; one that begins later than
// GroupGap after the resolution is a new page, hence a new incident.
func absorbs(resolved, look Record, near Neighbours) bool {
	if resolved.Open() {
		return false
	}
	for _, a := range look.Alerts {
		if slices.ContainsFunc(resolved.Alerts, func(b AlertSpan) bool { return sameFiring(a, b) }) {
			return true
		}
	}
	start, _ := firing(look)
	switch {
	case start.IsZero() || !withinGap(start, resolved.Resolved.T):
		return false
	case len(look.Alerts) == 0:
		return look.Root != "" && look.Root == resolved.Root
	}
	return !start.Before(resolved.Resolved.T.Add(-GroupGap)) && servicesRelated(resolved, look, near)
}

// sameFiring reports whether two spans are one firing of one alert, seen
// twice or by two sources (see mergeAlerts).
func sameFiring(a, b AlertSpan) bool {
	return a.Name == b.Name && a.Service == b.Service && a.Start.Sub(b.Start).Abs() <= GroupGap
}

// withinGap reports whether something starting at start comes no later
// than GroupGap after end; a zero end is still firing, so anything later
// overlaps it.
func withinGap(start, end time.Time) bool {
	return end.IsZero() || !start.After(end.Add(GroupGap))
}

// firing is when a record's alerts fired: from the first start to the
// last end, end zero while one still fires. A record with no alert (opened
// from a service) spans its onset, else detection, to its resolution.
// A span with no End in a resolved record ended at the resolution at the
// latest: it was last seen firing then (a live record taken while the
// alert fired, resolved later by reconstruction), and an end never seen
// would relate the record to every later page of its services.
func firing(r Record) (start, end time.Time) {
	if len(r.Alerts) == 0 {
		start = r.Onset.T
		if start.IsZero() {
			start = r.Detected.T
		}
		return start, r.Resolved.T
	}
	open := false
	for _, a := range r.Alerts {
		if start.IsZero() || a.Start.Before(start) {
			start = a.Start
		}
		switch {
		case !a.End.IsZero():
			end = later(end, a.End)
		case r.Open():
			open = true
		default:
			end = later(end, r.Resolved.T)
		}
	}
	if open {
		end = time.Time{}
	}
	return start, end
}

// severityRank orders the severity labels of the usual alerting rules,
// mildest first; "ticket" and "page" are the SRE workbook's burn-rate
// alerts', a ticket as urgent as a warning. A label not listed ranks
// under all of them but over none: it is still more than no severity.
var severityRank = map[string]int{"none": 1, "info": 2, "warning": 3, "ticket": 3, "error": 4, "high": 5, "page": 6, "critical": 7}

// Severest is the higher of two severity labels, as a record's Severity
// is the highest of its alerts'. Labels compare case-insensitively; an
// unknown label loses to a known one and is kept over "".
func Severest(a, b string) string {
	rank := func(s string) int {
		if s == "" {
			return -1
		}
		return severityRank[strings.ToLower(s)]
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// Heartbeat reports whether an alert fires to show that alerting works,
// not that anything is wrong: kube-prometheus's Watchdog and
// InfoInhibitor (severity "none") fire always, as a dead man's switch
// does. Having no service, one would join every incident and, firing
// first, give them all its ID.
func Heartbeat(name, severity string) bool {
	switch strings.ToLower(name) {
	case "watchdog", "deadmansswitch", "infoinhibitor":
		return true
	}
	return strings.EqualFold(severity, "none")
}
