package remediate

import (
	"context"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

// Defaults of diagnosis probes: recent enough to be about now, long
// enough to hold a few scrapes.
const (
	defaultProbeSince = 5 * time.Minute
	probeStep         = 15 * time.Second
	probeLogLimit     = 1000
	probeTraceLimit   = 100
	samplesKept       = 3 // log lines or trace IDs kept as what was seen
)

// StepResult is what one diagnosis step saw.
type StepResult struct {
	Name     string  `json:"name"`
	What     string  `json:"what"` // what it read, in words
	Value    float64 `json:"value"`
	Shown    string  `json:"shown"` // the value as written
	Cond     string  `json:"condition"`
	Holds    bool    `json:"holds"`
	Err      string  `json:"error,omitempty"`
	Source   string  `json:"source,omitempty"` // the query behind it
	Resource string  `json:"resource,omitempty"`
	// Used and Max are a saturation step's reading of its resource.
	Used    float64  `json:"used,omitempty"`
	Max     float64  `json:"max,omitempty"`
	Samples []string `json:"samples,omitempty"`
}

// Diagnosis is the result of a runbook's steps: the branch taken and its
// actions, or an escalation with what was seen.
type Diagnosis struct {
	Steps    []StepResult `json:"steps"`
	Branch   string       `json:"branch,omitempty"` // the step that held
	Actions  []string     `json:"actions,omitempty"`
	Escalate bool         `json:"escalate"`
	Reason   string       `json:"reason"`
	// FixedAt is the last verified fix of the runbook on the target, when
	// a step would have read from before it: what came before was not
	// counted, the fix having answered it. A runbook without steps has
	// only what it matched for evidence: its FixedAt is the last fix,
	// whenever it was, for the autopilot to weigh that against.
	FixedAt time.Time `json:"fixed_at,omitzero"`
}

// signatureLevels are the levels whose lines correlate.Gather classifies
// into log signatures.
var signatureLevels = []string{"error", "warn"}

// evidenceWindow is where a diagnosis reads: up to now, from no earlier
// than the runbook's last verified fix on the target.
type evidenceWindow struct {
	now, fixedAt time.Time
	clipped      bool // a step would have read from before the fix
}

// last is the range of the last d, cut at the fix.
func (w *evidenceWindow) last(d time.Duration) sources.TimeRange {
	r := sources.TimeRange{Start: w.now.Add(-d), End: w.now}
	if w.fixedAt.After(r.Start) {
		r.Start, w.clipped = w.fixedAt, true
		if r.Start.After(r.End) {
			r.Start = r.End
		}
	}
	return r
}

// Diagnose runs a runbook's steps in order and stops at the first that
// holds. A runbook without steps takes all its actions. A step whose read
// fails does not hold, and says why. Evidence from before fixedAt, the
// runbook's last verified fix on the target (zero: none), is not counted.
func Diagnose(ctx context.Context, src sources.Set, inc *correlate.Incident, rb *Runbook, vars Vars, now, fixedAt time.Time) (d Diagnosis) {
	if len(rb.Diagnose) == 0 {
		d = Diagnosis{Reason: "no diagnosis steps: the runbook's actions apply as they are", FixedAt: fixedAt}
		for _, a := range rb.Actions {
			d.Actions = append(d.Actions, a.Name)
		}
		return d
	}
	if vars.Steps == nil {
		vars.Steps = map[string]Value{}
	}
	w := &evidenceWindow{now: now, fixedAt: fixedAt}
	// said once, whichever step it cut and however the diagnosis ends
	defer func() {
		if w.clipped {
			d.FixedAt = fixedAt
			d.Reason += fmt.Sprintf("; counting only evidence since the fix verified at %s", fixedAt.UTC().Format("15:04:05"))
		}
	}()
	for _, s := range rb.Diagnose {
		var r StepResult
		if s.Incident != nil {
			p := *s.Incident
			var err error
			if p.Service, err = (renderer{vars: vars, all: true}).render("incident.service", p.Service); err != nil {
				r = StepResult{Err: err.Error()}
			} else {
				r = incidentProbe(ctx, src, inc, &p, w)
			}
		} else {
			r = probe(ctx, src, s, renderer{vars: vars, all: true}, w)
		}
		r.Name, r.Cond = s.Name, condString(s)
		if r.Err == "" {
			vars.Steps[s.Name] = Value{Value: r.Value, Text: r.Shown, Resource: r.Resource, Used: r.Used, Max: r.Max}
			r.Holds = len(s.Then) > 0 && s.When.holds(r.Value)
		}
		d.Steps = append(d.Steps, r)
		if r.Holds {
			d.Branch = s.Name
			d.Reason = fmt.Sprintf("%s: %s is %s, %s", s.Name, r.What, r.Shown, r.Cond)
			if slices.Contains(s.Then, ThenEscalate) {
				d.Escalate = true
				d.Reason += ": escalating, as the runbook says (" + d.seen() + ")"
				return d
			}
			d.Actions = s.Then
			return d
		}
	}
	d.Escalate = true
	d.Reason = "no step matched (" + d.seen() + "): escalating with what was seen"
	return d
}

// seen is what the steps saw, in one line.
func (d Diagnosis) seen() string {
	seen := make([]string, 0, len(d.Steps))
	for _, r := range d.Steps {
		switch {
		case r.Err != "":
			seen = append(seen, fmt.Sprintf("%s: %s", r.Name, r.Err))
		case r.Cond == "" || r.Holds:
			seen = append(seen, fmt.Sprintf("%s: %s", r.Name, r.Shown))
		default:
			seen = append(seen, fmt.Sprintf("%s: %s, not %s", r.Name, r.Shown, r.Cond))
		}
	}
	return strings.Join(seen, "; ")
}

// incidentProbe counts the incident's mechanisms or log lines of a kind.
// The incident's window may begin before the last verified fix: its log
// lines are then counted anew from the fix on, and its mechanisms, which
// carry no time, are not counted.
func incidentProbe(ctx context.Context, src sources.Set, inc *correlate.Incident, p *IncidentProbe, w *evidenceWindow) StepResult {
	what := p.Mechanism + " mechanisms in the incident"
	if p.Signature != "" {
		what = p.Signature + " log lines in the incident"
	}
	if p.Service != "" {
		what += " at " + p.Service
	}
	if inc == nil {
		return StepResult{What: what, Err: "no incident assembled"}
	}
	var n int
	var seen []string
	sigs, source := inc.Signatures, "the incident's log signatures"
	if w.fixedAt.After(inc.Window.Start) {
		w.clipped = true
		fixed := w.fixedAt.UTC().Format("15:04:05")
		if p.Signature == "" {
			return StepResult{What: what, Err: fmt.Sprintf("the incident's mechanisms come from a window that began before the fix verified at %s: not counted", fixed)}
		}
		if src.Logs == nil {
			return StepResult{What: what, Err: fmt.Sprintf("logs: no logs backend configured to count the lines since the fix verified at %s", fixed)}
		}
		q := sources.LogQuery{Levels: signatureLevels, Range: w.last(w.now.Sub(inc.Window.Start)), Limit: probeLogLimit}
		if p.Service != "" {
			q.Services = []string{p.Service}
		}
		lines, err := src.Logs.Logs(ctx, q)
		if err != nil {
			return StepResult{What: what, Err: fmt.Sprintf("logs since the fix verified at %s: %v", fixed, err)}
		}
		sigs, source = correlate.Signatures(lines), "log signatures since the fix verified at "+fixed
	}
	if p.Signature != "" {
		for _, g := range sigs {
			if g.Kind == p.Signature && (p.Service == "" || g.Service == p.Service) {
				n += g.Count
				seen = append(seen, g.Samples...)
			}
		}
		return StepResult{What: what, Value: float64(n), Shown: humanize.Count(n, "line"), Samples: seen[:min(samplesKept, len(seen))], Source: source}
	}
	for _, m := range inc.Mechanisms {
		if m.Kind == p.Mechanism && (p.Service == "" || m.Service == p.Service) {
			n++
			seen = append(seen, termsafe.Line(m.Detail))
		}
	}
	return StepResult{What: what, Value: float64(n), Shown: humanize.Count(n, "mechanism"), Samples: seen[:min(samplesKept, len(seen))], Source: "the incident's mechanisms"}
}

func probe(ctx context.Context, src sources.Set, s Step, r renderer, w *evidenceWindow) StepResult {
	svc, err := r.render("service", service(s))
	if err != nil {
		return StepResult{Err: err.Error()}
	}
	if svc == "" {
		svc = r.vars.Target
	}
	fail := func(what, backend string, err error) StepResult {
		return StepResult{What: what, Err: fmt.Sprintf("%s: %v", backend, err)}
	}
	switch {
	case s.Logs != nil:
		p := s.Logs
		since := p.Since.Or(defaultProbeSince)
		what := fmt.Sprintf("%s log lines at %s in the last %s", strings.Join(p.Levels, "/"), svc, shortDuration(since))
		if p.Grep != "" {
			what = fmt.Sprintf("log lines matching %q at %s in the last %s", p.Grep, svc, shortDuration(since))
		}
		if src.Logs == nil {
			return fail(what, "logs", fmt.Errorf("no logs backend configured"))
		}
		q := sources.LogQuery{Services: []string{svc}, Levels: p.Levels, Grep: p.Grep, Range: w.last(since), Limit: probeLogLimit}
		lines, err := src.Logs.Logs(ctx, q)
		if err != nil {
			return fail(what, "logs", err)
		}
		res := StepResult{What: what, Value: float64(len(lines)), Shown: humanize.Count(len(lines), "line")}
		if len(lines) == probeLogLimit {
			res.Shown = fmt.Sprintf("at least %d lines", probeLogLimit)
		}
		if w, ok := src.Logs.(sources.LogQueryWriter); ok {
			res.Source = w.LogQL(q)
		}
		for _, l := range lines[:min(samplesKept, len(lines))] {
			res.Samples = append(res.Samples, termsafe.Line(l.Line))
		}
		return res
	case s.Metric != nil:
		p := s.Metric
		since := p.Since.Or(2 * time.Minute)
		what := fmt.Sprintf("%s of %s over the last %s", strings.ReplaceAll(p.Signal, "_", " "), svc, shortDuration(since))
		rng := w.last(since)
		v, source, err := ReadSignal(ctx, src.Metrics, svc, p.Signal, rng.End, rng.End.Sub(rng.Start))
		if err != nil {
			return fail(what, "metrics", err)
		}
		return StepResult{What: what, Value: v, Shown: showSignal(p.Signal, v), Source: source}
	case s.Saturation != nil:
		p := s.Saturation
		what := fmt.Sprintf("how full %s's %s is", svc, p.Resource)
		if src.Resources == nil {
			return fail(what, "metrics", fmt.Errorf("no resource metrics configured"))
		}
		// how full it is now: the last reading, whenever the fix was
		sat, err := src.Resources.Saturation(ctx, []string{svc}, sources.TimeRange{Start: w.now.Add(-time.Minute), End: w.now}, probeStep)
		if err != nil {
			return fail(what, "metrics", err)
		}
		res := StepResult{What: what, Err: fmt.Sprintf("%s has no resource matching %q", svc, p.Resource)}
		for _, x := range sat {
			if ok, _ := path.Match(p.Resource, x.Resource); !ok || len(x.Used.Samples) == 0 {
				continue
			}
			// the last reading against the limit in force then: a pool
			// resized a moment ago is judged by its new size
			last := x.Used.Samples[len(x.Used.Samples)-1]
			used, limit := last.V, x.LimitAt(last.T)
			if limit <= 0 {
				continue
			}
			if f := used / limit; res.Err != "" || f > res.Value {
				res = StepResult{What: fmt.Sprintf("how full %s's %s is", svc, x.Resource), Value: f,
					Shown: fmt.Sprintf("%s (%s/%s)", humanize.Percent(f), humanize.Commas(used), humanize.Commas(limit)), Source: x.Used.Query, Resource: x.Resource, Used: used, Max: limit}
			}
		}
		return res
	case s.Traces != nil:
		p := s.Traces
		since := p.Since.Or(defaultProbeSince)
		what := fmt.Sprintf("traces through %s in the last %s", svc, shortDuration(since))
		if p.ErrorsOnly {
			what = "failed " + what
		}
		if p.MinDuration > 0 {
			what += " slower than " + shortDuration(time.Duration(p.MinDuration))
		}
		if src.Traces == nil {
			return fail(what, "traces", fmt.Errorf("no traces backend configured"))
		}
		ts, err := src.Traces.SearchTraces(ctx, sources.TraceSearch{Services: []string{svc}, ErrorsOnly: p.ErrorsOnly, MinDuration: time.Duration(p.MinDuration),
			Range: w.last(since), Limit: probeTraceLimit})
		if err != nil {
			return fail(what, "traces", err)
		}
		res := StepResult{What: what, Value: float64(len(ts)), Shown: humanize.Count(len(ts), "trace")}
		for _, t := range ts[:min(samplesKept, len(ts))] {
			res.Samples = append(res.Samples, t.TraceID)
		}
		return res
	}
	return StepResult{Err: "no probe"}
}

// SignalStep is the step ReadSignal averages a window of over at: 15s,
// or the window itself when shorter (a chaos guard's 10s), or its one
// point would be the value from a step ago.
func SignalStep(over time.Duration) time.Duration {
	if over > 0 && over < probeStep {
		return over
	}
	return probeStep
}

// answered says whether a partial RED answer holds the series signal
// is read from, so that an error about another series does not make it
// unreadable. An error ratio needs both of its series, and an absent
// error series reads as no errors: with an error, it is never answered.
func answered(reds []sources.RED, signal string) bool {
	if len(reds) == 0 {
		return false
	}
	switch signal {
	case SignalP99:
		return len(reds[0].P99.Samples) > 0
	case SignalRequests:
		return len(reds[0].Requests.Samples) > 0
	}
	return false
}

// ReadSignal is a service's RED signal (error_ratio, p99 in seconds,
// requests per second) averaged over the window ending at now, and the
// query that read it. A backend error about a series the signal is not
// read from, with a partial answer, does not stop the reading.
func ReadSignal(ctx context.Context, m sources.Metrics, svc, signal string, now time.Time, over time.Duration) (float64, string, error) {
	if m == nil {
		return 0, "", fmt.Errorf("no metrics backend configured")
	}
	reds, err := m.RED(ctx, []string{svc}, sources.TimeRange{Start: now.Add(-over), End: now}, SignalStep(over))
	if err != nil && !answered(reds, signal) {
		// an adapter asks the three series together and may fail on any
		// one (Prometheus's does): the query its error names may be
		// another signal's, which this reading does not need
		return 0, "", fmt.Errorf("%s of %s: the RED read, which asks requests, errors and p99 together, failed (on this signal's query or another's): %w", signal, svc, err)
	}
	if len(reds) == 0 || len(reds[0].Requests.Samples) == 0 {
		return 0, "", fmt.Errorf("no requests recorded at %s in the last %s", svc, shortDuration(over))
	}
	r := reds[0]
	// a mean over no defined sample is no reading: 0 would read as "0s
	// ok" to a guard, and a verification would pass on no data
	mean := func(s sources.Series, what string) (float64, error) {
		var sum float64
		var n int
		for _, x := range s.Samples {
			if !math.IsNaN(x.V) && !math.IsInf(x.V, 0) {
				sum += x.V
				n++
			}
		}
		if n == 0 {
			return 0, fmt.Errorf("no %s recorded at %s in the last %s", what, svc, shortDuration(over))
		}
		return sum / float64(n), nil
	}
	switch signal {
	case SignalP99:
		v, err := mean(r.P99, "p99")
		return v, r.P99.Query, err
	case SignalRequests:
		v, err := mean(r.Requests, "requests")
		return v, r.Requests.Query, err
	}
	// both halves are shown even when one answered nothing: the query
	// asked is what a reader runs to see why
	query := r.Errors.Query + " / " + r.Requests.Query
	q, err := mean(r.Requests, "requests")
	if err != nil {
		return 0, query, err
	}
	if q <= 0 {
		return 0, query, fmt.Errorf("no requests at %s in the last %s: the error ratio is undefined", svc, shortDuration(over))
	}
	// an error series with no sample while requests were served is no
	// errors: Prometheus has no 5xx series until the first 5xx
	e, _ := mean(r.Errors, "errors")
	return e / q, query, nil
}

func showSignal(signal string, v float64) string {
	switch signal {
	case SignalP99:
		return humanize.Seconds(v)
	case SignalRequests:
		return humanize.Commas(v) + "/s"
	}
	return humanize.Percent(v)
}

// condString writes a step's condition in its value's unit: 2% for an
// error ratio or a fullness, 100 ms for a p99.
func condString(s Step) string {
	show := func(n Number) string { return n.String() }
	switch {
	case s.Saturation != nil:
		show = func(n Number) string { return humanize.Percent(float64(n)) }
	case s.Metric != nil:
		show = func(n Number) string { return showSignal(s.Metric.Signal, float64(n)) }
	}
	var p []string
	if s.When.Above != nil {
		p = append(p, "above "+show(*s.When.Above))
	}
	if s.When.Below != nil {
		p = append(p, "below "+show(*s.When.Below))
	}
	return strings.Join(p, " and ")
}
