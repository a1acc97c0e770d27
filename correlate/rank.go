package correlate

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Confidence bands. A candidate under Likely is reported, but the incident
// says the evidence is thin.
const (
	Likely   = 0.6
	Possible = 0.35
)

// Reason is one piece of evidence for or about a candidate.
type Reason struct {
	Kind     string   `json:"kind"` // anomaly, unexplained, earliest, reach, traces, logs, change, alert, load
	Detail   string   `json:"detail"`
	Weight   float64  `json:"weight"`
	Source   string   `json:"source,omitempty"` // the query or backend it came from
	TraceIDs []string `json:"trace_ids,omitempty"`
	Lines    []string `json:"lines,omitempty"`
}

// Shown is whether a reason is worth a line when a candidate is printed:
// it weighed something, or it says why the candidate weighs less.
func (r Reason) Shown() bool {
	return r.Weight != 0 || r.Kind == "explained" || r.Kind == "load" || r.Kind == "noise"
}

// Candidate is a service that may be the root cause.
type Candidate struct {
	Service    string    `json:"service"`
	Score      float64   `json:"score"`
	Confidence float64   `json:"confidence"`
	Likelihood string    `json:"likelihood"` // likely, possible, unlikely
	Onset      time.Time `json:"onset"`
	Reasons    []Reason  `json:"reasons"`
}

// weights of the scoring components; their sum is the best score
var weights = struct{ unexplained, earliest, reach, magnitude, traces, logs, change, alert float64 }{
	unexplained: 2, earliest: 1.5, reach: 2, magnitude: 1, traces: 1.5, logs: 1.5, change: 1.5, alert: 0.5,
}

// analysis is the shared state of one Analyze call.
type analysis struct {
	ev        *Evidence
	anoms     map[string]*Anomaly
	g         *Graph
	sigs      []Signature
	origins   []ErrorOrigin
	earliest  time.Time
	tolerance time.Duration
	loadBy    map[string][]string // service → callers whose load surge explains it
	noise     map[string]bool     // anomalies that look like background noise
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
	for _, e := range a.g.Dependencies(s) {
		if d := a.anoms[e.Server]; d != nil && !d.Onset.After(an.Onset.Add(a.tolerance)) && a.degraded(e) {
			out = append(out, e.Server)
			continue
		}
		for _, c := range a.ev.Changes {
			if c.Service == e.Server && !c.T.Before(an.Onset.Add(-5*time.Minute)) && !c.T.After(an.Onset.Add(a.tolerance)) {
				out = append(out, e.Server+" (changed)")
				break
			}
		}
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
	for _, b := range a.ev.BaselineEdges {
		if b.Client == e.Client && b.Server == e.Server && b.P99Seconds > 0 {
			return e.P99Seconds > LatencyFactor*b.P99Seconds && e.P99Seconds-b.P99Seconds > LatencyFloor.Seconds()
		}
	}
	return false
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
		// a service whose own pool or workers ran out is the bottleneck,
		// not a victim: the surge only revealed it
		if a.ownSaturation(s) {
			continue
		}
		// a service that slowed first and then drew retries is not a victim
		if an.Kind == "latency" || (an.Kind == "errors+latency" && !an.ErrorsFirst && !an.FromEdges) {
			if a.retryShare(s) > 0.2 {
				continue
			}
		}
		sort.Strings(senders)
		a.loadBy[s] = senders
	}
}

// ownSaturation is whether s logged the exhaustion of its own resources.
func (a *analysis) ownSaturation(s string) bool {
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
		out = append(out, a.score(s, near, originCount))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Service < out[j].Service
	})
	return out
}

// nearChanges are changes from 15 minutes before the earliest onset to
// one minute after it: the usual suspects.
func (a *analysis) nearChanges() []sources.Change {
	if a.earliest.IsZero() {
		return nil
	}
	var out []sources.Change
	for _, c := range a.ev.Changes {
		if !c.T.Before(a.earliest.Add(-15*time.Minute)) && !c.T.After(a.earliest.Add(time.Minute)) {
			out = append(out, c)
		}
	}
	return out
}

