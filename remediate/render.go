package remediate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Vars are what templates see: {{.Target}}, {{.Labels.namespace}},
// {{.Steps.pool.Value}}, {{.Caller}} in a for_each action.
type Vars struct {
	Target     string            `json:"target"`
	Service    string            `json:"service"` // the matched service
	Alert      string            `json:"alert,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	SLO        string            `json:"slo,omitempty"`
	RootCause  string            `json:"root_cause,omitempty"`
	Likelihood string            `json:"likelihood,omitempty"`
	Caller     string            `json:"caller,omitempty"`
	Steps      map[string]Value  `json:"steps,omitempty"`
	// Inputs are the runbook's typed inputs, each checked against its
	// type: the only way an action reads labels and other data.
	Inputs map[string]string `json:"inputs,omitempty"`
}

// Value is a diagnosis step's result as templates see it.
type Value struct {
	Value    float64
	Text     string // the value as shown
	Resource string // a saturation step's resource, e.g. pool:payment-db
	// Used and Max are a saturation step's reading: what is in use now and
	// the capacity (a pool's size), for max_step.from.
	Used, Max float64
}

func (v Value) String() string { return v.Text }

// templateFuncs are the functions templates may call. secret is bound per
// rendering: shown as a placeholder, run with the environment's value.
var templateFuncs = template.FuncMap{
	"secret":     func(string) string { return "" },
	"int":        func(f float64) int { return int(f) },
	"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
	// json writes a value as a JSON string or number: a label value in a
	// request body stays a value
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return capped(string(b))
	},
	// number passes a finite number and refuses anything else
	"number": func(v any) (string, error) {
		s := strings.TrimSpace(fmt.Sprint(v))
		if err := (&Input{Type: TypeNumber}).check(s); err != nil {
			return "", err
		}
		return s, nil
	},
}

// secretShown is how a secret appears in a plan, the audit log, an
// escalation or any output: its name only.
func secretShown(name string) string { return "‹secret:" + name + "›" }

// renderer renders templates, either to show (secrets as placeholders)
// or to run (secrets from the environment).
type renderer struct {
	vars   Vars
	getenv func(string) (string, bool) // nil: render to show
	// all lets the template read every field: a target, an input's from,
	// a diagnosis step. Otherwise it renders an action and sees only
	// actionData.
	all bool
}

// actionData is all that an action's templates can read: typed inputs,
// the service names (checked as such when the plan is made), the
// likelihood and the steps' readings; never a label or a resource's
// name. Validation names what is refused; this makes it so.
type actionData struct {
	Inputs                                         map[string]string
	Target, Service, Caller, RootCause, Likelihood string
	Steps                                          map[string]reading
}

// reading is a diagnosis step's value as an action sees it.
type reading struct {
	Value, Used, Max float64
	Text             string
}

func (r reading) String() string { return r.Text }

// data is what a template renders from.
func (r renderer) data() any {
	if r.all {
		return r.vars
	}
	v := r.vars
	d := actionData{Inputs: v.Inputs, Target: v.Target, Service: v.Service, Caller: v.Caller, RootCause: v.RootCause, Likelihood: v.Likelihood,
		Steps: make(map[string]reading, len(v.Steps))}
	for k, s := range v.Steps {
		d.Steps[k] = reading{Value: s.Value, Used: s.Used, Max: s.Max, Text: s.Text}
	}
	return d
}

func (r renderer) render(what, t string) (string, error) {
	if !strings.Contains(t, "{{") {
		return t, nil
	}
	tp, err := newTemplate(t)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	tp.Funcs(template.FuncMap{"secret": func(name string) (string, error) {
		if r.getenv == nil {
			return secretShown(name), nil
		}
		v, ok := r.getenv(name)
		if !ok || v == "" {
			return "", fmt.Errorf("secret %s: the environment variable is not set", name)
		}
		return v, nil
	}})
	var w cappedWriter
	if err := tp.Execute(&w, r.data()); err != nil {
		if errors.Is(err, errTooLong) {
			return "", fmt.Errorf("%s: %w", what, errTooLong)
		}
		return "", fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "template: v:"))
	}
	return w.b.String(), nil
}

// Command is an action rendered exactly as it will run.
type Command struct {
	Kind    ActionKind       `json:"kind"`
	Argv    []string         `json:"argv,omitempty"`
	Request *Request         `json:"request,omitempty"`
	Silence *sources.Silence `json:"silence,omitempty"`
	Sim     *sources.Action  `json:"sim,omitempty"`
	// Dir is where an argv runs; "" the current directory.
	Dir string `json:"dir,omitempty"`
}

// Request is a rendered HTTP request.
type Request struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// renderSpec renders what an action does.
func (r renderer) renderSpec(s Spec, user string, now time.Time) (Command, error) {
	c := Command{Kind: s.Kind}
	var err error
	switch s.Kind {
	case KindExec:
		c.Argv = make([]string, len(s.Argv))
		for i, a := range s.Argv {
			// one item, one argument: whatever a value holds, it stays one
			if c.Argv[i], err = r.render(fmt.Sprintf("argv[%d]", i), a); err != nil {
				return c, err
			}
		}
	case KindHTTP:
		q := &Request{Headers: map[string]string{}}
		if q.Method, err = r.render("http.method", strings.ToUpper(s.HTTP.Method)); err != nil {
			return c, err
		}
		if q.URL, err = r.render("http.url", s.HTTP.URL); err != nil {
			return c, err
		}
		if q.Body, err = r.render("http.body", s.HTTP.Body); err != nil {
			return c, err
		}
		for k, v := range s.HTTP.Headers {
			if q.Headers[http.CanonicalHeaderKey(k)], err = r.render("http.headers."+k, v); err != nil {
				return c, err
			}
		}
		c.Request = q
	case KindSilence:
		ms, err := r.renderMatchers(s.Silence.Matchers)
		if err != nil {
			return c, err
		}
		comment, err := r.render("silence.comment", s.Silence.Comment)
		if err != nil {
			return c, err
		}
		if comment == "" {
			comment = "oncall runbook"
		}
		c.Silence = &sources.Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(time.Duration(s.Silence.For)), CreatedBy: user, Comment: comment}
	case KindSim:
		a := &sources.Action{Kind: s.Sim.Action, Params: map[string]string{}}
		if a.Service, err = r.render("sim.service", s.Sim.Service); err != nil {
			return c, err
		}
		if a.Target, err = r.render("sim.target", s.Sim.Target); err != nil {
			return c, err
		}
		for k, v := range s.Sim.Params {
			if a.Params[k], err = r.render("sim.params."+k, v); err != nil {
				return c, err
			}
		}
		c.Sim = a
	}
	return c, nil
}

// placeholderValue stands for every value a silence's matchers read: a
// plain word, so the matchers it renders are the ones the runbook wrote,
// and a number, so that int and number still render it.
const placeholderValue = "0"

// renderMatchers renders a silence's matchers, refusing them when a value
// changed their shape (a value that closes its quote writes matchers of
// its own) or when they name a label the remediation ledger keeps.
func (r renderer) renderMatchers(t string) ([]sources.Matcher, error) {
	m, err := r.render("silence.matchers", t)
	if err != nil {
		return nil, err
	}
	ms, err := sources.ParseMatchers(m)
	if err != nil {
		return nil, fmt.Errorf("silence.matchers: %w", err)
	}
	written := r
	written.vars = r.vars.placeholders()
	wm, err := written.render("silence.matchers", t)
	if err != nil {
		return nil, err
	}
	wms, err := sources.ParseMatchers(wm)
	if err != nil || !slices.EqualFunc(ms, wms, func(a, b sources.Matcher) bool {
		return a.Name == b.Name && a.IsEqual == b.IsEqual && a.IsRegex == b.IsRegex
	}) {
		return nil, fmt.Errorf("silence.matchers: a value changed the silence's matchers: the runbook writes their names, operators and number, and a value only a matcher's value")
	}
	for _, x := range ms {
		if slices.Contains(ledgerLabels(), x.Name) {
			return nil, fmt.Errorf("silence.matchers: %s is a label reserved for the remediation ledger", x.Name)
		}
	}
	return ms, nil
}

// ledgerLabels are the labels of the remediation ledger's records: a
// silence that names one would be read as a record, or hide as one.
func ledgerLabels() []string { return []string{labelRecord, labelAction, labelTarget} }

// placeholders are the variables an action reads (actionData) with every
// text that data gives replaced by placeholderValue; the numbers of the
// steps' readings stay.
func (v Vars) placeholders() Vars {
	p := v
	p.Target, p.Service, p.Caller, p.RootCause, p.Likelihood = placeholderValue, placeholderValue, placeholderValue, placeholderValue, placeholderValue
	p.Inputs = make(map[string]string, len(v.Inputs))
	for k := range v.Inputs {
		p.Inputs[k] = placeholderValue
	}
	p.Steps = make(map[string]Value, len(v.Steps))
	for k, s := range v.Steps {
		s.Text = placeholderValue
		p.Steps[k] = s
	}
	return p
}

// String is the command as the plan, the audit log and escalations show
// it: argv words quoted so that each is visibly one argument, and free of
// terminal control characters.
func (c Command) String() string {
	switch c.Kind {
	case KindExec:
		w := make([]string, len(c.Argv))
		for i, a := range c.Argv {
			w[i] = QuoteArg(a)
		}
		return strings.Join(w, " ")
	case KindHTTP:
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", c.Request.Method, QuoteArg(redactURL(c.Request.URL)))
		for _, k := range slices.Sorted(maps.Keys(c.Request.Headers)) {
			fmt.Fprintf(&b, "\n  %s: %s", k, QuoteArg(redactHeader(k, c.Request.Headers[k])))
		}
		if c.Request.Body != "" {
			fmt.Fprintf(&b, "\n  body: %s", QuoteArg(c.Request.Body))
		}
		return b.String()
	case KindSilence:
		ms := make([]string, len(c.Silence.Matchers))
		for i, m := range c.Silence.Matchers {
			ms[i] = m.String()
		}
		return fmt.Sprintf("silence {%s} for %s: %s", strings.Join(ms, ", "), c.Silence.EndsAt.Sub(c.Silence.StartsAt), QuoteArg(c.Silence.Comment))
	case KindSim:
		var p []string
		for _, k := range slices.Sorted(maps.Keys(c.Sim.Params)) {
			p = append(p, k+"="+QuoteArg(c.Sim.Params[k]))
		}
		s := "simulator " + c.Sim.Kind + " " + QuoteArg(c.Sim.Service)
		if c.Sim.Target != "" {
			s += " → " + QuoteArg(c.Sim.Target)
		}
		if len(p) > 0 {
			s += " " + strings.Join(p, " ")
		}
		return s
	}
	return string(c.Kind)
}

var plainArg = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,^-]+$`)

// QuoteArg writes one argument so that it reads as one word: bare when
// plain, in single quotes when printable, else Go-quoted with escapes
// (newlines and escape sequences never reach the terminal raw).
func QuoteArg(s string) string {
	if plainArg.MatchString(s) {
		return s
	}
	printable := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\'' || r == '\u2028' || r == '\u2029' || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			printable = false
			break
		}
	}
	if printable {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}
