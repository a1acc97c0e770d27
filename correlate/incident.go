package correlate

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// SchemaVersion is the version of the Incident JSON. Tests, the TUI and
// postmortems read it; a change that breaks a reader bumps it.
const SchemaVersion = 2

// Meta is what the config adds to the evidence.
type Meta struct {
	Services map[string]ServiceMeta
	Static   map[string][]string // static dependencies: service → what it calls
	Currency string
	// BurnRateAlerts names the SLO burn-rate alerts (the conventions'
	// alerts.burn_rate): they mark where users are hurt, not a cause.
	BurnRateAlerts []string
}

func (m Meta) isBurnRate(alert string) bool { return slices.Contains(m.BurnRateAlerts, alert) }

// Incident is one assembled incident. Its JSON form is stable and
// documented in docs/incident-json.md.
type Incident struct {
	Schema     int               `json:"schema"`
	Trigger    Trigger           `json:"trigger"`
	Window     sources.TimeRange `json:"window"`
	Baseline   sources.TimeRange `json:"baseline"`
	Summary    string            `json:"summary"` // the explanation chain as one sentence
	Chain      []ChainLink       `json:"chain"`
	Candidates []Candidate       `json:"candidates"` // the top CandidatesShown, best first
	Mechanisms []Mechanism       `json:"mechanisms"`
	Anomalies  []*Anomaly        `json:"anomalies"`
	Graph      []*GraphEdge      `json:"graph"`
	Blast      *BlastRadius      `json:"blast_radius,omitempty"`
	Timeline   []Event           `json:"timeline"`
	Signatures []Signature       `json:"signatures"`
	// Traces are the traces the candidates cite (and the trigger's), with
	// their log lines attached to their spans.
	Traces  []TraceView `json:"traces"`
	Missing []Missing   `json:"missing,omitempty"`
	// Stopped lists the services whose metrics ended while the rest of
	// the fleet's go on, earliest first: "stopped reporting since 09:50".
	Stopped []StoppedService `json:"stopped,omitempty"`
	// StoppedFirst is set when the summary leads with the stop, because
	// nothing still reporting is anomalous, and the chain is what came
	// before it.
	StoppedFirst bool `json:"stopped_first,omitempty"`
	// Thin is set when the evidence does not support a likely cause; Notes say why.
	Thin  bool     `json:"thin"`
	Notes []string `json:"notes,omitempty"`
}

// ChainLink is one step of the explanation, symptom first.
type ChainLink struct {
	Service  string   `json:"service"`
	What     string   `json:"what"`
	Evidence []string `json:"evidence"`
}

// Mechanism is a way the failure spread, with its evidence.
type Mechanism struct {
	Kind     string   `json:"kind"` // retry-amplification, saturation, timeouts, load-surge, deploy, crash-loop
	Service  string   `json:"service"`
	Detail   string   `json:"detail"`
	Evidence []string `json:"evidence"`
}

// Event is one line of the timeline.
type Event struct {
	T       time.Time `json:"t"`
	Kind    string    `json:"kind"` // onset, stopped-reporting, alert-firing, alert-resolved, change, action
	Service string    `json:"service,omitempty"`
	Detail  string    `json:"detail"`
}