func (a *analysis) score(s string, near []sources.Change, originCount map[string]int) Candidate {
	c := Candidate{Service: s}
	add := func(kind string, w float64, detail string) *Reason {
		c.Score += w
		c.Reasons = append(c.Reasons, Reason{Kind: kind, Detail: detail, Weight: round2(w)})
		return &c.Reasons[len(c.Reasons)-1]
	}
	an := a.anoms[s]
	kinds := 0 // independent kinds of evidence
	// evidence at a service whose anomaly a dependency or a load surge
	// explains counts half: it is a victim showing symptoms
	victim := 1.0
	if an != nil {
		c.Onset = an.Onset
		r := add("anomaly", weights.magnitude*an.Magnitude, fmt.Sprintf("%s since %s", an.describe(), an.Onset.UTC().Format("15:04:05")))
		r.Source = an.Source
		kinds++
		switch by, load := a.explainedBy(s), a.loadBy[s]; {
		case len(load) > 0:
			add("load", 0, "its callers' traffic surged: "+strings.Join(load, ", "))
			victim = 0.5
		case len(by) > 0:
			add("explained", 0, "a dependency failed first: "+strings.Join(by, ", "))
			victim = 0.5
		default:
			add("unexplained", weights.unexplained, "no dependency of it was anomalous before it")
		}
	}
	// a change near the onset: the usual first suspect
	for _, ch := range near {
		if ch.Service != s {
			continue
		}
		if c.Onset.IsZero() || ch.T.Before(c.Onset) {
			c.Onset = ch.T
		}
		// the longer before the first anomaly, the weaker the suspicion
		w := weights.change * math.Max(0.2, 1-math.Max(0, a.earliest.Sub(ch.T).Minutes())/10)
		if an == nil && len(a.loadBy) == 0 && !a.dependentsAnomalous(s) {
			w = 0.3 // a change nothing around it noticed
		}
		detail := fmt.Sprintf("%s at %s: %s", ch.Kind, ch.T.UTC().Format("15:04:05"), ch.Detail)
		if ch.Version != "" && ch.Kind == sources.ChangeDeploy {
			detail = fmt.Sprintf("%s %s at %s: %s", ch.Kind, ch.Version, ch.T.UTC().Format("15:04:05"), ch.Detail)
		}
		add("change", w, detail)
		if an == nil {
			add("unexplained", weights.unexplained*0.8, "changed, while none of its dependencies was anomalous")
		}
		kinds++
		break
	}
	if !c.Onset.IsZero() && !a.earliest.IsZero() {
		late := c.Onset.Sub(a.earliest)
		var w float64
		if late >= 0 {
			w = weights.earliest * math.Max(0, 1-late.Seconds()/120)
		} else {
			// a change before the first anomaly: the closer, the likelier
			w = weights.earliest * math.Max(0, 1+late.Seconds()/300)
		}
		if w > 0 {
			add("earliest", w, fmt.Sprintf("onset %s relative to the first anomaly", late))
		}
	}
	// reach: the anomalous services that depend on it through degraded
	// calls (for a changed service that is not itself anomalous, through
	// any calls: a flushed cache answers fast, and wrongly)
	up := a.g.upstream(s, a.degraded)
	if an == nil {
		up = a.g.upstream(s, nil)
	}
	hit, total := 0, 0
	for n := range a.anoms {
		if n == s {
			continue
		}
		total++
		if up[n] {
			hit++
		}
	}
	if total > 0 && hit > 0 {
		add("reach", victim*weights.reach*float64(hit)/float64(total), fmt.Sprintf("%d of %d other anomalous services depend on it", hit, total))
		kinds++
	}
	if n := originCount[s]; n > 0 && len(a.origins) > 0 {
		w := victim * weights.traces * float64(n) / float64(len(a.origins))
		r := add("traces", w, fmt.Sprintf("errors start here in %d of %d failed traces", n, len(a.origins)))
		for _, o := range a.origins {
			if o.Service == s && len(r.TraceIDs) < 3 {
				r.TraceIDs = append(r.TraceIDs, o.TraceID)
			}
		}
		kinds++
	}
	for _, sg := range a.sigs {
		if sg.Service != s || !ownSignature(sg.Kind) {
			continue
		}
		detail := fmt.Sprintf("%d log lines: %s", sg.Count, sg.Kind)
		if sg.Usage != "" {
			detail += fmt.Sprintf(" (%s %s)", sg.Peer, sg.Usage)
		}
		enough := 20.0
		if sg.Kind == SigOOM {
			enough = 3 // each line is a container killed
		}
		r := add("logs", victim*weights.logs*math.Min(1, float64(sg.Count)/enough), detail)
		r.Lines, r.TraceIDs = sg.Samples, sg.TraceIDs
		kinds++
		break
	}
	// dependents that time out on it point at it
	blamed := 0
	for _, sg := range a.sigs {
		if sg.Peer == s && (sg.Kind == SigTimeout || sg.Kind == SigBreakerOpen || sg.Kind == SigConnRefused) {
			blamed += sg.Count
		}
	}
	if blamed > 0 {
		add("logs", victim*weights.logs*0.5*math.Min(1, float64(blamed)/20), fmt.Sprintf("%d log lines of its callers name it (timeouts, refused, breaker)", blamed))
	}
	for _, al := range a.ev.Alerts {
		if al.Labels["service"] == s && al.State != sources.AlertResolved && al.Name != "ErrorBudgetBurn" {
			r := add("alert", weights.alert, fmt.Sprintf("%s firing since %s: %s", al.Name, al.StartsAt.UTC().Format("15:04:05"), al.Annotations["summary"]))
			r.Source = al.GeneratorURL
			kinds++
			break
		}
	}
	best := weights.unexplained + weights.earliest + weights.reach + weights.magnitude + weights.traces + weights.logs + weights.change + weights.alert
	c.Confidence = math.Min(1, c.Score/(0.55*best))
	if kinds < 2 {
		// one kind of evidence is not enough to be sure of anything
		c.Confidence = math.Min(c.Confidence, Possible)
	}
	if !a.pageworthy() {
		c.Confidence = math.Min(c.Confidence, Likely-0.01)
	}
	if a.noiseLike(s) {
		c.Confidence = math.Min(c.Confidence, Possible-0.01)
		c.Score /= 2
		c.Reasons = append(c.Reasons, Reason{Kind: "noise", Detail: "small, with no anomalous dependency, log signature or alert: looks like background noise"})
	}
	c.Confidence = round2(c.Confidence)
	c.Score = round2(c.Score)
	switch {
	case c.Confidence >= Likely:
		c.Likelihood = "likely"
	case c.Confidence >= Possible:
		c.Likelihood = "possible"
	default:
		c.Likelihood = "unlikely"
	}
	return c
}

