package correlate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// ReasonKind names a kind of evidence about a candidate.
type ReasonKind string

const (
	ReasonAnomaly     ReasonKind = "anomaly"     // it departs from its baseline
	ReasonUnexplained ReasonKind = "unexplained" // no dependency was anomalous before it
	ReasonExplained   ReasonKind = "explained"   // a dependency failed first (weighs nothing; says why)
	ReasonLoad        ReasonKind = "load"        // its callers' traffic surged (weighs nothing; says why)
	ReasonEarliest    ReasonKind = "earliest"    // its onset against the first anomaly
	ReasonReach       ReasonKind = "reach"       // the anomalous services that depend on it
	ReasonTraces      ReasonKind = "traces"      // failed traces start here
	ReasonLogs        ReasonKind = "logs"        // log signatures of its own, or of callers naming it
	ReasonChange      ReasonKind = "change"      // a deploy or change near the onset
	ReasonAlert       ReasonKind = "alert"       // an alert of its own
	ReasonNoise       ReasonKind = "noise"       // it looks like background noise (weighs nothing; says why)
	ReasonQueue       ReasonKind = "queue"       // its slow requests wait inside it, before their first call
	ReasonPool        ReasonKind = "pool"        // a full connection pool, judged by its target's latency
	ReasonCPU         ReasonKind = "cpu"         // its CPU at its limit from at or before its latency rose
)

// Likelihood is a candidate's confidence band.
type Likelihood string

const (
	Likely   Likelihood = "likely"
	Possible Likelihood = "possible"
	Unlikely Likelihood = "unlikely"
)

// LikelihoodOf is the band a confidence falls in.
func LikelihoodOf(confidence float64) Likelihood {
	switch {
	case confidence >= LikelyConfidence:
		return Likely
	case confidence >= PossibleConfidence:
		return Possible
	}
	return Unlikely
}

// Reason is one piece of evidence for or about a candidate.
type Reason struct {
	Kind     ReasonKind `json:"kind"`
	Detail   string     `json:"detail"`
	Weight   float64    `json:"weight"`
	Source   string     `json:"source,omitempty"` // the query or backend it came from
	TraceIDs []string   `json:"trace_ids,omitempty"`
	Lines    []string   `json:"lines,omitempty"`
}

// Shown is whether a reason is worth a line when a candidate is printed:
// it weighed something, or it says why the candidate weighs less.
func (r Reason) Shown() bool {
	return r.Weight != 0 || r.Kind == ReasonExplained || r.Kind == ReasonLoad || r.Kind == ReasonNoise
}

// Candidate is a service that may be the root cause.
type Candidate struct {
	Service    string     `json:"service"`
	Score      float64    `json:"score"`
	Confidence float64    `json:"confidence"`
	Likelihood Likelihood `json:"likelihood"`
	Onset      time.Time  `json:"onset"`
	Reasons    []Reason   `json:"reasons"`
}

// analysis is the shared state of one Analyze call.
type analysis struct {
	ev        *Evidence
	meta      Meta
	anoms     map[string]*Anomaly
	g         *Graph
	sigs      []Signature
	origins   []ErrorOrigin
	earliest  time.Time
	tolerance time.Duration
	// earlier are the anomalies set aside as an earlier incident that
	// recovered before the ongoing one began (setAsideRecovered)
	earlier []*Anomaly
	loadBy  map[string][]string      // service → callers whose load surge explains it
	noise   map[string]bool          // anomalies that look like background noise
	queues  map[string]*queueVerdict // services whose slow requests wait inside them (findQueues)
	pools   []*poolVerdict           // exhausted pools, judged by their targets' latency (findPools)
	// candidates, when set, are the services an incident about one
	// service may blame (scopeTo); nil is the whole fleet
	candidates map[string]bool
}

