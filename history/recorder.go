package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// Recorder keeps live records: each time an incident is assembled
// (the cockpit's incident view, `oncall incident --record`, the
// autopilot) it opens the incident's record or updates it.
type Recorder struct {
	Store Store
	// Stack is the config's context (DemoStack for the simulator): records
	// of one stack are matched only with each other.
	Stack string
	// Wall is the wall clock, for Updated (required); times in the record
	// are the data's.
	Wall func() time.Time
	// AlertSource names where the alerts given to Observe were read:
	// "alertmanager", or "prometheus" for the rules' alerts.
	AlertSource string
}

// MatchLookback is how far before an incident's start the recorder looks
// for an open record it belongs to. A record left open longer than a day
// (its resolution never seen) is stale: joining a new page to it would
// hide the new page's own times.
const MatchLookback = 24 * time.Hour

// Recorded incidents keep a few traces, and a few log lines of each
// span, for the postmortem's evidence: the whole incident would make a
// row of megabytes, written at every look.
const (
	recordedTraces   = 3
	recordedSpanLogs = 3
)

// Observe opens or updates the record of an assembled incident. alerts
// are every alert the alert source reports now: an alert of the record
// missing from them has resolved. Pass nil when they could not be read,
// so that nothing is taken to have resolved.
//
// The record is matched by its ID (RecordID), else to the newest record
// of the stack that is open and Related to it (through the incident's
// service graph) or resolved and absorbs it (see absorbs). A snapshot is
// added only when the summary or the candidates (service and likelihood)
// changed since the record's last one. The record resolves when every
// alert of it has resolved and the anomalies of the root and of every
// service on its chain ended (resolvedBy), or none of them was anomalous
// while every part of the evidence arrived.
//
// A resolved record stays resolved: its resolution was seen or verified,
// and alerts that fire on after it (an SLO burn rate averages over an
// hour) are the incident's tail. Looks after it add their alert firings
// and the times those stop, but no snapshot: they see the aftermath,
// not the incident.
func (rc *Recorder) Observe(ctx context.Context, inc *correlate.Incident, alerts []sources.Alert) (Record, error) {
	if inc == nil {
		return Record{}, errors.New("record incident: no incident")
	}
	r := rc.build(inc, alerts)
	near := incidentNeighbours(inc)
	stored, found, err := rc.match(ctx, &r, near)
	if err != nil {
		return Record{}, err
	}
	if found {
		if last := lastSnapshot(stored); !stored.Open() || (last != nil && sameSnapshot(*last, r.Snapshots[0])) {
			r.Snapshots = nil
		}
		if alerts != nil {
			r.Alerts = append(r.Alerts, endedSpans(stored.Alerts, alerts, inc.Trigger.At, rc.alertSource())...)
		}
	}
	merged := Merge(stored, r)
	if merged.Open() {
		if at, ok := resolvedBy(merged, inc); ok {
			r.Resolved = at
		}
	}
	saved, err := rc.Store.Save(ctx, r)
	if err != nil {
		return Record{}, fmt.Errorf("record incident %s in %s: %w", r.ID, rc.Store.Where(), err)
	}
	return saved, nil
}

// Note adds a note to a record.
func (rc *Recorder) Note(ctx context.Context, id string, n Note) error {
	return rc.add(ctx, id, "note", Record{Notes: []Note{n}})
}

// Resolve marks a record resolved at a time, with where that time came
// from ("runbook NAME verified (audit log)", "by hand").
func (rc *Recorder) Resolve(ctx context.Context, id string, at Stamp) error {
	if at.IsZero() {
		return fmt.Errorf("resolve %s: no time", id)
	}
	return rc.add(ctx, id, "resolution", Record{Resolved: at})
}

