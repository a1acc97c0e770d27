package remediate

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

// Runbook is one runbook file: when it applies, how it diagnoses, what it
// may do, and whom it tells when that is not enough.
type Runbook struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	Match       Match  `yaml:"match" json:"match"`
	Target      string `yaml:"target,omitempty" json:"target,omitempty"` // template; default: the matched service
	// Inputs are the values actions take from data, each with a type.
	Inputs   map[string]*Input `yaml:"inputs,omitempty" json:"inputs,omitempty"`
	Diagnose []Step            `yaml:"diagnose,omitempty" json:"diagnose,omitempty"`
	Actions  []Action          `yaml:"actions" json:"actions"`
	// Escalate names the configured escalation targets told when the
	// diagnosis finds nothing or an action fails; empty means all.
	Escalate []string `yaml:"escalate,omitempty" json:"escalate,omitempty"`

	File string `yaml:"-" json:"file"`
	Line int    `yaml:"-" json:"line"`
}

// Match says when a runbook applies. Every field given must hold; within
// a list, one entry is enough.
type Match struct {
	Alerts    []string          `yaml:"alerts,omitempty" json:"alerts,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	Services  []string          `yaml:"services,omitempty" json:"services,omitempty"`
	SLOs      []string          `yaml:"slos,omitempty" json:"slos,omitempty"`
	RootCause *RootCauseMatch   `yaml:"root_cause,omitempty" json:"root_cause,omitempty"`
}

// RootCauseMatch matches an incident's root-cause candidates: by service,
// by the kind of mechanism seen at it, at or above a likelihood.
type RootCauseMatch struct {
	Services  []string `yaml:"services,omitempty" json:"services,omitempty"`
	Mechanism string   `yaml:"mechanism,omitempty" json:"mechanism,omitempty"`
	// Detail is an RE2 the mechanism's detail must match, e.g. "pool:"
	// for a saturated connection pool rather than workers or CPU.
	Detail        string `yaml:"detail,omitempty" json:"detail,omitempty"`
	MinLikelihood string `yaml:"min_likelihood,omitempty" json:"min_likelihood,omitempty"` // default possible
}

// Step is one diagnosis step: it reads one thing through the sources and
// names the actions to take when its condition holds. Steps are tried in
// order; the first that holds is the branch taken.
type Step struct {
	Name       string          `yaml:"name" json:"name"`
	Logs       *LogProbe       `yaml:"logs,omitempty" json:"logs,omitempty"`
	Metric     *MetricProbe    `yaml:"metric,omitempty" json:"metric,omitempty"`
	Saturation *SaturationProb `yaml:"saturation,omitempty" json:"saturation,omitempty"`
	Traces     *TraceProbe     `yaml:"traces,omitempty" json:"traces,omitempty"`
	Incident   *IncidentProbe  `yaml:"incident,omitempty" json:"incident,omitempty"`
	// When and Then branch; a step with neither is a reading that later
	// steps and actions use. Then may be [escalate]: hand it to a human.
	When Condition `yaml:"when,omitempty" json:"when"`
	Then []string  `yaml:"then,omitempty" json:"then"`

	Line int `yaml:"-" json:"line"`
}

// LogProbe counts log lines: of a service, at levels, matching a pattern.
type LogProbe struct {
	Service string             `yaml:"service,omitempty" json:"service,omitempty"` // template; default the target
	Levels  []string           `yaml:"levels,omitempty" json:"levels,omitempty"`
	Grep    string             `yaml:"grep,omitempty" json:"grep,omitempty"` // RE2
	Since   timeparse.Duration `yaml:"since,omitempty" json:"since,omitempty"`
}

// MetricProbe reads a service's RED signal, averaged over Since.
type MetricProbe struct {
	Service string             `yaml:"service,omitempty" json:"service,omitempty"`
	Signal  string             `yaml:"signal" json:"signal"` // error_ratio, p99, requests
	Since   timeparse.Duration `yaml:"since,omitempty" json:"since,omitempty"`
}

// SaturationProb reads how full a resource is now (used/max, 0..1).
type SaturationProb struct {
	Service  string `yaml:"service,omitempty" json:"service,omitempty"`
	Resource string `yaml:"resource" json:"resource"` // e.g. pool:payment-db, workers; a glob
}

// TraceProbe counts traces of a service: failed, or slower than a bound.
type TraceProbe struct {
	Service     string             `yaml:"service,omitempty" json:"service,omitempty"`
	ErrorsOnly  bool               `yaml:"errors_only,omitempty" json:"errors_only,omitempty"`
	MinDuration timeparse.Duration `yaml:"min_duration,omitempty" json:"min_duration,omitempty"`
	Since       timeparse.Duration `yaml:"since,omitempty" json:"since,omitempty"`
}

// IncidentProbe counts, in the incident (anywhere, or at Service), the
// mechanisms of a kind (load-surge, saturation, retry-amplification, …)
// or the log lines of a signature (pool-exhausted, oom-killed, panic, …).
type IncidentProbe struct {
	Mechanism string `yaml:"mechanism,omitempty" json:"mechanism,omitempty"`
	Signature string `yaml:"signature,omitempty" json:"signature,omitempty"`
	Service   string `yaml:"service,omitempty" json:"service,omitempty"`
}

// ThenEscalate in a step's then hands the incident to a human.
const ThenEscalate = "escalate"

// Condition compares a step's value with a bound. Bounds are numbers or
// percentages ("1%" is 0.01).
type Condition struct {
	Above *Number `yaml:"above,omitempty" json:"above,omitempty"`
	Below *Number `yaml:"below,omitempty" json:"below,omitempty"`
}

func (c Condition) holds(v float64) bool {
	return (c.Above == nil || v > float64(*c.Above)) && (c.Below == nil || v < float64(*c.Below))
}

// Danger is how carefully an action is confirmed.
type Danger string

const (
	DangerLow  Danger = "low"  // y confirms
	DangerHigh Danger = "high" // the target's name must be typed
)

// ActionKind is what an action does.
type ActionKind string

const (
	KindExec    ActionKind = "exec"    // an argv, exec'd without a shell
	KindHTTP    ActionKind = "http"    // an HTTP request
	KindSilence ActionKind = "silence" // an Alertmanager silence
	KindSim     ActionKind = "sim"     // an action on the simulated fleet
)

// Failure responses an action may declare.
const (
	OnFailureRollback = "rollback"
	OnFailureEscalate = "escalate"
)

// Spec is what an action (or its rollback) does, without the policy:
// one of an argv, a request, a silence or a simulator action.
type Spec struct {
	Kind    ActionKind `yaml:"kind" json:"kind"`
	Argv    []string   `yaml:"argv,omitempty" json:"argv,omitempty"`
	HTTP    *HTTPSpec  `yaml:"http,omitempty" json:"http,omitempty"`
	Silence *SilenceSp `yaml:"silence,omitempty" json:"silence,omitempty"`
	Sim     *SimSpec   `yaml:"sim,omitempty" json:"sim,omitempty"`
}

// Action is one thing a runbook may do.
type Action struct {
	Name     string `yaml:"name" json:"name"`
	Spec     `yaml:",inline"`
	Danger   Danger `yaml:"danger" json:"danger"`
	Category string `yaml:"category" json:"category"`
	// Auto lets the autopilot run it without a human, if its category is
	// one the config lists as automatable.
	Auto bool `yaml:"auto,omitempty" json:"auto,omitempty"`
	// ForEach "callers" runs the action once per service calling the
	// target (from the service graph), with {{.Caller}} set.
	ForEach   string             `yaml:"for_each,omitempty" json:"for_each,omitempty"`
	MaxStep   *MaxStep           `yaml:"max_step,omitempty" json:"max_step,omitempty"`
	Timeout   timeparse.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	Verify    *Verify            `yaml:"verify,omitempty" json:"verify,omitempty"`
	OnFailure []string           `yaml:"on_failure,omitempty" json:"on_failure,omitempty"`
	Rollback  *Spec              `yaml:"rollback,omitempty" json:"rollback,omitempty"`
	Limits    *Guardrail         `yaml:"guardrails,omitempty" json:"guardrails,omitempty"`

	Line int `yaml:"-" json:"line"`
}

// HTTPSpec is a request; every field is a template.
type HTTPSpec struct {
	Method  string            `yaml:"method" json:"method"`
	URL     string            `yaml:"url" json:"url"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Body    string            `yaml:"body,omitempty" json:"body,omitempty"`
}