func (a *analysis) dependentsAnomalous(s string) bool {
	for n := range a.g.upstream(s, nil) {
		if a.anoms[n] != nil {
			return true
		}
	}
	return false
}

// pageworthy is whether anything user-facing is hurt: an SLO alert fires
// or an entry point is anomalous. Without that, no cause is "likely".
func (a *analysis) pageworthy() bool {
	for _, al := range a.ev.Alerts {
		if al.State == sources.AlertFiring {
			return true
		}
	}
	for s, an := range a.anoms {
		if len(a.g.Dependents(s)) == 0 && len(a.g.Dependencies(s)) > 0 {
			return true
		}
		if an.Magnitude >= 0.5 {
			return true // a tenth of a service's requests failing is worth a look
		}
	}
	return false
}

// noiseLike reports whether s is in the noise set (see findNoise).
func (a *analysis) noiseLike(s string) bool { return a.noise[s] }

// findNoise marks anomalies that look like background noise: small, with
// no log signature or alert of their own, and no anomalous dependency
// other than noise itself. (Their callers may be hurt for other reasons:
// being called by a sick gateway says nothing about them.)
func (a *analysis) findNoise() {
	a.noise = map[string]bool{}
	for s, an := range a.anoms {
		if an.Magnitude < 0.3 && !a.hasOwnSignature(s) && !a.hasAlert(s) {
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
		if al.Labels["service"] == s && al.State == sources.AlertFiring {
			return true
		}
	}
	return false
}

func round2(x float64) float64 { return math.Round(100*x) / 100 }