// Acked records an acknowledgement the cockpit made, the silence s as
// created (its ID set): it is added to each of the stack's records the
// silence acknowledges, by the rule reconstruction reads silences with
// (see ackOf), and their IDs are returned. None when the alert's
// incident was never recorded: the silence stays in Alertmanager for a
// later reconstruction to find.
func (rc *Recorder) Acked(ctx context.Context, s sources.Silence) ([]string, error) {
	recent, err := rc.Store.List(ctx, Filter{Since: s.StartsAt.Add(-MatchLookback)})
	if err != nil {
		return nil, fmt.Errorf("record acknowledgement %s: list records in %s: %w", s.ID, rc.Store.Where(), err)
	}
	var ids []string
	for _, r := range recent {
		ack, ok := ackOf(s, r)
		if r.Stack != rc.Stack || !ok {
			continue
		}
		if _, err := rc.Store.Save(ctx, Record{ID: r.ID, Acks: []Ack{ack}, Acked: ackStamp(ack), Updated: rc.Wall().UTC()}); err != nil {
			return ids, fmt.Errorf("record acknowledgement %s in %s: %w", r.ID, rc.Store.Where(), err)
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// Acted adds an action (a runbook's, from the audit log) to a record.
func (rc *Recorder) Acted(ctx context.Context, id string, a Action) error {
	return rc.add(ctx, id, "action", Record{Actions: []Action{a}})
}

// add merges part into the record id, which must exist: a note or a
// resolution for a mistyped ID must not open an empty record.
func (rc *Recorder) add(ctx context.Context, id, what string, part Record) error {
	if _, err := rc.Store.Get(ctx, id); err != nil {
		return fmt.Errorf("add %s to %s in %s: %w", what, id, rc.Store.Where(), err)
	}
	part.ID, part.Updated = id, rc.Wall().UTC()
	if _, err := rc.Store.Save(ctx, part); err != nil {
		return fmt.Errorf("add %s to %s in %s: %w", what, id, rc.Store.Where(), err)
	}
	return nil
}

func (rc *Recorder) alertSource() string {
	if rc.AlertSource == "" {
		return "alertmanager"
	}
	return rc.AlertSource
}

// build is the record of one observation, with one snapshot, before it
// is matched to a stored one.
//
// Its alerts are those of the incident (see belongs). Detected is the
// first of them to fire: the moment alerting knew, whatever the
// severity, as a ticket is alerting too. It may come before the onset:
// an alert on a cause (a pool filling) fires before users are hurt, and
// a slow leak trips an SLO burn-rate alert before a rate departs from
// its baseline. The onset stays the root's anomaly's, as oncall dates it.
func (rc *Recorder) build(inc *correlate.Incident, alerts []sources.Alert) Record {
	t := inc.Trigger
	r := Record{Stack: rc.Stack, Origin: OriginLive, Summary: inc.Summary, Updated: rc.Wall().UTC(), Assessed: t.At.UTC()}
	if len(inc.Candidates) > 0 {
		top := inc.Candidates[0]
		r.Root = top.Service
		r.Onset = onsetStamp(inc, top)
	}
	r.Mechanism = mechanisms(inc.Mechanisms)
	b := belonging{inc: inc, own: incidentServices(inc), near: incidentNeighbours(inc), onset: r.Onset.T, from: inc.Baseline.Start}
	if b.onset.IsZero() {
		b.onset = t.At
	}
	if b.from.IsZero() {
		b.from = inc.Window.Start
	}
	for _, a := range alerts {
		if !b.belongs(a) {
			continue
		}
		span := AlertSpan{Name: a.Name, Service: a.Service, Severity: a.Severity, Labels: a.Labels, Start: a.StartsAt.UTC(), Source: rc.alertSource()}
		if a.State == sources.AlertResolved {
			span.End = a.EndsAt.UTC()
		}
		r.Alerts = append(r.Alerts, span)
	}
	slices.SortFunc(r.Alerts, func(a, b AlertSpan) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Name, b.Name), strings.Compare(a.Service, b.Service))
	})
	for _, a := range r.Alerts {
		r.Services = append(r.Services, a.Service)
		r.Severity = Severest(r.Severity, a.Severity)
	}
	r.Services = unionServices(r.Services, []string{t.Service})
	switch {
	case len(r.Alerts) > 0:
		first := r.Alerts[0]
		r.ID = RecordID(rc.Stack, first.Name, first.Service, first.Start)
		r.Detected = Stamp{T: first.Start, Source: fmt.Sprintf("%s on %s started (%s)", first.Name, first.Service, first.Source), Kind: KindAlert}
	case !r.Onset.IsZero():
		r.ID = RecordID(rc.Stack, "", t.Service, r.Onset.T)
	default:
		r.ID = RecordID(rc.Stack, "", t.Service, t.At)
	}
	r.Title = lookTitle(inc, r.Alerts, r.Root)
	r.Snapshots = []Snapshot{snapshotOf(inc)}
	r.Incident = trimmed(inc)
	return r
}