// ownSignature reports whether a signature speaks of the service's own
// resource or code (not of a dependency it blames).
func ownSignature(kind string) bool {
	switch kind {
	case SigPoolExhausted, SigTooManyConns, SigOOM, SigPanic, SigQueueFull:
		return true
	}
	return false
}

// explainedBy returns the dependencies of s that explain its anomaly:
// anomalous ones that started no later than s (within the tolerance) and
// whose calls from s are degraded, and ones changed shortly before.
func (a *analysis) explainedBy(s string) []string {
	an := a.anoms[s]
	if an == nil {
		return nil
	}
	var out []string
	queued := a.queues[s]
	for _, e := range a.g.Dependencies(s) {
		// a callee whose calls were fast in s's queued requests does not
		// explain them: they waited in s before calling it
		if queued != nil && queued.fast[e.Server] != "" {
			continue
		}
		// nor does one healthy again for RecoveredFor while s still fails
		if d := a.anoms[e.Server]; d != nil && !d.Onset.After(an.Onset.Add(a.tolerance)) && a.degraded(e) && !recoveredBefore(d, an) {
			out = append(out, e.Server)
			continue
		}
		for _, c := range a.ev.Changes {
			if c.Service == e.Server && !c.T.Before(an.Onset.Add(-ChangeLeadsOnset)) && !c.T.After(an.Onset.Add(a.tolerance)) && !a.settledChange(c) {
				out = append(out, e.Server+" (changed)")
				break
			}
		}
	}
	if len(out) == 0 {
		out = a.tookOver(s, an)
	}
	sort.Strings(out)
	return out
}

// degraded is whether calls on e fail or slow down. Without service-graph
// data for the edge it cannot be told, and counts as degraded.
func (a *analysis) degraded(e *GraphEdge) bool {
	if e.Rate == 0 {
		return true
	}
	if e.ErrorRatio > ErrorDelta {
		return true
	}
	return slowerThan(e.P99Seconds, a.edgeBaseP99(e.Client, e.Server))
}

// findLoad marks anomalous peers whose incoming traffic surged: they are
// victims of load, and the callers that sent it are named.
func (a *analysis) findLoad() {
	a.loadBy = map[string][]string{}
	for s, an := range a.anoms {
		var base, now float64
		var senders []string
		for _, e := range a.g.Dependents(s) {
			base += e.BaseRate
			now += e.Rate
			if e.Surge() >= SurgeFactor {
				senders = append(senders, e.Client)
			}
		}
		if base == 0 || now/base < SurgeFactor {
			continue
		}
		// a service whose own pool, workers or CPU ran out is the
		// bottleneck, not a victim: the surge only revealed it
		if a.ownSaturation(s) || a.cpuSaturated(s) != nil {
			continue
		}
		// a service that slowed first and then drew retries is not a victim
		if an.Kind == "latency" || (an.Kind == "errors+latency" && !an.ErrorsFirst && !an.FromEdges) {
			if a.retryShare(s) > RetryAmplificationShare {
				continue
			}
		}
		// nor is one whose extra traffic is its retries: when the first
		// attempts alone did not surge and the callers' own demand held,
		// it is its failures multiplied, not a cause (a cache that stopped
		// hitting surges first attempts, which retries do not explain)
		if share := a.retryShare(s); share > RetryAmplificationShare && now/base*(1-share) < SurgeFactor && !a.demandSurged(senders) {
			continue
		}
		sort.Strings(senders)
		a.loadBy[s] = senders
	}
}

// demandSurged is whether any of the services' own request rate, over the
// last graphSlice of the window, grew SurgeFactor times its baseline: new
// demand, which retries are not.
func (a *analysis) demandSurged(services []string) bool {
	recent := a.ev.Window.End.Add(-graphSlice)
	for _, r := range a.ev.RED {
		if !slices.Contains(services, r.Service) {
			continue
		}
		var base, now float64
		var nb, nn int
		for _, p := range r.Requests.Samples {
			switch {
			case !p.T.After(a.ev.Window.Start):
				base += p.V
				nb++
			case p.T.After(recent):
				now += p.V
				nn++
			}
		}
		if nb > 0 && nn > 0 && base > 0 && (now/float64(nn))/(base/float64(nb)) >= SurgeFactor {
			return true
		}
	}
	return false
}