// Analyze assembles the incident from evidence. It is a pure function.
func Analyze(ev *Evidence, meta Meta) *Incident {
	ev, edgesBegan := coverEdgeBaseline(finiteEvidence(ev))
	edgeNotes := edgeBaselineNotes(ev, edgesBegan) // before widenToOnset moves the baseline
	ev, anoms, widened := widenToOnset(ev, Anomalies(ev))
	inc := &Incident{Schema: SchemaVersion, Trigger: ev.Trigger, Window: ev.Window, Baseline: ev.Baseline, Missing: ev.Missing}
	a := &analysis{ev: ev, meta: meta, anoms: anoms, tolerance: OnsetTolerance * ev.Step}
	inc.Stopped = StoppedServices(ev.RED, ev.Step)
	traced := tracedSpans(ev)
	a.g = BuildGraph(traced, ev.Edges, ev.BaselineEdges, meta.Static)
	a.sigs = Signatures(ev.Logs)
	a.origins = ErrorOrigins(traced)
	// an uninstrumented peer's anomaly is first seen by its anomalous
	// callers; one over by the window's last slice began before that, so
	// a caller's later onset (a fault of its own) is not its
	for s, an := range a.anoms {
		if !an.FromEdges {
			continue
		}
		for _, e := range a.g.Dependents(s) {
			if c := a.anoms[e.Client]; c != nil && !c.FromEdges && c.Onset.Before(an.Onset) && (an.Recovered.IsZero() || c.Onset.Before(an.Recovered)) {
				an.Onset = c.Onset
			}
		}
		if !an.Recovered.IsZero() && an.Onset.After(an.Recovered) {
			an.Onset = an.Recovered
		}
	}
	scopeNotes := a.scopeTo(ev.Trigger.Service)
	a.earlier = a.setAsideRecovered()
	earlier := a.earlier
	a.findQueues(traced)
	a.findLoad()
	a.findPools() // before findNoise: a slowness that fills a pool is not noise
	a.findNoise()
	live := a.markStopped(inc.Stopped)
	// the first anomaly that is not background noise sets the clock, and
	// of a service still reporting when any is: a stopped service's fault
	// is not what broke first in the incident going on
	for s, an := range a.anoms {
		if a.noiseLike(s) || (live && !an.StoppedSince.IsZero()) {
			continue
		}
		if a.earliest.IsZero() || an.Onset.Before(a.earliest) {
			a.earliest = an.Onset
		}
	}
	for _, an := range a.anoms {
		inc.Anomalies = append(inc.Anomalies, an)
	}
	inc.Anomalies = append(inc.Anomalies, earlier...)
	sort.Slice(inc.Anomalies, func(i, j int) bool {
		if !inc.Anomalies[i].Onset.Equal(inc.Anomalies[j].Onset) {
			return inc.Anomalies[i].Onset.Before(inc.Anomalies[j].Onset)
		}
		return inc.Anomalies[i].Service < inc.Anomalies[j].Service
	})
	inc.Graph, inc.Signatures = a.g.Edges, a.sigs
	cands := demoteStopped(a.demoteRecovered(a.rank()), inc.Stopped, live)
	if len(cands) > CandidatesShown {
		cands = cands[:CandidatesShown]
	}
	inc.Candidates = cands
	inc.Timeline = timeline(ev, inc.Anomalies, inc.Stopped)
	inc.Traces = citedTraces(ev, a.origins, cands)
	if widened != "" {
		inc.Notes = append(inc.Notes, widened)
	}
	inc.Notes = append(inc.Notes, stoppedNotes(inc.Stopped, live)...)
	inc.Notes = append(inc.Notes, edgeNotes...)
	a.noteBaseline(inc)
	if n := ev.Screen.note(); n != "" {
		inc.Notes = append(inc.Notes, n)
	}
	inc.Notes = append(inc.Notes, scopeNotes...)
	for _, an := range earlier {
		inc.Notes = append(inc.Notes, fmt.Sprintf("earlier, recovered at %s: %s %s (another incident; not ranked)", an.Recovered.UTC().Format("15:04"), an.Service, an.describe()))
	}
	a.noteThinEvidence(inc)
	if len(cands) == 0 {
		inc.Summary = "no service departs from its baseline in this window"
		for _, m := range inc.Down() {
			if m.What == redPart {
				inc.Summary = "no verdict: the metrics did not arrive (" + m.Why + ")"
			}
		}
		if len(inc.Stopped) > 0 {
			inc.Summary = stoppedSummary(inc.Stopped, "")
		}
		return inc
	}
	root := cands[0].Service
	b := Blast(root, a.g, a.anoms, a.loadBy, a.noise, meta.Services, meta.Currency)
	b.checkEntryPoints(a.g, ev)
	inc.Blast = &b
	inc.Mechanisms = a.mechanisms(root, b)
	inc.Chain = a.chain(root, b, meta)
	var parts []string
	for _, l := range inc.Chain {
		parts = append(parts, l.Service+" "+l.What)
	}
	inc.Summary = strings.Join(parts, " ← ")
	if !live && len(inc.Stopped) > 0 {
		inc.Summary = stoppedSummary(inc.Stopped, inc.Summary)
		inc.StoppedFirst = true
	} else if inc.Thin {
		inc.Summary = "(thin evidence) " + inc.Summary
	}
	return inc
}

