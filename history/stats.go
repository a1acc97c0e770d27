package history

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// StatsOptions say which records the figures count and how "out of
// hours" is read.
type StatsOptions struct {
	// Since and Now bound the records counted, by detection (else onset);
	// a zero Since counts from the earliest record.
	Since, Now time.Time
	// Service keeps the records whose services or root include it.
	Service string
	// Stack keeps the records of one stack (a config's context, or
	// DemoStack); empty keeps every stack's but the demo's. Scope settles
	// it when nobody asked for one.
	Stack string
	// Zone is where working hours are; nil is UTC.
	Zone *time.Location
	// WorkStart and WorkEnd are the working hours, [start, end); both
	// zero means DefaultWorkStart–DefaultWorkEnd.
	WorkStart, WorkEnd int
	// Workdays are the working days; nil means Monday to Friday.
	Workdays []time.Weekday
	// AcksUnread, when set, says why the acknowledgements could not be
	// read (Alertmanager's silences did not answer): MTTA is then
	// unknown rather than unmeasured, and says this.
	AcksUnread string
}

// The working day when the config says nothing: office hours as most
// teams that rotate on call keep them.
const (
	DefaultWorkStart = 9
	DefaultWorkEnd   = 18
)

// defaultWorkdays are Monday to Friday.
var defaultWorkdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// pageSeverities are the severities that page: critical and page wake
// someone, warning and info go to a ticket or a channel. A stack that
// labels no incident with a severity counts every incident as a page
// (see Pages.Rule): it routes them somewhere, and we cannot tell where.
var pageSeverities = []string{"critical", "page"}

// Stats are the on-call figures over a span: the fleet's, then each
// service's.
type Stats struct {
	Since   time.Time `json:"since,omitzero"`
	Now     time.Time `json:"now"`
	Zone    string    `json:"zone"`
	Service string    `json:"service,omitempty"`
	// Stack is the stack counted: empty for every stack's but the demo's;
	// DemoStack for the demo's, dated on the simulator's clock.
	Stack string `json:"stack,omitempty"`
	// Hours says the working hours pages are judged against.
	Hours    string  `json:"working_hours"`
	Fleet    Tally   `json:"fleet"`
	Services []Tally `json:"services"` // by name
}

// Tally is the figures of one set of incidents.
type Tally struct {
	// Service is empty for the fleet; "(no service)" groups the
	// incidents whose alerts named none.
	Service   string `json:"service,omitempty"`
	Incidents int    `json:"incidents"`
	Open      int    `json:"open"`
	// MTTD is onset to the first alert.
	MTTD Interval `json:"mttd"`
	// MTTA is the first alert to the first acknowledgement.
	MTTA Interval `json:"mtta"`
	// MTTR is onset to resolution; an incident whose onset is unknown is
	// counted from its detection, and Interval.FromDetection says how many.
	MTTR       Interval       `json:"mttr"`
	BySeverity map[string]int `json:"by_severity"`
	// Autopilot is how many of the resolved incidents the autopilot
	// resolved with no human action.
	Autopilot Share `json:"autopilot"`
	Pages     Pages `json:"pages"`
}

// Interval is a mean and a median time, with the incidents they stand on
// and where their timestamps came from. Mean and median are left out of
// the JSON when N is 0: no incident, no figure (not a zero one).
type Interval struct {
	Mean   time.Duration `json:"mean_ns"`
	Median time.Duration `json:"median_ns"`
	N      int           `json:"n"`
	// FromDetection counts the incidents measured from detection because
	// their onset is unknown (MTTR only).
	FromDetection int `json:"from_detection,omitempty"`
	// Sources count the interval's stamps by its end (onset, first
	// alert, ack, resolution) and their source's kind: one of each per
	// incident counted.
	Sources []SourceCount `json:"sources,omitempty"`
	// Unknown says why the figure's ends could not be read (MTTA with
	// Alertmanager down): the incidents it does not stand on may have
	// been acknowledged all the same.
	Unknown string `json:"unknown,omitempty"`
}

// MarshalJSON leaves mean_ns and median_ns out when no incident was
// measured, so that a reader cannot take them for a measured zero.
func (v Interval) MarshalJSON() ([]byte, error) {
	type plain Interval // without this method
	if v.N > 0 {
		return json.Marshal(plain(v))
	}
	return json.Marshal(struct {
		N       int           `json:"n"`
		Sources []SourceCount `json:"sources,omitempty"`
		Unknown string        `json:"unknown,omitempty"`
	}{v.N, v.Sources, v.Unknown})
}

