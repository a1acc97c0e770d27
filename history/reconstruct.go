package history

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

// Inputs are what a reconstruction reads: the stack's alert history and
// what was done about it.
type Inputs struct {
	Stack   string
	Firings []sources.Firing // from a sources.AlertHistory
	// Silences are Alertmanager's, expired ones included: the
	// acknowledgements among them (see ackOf).
	Silences []sources.Silence
	Audit    []remediate.Row // oncall's audit log
	// Near is the service graph, so that alerts on neighbouring services
	// group; nil groups only alerts that share a service.
	Near Neighbours
}

// Reconstruct rebuilds the records of an alert history: firings that
// are Related, directly or through each other, are one incident, except
// that a firing with no service never joins two incidents that have
// services (the first it relates to takes it), and heartbeats (see
// Heartbeat) are no incident at all. Each record's detection is its first
// firing's start, its resolution its last firing's end (none while one
// still fires), its severity the highest; its acknowledgements are the
// ack silences that match one of its alerts and began while it was open,
// and its actions the audit log's rows on its services while it was
// open. Onsets, roots and summaries need the metrics: FindOnsets adds
// them. It is a pure function; records come out by detection.
func Reconstruct(in Inputs) []Record {
	fs := slices.DeleteFunc(slices.Clone(in.Firings), func(f sources.Firing) bool { return Heartbeat(f.Alert.Name, f.Alert.Severity) })
	slices.SortStableFunc(fs, func(a, b sources.Firing) int { return a.Start.Compare(b.Start) })
	ones := make([]Record, len(fs))
	for i, f := range fs {
		ones[i] = Record{Alerts: []AlertSpan{spanOf(f)}}
		if f.Alert.Service != "" {
			ones[i].Services = []string{f.Alert.Service}
		}
	}
	// union-find over the firings; by start, only those still firing, or
	// ended within GroupGap, can relate to the next one
	group := make([]int, len(ones))
	root := func(i int) int {
		for group[i] != i {
			group[i] = group[group[i]]
			i = group[i]
		}
		return i
	}
	// whether each group (by its root) has a service: a link through a
	// firing with none may not join two that do
	served := make([]bool, len(ones))
	var active []int
	for j := range ones {
		group[j] = j
		served[j] = len(ones[j].Services) > 0
		active = slices.DeleteFunc(active, func(i int) bool {
			end := ones[i].Alerts[0].End
			return !end.IsZero() && ones[j].Alerts[0].Start.After(end.Add(GroupGap))
		})
		for _, i := range active {
			ri, rj := root(i), root(j)
			if ri == rj || !Related(ones[i], ones[j], in.Near) {
				continue
			}
			if served[ri] && served[rj] && (len(ones[i].Services) == 0 || len(ones[j].Services) == 0) {
				continue // a service-less link between two services' incidents
			}
			group[rj] = ri
			served[ri] = served[ri] || served[rj]
		}
		active = append(active, j)
	}
	byGroup := map[int]*Record{}
	var order []int
	for i, one := range ones {
		g := root(i)
		if byGroup[g] == nil {
			byGroup[g] = &Record{}
			order = append(order, g)
		}
		byGroup[g].Alerts = append(byGroup[g].Alerts, one.Alerts...)
		byGroup[g].Services = unionServices(byGroup[g].Services, one.Services)
	}
	out := make([]Record, 0, len(order))
	for _, g := range order {
		out = append(out, in.record(*byGroup[g]))
	}
	slices.SortStableFunc(out, func(a, b Record) int { return a.Detected.T.Compare(b.Detected.T) })
	return out
}

// spanOf is a firing as a record keeps it.
func spanOf(f sources.Firing) AlertSpan {
	return AlertSpan{Name: f.Alert.Name, Service: f.Alert.Service, Severity: f.Alert.Severity, Labels: f.Alert.Labels,
		Start: f.Start.UTC(), End: utc(f.End), Step: f.Step, Source: f.Source}
}

