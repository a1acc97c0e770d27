package remediate

import (
	"context"
	"fmt"
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
	Name     string   `json:"name"`
	What     string   `json:"what"` // what it read, in words
	Value    float64  `json:"value"`
	Shown    string   `json:"shown"` // the value as written
	Cond     string   `json:"condition"`
	Holds    bool     `json:"holds"`
	Err      string   `json:"error,omitempty"`
	Source   string   `json:"source,omitempty"` // the query behind it
	Resource string   `json:"resource,omitempty"`
	Samples  []string `json:"samples,omitempty"`
}

// Diagnosis is the result of a runbook's steps: the branch taken and its
// actions, or an escalation with what was seen.
type Diagnosis struct {
	Steps    []StepResult `json:"steps"`
	Branch   string       `json:"branch,omitempty"` // the step that held
	Actions  []string     `json:"actions,omitempty"`
	Escalate bool         `json:"escalate"`
	Reason   string       `json:"reason"`
}

// Diagnose runs a runbook's steps in order and stops at the first that
// holds. A runbook without steps takes all its actions. A step whose read
// fails does not hold, and says why.
func Diagnose(ctx context.Context, src correlate.Sources, inc *correlate.Incident, rb *Runbook, vars Vars, now time.Time) Diagnosis {
	if len(rb.Diagnose) == 0 {
		d := Diagnosis{Reason: "no diagnosis steps: the runbook's actions apply as they are"}
		for _, a := range rb.Actions {
			d.Actions = append(d.Actions, a.Name)
		}
		return d
	}
	var d Diagnosis
	if vars.Steps == nil {
		vars.Steps = map[string]Value{}
	}
	for _, s := range rb.Diagnose {
		var r StepResult
		if s.Incident != nil {
			p := *s.Incident
			var err error
			if p.Service, err = (renderer{vars: vars}).render("incident.service", p.Service); err != nil {
				r = StepResult{Err: err.Error()}
			} else {
				r = incidentProbe(inc, &p)
			}
		} else {
			r = probe(ctx, src, s, renderer{vars: vars}, now)
		}
		r.Name, r.Cond = s.Name, condString(s)
		if r.Err == "" {
			vars.Steps[s.Name] = Value{r.Value, r.Shown, r.Resource}
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

func incidentProbe(inc *correlate.Incident, p *IncidentProbe) StepResult {
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
	if p.Signature != "" {
		for _, g := range inc.Signatures {
			if g.Kind == p.Signature && (p.Service == "" || g.Service == p.Service) {
				n += g.Count
				seen = append(seen, g.Samples...)
			}
		}
		return StepResult{What: what, Value: float64(n), Shown: humanize.Count(n, "line"), Samples: seen[:min(samplesKept, len(seen))], Source: "the incident's log signatures"}
	}
	for _, m := range inc.Mechanisms {
		if m.Kind == p.Mechanism && (p.Service == "" || m.Service == p.Service) {
			n++
			seen = append(seen, termsafe.Line(m.Detail))
		}
	}
	return StepResult{What: what, Value: float64(n), Shown: humanize.Count(n, "mechanism"), Samples: seen[:min(samplesKept, len(seen))], Source: "the incident's mechanisms"}
}

func probe(ctx context.Context, src correlate.Sources, s Step, r renderer, now time.Time) StepResult {
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
		since := p.Since.or(defaultProbeSince)
		what := fmt.Sprintf("%s log lines at %s in the last %s", strings.Join(p.Levels, "/"), svc, shortDuration(since))
		if p.Grep != "" {
			what = fmt.Sprintf("log lines matching %q at %s in the last %s", p.Grep, svc, shortDuration(since))
		}
		if src.Logs == nil {
			return fail(what, "logs", fmt.Errorf("no logs backend configured"))
		}
		q := sources.LogQuery{Services: []string{svc}, Levels: p.Levels, Grep: p.Grep, Range: sources.TimeRange{Start: now.Add(-since), End: now}, Limit: probeLogLimit}
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
		since := p.Since.or(2 * time.Minute)
		what := fmt.Sprintf("%s of %s over the last %s", strings.ReplaceAll(p.Signal, "_", " "), svc, shortDuration(since))
		v, source, err := redValue(ctx, src.Metrics, svc, p.Signal, now, since)
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
		sat, err := src.Resources.Saturation(ctx, []string{svc}, sources.TimeRange{Start: now.Add(-time.Minute), End: now}, probeStep)
		if err != nil {
			return fail(what, "metrics", err)
		}
		res := StepResult{What: what, Err: fmt.Sprintf("%s has no resource matching %q", svc, p.Resource)}
		for _, x := range sat {
			if ok, _ := path.Match(p.Resource, x.Resource); !ok || x.Max <= 0 || len(x.Used.Samples) == 0 {
				continue
			}
			used := x.Used.Samples[len(x.Used.Samples)-1].V
			if f := used / x.Max; res.Err != "" || f > res.Value {
				res = StepResult{What: fmt.Sprintf("how full %s's %s is", svc, x.Resource), Value: f,
					Shown: fmt.Sprintf("%s (%s/%s)", humanize.Percent(f), humanize.Commas(used), humanize.Commas(x.Max)), Source: x.Used.Query, Resource: x.Resource}
			}
		}
		return res
	case s.Traces != nil:
		p := s.Traces
		since := p.Since.or(defaultProbeSince)
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
			Range: sources.TimeRange{Start: now.Add(-since), End: now}, Limit: probeTraceLimit})
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

// redValue averages a RED signal of a service over the last window.
func redValue(ctx context.Context, m sources.Metrics, svc, signal string, now time.Time, over time.Duration) (float64, string, error) {
	if m == nil {
		return 0, "", fmt.Errorf("no metrics backend configured")
	}
	reds, err := m.RED(ctx, []string{svc}, sources.TimeRange{Start: now.Add(-over), End: now}, probeStep)
	if err != nil {
		return 0, "", err
	}
	if len(reds) == 0 || len(reds[0].Requests.Samples) == 0 {
		return 0, "", fmt.Errorf("no requests recorded at %s in the last %s", svc, shortDuration(over))
	}
	r := reds[0]
	mean := func(s sources.Series) float64 {
		var sum float64
		var n int
		for _, x := range s.Samples {
			if x.V == x.V { // skip NaN
				sum += x.V
				n++
			}
		}
		if n == 0 {
			return 0
		}
		return sum / float64(n)
	}
	switch signal {
	case SignalP99:
		return mean(r.P99), r.P99.Query, nil
	case SignalRequests:
		return mean(r.Requests), r.Requests.Query, nil
	}
	q := mean(r.Requests)
	if q <= 0 {
		return 0, "", fmt.Errorf("no requests at %s in the last %s: the error ratio is undefined", svc, shortDuration(over))
	}
	return mean(r.Errors) / q, r.Errors.Query + " / " + r.Requests.Query, nil
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