// setAsideRecovered takes out of the analysis the anomalies that were
// over before the first ongoing one began: they are an earlier incident,
// and must not win "what broke first" over the one happening now. An
// anomaly that recovered after the ongoing ones began overlaps them (a
// caller whose retries or cache hid the fault again) and stays. With
// nothing going on all stay: the incident asked about is the one that
// recovered.
func (a *analysis) setAsideRecovered() []*Anomaly {
	var began time.Time // the first onset among the ongoing anomalies
	for _, an := range a.anoms {
		if an.Recovered.IsZero() && (began.IsZero() || an.Onset.Before(began)) {
			began = an.Onset
		}
	}
	if began.IsZero() {
		return nil
	}
	var out []*Anomaly
	for s, an := range a.anoms {
		if !an.Recovered.IsZero() && an.Recovered.Before(began) {
			out = append(out, an)
			delete(a.anoms, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Recovered.Before(out[j].Recovered) })
	return out
}

// noteBaseline says which history the anomalies were judged against,
// when it is not the baseline before the window: "baseline: 0 of 30
// minutes have data; judged against the earliest data, 13:02–13:05".
func (a *analysis) noteBaseline(inc *Incident) {
	var used sources.TimeRange
	for _, an := range a.anoms {
		if !an.ShortBaseline {
			continue
		}
		if used.Start.IsZero() || an.Baseline.Start.Before(used.Start) {
			used.Start = an.Baseline.Start
		}
		if an.Baseline.End.After(used.End) {
			used.End = an.Baseline.End
		}
	}
	if used.Start.IsZero() {
		return
	}
	covered := 0
	for _, r := range a.ev.RED {
		n := 0
		for _, p := range r.Requests.Samples {
			if !p.T.Before(a.ev.Baseline.Start) && !p.T.After(a.ev.Baseline.End) {
				n++
			}
		}
		covered = max(covered, n)
	}
	have := time.Duration(covered) * a.ev.Step
	inc.Notes = append(inc.Notes, fmt.Sprintf("baseline: %d of %d minutes have data; judged against the earliest data, %s–%s",
		int(have.Minutes()), int(a.ev.Baseline.End.Sub(a.ev.Baseline.Start).Minutes()), used.Start.UTC().Format("15:04"), used.End.UTC().Format("15:04")))
}

// Down lists the evidence that configured backends failed to deliver:
// the verdict lacks what it should have had.
func (inc *Incident) Down() []Missing {
	var out []Missing
	for _, m := range inc.Missing {
		if m.Down {
			out = append(out, m)
		}
	}
	return out
}

func (a *analysis) noteThinEvidence(inc *Incident) {
	for _, m := range a.ev.Missing {
		// only what a backend failed to deliver is "missing"; a part no
		// datasource can answer, or that this stack does not report, is
		// said as it is
		if m.Down {
			inc.Notes = append(inc.Notes, fmt.Sprintf("missing %s: %s", m.What, m.Why))
		} else {
			inc.Notes = append(inc.Notes, fmt.Sprintf("%s: %s", m.What, m.Why))
		}
	}
	if len(a.ev.Traces) == 0 && len(a.ev.SpanSets) == 0 {
		inc.Notes = append(inc.Notes, "no traces: the graph comes from service-graph metrics and the config, and no error origins are known")
	}
	if len(a.ev.Edges) == 0 {
		inc.Notes = append(inc.Notes, "no service-graph metrics: the graph comes from traces and the config only")
	}
	if len(inc.Candidates) == 0 || inc.Candidates[0].Likelihood != Likely {
		inc.Thin = true
		switch {
		case len(inc.Candidates) == 0:
			inc.Notes = append(inc.Notes, "nothing is anomalous: no root cause to report")
		case !a.pageworthy():
			inc.Notes = append(inc.Notes, "no alert fires and no entry point is hurt: what is anomalous looks like background noise")
		default:
			inc.Notes = append(inc.Notes, fmt.Sprintf("the best candidate has confidence %.2f, under the %.2f of a likely cause", inc.Candidates[0].Confidence, LikelyConfidence))
		}
	}
	// ranked by band first, the second may outscore the first: close either way
	if len(inc.Candidates) > 1 && math.Abs(inc.Candidates[0].Score-inc.Candidates[1].Score) < CloseScores {
		inc.Notes = append(inc.Notes, fmt.Sprintf("%s and %s score within %.1f of each other: check both", inc.Candidates[0].Service, inc.Candidates[1].Service, CloseScores))
	}
}

// citedTraces joins logs to the traces that matter: the trigger's, then
// those the candidates cite, then other failed ones, up to maxWholeTraces:
// the traces read whole, which Gather fetches no more of, and evidence
// built elsewhere is held to.
func citedTraces(ev *Evidence, origins []ErrorOrigin, cands []Candidate) []TraceView {
	want := map[string]int{}
	rank := 0
	mark := func(id string) {
		if _, ok := want[id]; !ok && id != "" {
			want[id] = rank
			rank++
		}
	}
	mark(ev.Trigger.TraceID)
	for _, c := range cands {
		for _, r := range c.Reasons {
			for _, id := range r.TraceIDs {
				mark(id)
			}
		}
	}
	for _, o := range origins {
		mark(o.TraceID)
	}
	// each trace once: a Tempo that answers every ID with the same trace
	// (or log lines that name one trace under IDs it does not own) would
	// list it once per line
	var picked []sources.Trace
	for _, t := range ev.Traces {
		if _, ok := want[t.ID]; ok && !slices.ContainsFunc(picked, func(p sources.Trace) bool { return p.ID == t.ID }) {
			picked = append(picked, t)
		}
	}
	sort.SliceStable(picked, func(i, j int) bool { return want[picked[i].ID] < want[picked[j].ID] })
	if len(picked) > maxWholeTraces {
		picked = picked[:maxWholeTraces]
	}
	return JoinTraces(picked, ev.Logs, origins)
}

// timeline merges onsets, services that stopped reporting, alerts and
// changes in time order.
func timeline(ev *Evidence, anoms []*Anomaly, stopped []StoppedService) []Event {
	var out []Event
	for _, an := range anoms {
		out = append(out, Event{T: an.Onset, Kind: "onset", Service: an.Service, Detail: an.describe()})
	}
	for _, st := range stopped {
		out = append(out, Event{T: st.Since, Kind: "stopped-reporting", Service: st.Service, Detail: "stopped reporting: no data after this while the rest of the fleet reports"})
	}
	for _, al := range ev.Alerts {
		if !al.StartsAt.IsZero() && !al.StartsAt.Before(ev.Baseline.Start) {
			out = append(out, Event{T: al.StartsAt, Kind: "alert-firing", Service: al.Service, Detail: al.Name + " " + al.Severity + ": " + al.Annotations["summary"]})
		}
		if al.State == sources.AlertResolved && !al.EndsAt.IsZero() {
			out = append(out, Event{T: al.EndsAt, Kind: "alert-resolved", Service: al.Service, Detail: al.Name})
		}
	}
	for _, c := range ev.Changes {
		d := string(c.Kind) + ": " + c.Detail
		if c.Version != "" {
			d = string(c.Kind) + " " + c.Version + ": " + c.Detail
		}
		out = append(out, Event{T: c.T, Kind: "change", Service: c.Service, Detail: d})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].T.Before(out[j].T) })
	return out
}