// SilenceSp is a silence: matchers in Alertmanager's grammar, for how long.
type SilenceSp struct {
	Matchers string             `yaml:"matchers" json:"matchers"`
	For      timeparse.Duration `yaml:"for" json:"for"`
	Comment  string             `yaml:"comment,omitempty" json:"comment,omitempty"`
}

// SimSpec is a simulator action; parameters are templates.
type SimSpec struct {
	Action  string            `yaml:"action" json:"action"`
	Service string            `yaml:"service" json:"service"`
	Target  string            `yaml:"target,omitempty" json:"target,omitempty"`
	Params  map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
}

// MaxStep bounds how far one run may move a number: the rendered Value
// (or the sim action's Param) against From, or, for a relative value like
// "+50%" or "x2", the change it names.
type MaxStep struct {
	Param    string `yaml:"param" json:"param"`
	Value    string `yaml:"value,omitempty" json:"value,omitempty"` // template, e.g. the replicas argv item's value
	From     string `yaml:"from,omitempty" json:"from,omitempty"`   // template
	Increase Number `yaml:"increase" json:"increase"`               // e.g. 100% or 1.0
}

// Verify is the condition that says an action worked: a service's signal
// below a bound within a time.
type Verify struct {
	Service string             `yaml:"service,omitempty" json:"service,omitempty"` // template; default the target
	Signal  string             `yaml:"signal,omitempty" json:"signal,omitempty"`   // error_ratio (default), p99
	Below   Number             `yaml:"below" json:"below"`
	Within  timeparse.Duration `yaml:"within" json:"within"`
	// Over is the window the signal is averaged over; default 1m.
	Over timeparse.Duration `yaml:"over,omitempty" json:"over,omitempty"`
}