// belonging decides which of the alert source's alerts are an incident's.
type belonging struct {
	inc *correlate.Incident
	// own are the incident's services: the trigger's, the chain's, the
	// blast radius's; near is its service graph.
	own  []string
	near Neighbours
	// onset is the root's anomaly's (else the look's); from is the first
	// moment of the evidence the incident was judged on.
	onset, from time.Time
}

// belongs reports whether an alert is the incident's. Pending alerts have
// paged no one and heartbeats say nothing is wrong: neither. The alert
// that triggered the look is. An alert on one of the incident's own
// services is, whatever its start, while it fired within the incident:
// started no earlier than the evidence (before it oncall cannot tell it
// from an older trouble's) and not ended more than GroupGap before the
// onset. An SLO burn-rate alert averages over an hour or more, so on a
// slow failure it fires long before a rate departs from its baseline: it
// is the incident's detection, not another trouble. Any other alert (a
// neighbour's, or one naming no service) is when it is Related to the
// incident and began no more than GroupGap before the onset: firing since
// well before the root's anomaly began, it is another trouble already
// going on, which this one did not cause.
func (b belonging) belongs(a sources.Alert) bool {
	switch {
	case a.State == sources.AlertPending || a.StartsAt.IsZero() || Heartbeat(a.Name, a.Severity):
		return false
	case a.Name == b.inc.Trigger.Alert && a.Service == b.inc.Trigger.Service:
		return true
	case a.Service != "" && slices.Contains(b.own, a.Service):
		ended := a.State == sources.AlertResolved && !a.EndsAt.IsZero() && a.EndsAt.Before(b.onset.Add(-GroupGap))
		return !a.StartsAt.Before(b.from) && !ended
	case a.StartsAt.Before(b.onset.Add(-GroupGap)):
		return false
	}
	one := Record{Alerts: []AlertSpan{{Name: a.Name, Service: a.Service, Start: a.StartsAt}}}
	if a.State == sources.AlertResolved {
		one.Alerts[0].End = a.EndsAt
	}
	if a.Service != "" {
		one.Services = []string{a.Service}
	}
	return Related(Record{Services: b.own, Onset: Stamp{T: b.onset}}, one, b.near)
}

// match looks for the stored record r belongs to: the one with its ID,
// else the newest record of the stack open and Related to it or resolved
// and absorbing it; r takes its ID.
func (rc *Recorder) match(ctx context.Context, r *Record, near Neighbours) (Record, bool, error) {
	stored, err := rc.Store.Get(ctx, r.ID)
	if err == nil {
		return stored, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Record{}, false, fmt.Errorf("record incident %s: %w", r.ID, err)
	}
	start, _ := firing(*r)
	recent, err := rc.Store.List(ctx, Filter{Since: start.Add(-MatchLookback)})
	if err != nil {
		return Record{}, false, fmt.Errorf("record incident %s: list open records in %s: %w", r.ID, rc.Store.Where(), err)
	}
	for _, s := range recent {
		if s.Stack == r.Stack && ((s.Open() && Related(s, *r, near)) || absorbs(s, *r, near)) {
			r.ID = s.ID
			return s, true, nil
		}
	}
	return Record{}, false, nil
}