// maxTimeoutMechanisms bounds the timeout mechanisms listed: the loudest
// few tell the story, the rest repeat it.
const maxTimeoutMechanisms = 5

// mechanisms names how the failure spread from root through the blast radius.
func (a *analysis) mechanisms(root string, b BlastRadius) []Mechanism {
	var out []Mechanism
	in := map[string]bool{}
	for _, s := range b.Names() {
		in[s] = true
	}
	// retry amplification: calls into a member far above baseline, retries in traces
	for _, s := range b.Names() {
		var base, now float64
		var surged []string
		for _, e := range a.g.Dependents(s) {
			base += e.BaseRate
			now += e.Rate
			if e.Surge() >= SurgeFactor && e.ErrorRatio > ErrorDelta {
				surged = append(surged, fmt.Sprintf("%s → %s %.1f×", e.Client, s, e.Surge()))
			}
		}
		share := a.retryShare(s)
		if base > 0 && now/base >= SurgeFactor && share > RetryAmplificationShare {
			sort.Strings(surged)
			out = append(out, Mechanism{Kind: "retry-amplification", Service: s,
				Detail:   fmt.Sprintf("calls into %s at %.1f× their baseline rate while they fail; %.0f%% of traced calls were retries", s, now/base, 100*share),
				Evidence: append(surged, a.g.Dependents(s)[0].Query)})
		} else if base > 0 && now/base >= SurgeFactor && len(a.loadBy[s]) > 0 {
			out = append(out, Mechanism{Kind: "load-surge", Service: s,
				Detail:   fmt.Sprintf("traffic into %s at %.1f× its baseline, from %s", s, now/base, strings.Join(a.loadBy[s], ", ")),
				Evidence: surged})
		}
	}
	for _, sat := range a.ev.Saturation {
		if !in[sat.Service] {
			continue
		}
		if peak, limit := peakOf(sat); limit > 0 && peak.V >= slo.SaturatedShare*limit {
			out = append(out, Mechanism{Kind: "saturation", Service: sat.Service,
				Detail:   fmt.Sprintf("%s %s at %s (%s)", sat.Service, sat.Resource, ofLimit(peak.V, limit), peak.T.UTC().Format("15:04:05")),
				Evidence: []string{sat.Used.Query}})
		}
	}
	timeouts := 0
	for _, sg := range a.sigs { // sorted by count: the loudest first
		if !in[sg.Service] {
			continue
		}
		switch sg.Kind {
		case SigTimeout:
			if timeouts++; timeouts > maxTimeoutMechanisms {
				continue
			}
			out = append(out, Mechanism{Kind: "timeouts", Service: sg.Service, Detail: timeoutDetail(sg), Evidence: sg.Samples})
		case SigOOM:
			out = append(out, Mechanism{Kind: "crash-loop", Service: sg.Service, Detail: fmt.Sprintf("%d OOM kills at %s", sg.Count, sg.Service), Evidence: sg.Samples})
		case SigPanic:
			out = append(out, Mechanism{Kind: "crash", Service: sg.Service, Detail: fmt.Sprintf("%d panics at %s", sg.Count, sg.Service), Evidence: sg.Samples})
		}
	}
	for _, c := range a.nearChanges() {
		if c.Service == root {
			out = append(out, Mechanism{Kind: string(c.Kind), Service: root, Detail: fmt.Sprintf("%s at %s: %s", c.Kind, c.T.UTC().Format("15:04:05"), c.Detail)})
		}
	}
	return out
}