// Signals a metric probe or a verification reads.
const (
	SignalErrorRatio = "error_ratio"
	SignalP99        = "p99"
	SignalRequests   = "requests"
)

// Number is a float read from YAML as a number or a percentage.
type Number float64

// UnmarshalYAML reads 0.01, 1% or 250ms-free numbers.
func (n *Number) UnmarshalYAML(node *yaml.Node) error {
	v, err := parseNumber(node.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", node.Line, err)
	}
	*n = Number(v)
	return nil
}

func (n Number) String() string { return strconv.FormatFloat(float64(n), 'g', -1, 64) }

func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a percentage", s)
		}
		return v / 100, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (write 0.01 or 1%%)", s)
	}
	return v, nil
}

// LoadDir reads every *.yaml and *.yml file of a directory (not its
// subdirectories) as one runbook each. It returns the runbooks that are
// valid and the problems of the others: one bad file never hides the rest.
func LoadDir(dir string) ([]*Runbook, error) {
	return LoadFS(os.DirFS(dir), ".", dir)
}

// LoadFS is LoadDir over a file system (the simulator's embedded runbooks);
// label is how files are named in problems.
func LoadFS(fsys fs.FS, dir, label string) ([]*Runbook, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("runbooks %s: %w", label, err)
	}
	var out []*Runbook
	var problems problem.Problems
	seen := map[string]string{}
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		name := filepath.Join(label, e.Name())
		if err != nil {
			problems = append(problems, problem.Problem{File: name, Msg: err.Error()})
			continue
		}
		rb, ps := Parse(b, name)
		if len(ps) > 0 {
			problems = append(problems, ps...)
			continue
		}
		if other, dup := seen[rb.Name]; dup {
			problems = append(problems, problem.Problem{File: name, Line: rb.Line, Msg: fmt.Sprintf("runbook %q is also defined in %s", rb.Name, other)})
			continue
		}
		seen[rb.Name] = name
		out = append(out, rb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(problems) > 0 {
		return out, problems
	}
	return out, nil
}