// ownSaturation is whether s logged the exhaustion of its own resources,
// or its metrics show one of its connection pools full: a pool shrunk or
// leaking often logs only the timeouts of waiting for a connection.
func (a *analysis) ownSaturation(s string) bool {
	for _, sat := range a.ev.Saturation {
		if sat.Service == s && poolExhausted(sat) {
			return true
		}
	}
	for _, sg := range a.sigs {
		if sg.Service == s && (sg.Kind == SigPoolExhausted || sg.Kind == SigTooManyConns || sg.Kind == SigQueueFull) {
			return true
		}
	}
	return false
}

// retryShare is the share of traced calls into s that were retries.
func (a *analysis) retryShare(s string) float64 {
	calls, retries := 0, 0
	for _, e := range a.g.Dependents(s) {
		calls += e.TraceCalls
		retries += e.Retries
	}
	if calls == 0 {
		return 0
	}
	return float64(retries) / float64(calls)
}

// upstream is every service that depends on s, directly or not, through
// the calls follow accepts (nil: all calls).
func (g *Graph) upstream(s string, follow func(*GraphEdge) bool) map[string]bool {
	seen := map[string]bool{s: true}
	queue := []string{s}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range g.Dependents(n) {
			if !seen[e.Client] && (follow == nil || follow(e)) {
				seen[e.Client] = true
				queue = append(queue, e.Client)
			}
		}
	}
	delete(seen, s)
	return seen
}

// Rank scores every candidate and returns them best first.
func (a *analysis) rank() []Candidate {
	cands := map[string]bool{}
	for s := range a.anoms {
		cands[s] = true
	}
	for _, sg := range a.sigs {
		if ownSignature(sg.Kind) {
			cands[sg.Service] = true
		}
	}
	near := a.nearChanges()
	for _, c := range near {
		cands[c.Service] = true
	}
	originCount := map[string]int{}
	for _, o := range a.origins {
		originCount[o.Service]++
	}
	var out []Candidate
	for s := range cands {
		if a.candidates != nil && !a.candidates[s] {
			continue
		}
		out = append(out, a.score(s, near, originCount))
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		return cmp.Or(CompareStanding(a.Likelihood, a.Score, b.Likelihood, b.Score), cmp.Compare(a.Service, b.Service))
	})
	return out
}

// CompareStanding orders two standings in a diagnosis, the first one
// first when negative: the likelier band first, then the higher score.
// The band is what the evidence supports (a score from one kind of
// evidence is capped at possible), so a possible cause never outranks a
// likely one, whatever its score.
func CompareStanding(la Likelihood, sa float64, lb Likelihood, sb float64) int {
	return cmp.Or(cmp.Compare(lb.Rank(), la.Rank()), cmp.Compare(sb, sa))
}

// Rank orders the bands, likeliest highest: likely 2, possible 1,
// unlikely (or an unknown band) 0.
func (l Likelihood) Rank() int {
	switch l {
	case Likely:
		return 2
	case Possible:
		return 1
	}
	return 0
}

// nearChanges are the changes from SuspectChangesBefore the earliest
// onset to SuspectChangesAfter it, and those as near the onset of the
// changed service's own anomaly, but for those an earlier incident
// settled (settledChange): the usual suspects. The second kind is
// a deploy that broke its service minutes after an earlier fault
// elsewhere in the window set the earliest onset.
func (a *analysis) nearChanges() []sources.Change {
	if a.earliest.IsZero() {
		return nil
	}
	var out []sources.Change
	for _, c := range a.ev.Changes {
		if (nearOnset(c.T, a.earliest) || nearOnset(c.T, a.ownOnset(c.Service))) && !a.settledChange(c) {
			out = append(out, c)
		}
	}
	return out
}