// The ends of an interval, as SourceCount.End names them.
const (
	EndOnset      = "onset"
	EndDetection  = "first alert"
	EndAck        = "ack"
	EndResolution = "resolution"
)

// SourceCount is how many of one end's stamps came from one kind of
// source, e.g. the onset from anomaly detection, 3.
type SourceCount struct {
	End    string `json:"end"`
	Source string `json:"source"`
	N      int    `json:"n"`
}

// Share is n of N.
type Share struct {
	N  int `json:"n"`
	Of int `json:"of"`
}

// Pages counts the incidents that paged someone.
type Pages struct {
	N int `json:"n"`
	// Rule says what counted as a page.
	Rule string `json:"rule"`
	// PerWeek is N over Weeks, when the span is at least minRateSpan
	// (Weekly); JSON leaves it out otherwise.
	PerWeek float64 `json:"per_week"`
	// Weeks and Span are the span counted, in weeks and as a duration.
	Weeks      float64       `json:"weeks"`
	Span       time.Duration `json:"span_ns"`
	OutOfHours int           `json:"out_of_hours"`
}

// minRateSpan is the shortest span a weekly rate is given over: a rate
// over less than a week extrapolates from a few hours (3 pages in 2 h is
// not 252 a week), and a week is the rota's own cycle.
const minRateSpan = 7 * 24 * time.Hour

// Weekly reports whether the span is long enough for PerWeek to mean
// something; else the figure is N over Span.
func (p Pages) Weekly() bool { return p.Span >= minRateSpan }

// MarshalJSON leaves per_week out when the span is too short for a
// weekly rate: the count and the span say what there is.
func (p Pages) MarshalJSON() ([]byte, error) {
	type plain Pages // without this method
	if p.Weekly() {
		return json.Marshal(plain(p))
	}
	return json.Marshal(struct {
		N          int           `json:"n"`
		Rule       string        `json:"rule"`
		Weeks      float64       `json:"weeks"`
		Span       time.Duration `json:"span_ns"`
		OutOfHours int           `json:"out_of_hours"`
	}{p.N, p.Rule, p.Weeks, p.Span, p.OutOfHours})
}

// Rate writes the pages' rate after their count: "1.5 a week over 4.3
// weeks", or below a week "in 2 h; too short a span for a weekly rate".
func (p Pages) Rate() string {
	if p.Weekly() {
		return fmt.Sprintf("%.1f a week over %.1f weeks", p.PerWeek, p.Weeks)
	}
	return "in " + Span(p.Span) + "; too short a span for a weekly rate"
}

// noService groups the incidents with neither a root nor a service.
const noService = "(no service)"

// Figures counts the on-call figures of o.Stack's records detected (else
// begun) in [o.Since, o.Now]. It is a pure function.
func Figures(records []Record, o StatsOptions) Stats {
	zone := o.Zone
	if zone == nil {
		zone = time.UTC
	}
	start, end := o.WorkStart, o.WorkEnd
	if start == 0 && end == 0 {
		start, end = DefaultWorkStart, DefaultWorkEnd
	}
	days := o.Workdays
	if days == nil {
		days = defaultWorkdays
	}
	// pointers, not copies: a month of a large fleet is 14,000 records
	var in []*Record
	for i := range records {
		r := &records[i]
		t := r.When()
		if t.IsZero() || t.Before(o.Since) || (!o.Now.IsZero() && t.After(o.Now)) || !o.counts(r.Stack) {
			continue
		}
		if o.Service != "" && r.Root != o.Service && !slices.Contains(r.Services, o.Service) {
			continue
		}
		in = append(in, r)
	}
	since := o.Since
	if since.IsZero() {
		for _, r := range in {
			if t := r.When(); since.IsZero() || t.Before(since) {
				since = t
			}
		}
	}
	var span time.Duration
	if !since.IsZero() && o.Now.After(since) {
		span = o.Now.Sub(since)
	}
	c := counter{zone: zone, start: start, end: end, days: days, span: span, acksUnread: o.AcksUnread, allPage: !slices.ContainsFunc(in, func(r *Record) bool { return r.Severity != "" })}
	s := Stats{Since: o.Since, Now: o.Now, Zone: zone.String(), Service: o.Service, Stack: o.Stack, Hours: workingHours(start, end, days, zone), Fleet: c.tally("", in)}
	by := map[string][]*Record{}
	for _, r := range in {
		k := r.serviceKey()
		by[k] = append(by[k], r)
	}
	for _, name := range sortedKeys(by) {
		s.Services = append(s.Services, c.tally(name, by[name]))
	}
	return s
}