// Parse reads and validates one runbook file.
func Parse(b []byte, file string) (*Runbook, problem.Problems) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, problem.Problems{problem.FromYAML(file, err)}
	}
	if len(root.Content) == 0 {
		return nil, problem.Problems{{File: file, Msg: "empty file: a runbook needs name, match and actions"}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	rb := &Runbook{File: file, Line: root.Content[0].Line}
	if err := dec.Decode(rb); err != nil {
		return nil, problem.Problems{problem.FromYAML(file, err)}
	}
	doc := root.Content[0]
	for i, l := range problem.ItemLines(doc, "actions") {
		if i < len(rb.Actions) {
			rb.Actions[i].Line = l
		}
	}
	for i, l := range problem.ItemLines(doc, "diagnose") {
		if i < len(rb.Diagnose) {
			rb.Diagnose[i].Line = l
		}
	}
	return rb, rb.validate()
}

func (rb *Runbook) validate() problem.Problems {
	var ps problem.Problems
	bad := func(line int, format string, a ...any) {
		ps = append(ps, problem.Problem{File: rb.File, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	if strings.TrimSpace(rb.Name) == "" {
		bad(rb.Line, "name is required")
	}
	m := rb.Match
	if len(m.Alerts) == 0 && len(m.Labels) == 0 && len(m.Services) == 0 && len(m.SLOs) == 0 && m.RootCause == nil {
		bad(rb.Line, "match is empty: give alerts, labels, services, slos or root_cause, or the runbook would match everything")
	}
	if rc := m.RootCause; rc != nil && rc.Detail != "" {
		if _, err := regexp.Compile(rc.Detail); err != nil {
			bad(rb.Line, "root_cause.detail: %v", err)
		} else if rc.Mechanism == "" {
			bad(rb.Line, "root_cause.detail needs root_cause.mechanism")
		}
	}
	if rc := m.RootCause; rc != nil && rc.MinLikelihood != "" {
		switch correlate.Likelihood(rc.MinLikelihood) {
		case correlate.Likely, correlate.Possible, correlate.Unlikely:
		default:
			bad(rb.Line, "root_cause.min_likelihood %q: one of likely, possible, unlikely", rc.MinLikelihood)
		}
	}
	if err := checkTemplate(rb.Target); err != nil {
		bad(rb.Line, "target: %v", err)
	}
	if len(rb.Actions) == 0 {
		bad(rb.Line, "actions: a runbook needs at least one action")
	}
	for _, name := range slices.Sorted(maps.Keys(rb.Inputs)) {
		in := rb.Inputs[name]
		if in == nil {
			bad(rb.Line, "input %q is empty: give from and type", name)
			continue
		}
		if !inputName.MatchString(name) {
			bad(in.Line, "input %q: a name of letters, digits and _, as {{.Inputs.%s}} reads it", name, name)
		}
		for _, p := range in.validate() {
			bad(in.Line, "input %q: %s", name, p)
		}
	}
	// named says what is wrong with one action or step: no name, a name
	// seen before among its kind, then its own problems under its name
	named := func(seen map[string]bool, kind, short string, line int, name string, problems []string) {
		if name == "" {
			bad(line, "%s without a name", kind)
		} else if seen[name] {
			bad(line, "%s %q is defined twice", kind, name)
		}
		seen[name] = true
		for _, p := range problems {
			bad(line, "%s %q: %s", short, name, p)
		}
	}
	names := map[string]bool{}
	for _, a := range rb.Actions {
		named(names, "action", "action", a.Line, a.Name, append(a.validate(), rb.dataUse(a)...))
	}
	steps := map[string]bool{}
	for _, s := range rb.Diagnose {
		named(steps, "diagnosis step", "step", s.Line, s.Name, s.validate())
		for _, t := range s.Then {
			if !names[t] && t != ThenEscalate {
				bad(s.Line, "step %q: then %q: no such action (actions: %s)", s.Name, t, strings.Join(slices.Sorted(maps.Keys(names)), ", "))
			}
		}
	}
	return ps
}

func (s Step) validate() []string {
	var ps []string
	n := 0
	for _, set := range []bool{s.Logs != nil, s.Metric != nil, s.Saturation != nil, s.Traces != nil, s.Incident != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		ps = append(ps, "give exactly one of logs, metric, saturation, traces, incident")
	}
	hasWhen := s.When.Above != nil || s.When.Below != nil
	if hasWhen != (len(s.Then) > 0) {
		ps = append(ps, "give when and then together (or neither, for a reading later steps use)")
	}
	if s.Incident != nil && (s.Incident.Mechanism == "") == (s.Incident.Signature == "") {
		ps = append(ps, "incident: give mechanism or signature")
	}
	if s.Metric != nil && !slices.Contains([]string{SignalErrorRatio, SignalP99, SignalRequests}, s.Metric.Signal) {
		ps = append(ps, fmt.Sprintf("metric.signal %q: one of error_ratio, p99, requests", s.Metric.Signal))
	}
	if s.Saturation != nil && s.Saturation.Resource == "" {
		ps = append(ps, "saturation.resource is required (pool:NAME, workers, cpu; globs allowed)")
	}
	for _, t := range []string{service(s)} {
		if err := checkTemplate(t); err != nil {
			ps = append(ps, "service: "+err.Error())
		}
	}
	return ps
}

func service(s Step) string {
	switch {
	case s.Logs != nil:
		return s.Logs.Service
	case s.Metric != nil:
		return s.Metric.Service
	case s.Saturation != nil:
		return s.Saturation.Service
	case s.Traces != nil:
		return s.Traces.Service
	case s.Incident != nil:
		return s.Incident.Service
	}
	return ""
}

func (a Action) validate() []string {
	var ps []string
	ps = append(ps, a.Spec.validate()...)
	switch a.Danger {
	case DangerLow, DangerHigh:
	default:
		ps = append(ps, fmt.Sprintf("danger %q: low or high (high asks for the target's name to be typed)", a.Danger))
	}
	switch {
	case a.Category == "":
		ps = append(ps, "category is required: it decides whether the autopilot may ever run it")
	case !categoryName.MatchString(a.Category):
		// "Security" or "data_corruption" would slip past the categories
		// that are never automatable, which are compared as written
		ps = append(ps, fmt.Sprintf("category %q: write it in lower case, words joined by '-' (security, data-corruption)", a.Category))
	}
	if a.ForEach != "" && a.ForEach != "callers" {
		ps = append(ps, fmt.Sprintf("for_each %q: only callers", a.ForEach))
	}
	for _, f := range a.OnFailure {
		if f != OnFailureRollback && f != OnFailureEscalate {
			ps = append(ps, fmt.Sprintf("on_failure %q: rollback or escalate", f))
		}
		if f == OnFailureRollback && a.Rollback == nil {
			ps = append(ps, "on_failure rollback needs a rollback: action")
		}
	}
	if a.Rollback != nil {
		for _, p := range a.Rollback.validate() {
			ps = append(ps, "rollback: "+p)
		}
	}
	if v := a.Verify; v != nil {
		if v.Within <= 0 {
			ps = append(ps, "verify.within is required, e.g. 2m")
		}
		if v.Signal != "" && v.Signal != SignalErrorRatio && v.Signal != SignalP99 {
			ps = append(ps, fmt.Sprintf("verify.signal %q: error_ratio or p99", v.Signal))
		}
		if err := checkTemplate(v.Service); err != nil {
			ps = append(ps, "verify.service: "+err.Error())
		}
	}
	if m := a.MaxStep; m != nil {
		if m.Param == "" || m.Increase <= 0 {
			ps = append(ps, "max_step needs param (its name) and a positive increase, e.g. 100%")
		} else if a.Kind != KindSim && m.Value == "" {
			ps = append(ps, "max_step needs value: the template of the number it bounds")
		} else if a.Kind == KindSim && a.Sim != nil && m.Value == "" {
			if _, ok := a.Sim.Params[m.Param]; !ok {
				ps = append(ps, fmt.Sprintf("max_step.param %q is not one of the sim params", m.Param))
			}
		}
		if err := checkTemplate(m.Value); err != nil {
			ps = append(ps, "max_step.value: "+err.Error())
		}
		if err := checkTemplate(m.From); err != nil {
			ps = append(ps, "max_step.from: "+err.Error())
		}
	}
	return ps
}

func (s Spec) validate() []string {
	var ps []string
	check := func(what, t string) {
		if err := checkTemplate(t); err != nil {
			ps = append(ps, what+": "+err.Error())
		}
	}
	switch s.Kind {
	case KindExec:
		if len(s.Argv) == 0 {
			return []string{"exec needs argv: the program and its arguments, one per item"}
		}
		if p := codeUse(s.Argv); p != "" {
			ps = append(ps, p)
		}
		for i, a := range s.Argv {
			check(fmt.Sprintf("argv[%d]", i), a)
		}
	case KindHTTP:
		if s.HTTP == nil || s.HTTP.URL == "" || s.HTTP.Method == "" {
			return []string{"http needs method and url"}
		}
		check("http.url", s.HTTP.URL)
		check("http.body", s.HTTP.Body)
		for k, v := range s.HTTP.Headers {
			check("http.headers."+k, v)
		}
		if p := s.HTTP.credentialsFixedHost(); p != "" {
			ps = append(ps, p)
		}
	case KindSilence:
		if s.Silence == nil || s.Silence.Matchers == "" || s.Silence.For <= 0 {
			return []string{"silence needs matchers and for"}
		}
		check("silence.matchers", s.Silence.Matchers)
		for _, l := range ledgerLabels() {
			if strings.Contains(s.Silence.Matchers, l) {
				ps = append(ps, fmt.Sprintf("silence.matchers: %s is a label reserved for the remediation ledger: a silence naming it would read as a record", l))
			}
		}
		if dataInRegexMatcher.MatchString(s.Silence.Matchers) {
			ps = append(ps, "silence.matchers: a value in a regex matcher (=~, !~) would be a pattern: .* would silence everything; match it with =")
		}
	case KindSim:
		if s.Sim == nil || s.Sim.Action == "" || s.Sim.Service == "" {
			return []string{"sim needs action and service"}
		}
		check("sim.service", s.Sim.Service)
		for k, v := range s.Sim.Params {
			check("sim.params."+k, v)
		}
	default:
		ps = append(ps, fmt.Sprintf("kind %q: one of exec, http, silence, sim", s.Kind))
	}
	return ps
}

// dataInRegexMatcher finds a template in the value of a regex matcher.
var dataInRegexMatcher = regexp.MustCompile(`[=!]~\s*"[^"]*\{\{`)

// categoryName is how categories are written, in runbooks and in the
// config's automatable list alike.
var categoryName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