// settledChange is whether c belongs to a fault that is over while
// another goes on: its service's anomaly recovered (set aside as an
// earlier incident, or over while others are live), and c came before
// that recovery (within the onset tolerance: the rollback that ended it
// lands on the last bad step). What it did showed and was over (a bad
// deploy and its rollback), so it is not a suspect of what fails now,
// nor what a dependent's later anomaly comes from. With nothing live,
// the incident asked about is the recovered one, and no change is
// settled.
func (a *analysis) settledChange(c sources.Change) bool {
	an := a.earlierAnomaly(c.Service)
	if an == nil {
		if an = a.anoms[c.Service]; an == nil || an.Recovered.IsZero() || len(a.liveAnomalies()) == 0 {
			return false
		}
	}
	return !c.T.After(an.Recovered.Add(a.tolerance))
}

// nearOnset is whether a change at t may have caused an onset: from
// SuspectChangesBefore it to SuspectChangesAfter it.
func nearOnset(t, onset time.Time) bool {
	return !onset.IsZero() && !t.Before(onset.Add(-SuspectChangesBefore)) && !t.After(onset.Add(SuspectChangesAfter))
}

// ownOnset is when s's own anomaly began, zero when it has none.
func (a *analysis) ownOnset(s string) time.Time {
	if an := a.anoms[s]; an != nil {
		return an.Onset
	}
	return time.Time{}
}

// score weighs every kind of evidence about s, one function each, then
// turns the score into a confidence that thin evidence caps.
func (a *analysis) score(s string, near []sources.Change, originCount map[string]int) Candidate {
	sc := &scoring{Candidate: Candidate{Service: s}, victim: 1}
	an := a.anoms[s]
	a.scoreAnomaly(sc, an)
	a.scoreChange(sc, an, near)
	a.scoreEarliest(sc)
	a.scoreReach(sc, an)
	a.scoreTraces(sc, originCount)
	a.scoreOwnLogs(sc)
	a.scoreBlame(sc)
	a.scoreQueue(sc)
	a.scorePool(sc)
	a.scoreCPU(sc)
	a.scoreAlert(sc)
	return a.conclude(sc)
}

// scoring is a candidate being scored.
type scoring struct {
	Candidate
	kinds  int     // independent kinds of evidence found
	victim float64 // 1, or VictimDiscount when a dependency or a load surge explains it
}

func (sc *scoring) add(kind ReasonKind, w float64, detail string) *Reason {
	sc.Score += w
	sc.Reasons = append(sc.Reasons, Reason{Kind: kind, Detail: detail, Weight: round2(w)})
	return &sc.Reasons[len(sc.Reasons)-1]
}

// scoreAnomaly weighs the departure from baseline, and whether a
// dependency or a load surge explains it (then the service is a victim,
// and its other evidence counts less).
func (a *analysis) scoreAnomaly(sc *scoring, an *Anomaly) {
	if an == nil {
		return
	}
	sc.Onset = an.Onset
	r := sc.add(ReasonAnomaly, weights.magnitude*an.Magnitude, fmt.Sprintf("%s since %s", an.describe(), an.Onset.UTC().Format("15:04:05")))
	r.Source = an.Source
	sc.kinds++
	switch by, load, q := a.explainedBy(sc.Service), a.loadBy[sc.Service], a.queuedBefore(sc.Service); {
	case len(load) > 0:
		sc.add(ReasonLoad, 0, "its callers' traffic surged: "+strings.Join(load, ", "))
		sc.victim = VictimDiscount
	case len(by) > 0:
		sc.add(ReasonExplained, 0, "a dependency failed first: "+strings.Join(by, ", "))
		sc.victim = VictimDiscount
	case q != "":
		sc.add(ReasonExplained, 0, fmt.Sprintf("its calls from %s are fast (%s): %s's requests queue before calling it", q, a.queues[q].fast[sc.Service], q))
		sc.victim = VictimDiscount
	default:
		sc.add(ReasonUnexplained, weights.unexplained, "no dependency of it was anomalous before it")
	}
}