// counts reports whether the options count a record of stack.
func (o StatsOptions) counts(stack string) bool {
	if o.Stack == "" {
		return stack != DemoStack
	}
	return stack == o.Stack
}

// Scope settles which stack's records o counts, for `oncall stats` and
// the cockpit's S alike: o.Stack when asked; else every stack's but the
// demo's, unless no other stack's record falls in [Since, Now] and the
// demo has some, then the demo's. The
// demo's records are dated on the simulator's clock, so they are never
// counted with a real stack's; when they are counted, [Since, Now] is
// moved onto that clock, as long as before, ending at the latest time
// they hold (StackClock). left is how many of the demo's records it
// leaves out.
func (o StatsOptions) Scope(records []Record) (scoped StatsOptions, left int) {
	other := slices.ContainsFunc(records, func(r Record) bool {
		t := r.When()
		return r.Stack != DemoStack && !t.Before(o.Since) && (o.Now.IsZero() || !t.After(o.Now))
	})
	if o.Stack == "" && !other && slices.ContainsFunc(records, func(r Record) bool { return r.Stack == DemoStack }) {
		o.Stack = DemoStack
	}
	if now := StackClock(records, DemoStack); o.Stack == DemoStack && !now.IsZero() {
		if !o.Since.IsZero() {
			o.Since = now.Add(-o.Now.Sub(o.Since))
		}
		o.Now = now
	}
	if o.Stack == DemoStack {
		return o, 0
	}
	for _, r := range records {
		if r.Stack == DemoStack {
			left++
		}
	}
	return o, left
}

// StackClock is the latest time the records of stack hold, on that
// stack's clock: the "now" of a stack whose clock is not the wall's (the
// demo's), zero when it has none.
func StackClock(records []Record, stack string) time.Time {
	var t time.Time
	later := func(u time.Time) {
		if u.After(t) {
			t = u
		}
	}
	for _, r := range records {
		if r.Stack != stack {
			continue
		}
		for _, s := range []Stamp{r.Onset, r.Detected, r.Acked, r.Resolved} {
			later(s.T)
		}
		for _, a := range r.Alerts {
			later(a.Start)
			later(a.End)
		}
	}
	return t
}

// serviceKey is the service an incident is counted under: its root
// cause, else the first service its alerts name.
func (r Record) serviceKey() string {
	switch {
	case r.Root != "":
		return r.Root
	case len(r.Services) > 0:
		return r.Services[0]
	}
	return noService
}

// counter holds what every tally is counted with.
type counter struct {
	zone       *time.Location
	start, end int
	days       []time.Weekday
	span       time.Duration
	acksUnread string
	allPage    bool
}

func (c counter) tally(service string, rs []*Record) Tally {
	t := Tally{Service: service, Incidents: len(rs), BySeverity: map[string]int{}}
	var mttd, mtta, mttr intervals
	for _, r := range rs {
		if r.Open() {
			t.Open++
		} else {
			t.Autopilot.Of++
			if r.ByAutopilot {
				t.Autopilot.N++
			}
		}
		sev := r.Severity
		if sev == "" {
			sev = "none"
		}
		t.BySeverity[sev]++
		f := RecordFigures(*r)
		mttd.add(f.Detect, EndOnset, EndDetection, false)
		mtta.add(f.Ack, EndDetection, EndAck, false)
		from := EndOnset
		if f.FromDetection {
			from = EndDetection
		}
		mttr.add(f.Resolve, from, EndResolution, f.FromDetection)
		if c.allPage || slices.Contains(pageSeverities, strings.ToLower(r.Severity)) {
			t.Pages.N++
			if !c.inHours(r.When()) {
				t.Pages.OutOfHours++
			}
		}
	}
	t.MTTD, t.MTTA, t.MTTR = mttd.figure(), mtta.figure(), mttr.figure()
	t.MTTA.Unknown = c.acksUnread
	t.Pages.Rule = "severity critical or page"
	if c.allPage {
		t.Pages.Rule = "every incident (none has a severity)"
	}
	t.Pages.Span, t.Pages.Weeks = c.span, c.span.Hours()/(7*24)
	if t.Pages.Weekly() {
		t.Pages.PerWeek = float64(t.Pages.N) / t.Pages.Weeks
	}
	return t
}