// chain walks from the most important hurt service down to the root
// through the blast radius, preferring paths whose links have evidence.
func (a *analysis) chain(root string, b BlastRadius, meta Meta) []ChainLink {
	in := map[string]bool{}
	for _, s := range b.Names() {
		in[s] = true
	}
	symptoms := a.symptoms(root, b, meta)
	evidence := func(s string) int {
		n := 0
		for _, sg := range a.sigs {
			if sg.Service == s && ownSignature(sg.Kind) {
				n++
			}
		}
		for _, sat := range a.ev.Saturation {
			if sat.Service == s && poolExhausted(sat) {
				n++
			}
		}
		return n
	}
	var best []string
	bestScore := -1
	var walk func(path []string, bonus int)
	walk = func(path []string, bonus int) {
		last := path[len(path)-1]
		if last == root {
			score := bonus
			for _, s := range path {
				score += ChainEvidencePerLink * evidence(s)
			}
			score += len(path) // more links with the same evidence explain more
			if score > bestScore {
				bestScore, best = score, append([]string(nil), path...)
			}
			return
		}
		if len(path) >= ChainMaxLinks {
			return
		}
		next := a.g.Dependencies(last)
		for _, e := range next {
			if in[e.Server] && !slices.Contains(path, e.Server) {
				walk(append(path, e.Server), bonus)
			}
		}
	}
	for _, s := range symptoms {
		walk([]string{s}, 0)
	}
	if best == nil {
		best = []string{root}
		if symptoms[0] != root {
			best = []string{symptoms[0], root}
		}
	}
	var links []ChainLink
	for _, s := range best {
		links = append(links, a.link(s, s == root))
	}
	return links
}