// scoreChange weighs a change near the onset, the usual first suspect:
// the longer before the first anomaly, the weaker the suspicion.
func (a *analysis) scoreChange(sc *scoring, an *Anomaly, near []sources.Change) {
	var own []sources.Change
	for _, ch := range near {
		if ch.Service == sc.Service {
			own = append(own, ch)
		}
	}
	// the most telling of its changes: a deploy restarts the process too,
	// and the deploy is what the evidence should name
	if len(own) == 0 {
		return
	}
	slices.SortStableFunc(own, func(x, y sources.Change) int { return cmp.Compare(changeTelling(x.Kind), changeTelling(y.Kind)) })
	ch := own[0]
	if sc.Onset.IsZero() || ch.T.Before(sc.Onset) {
		sc.Onset = ch.T
	}
	// how long before the onset it explains: the first anomaly's,
	// or its own service's when only that one is near
	from := a.earliest
	if !nearOnset(ch.T, a.earliest) {
		from = a.ownOnset(sc.Service)
	}
	lead := max(0, from.Sub(ch.T))
	w := weights.change * math.Max(ChangeFloor, 1-float64(lead)/float64(ChangeDecay))
	if an == nil && len(a.loadBy) == 0 && !a.dependentsAnomalous(sc.Service) {
		w = UnnoticedChangeWeight
	}
	detail := fmt.Sprintf("%s at %s: %s", ch.Kind, ch.T.UTC().Format("15:04:05"), ch.Detail)
	if ch.Version != "" && ch.Kind == sources.ChangeDeploy {
		detail = fmt.Sprintf("%s %s at %s: %s", ch.Kind, ch.Version, ch.T.UTC().Format("15:04:05"), ch.Detail)
	}
	if rb := a.rolledBack(ch); !rb.IsZero() {
		w *= RolledBackChangeShare
		detail += fmt.Sprintf("; rolled back at %s, before the first anomaly", rb.UTC().Format("15:04:05"))
	}
	sc.add(ReasonChange, w, detail)
	if an == nil {
		sc.add(ReasonUnexplained, weights.unexplained*ChangedUnexplainedShare, "changed, while none of its dependencies was anomalous")
	}
	sc.kinds++
}

// changeTelling orders change kinds by what they tell of a cause, most
// telling first: a new version, then a rollback or config edit, then a
// scale, then a bare restart (which a deploy also shows).
func changeTelling(k sources.ChangeKind) int {
	switch k {
	case sources.ChangeDeploy:
		return 0
	case sources.ChangeRollback, sources.ChangeConfig:
		return 1
	case sources.ChangeScale:
		return 2
	}
	return 3
}

// scoreEarliest weighs how soon it started against the first anomaly:
// full weight at the first onset, none EarliestWindow later; a change
// before the first anomaly, the closer the likelier.
func (a *analysis) scoreEarliest(sc *scoring) {
	if sc.Onset.IsZero() || a.earliest.IsZero() {
		return
	}
	late := sc.Onset.Sub(a.earliest)
	var w float64
	if late >= 0 {
		w = weights.earliest * math.Max(0, 1-float64(late)/float64(EarliestWindow))
	} else {
		w = weights.earliest * math.Max(0, 1+float64(late)/float64(ChangeBeforeOnsetWindow))
	}
	if w > 0 {
		sc.add(ReasonEarliest, w, fmt.Sprintf("onset %s relative to the first anomaly", late))
	}
}

