// Package present turns the domain's answers into what a person reads:
// one presentation model per screen (the incident, the SLO list and
// detail, the forecast, the runbook plan and its outcome, the audit log,
// the demo's summary), built once, and rendered several ways. An incident
// is presented as its sections (the chain, the
// candidates with their evidence, the tree, the blast radius, the
// mechanisms, the runbooks, the traces, the timeline, the notes), with
// every string from a backend made terminal-safe and every number
// written once, by internal/humanize. Text and Markdown render it here;
// the cockpit renders it as styled lines in tui; postmortems will be one
// more renderer.
//
// It imports remediate, correlate, slo and sources types and the
// internal text helpers, never a backend, the cockpit or cmd.
package present

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

// Safe strips terminal control sequences: every string an incident holds
// came from a backend at some point.
func Safe(s string) string { return termsafe.Line(s) }

// Clock writes a time of day in a zone (UTC when nil).
func Clock(t time.Time, zone *time.Location) string {
	if zone == nil {
		zone = time.UTC
	}
	return t.In(zone).Format("15:04:05")
}

// Options say what an incident is presented with.
type Options struct {
	// Label says what the incident was assembled from.
	Label string
	// Runbooks are the config's links per service; nil leaves the
	// runbooks section out.
	Runbooks map[string][]string
	// Zone is the zone times are written in; nil is UTC.
	Zone *time.Location
	// TraceFields are the JSON fields a line's trace ID is in
	// (conventions.trace_id.json_fields), besides the usual keys.
	TraceFields []string
	// Now is when the incident is shown: a window on another day than
	// Now's has its dates written. Zero when the caller has no clock:
	// dates are then written only for a window that spans midnight.
	Now time.Time
}

// Incident is the presentation of one incident.
type Incident struct {
	// Label says what the incident was assembled from (the config, or the
	// simulator and its scenario).
	Label string
	Zone  *time.Location // times are written in it; nil is UTC
	// Now is when it is shown, to tell a window of today from one of
	// another day; zero when unknown.
	Now      time.Time
	Window   sources.TimeRange
	Baseline time.Duration
	Summary  string // the verdict as one sentence
	// ChainText is the chain as one sentence, symptom first, joined as
	// correlate joins it into Summary: a view that says a stop first
	// (StoppedFirst) follows it with this.
	ChainText string
	// StoppedFirst, when set, says which services stopped reporting and
	// since when: the summary leads with it when nothing still reporting
	// explains the incident, so the chain view says it first too.
	StoppedFirst string
	// Incomplete names the evidence configured backends failed to
	// deliver, so that it is read before the verdict.
	Incomplete []string
	// Thin is set when no cause is likely; Notes say why.
	Thin       bool
	Chain      []ChainLink
	Candidates []Candidate
	Mechanisms []Mechanism
	Tree       []TreeRow
	Blast      *Blast
	// Runbooks is nil when the caller has no runbook links to offer.
	Runbooks *Runbooks
	Traces   []Trace
	// MoreTraces is how many traces the incident holds beyond Traces.
	MoreTraces int
	Timeline   []Event
	Notes      []string
}

// ChainLink is one step of the explanation, symptom first.
type ChainLink struct{ Service, What string }

// Candidate is a possible root cause and the evidence that is worth a line.
type Candidate struct {
	Rank       int
	Service    string
	Likelihood correlate.Likelihood
	Confidence float64
	Score      float64
	Onset      string // empty when unknown
	// Stopped is when its service stopped reporting ("09:50" in the
	// zone); empty while it reports.
	Stopped string
	Reasons []Reason
}

// Reason is one piece of evidence: what it says, the query it came from,
// the log lines and the traces it cites.
type Reason struct {
	Kind     correlate.ReasonKind
	Detail   string
	Source   string
	Lines    []string
	TraceIDs []string
}

// Mechanism is a way the failure spread.
type Mechanism struct{ Kind, Detail string }

// TreeRow is one service of the dependency tree above the root cause.
type TreeRow struct {
	Prefix  string // box-drawing indent
	Depth   int    // 0 for the root, 1 for its direct callers, …
	Service string
	Anomaly string
	// Health is failing for errors and degraded for latency alone.
	Health correlate.Health
	// ByLoad marks a peer hurt by load from the tree, not a caller.
	ByLoad bool
	// Stopped is when the service stopped reporting, as on a Candidate.
	Stopped string
	Calls   []string // the root's own dependencies
}

// Blast is the blast radius, with how each number was computed.
type Blast struct {
	Services    int
	EntryPoints []string
	Failing     string // requests per minute
	AtRisk      string
	Money       string // "1,234 USD" or "0 (no currency)"
	// Unknown says why the requests at the entry points are not known;
	// Failing and AtRisk are empty then.
	Unknown string
	// EntryPointsMissing is set when the entry points' metrics did not
	// arrive: EntryPoints are those seen hurt elsewhere, and more may be.
	EntryPointsMissing bool
	How                []How // sorted by what
}