// endedSpans are the stored spans still open whose alert the alert
// source no longer reports firing: they ended by the observation at the
// latest. An alert is known by its name and service alone, as a span
// reconstructed from Prometheus starts at its first sample, not at
// Alertmanager's startsAt.
func endedSpans(stored []AlertSpan, alerts []sources.Alert, at time.Time, source string) []AlertSpan {
	var out []AlertSpan
	for _, s := range stored {
		if !s.End.IsZero() {
			continue
		}
		firing := slices.ContainsFunc(alerts, func(a sources.Alert) bool {
			return a.Name == s.Name && a.Service == s.Service && a.State != sources.AlertResolved
		})
		// a look at a moment before the span began (the simulator's
		// scenarios share one clock) says nothing of its end
		if !firing && !at.Before(s.Start) {
			s.End, s.Source = at.UTC(), source+", no longer firing when looked at"
			out = append(out, s)
		}
	}
	return out
}

// resolvedBy says when the record resolved by itself: every alert
// ended, and so did the anomalies of the root and of every service on
// the chain from it to the symptom. The root alone is not enough: a root
// known by its change (a cache flushed) has no anomaly of its own while
// its callers still fail.
func resolvedBy(r Record, inc *correlate.Incident) (Stamp, bool) {
	var end time.Time
	for _, a := range r.Alerts {
		if a.End.IsZero() {
			return Stamp{}, false
		}
		end = later(end, a.End)
	}
	if r.Root == "" {
		return Stamp{}, false // nothing says what to wait for
	}
	onChain := map[string]bool{r.Root: true}
	for _, l := range inc.Chain {
		onChain[l.Service] = true
	}
	seen := false
	for _, an := range inc.Anomalies {
		if !onChain[an.Service] {
			continue
		}
		if an.Recovered.IsZero() {
			return Stamp{}, false
		}
		seen = true
		end = later(end, an.Recovered.UTC())
	}
	if !seen {
		if len(inc.Down()) > 0 {
			return Stamp{}, false
		}
		end = later(end, inc.Window.End.UTC()) // the chain is healthy over the whole window
	}
	src := r.Root + "'s anomaly and its chain's ended (oncall anomaly detection)"
	if len(r.Alerts) > 0 {
		src = "every alert resolved (" + r.Alerts[0].Source + ") and " + src
	}
	return Stamp{T: end, Source: src, Kind: KindRecovered}, true
}

// onsetStamp is the onset an incident's root-cause candidate gives a
// record: its anomaly's start, naming the anomaly detection and the
// query behind it.
func onsetStamp(inc *correlate.Incident, c correlate.Candidate) Stamp {
	src := "oncall anomaly detection"
	for _, an := range inc.Anomalies {
		if an.Service == c.Service && an.Source != "" {
			src = "oncall anomaly detection on " + an.Source
			break
		}
	}
	return Stamp{T: c.Onset.UTC(), Source: src, Kind: KindAnomaly}
}

// mechanisms are the kinds of the ways the failure spread, in order, once each.
func mechanisms(ms []correlate.Mechanism) string {
	var kinds []string
	for _, m := range ms {
		if !slices.Contains(kinds, m.Kind) {
			kinds = append(kinds, m.Kind)
		}
	}
	return strings.Join(kinds, ", ")
}

// incidentServices are the services the incident involves: the
// trigger's, the chain's and the blast radius's.
func incidentServices(inc *correlate.Incident) []string {
	s := []string{inc.Trigger.Service}
	for _, l := range inc.Chain {
		s = append(s, l.Service)
	}
	if inc.Blast != nil {
		s = append(s, inc.Blast.Root)
		s = append(s, inc.Blast.Names()...)
	}
	return unionServices(s, nil)
}

// incidentNeighbours is the incident's own service graph.
func incidentNeighbours(inc *correlate.Incident) Neighbours {
	edges := make([]sources.Edge, 0, len(inc.Graph))
	for _, e := range inc.Graph {
		edges = append(edges, sources.Edge{Client: e.Client, Server: e.Server})
	}
	return GraphNeighbours(edges)
}