// scoreReach weighs the anomalous services that depend on it through
// degraded calls (for a changed service that is not itself anomalous,
// through any calls: a flushed cache answers fast, and wrongly).
func (a *analysis) scoreReach(sc *scoring, an *Anomaly) {
	// a caller queued before its fast calls to it is not hurt by it
	up := a.g.upstream(sc.Service, func(e *GraphEdge) bool { return a.degraded(e) && a.notQueuedOn(e) })
	if an == nil {
		up = a.g.upstream(sc.Service, a.notQueuedOn)
	}
	hit, total := 0, 0
	for n := range a.anoms {
		if n == sc.Service {
			continue
		}
		total++
		if up[n] {
			hit++
		}
	}
	if total > 0 && hit > 0 {
		sc.add(ReasonReach, sc.victim*weights.reach*float64(hit)/float64(total), fmt.Sprintf("%d of %d other anomalous services depend on it", hit, total))
		sc.kinds++
	}
}

// tracesCited bounds the trace IDs a reason cites.
const tracesCited = 3

// scoreTraces weighs the failed traces whose errors start here.
func (a *analysis) scoreTraces(sc *scoring, originCount map[string]int) {
	n := originCount[sc.Service]
	if n == 0 || len(a.origins) == 0 {
		return
	}
	r := sc.add(ReasonTraces, sc.victim*weights.traces*float64(n)/float64(len(a.origins)), fmt.Sprintf("errors start here in %d of %d failed traces", n, len(a.origins)))
	for _, o := range a.origins {
		if o.Service == sc.Service && len(r.TraceIDs) < tracesCited {
			r.TraceIDs = append(r.TraceIDs, o.TraceID)
		}
	}
	sc.kinds++
}

// scoreOwnLogs weighs the loudest log signature of its own failure
// (pool exhausted, OOM, panic, queue full).
func (a *analysis) scoreOwnLogs(sc *scoring) {
	for _, sg := range a.sigs {
		if sg.Service != sc.Service || !ownSignature(sg.Kind) {
			continue
		}
		detail := fmt.Sprintf("%d log lines: %s", sg.Count, sg.Kind)
		if sg.Usage != "" {
			detail += fmt.Sprintf(" (%s %s)", sg.Peer, sg.Usage)
		}
		enough := float64(LogLinesForFullWeight)
		if sg.Kind == SigOOM {
			enough = OOMLinesForFullWeight
		}
		r := sc.add(ReasonLogs, sc.victim*weights.logs*math.Min(1, float64(sg.Count)/enough), detail)
		r.Lines, r.TraceIDs = sg.Samples, sg.TraceIDs
		sc.kinds++
		return
	}
}

// scoreBlame weighs the lines of callers that time out on it, are
// refused by it or break their circuit to it: they point at it.
func (a *analysis) scoreBlame(sc *scoring) {
	blamed := 0
	for _, sg := range a.sigs {
		if sg.Peer == sc.Service && (sg.Kind == SigTimeout || sg.Kind == SigBreakerOpen || sg.Kind == SigConnRefused) {
			blamed += sg.Count
		}
	}
	if blamed > 0 {
		sc.add(ReasonLogs, sc.victim*weights.logs*BlameShare*math.Min(1, float64(blamed)/LogLinesForFullWeight), fmt.Sprintf("%d log lines of its callers name it (timeouts, refused, breaker)", blamed))
	}
}

// scoreAlert weighs a firing alert of its own. SLO burn-rate alerts do
// not count: they fire wherever users are hurt, not where it broke.
func (a *analysis) scoreAlert(sc *scoring) {
	for _, al := range a.ev.Alerts {
		if al.Service == sc.Service && al.State != sources.AlertResolved && !a.meta.isBurnRate(al.Name) {
			r := sc.add(ReasonAlert, weights.alert, fmt.Sprintf("%s firing since %s: %s", al.Name, al.StartsAt.UTC().Format("15:04:05"), al.Annotations["summary"]))
			r.Source = al.GeneratorURL
			sc.kinds++
			return
		}
	}
}