// How says how one number was computed.
type How struct{ What, Method string }

// Runbooks are the runbook links of the chain's services.
type Runbooks struct {
	Links []RunbookLink
	// Gap names the services when none has a link.
	Gap string
}

// RunbookLink is one link of one service.
type RunbookLink struct{ Service, Link string }

// Trace is a trace the incident cites, with its failed spans and the log
// lines joined to them.
type Trace struct {
	ID, RootService, RootName string
	Duration                  time.Duration
	Origin                    string // where its error starts, if known
	Spans                     []Span
}

// Span is a failed span, or one with log lines.
type Span struct {
	Kind, Service, Name string
	Status              sources.SpanStatus
	Message             string
	Logs                []LogLine
}

// LogLine is a log line joined to a span.
type LogLine struct{ Time, Line string }

// Event is one line of the timeline.
type Event struct{ Time, Kind, Service, Detail string }

// tracesShown is how many traces an incident shows; the rest are in the
// JSON form.
const tracesShown = 3

// NewIncident builds the presentation of inc.
func NewIncident(inc *correlate.Incident, o Options) Incident {
	runbooks := o.Runbooks
	p := Incident{Label: Safe(o.Label), Zone: o.Zone, Now: o.Now, Window: inc.Window, Baseline: inc.Baseline.End.Sub(inc.Baseline.Start),
		Summary: Safe(inc.Summary), Thin: inc.Thin}
	clock := func(t time.Time) string { return Clock(t, o.Zone) }
	for _, m := range inc.Down() {
		p.Incomplete = append(p.Incomplete, Safe(m.What+": "+m.Why))
	}
	if inc.StoppedFirst && len(inc.Stopped) > 0 {
		names := make([]string, 0, len(inc.Stopped))
		for _, st := range inc.Stopped {
			names = append(names, Safe(st.Service))
		}
		p.StoppedFirst = fmt.Sprintf("%s stopped reporting since %s, while the rest of the fleet reports; before the stop:", strings.Join(names, ", "), clock(inc.Stopped[0].Since))
	}
	links := make([]string, 0, len(inc.Chain))
	for _, l := range inc.Chain {
		p.Chain = append(p.Chain, ChainLink{Safe(l.Service), Safe(l.What)})
		links = append(links, Safe(l.Service)+" "+Safe(l.What))
	}
	p.ChainText = strings.Join(links, " ← ")
	stopped := map[string]string{}
	for _, st := range inc.Stopped {
		stopped[st.Service] = st.Since.In(zoneOr(o.Zone)).Format("15:04")
	}
	for i, c := range inc.Candidates {
		pc := Candidate{Rank: i + 1, Service: Safe(c.Service), Likelihood: c.Likelihood, Confidence: c.Confidence, Score: c.Score, Stopped: stopped[c.Service]}
		if !c.Onset.IsZero() {
			pc.Onset = clock(c.Onset)
		}
		for _, r := range c.Reasons {
			if !r.Shown() {
				continue
			}
			pr := Reason{Kind: r.Kind, Detail: Safe(r.Detail), Source: Safe(r.Source), TraceIDs: safeAll(r.TraceIDs)}
			pr.Lines = logSamples(r.Lines, o.TraceFields)
			pc.Reasons = append(pc.Reasons, pr)
		}
		p.Candidates = append(p.Candidates, pc)
	}
	for _, m := range inc.Mechanisms {
		p.Mechanisms = append(p.Mechanisms, Mechanism{m.Kind, Safe(m.Detail)})
	}
	for _, r := range inc.Tree() {
		row := TreeRow{Prefix: r.Prefix, Depth: len([]rune(r.Prefix)) / 3, Service: Safe(r.Service), Anomaly: Safe(r.Anomaly), ByLoad: r.ByLoad, Stopped: stopped[r.Service], Calls: safeAll(r.Calls)}
		if r.Anomaly != "" {
			// errors are failing; latency alone is a warning
			row.Health = correlate.Degraded
			if strings.Contains(r.Anomaly, "errors") {
				row.Health = correlate.Failing
			}
		}
		p.Tree = append(p.Tree, row)
	}
	if b := inc.Blast; b != nil {
		money := humanize.Commas(b.MoneyPerMin) + " " + b.Currency
		if b.Currency == "" {
			money = humanize.Commas(b.MoneyPerMin) + " (no currency)"
		}
		pb := &Blast{Services: len(b.Services), EntryPoints: safeAll(b.EntryPoints), Failing: humanize.Commas(b.FailingPerMin),
			AtRisk: humanize.Commas(b.AtRiskPerMin), Money: Safe(money), Unknown: Safe(b.Unknown), EntryPointsMissing: b.EntryPointsMissing}
		if b.Unknown != "" {
			// the money is counted from the same metrics that did not arrive
			pb.Failing, pb.AtRisk, pb.Money = "", "", "money unknown"
		}
		for k, v := range b.How {
			pb.How = append(pb.How, How{k, v})
		}
		sort.Slice(pb.How, func(i, j int) bool { return pb.How[i].What < pb.How[j].What })
		p.Blast = pb
	}
	if runbooks != nil {
		p.Runbooks = &Runbooks{}
		var chain []string
		for _, l := range inc.Chain {
			chain = append(chain, Safe(l.Service))
			for _, link := range runbooks[l.Service] {
				p.Runbooks.Links = append(p.Runbooks.Links, RunbookLink{Safe(l.Service), Safe(link)})
			}
		}
		if len(p.Runbooks.Links) == 0 {
			p.Runbooks.Gap = "these services"
			if len(chain) > 0 {
				p.Runbooks.Gap = strings.Join(chain, ", ")
			}
		}
	}
	for i, tv := range inc.Traces {
		if i == tracesShown {
			p.MoreTraces = len(inc.Traces) - tracesShown
			break
		}
		pt := Trace{ID: Safe(tv.TraceID), RootService: Safe(tv.RootService), RootName: Safe(tv.RootName), Duration: tv.Duration.Round(time.Millisecond)}
		if tv.Origin != nil {
			pt.Origin = Safe(tv.Origin.Service)
		}
		for _, sp := range tv.Spans {
			if sp.Status != sources.StatusError && len(sp.Logs) == 0 {
				continue
			}
			ps := Span{Kind: Safe(sp.Kind), Service: Safe(sp.Service), Name: Safe(sp.Name), Status: sp.Status, Message: Safe(sp.Message)}
			for _, l := range sp.Logs {
				ps.Logs = append(ps.Logs, LogLine{clock(l.T), Safe(l.Line)})
			}
			pt.Spans = append(pt.Spans, ps)
		}
		p.Traces = append(p.Traces, pt)
	}
	for _, e := range inc.Timeline {
		p.Timeline = append(p.Timeline, Event{clock(e.T), e.Kind, Safe(e.Service), Safe(e.Detail)})
	}
	p.Notes = safeAll(inc.Notes)
	return p
}