// lookTitle names the incident by what it was opened from, and its root:
// the trigger's alert and service (see title); for a look at the whole
// fleet (no trigger), its severest alert, the earliest of those, as the
// page someone got; with no alert, the root and how it failed there.
func lookTitle(inc *correlate.Incident, alerts []AlertSpan, root string) string {
	switch {
	case inc.Trigger.Service != "":
		return title(inc.Trigger, root)
	case len(alerts) > 0:
		top := alerts[0] // sorted by start
		for _, a := range alerts[1:] {
			if Severest(top.Severity, a.Severity) != top.Severity {
				top = a
			}
		}
		return title(correlate.Trigger{Alert: top.Name, Service: top.Service}, root)
	case root != "":
		var at []correlate.Mechanism
		for _, m := range inc.Mechanisms {
			if m.Service == root {
				at = append(at, m)
			}
		}
		if len(at) == 0 {
			return "anomaly at " + root
		}
		return mechanisms(at) + " at " + root
	}
	return "incident seen at " + inc.Trigger.At.UTC().Format("2006-01-02 15:04 UTC")
}

// title is "ALERT on SERVICE, root ROOT" (the root only when another
// service), "incident on SERVICE" when no alert triggered it, and the
// alert's name alone when it names no service.
func title(t correlate.Trigger, root string) string {
	var s string
	switch {
	case t.Service == "":
		s = t.Alert
	case t.Alert == "":
		s = "incident on " + t.Service
	default:
		s = t.Alert + " on " + t.Service
	}
	if root != "" && root != t.Service {
		s += ", root " + root
	}
	return s
}

func snapshotOf(inc *correlate.Incident) Snapshot {
	s := Snapshot{T: inc.Trigger.At.UTC(), Summary: inc.Summary, Candidates: []Suspect{}}
	for _, c := range inc.Candidates {
		s.Candidates = append(s.Candidates, Suspect{Service: c.Service, Likelihood: c.Likelihood})
	}
	if b := inc.Blast; b != nil {
		s.Blast = BlastFigure{Services: b.Names(), FailingPerMin: b.FailingPerMin, MoneyPerMin: b.MoneyPerMin, Currency: b.Currency}
	}
	return s
}

func lastSnapshot(r Record) *Snapshot {
	if len(r.Snapshots) == 0 {
		return nil
	}
	last := &r.Snapshots[0]
	for i := range r.Snapshots {
		if r.Snapshots[i].T.After(last.T) {
			last = &r.Snapshots[i]
		}
	}
	return last
}

func sameSnapshot(a, b Snapshot) bool {
	return a.Summary == b.Summary && slices.Equal(a.Candidates, b.Candidates)
}

// trimmed is a copy of the incident small enough for a row: the first
// recordedTraces traces, each span with its first recordedSpanLogs log
// lines. The incident shown in the cockpit is not changed.
func trimmed(inc *correlate.Incident) *correlate.Incident {
	c := *inc
	c.Traces = nil
	for i, tv := range inc.Traces {
		if i == recordedTraces {
			break
		}
		tv.Spans = slices.Clone(tv.Spans)
		for j := range tv.Spans {
			tv.Spans[j].Logs = firstN(tv.Spans[j].Logs, recordedSpanLogs)
		}
		tv.Unattached = firstN(tv.Unattached, recordedSpanLogs)
		c.Traces = append(c.Traces, tv)
	}
	return &c
}

func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return slices.Clone(s[:n])
	}
	return s
}

// ObservedAlerts are the alerts an incident's evidence read, for Observe:
// nil when they did not arrive (or no alert source is configured), so
// that no alert is taken to have resolved for want of reading it.
func ObservedAlerts(ev *correlate.Evidence) []sources.Alert {
	for _, m := range ev.Missing {
		if m.What == alertsPart {
			return nil
		}
	}
	if ev.Alerts == nil {
		return []sources.Alert{}
	}
	return ev.Alerts
}

// alertsPart is the name correlate.Gather gives the alerts' part of the
// evidence in Missing.
const alertsPart = "alerts"