// poolExhausted is whether a connection pool reached SaturatedShare of
// the size it had then.
func poolExhausted(s sources.Saturation) bool {
	_, pool := sources.PoolTarget(s.Resource)
	return pool && saturated(s)
}

// symptoms lists where the chain may start, best first: the trigger's
// service; else hurt services with an SLO alert, by value per request;
// else the busiest hurt service that is not an entry point; else the root.
func (a *analysis) symptoms(root string, b BlastRadius, meta Meta) []string {
	if t := a.ev.Trigger.Service; t != "" && slices.Contains(b.Names(), t) {
		return []string{t}
	}
	alerting := map[string]bool{}
	for _, al := range a.ev.Alerts {
		if a.meta.isBurnRate(al.Name) && al.State != sources.AlertResolved {
			alerting[al.Service] = true
		}
	}
	// an SLO burning outranks any value per request
	type opt struct {
		s        string
		alerting bool
		value    float64
	}
	var opts []opt
	for _, im := range b.Services {
		if im.Service == root || im.EntryPoint {
			continue
		}
		opts = append(opts, opt{im.Service, alerting[im.Service], meta.Services[im.Service].ValuePerRequest})
	}
	sort.SliceStable(opts, func(i, j int) bool {
		if opts[i].alerting != opts[j].alerting {
			return opts[i].alerting
		}
		return opts[i].value > opts[j].value
	})
	var out []string
	for _, o := range opts {
		// equal keys compete on their paths' evidence
		if len(out) > 0 && (o.alerting != opts[0].alerting || o.value < opts[0].value) {
			break
		}
		out = append(out, o.s)
	}
	if len(out) == 0 {
		out = []string{root}
	}
	return out
}

// link describes one service of the chain with its strongest evidence.
func (a *analysis) link(s string, isRoot bool) ChainLink {
	l := ChainLink{Service: s}
	an := a.anoms[s]
	var what []string
	for _, sat := range a.ev.Saturation {
		if sat.Service == s && poolExhausted(sat) {
			peak, limit := peakOf(sat)
			what = append(what, fmt.Sprintf("%s exhausted (%s)", sat.Resource, ofLimit(peak.V, limit)))
			l.Evidence = append(l.Evidence, sat.Used.Query)
		}
	}
	for _, sg := range a.sigs {
		if sg.Service != s {
			continue
		}
		switch sg.Kind {
		case SigOOM:
			what = append(what, "OOMKilled")
		case SigPanic:
			what = append(what, "panics")
		case SigTimeout:
			if len(what) == 0 {
				what = append(what, "timeouts")
			}
		}
		if len(l.Evidence) < 4 && len(sg.Samples) > 0 {
			l.Evidence = append(l.Evidence, sg.Samples[0])
		}
	}
	if an != nil {
		d := an.describe()
		if isRoot {
			d += " at " + an.Onset.UTC().Format("15:04")
		}
		what = append([]string{d}, what...)
		l.Evidence = append([]string{an.Source}, l.Evidence...)
	}
	if isRoot {
		for _, c := range a.nearChanges() {
			if c.Service == s {
				what = append(what, fmt.Sprintf("%s %s at %s", c.Kind, strings.TrimSpace(c.Version+" "+c.Detail), c.T.UTC().Format("15:04:05")))
				break
			}
		}
		if share := a.retryShare(s); share > RetryStormShare {
			what = append(what, fmt.Sprintf("retry storm from its callers (%.0f%% of traced calls are retries)", 100*share))
		}
	}
	if len(what) == 0 {
		what = append(what, "affected")
	}
	l.What = strings.Join(what, ", ")
	return l
}

// timeoutDetail names the peer of timeouts when the log lines do; an
// unknown peer is left out rather than printed as "-".
func timeoutDetail(sg Signature) string {
	d := fmt.Sprintf("%d timeout lines at %s", sg.Count, sg.Service)
	if sg.Peer != "" {
		d += " (calls to " + sg.Peer + ")"
	}
	return d
}