// conclude turns the score into a confidence, capped where the evidence
// is thin: one kind of evidence, nothing user-facing hurt, or noise.
func (a *analysis) conclude(sc *scoring) Candidate {
	c := sc.Candidate
	best := weights.unexplained + weights.earliest + weights.reach + weights.magnitude + weights.traces + weights.logs + weights.queue + weights.pool + weights.cpu + weights.change + weights.alert
	c.Confidence = math.Min(1, c.Score/(ConfidenceAt*best))
	if sc.kinds < MinEvidenceKinds {
		c.Confidence = math.Min(c.Confidence, PossibleConfidence)
	}
	if !a.pageworthy() {
		c.Confidence = math.Min(c.Confidence, LikelyConfidence-0.01)
	}
	if a.noiseLike(c.Service) {
		c.Confidence = math.Min(c.Confidence, PossibleConfidence-0.01)
		c.Score *= NoiseScoreShare
		c.Reasons = append(c.Reasons, Reason{Kind: ReasonNoise, Detail: "small, with no anomalous dependency, log signature or alert: looks like background noise"})
	}
	c.Confidence = round2(c.Confidence)
	c.Score = round2(c.Score)
	c.Likelihood = LikelihoodOf(c.Confidence)
	return c
}

func (a *analysis) dependentsAnomalous(s string) bool {
	for n := range a.g.upstream(s, a.notQueuedOn) {
		if a.anoms[n] != nil {
			return true
		}
	}
	return false
}

// pageworthy is whether anything user-facing is hurt: an SLO alert fires,
// an entry point is anomalous, an anomaly is large, or an anomalous
// service is crashing (OOM kills or panics in its logs: a crash loop
// fails requests in bursts that a rate over minutes averages down).
// Without that, no cause is "likely".
func (a *analysis) pageworthy() bool {
	for _, al := range a.ev.Alerts {
		if al.State == sources.AlertFiring {
			return true
		}
	}
	for s, an := range a.anoms {
		if a.g.EntryPoint(s) && len(a.g.Dependencies(s)) > 0 {
			return true
		}
		if an.Magnitude >= PageworthyMagnitude || a.crashing(s) {
			return true
		}
	}
	return false
}

// crashing is whether s logged OOM kills or panics.
func (a *analysis) crashing(s string) bool {
	for _, sg := range a.sigs {
		if sg.Service == s && (sg.Kind == SigOOM || sg.Kind == SigPanic) {
			return true
		}
	}
	return false
}

// noiseLike reports whether s is in the noise set (see findNoise).
func (a *analysis) noiseLike(s string) bool { return a.noise[s] }

// findNoise marks anomalies that look like background noise: small, with
// no log signature or alert of their own, no full pool of a caller's
// waiting on its slowness (findPools), and no anomalous dependency
// other than noise itself. (Their callers may be hurt for other reasons:
// being called by a sick gateway says nothing about them.)
func (a *analysis) findNoise() {
	a.noise = map[string]bool{}
	for s, an := range a.anoms {
		if an.Magnitude < NoiseMagnitude && !a.hasOwnSignature(s) && !a.hasAlert(s) && a.slowBehindPools(s) == 0 {
			a.noise[s] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for s := range a.noise {
			for _, e := range a.g.Dependencies(s) {
				if a.anoms[e.Server] != nil && !a.noise[e.Server] {
					delete(a.noise, s)
					changed = true
					break
				}
			}
		}
	}
}

func (a *analysis) hasOwnSignature(s string) bool {
	for _, sg := range a.sigs {
		if sg.Service == s && ownSignature(sg.Kind) {
			return true
		}
	}
	return false
}

func (a *analysis) hasAlert(s string) bool {
	for _, al := range a.ev.Alerts {
		if al.Service == s && al.State == sources.AlertFiring {
			return true
		}
	}
	return false
}

func round2(x float64) float64 { return math.Round(100*x) / 100 }