// inHours reports whether t falls in working hours in the counter's zone.
func (c counter) inHours(t time.Time) bool {
	l := t.In(c.zone)
	return slices.Contains(c.days, l.Weekday()) && l.Hour() >= c.start && l.Hour() < c.end
}

// intervals gathers the durations of one figure.
type intervals struct {
	ds            []time.Duration
	fromDetection int
	sources       map[SourceCount]int // by End and Source, N unused
}

// add counts a record's measure of the figure when it has one; from and
// to name its ends, for the count of sources.
func (v *intervals) add(m Measure, from, to string, fromDetection bool) {
	if !m.OK {
		return
	}
	v.ds = append(v.ds, m.D)
	if fromDetection {
		v.fromDetection++
	}
	if v.sources == nil {
		v.sources = map[SourceCount]int{}
	}
	v.sources[SourceCount{End: from, Source: SourceKind(m.From)}]++
	v.sources[SourceCount{End: to, Source: SourceKind(m.To)}]++
}

// endOrder is the order the ends of the figures are listed in.
var endOrder = []string{EndOnset, EndDetection, EndAck, EndResolution}

func (v intervals) figure() Interval {
	f := Interval{N: len(v.ds), FromDetection: v.fromDetection}
	if f.N == 0 {
		return f
	}
	var sum time.Duration
	for _, d := range v.ds {
		sum += d
	}
	f.Mean = sum / time.Duration(f.N)
	ds := slices.Clone(v.ds)
	slices.Sort(ds)
	if f.N%2 == 1 {
		f.Median = ds[f.N/2]
	} else {
		f.Median = (ds[f.N/2-1] + ds[f.N/2]) / 2
	}
	for k, n := range v.sources {
		k.N = n
		f.Sources = append(f.Sources, k)
	}
	// by end, then most used first
	slices.SortFunc(f.Sources, func(a, b SourceCount) int {
		return cmp.Or(cmp.Compare(slices.Index(endOrder, a.End), slices.Index(endOrder, b.End)), b.N-a.N, strings.Compare(a.Source, b.Source))
	})
	return f
}

// workingHours writes the working hours: "09–18 Mon–Fri (Europe/Paris)".
func workingHours(start, end int, days []time.Weekday, zone *time.Location) string {
	var ds []string
	if slices.Equal(days, defaultWorkdays) {
		ds = []string{"Mon–Fri"}
	} else {
		for _, d := range days {
			ds = append(ds, d.String()[:3])
		}
	}
	return fmt.Sprintf("%02d–%02d %s (%s)", start, end, strings.Join(ds, " "), zone)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// kindNames are the kinds of stamps as the figures name their sources.
var kindNames = map[string]string{
	KindAnomaly:   "anomaly detection",
	KindAlert:     "alert",
	KindRecovered: "alerts and anomaly ended",
	KindAck:       "signed silence",
	KindAudit:     "audit log",
	KindVerified:  "runbook verification (audit log)",
	KindHand:      "oncall history resolve",
}

// backendNames are the backends a Source names in its closing
// parentheses, as people write them.
var backendNames = map[string]string{
	"prometheus":   "Prometheus",
	"alertmanager": "Alertmanager",
	"simulator":    "the simulator",
	"audit log":    "audit log",
}

// SourceKind names the kind of a stamp's source in a few words, for
// counting where a figure's times came from: its Kind, or for alerts and
// silences the backend ("Prometheus"); for a stamp written before kinds,
// the backend its Source names.
func SourceKind(s Stamp) string {
	name, known := kindNames[s.Kind]
	b := backend(s.Source)
	switch {
	case !known && b != "":
		return b
	case !known && s.Source == "":
		return "unsaid"
	case !known:
		return "other"
	case (s.Kind == KindAlert || s.Kind == KindAck) && b != "":
		return b // the end says what it is: "first alert from Prometheus"
	}
	return name
}

// backend is the backend a source names last in parentheses, e.g.
// "(prometheus)"; empty when it names none oncall knows.
func backend(src string) string {
	open := strings.LastIndex(src, "(")
	if open < 0 {
		return ""
	}
	in, _, _ := strings.Cut(src[open+1:], ")")
	return backendNames[strings.ToLower(strings.TrimSpace(in))]
}