// Title is the incident's heading: its window.
func (p Incident) Title() string {
	zone := p.Zone
	if zone == nil {
		zone = time.UTC
	}
	start, end := p.Window.Start.In(zone), p.Window.End.In(zone)
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	switch {
	case day(start) != day(end):
		// a window across midnight, or days long: both ends need their date
		return fmt.Sprintf("%s %s–%s %s %s", day(start), Clock(start, zone), day(end), Clock(end, zone), end.Format("MST"))
	case !p.Now.IsZero() && day(end) != day(p.Now.In(zone)):
		return fmt.Sprintf("%s %s–%s %s", day(start), Clock(start, zone), Clock(end, zone), end.Format("MST"))
	}
	return fmt.Sprintf("%s–%s %s", Clock(start, zone), Clock(end, zone), end.Format("MST"))
}

// windowSpan writes a window's length or a baseline as people say it: whole
// seconds at most ("16m30s", not "16m29.697795404s"), in days past a day
// ("30d", not "720h0m0s").
func windowSpan(d time.Duration) string {
	return timeparse.FormatDuration(d.Round(time.Second))
}

// logSamples writes a reason's sample lines each once: lines that differ
// only in their trace, time or level say the same thing, so they are
// written as one message after how many said it ("×3 …"), the count
// first so that a cut line keeps it. A line said once keeps its trace
// ID; the reason lists those of a repeated one. traceFields are the
// config's keys of a trace ID, besides the usual ones.
func logSamples(lines []string, traceFields []string) []string {
	levels, apart := roleKeys("level"), append(roleKeys("trace", traceFields...), roleKeys("time")...)
	var keys []string
	count, whole := map[string]int{}, map[string]string{}
	for _, l := range lines {
		key, text := l, l
		if f, ok := ParseLogLine(l); ok {
			f = f.Without(levels...)
			key, text = f.Without(apart...).Text("", ""), f.Text("", "")
		}
		if count[key] == 0 {
			keys, whole[key] = append(keys, key), text
		}
		count[key]++
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = Safe(whole[k])
		if n := count[k]; n > 1 {
			out[i] = Safe(fmt.Sprintf("×%d %s", n, k))
		}
	}
	return out
}

func safeAll(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = Safe(s)
	}
	return out
}

// Requests is the blast radius's requests at its entry points: "failing
// 12 req/min of 340 at risk", or why they are unknown.
func (b *Blast) Requests() string {
	if b.Unknown != "" {
		return "requests at entry points unknown: " + b.Unknown
	}
	return fmt.Sprintf("failing %s req/min of %s at risk", b.Failing, b.AtRisk)
}

// Entries lists the entry points hurt: "none" when none is, "unknown"
// when their metrics did not arrive and nothing else shows one hurt.
func (b *Blast) Entries() string {
	list := strings.Join(b.EntryPoints, ", ")
	switch {
	case b.EntryPointsMissing && list == "":
		return "unknown"
	case b.EntryPointsMissing:
		return list + " (others unknown)"
	case list == "":
		return "none"
	}
	return list
}