// record completes a group of firings into a record.
func (in Inputs) record(g Record) Record {
	slices.SortFunc(g.Alerts, func(a, b AlertSpan) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Name, b.Name), strings.Compare(a.Service, b.Service))
	})
	first := g.Alerts[0]
	r := Record{Stack: in.Stack, Origin: OriginReconstructed, Services: unionServices(g.Services, nil), Alerts: g.Alerts,
		ID:       RecordID(in.Stack, first.Name, first.Service, first.Start),
		Title:    alertTitle(first, ""),
		Detected: Stamp{T: first.Start, Source: first.Source, Kind: KindAlert},
	}
	var last AlertSpan
	open := false
	for _, a := range r.Alerts {
		r.Severity = Severest(r.Severity, a.Severity)
		open = open || a.End.IsZero()
		if !a.End.Before(last.End) {
			last = a
		}
	}
	if !open {
		r.Resolved = Stamp{T: last.End, Source: "last firing of " + last.Source, Kind: KindAlert}
	}
	for _, s := range in.Silences {
		if ack, ok := ackOf(s, r); ok {
			r.Acks = append(r.Acks, ack)
		}
	}
	slices.SortFunc(r.Acks, func(a, b Ack) int { return cmp.Or(a.T.Compare(b.T), strings.Compare(a.Silence, b.Silence)) })
	if len(r.Acks) > 0 {
		r.Acked = ackStamp(r.Acks[0])
	}
	r.Actions = ActionsFrom(in.Audit, r, in.Near)
	// merged with nothing, as a store does with a new record: ByAutopilot
	// and the lists' order then follow Merge's rules
	return Merge(Record{}, r)
}

// AckCommentPrefix begins the comment of the silences the cockpit's a
// key makes: it tells an acknowledgement from other silences.
const AckCommentPrefix = "ack: "

// ackOf is the acknowledgement a silence gives a record: a silence
// oncall signed for a person (CreatedBy set, Comment beginning with
// AckCommentPrefix) that matches one of the record's alerts and began
// while the record was open. A silence that began before the detection
// is maintenance planned ahead, not an answer to a page; but a detection
// read from the alert history is its first sample, up to a step after
// the alert fired, so a silence from a step before it counts (see
// ackFrom). Reconstruction reads Alertmanager's silences by it, and
// Recorder.Acked the cockpit's.
func ackOf(s sources.Silence, r Record) (Ack, bool) {
	if s.CreatedBy == "" || !strings.HasPrefix(s.Comment, AckCommentPrefix) || s.StartsAt.Before(ackFrom(r)) ||
		(!r.Resolved.IsZero() && s.StartsAt.After(r.Resolved.T)) {
		return Ack{}, false
	}
	matches := slices.ContainsFunc(r.Alerts, func(a AlertSpan) bool {
		return !slices.ContainsFunc(s.Matchers, func(m sources.Matcher) bool { return !m.Matches(a.Labels) })
	})
	if !matches || len(s.Matchers) == 0 {
		return Ack{}, false
	}
	return Ack{T: s.StartsAt.UTC(), By: s.CreatedBy, Silence: s.ID, Source: "silence " + s.ID + " by " + s.CreatedBy + " (alertmanager)"}, true
}

// ackFrom is the earliest an acknowledgement of r may begin: its
// detection, less the step of the span it was detected by (the alert
// fired somewhere in the step before its first sample; a live span has
// no step).
func ackFrom(r Record) time.Time {
	var step time.Duration
	for _, a := range r.Alerts {
		if a.Start.Equal(r.Detected.T) {
			step = max(step, a.Step)
		}
	}
	return r.Detected.T.Add(-step)
}

// ackStamp is the acknowledgement time an ack gives its record.
func ackStamp(a Ack) Stamp { return Stamp{T: a.T, Source: a.Source, Kind: KindAck} }

// alertTitle is the title of a record its first alert opened, with the
// root once known: as the recorder titles live records, and the alert's
// name alone when it names no service.
func alertTitle(first AlertSpan, root string) string {
	if first.Service != "" {
		return title(correlate.Trigger{Alert: first.Name, Service: first.Service}, root)
	}
	if root != "" {
		return first.Name + ", root " + root
	}
	return first.Name
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
