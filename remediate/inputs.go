package remediate

import (
	"fmt"
	"maps"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// Input is a value an action takes from data (an alert's labels, the
// incident, a log line), declared with a type that is checked when the
// plan is made: a label cannot become an option, a program or shell
// syntax, because a value that fails its type refuses the plan. Actions
// read inputs as {{.Inputs.NAME}}; they cannot read labels directly.
type Input struct {
	// From is the template the value comes from, e.g. {{.Labels.instance}}.
	From string    `yaml:"from" json:"from"`
	Type InputType `yaml:"type" json:"type"`
	// Min and Max bound int and number inputs.
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	// Values are an enum's allowed values.
	Values []string `yaml:"values,omitempty" json:"values,omitempty"`
	// Pattern is a regex input's RE2, matched against the whole value.
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty"`

	Line int `yaml:"-" json:"line"`
	re   *regexp.Regexp
}

// InputType is what an input's value must be.
type InputType string

// Input types, after StackStorm's parameter schemas and Rundeck's option
// regexes.
const (
	TypeK8sName  InputType = "k8s-name" // an RFC 1123 name, as Kubernetes objects have
	TypeHostname InputType = "hostname" // an RFC 1123 host name or an IP address
	TypeInt      InputType = "int"      // a base-10 integer within min and max
	TypeNumber   InputType = "number"   // a finite decimal number within min and max
	TypeEnum     InputType = "enum"     // one of values
	TypeRegex    InputType = "regex"    // the whole value matches pattern
	// TypeService is the type of the built-in names .Target, .Service,
	// .Caller and .RootCause when an action uses them: service names as
	// telemetry writes them, which never begin with a dash.
	TypeService InputType = "service"
)

var inputTypes = []InputType{TypeK8sName, TypeHostname, TypeInt, TypeNumber, TypeEnum, TypeRegex}

// Limits of typed values.
const (
	// maxNameLen is DNS's limit on a name, which Kubernetes and host
	// names share.
	maxNameLen = 253
	// maxInputLen bounds any input: an argument longer than this is not a
	// name or a number, and a template bomb stops here.
	maxInputLen = 4096
)

var (
	// k8sName is RFC 1123's subdomain: lower-case labels of letters,
	// digits and inner dashes, joined by dots.
	k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// hostName is RFC 1123 host names, in any case, with a final dot or not.
	hostName = regexp.MustCompile(`^(?i)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\.?$`)
	// serviceName is what the built-in names must be: letters and digits
	// first, then also dots, dashes, underscores and colons.
	serviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)
)

// UnmarshalYAML keeps the line of each input for problems.
func (in *Input) UnmarshalYAML(node *yaml.Node) error {
	type plain Input
	var p plain
	if err := node.Decode(&p); err != nil {
		return err
	}
	*in = Input(p)
	in.Line = node.Line
	return nil
}

// validate says what is wrong with an input's declaration.
func (in *Input) validate() []string {
	var ps []string
	if strings.TrimSpace(in.From) == "" {
		ps = append(ps, "from is required: the template the value comes from, e.g. {{.Labels.instance}}")
	} else if err := checkTemplate(in.From); err != nil {
		ps = append(ps, "from: "+err.Error())
	} else if refs, err := templateRefs(in.From); err == nil && slices.ContainsFunc(refs, func(r []string) bool { return len(r) > 0 && r[0] == "Inputs" }) {
		ps = append(ps, "from reads another input: inputs come from the data (labels, the target, steps)")
	}
	if !slices.Contains(inputTypes, in.Type) {
		return append(ps, fmt.Sprintf("type %q: one of %s", in.Type, joinTypes()))
	}
	if (in.Min != nil || in.Max != nil) && in.Type != TypeInt && in.Type != TypeNumber {
		ps = append(ps, "min and max are for int and number inputs")
	}
	if in.Min != nil && in.Max != nil && *in.Min > *in.Max {
		ps = append(ps, fmt.Sprintf("min %g is above max %g", *in.Min, *in.Max))
	}
	switch in.Type {
	case TypeEnum:
		if len(in.Values) == 0 {
			ps = append(ps, "an enum needs values")
		}
	case TypeRegex:
		if in.Pattern == "" {
			ps = append(ps, "a regex input needs pattern (an RE2, matched against the whole value)")
		} else if re, err := regexp.Compile(`^(?:` + in.Pattern + `)$`); err != nil {
			ps = append(ps, "pattern: "+err.Error())
		} else {
			in.re = re
		}
	default:
		if len(in.Values) > 0 || in.Pattern != "" {
			ps = append(ps, "values are for enum inputs and pattern for regex inputs")
		}
	}
	return ps
}

func joinTypes() string {
	s := make([]string, len(inputTypes))
	for i, t := range inputTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// mayBeginWithDash reports whether a value of this input could begin
// with "-", and so be read as an option when it starts an argument.
func (in *Input) mayBeginWithDash() bool {
	switch in.Type {
	case TypeK8sName, TypeHostname:
		return false
	case TypeInt, TypeNumber:
		return in.Min == nil || *in.Min < 0
	case TypeEnum:
		return slices.ContainsFunc(in.Values, func(v string) bool { return strings.HasPrefix(v, "-") })
	}
	return true
}

// check says why a value is not of the input's type, or nil. The message
// shows the value made safe for a terminal.
func (in *Input) check(v string) error {
	t, lo, hi := in.Type, in.Min, in.Max
	shown := QuoteArg(termsafe.Line(v))
	if len(v) > maxInputLen {
		return fmt.Errorf("%s… is %d bytes long, more than any %s (%d)", QuoteArg(termsafe.Line(v[:40])), len(v), t, maxInputLen)
	}
	bounds := func(f float64) error {
		if lo != nil && *lo >= 0 && strings.HasPrefix(v, "-") {
			// -0 is within bounds, and would still begin with a dash
			return fmt.Errorf("%s begins with '-'", shown)
		}
		if lo != nil && f < *lo {
			return fmt.Errorf("%s is below the minimum %g", shown, *lo)
		}
		if hi != nil && f > *hi {
			return fmt.Errorf("%s is above the maximum %g", shown, *hi)
		}
		return nil
	}
	switch t {
	case TypeK8sName:
		if len(v) > maxNameLen || !k8sName.MatchString(v) {
			return fmt.Errorf("%s is not a Kubernetes name (RFC 1123: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)", shown)
		}
	case TypeHostname:
		if net.ParseIP(v) == nil && (len(v) > maxNameLen || !hostName.MatchString(v)) {
			return fmt.Errorf("%s is not a host name or an IP address", shown)
		}
	case TypeService:
		if len(v) > maxNameLen || !serviceName.MatchString(v) {
			return fmt.Errorf("%s is not a service name (letters, digits, '.', '_', ':' and '-', starting with a letter or digit)", shown)
		}
	case TypeInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || strings.HasPrefix(v, "+") {
			return fmt.Errorf("%s is not an integer", shown)
		}
		return bounds(float64(n))
	case TypeNumber:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(v, "xXpP_+") {
			return fmt.Errorf("%s is not a finite decimal number", shown)
		}
		return bounds(f)
	case TypeEnum:
		if !slices.Contains(in.Values, v) {
			return fmt.Errorf("%s is not one of %s", shown, strings.Join(in.Values, ", "))
		}
	case TypeRegex:
		re := in.re
		if re == nil {
			// a runbook built in code, not loaded: compiled here, never kept
			var err error
			if re, err = regexp.Compile(`^(?:` + in.Pattern + `)$`); err != nil {
				return fmt.Errorf("pattern: %w", err)
			}
		}
		if !re.MatchString(v) {
			return fmt.Errorf("%s does not match %s", shown, re.String())
		}
		if i := strings.IndexFunc(v, shellText); i >= 0 {
			return fmt.Errorf("%s holds %s: a regex input takes names, paths and versions, never spaces or shell syntax, whatever its pattern allows", shown, QuoteArg(termsafe.Line(string([]rune(v[i:])[0]))))
		}
	}
	return nil
}

// inputName is what {{.Inputs.NAME}} can read.
var inputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// builtinNames are the names an action may read directly: services, which
// are checked as TypeService when the plan is made.
var builtinNames = []string{"Target", "Service", "Caller", "RootCause"}

// stepFields are what an action may read of a diagnosis step, by name
// ({{.Steps.NAME.Value}}): readings, never the text of a resource's name.
var stepFields = []string{"Value", "Text", "Used", "Max"}

// template is one template of an action, and what it is.
type actionTemplate struct{ what, text string }

// templates lists every template of an action that reaches what it does.
func (a Action) templates() []actionTemplate {
	out := a.Spec.templates("")
	if a.Rollback != nil {
		out = append(out, a.Rollback.templates("rollback.")...)
	}
	if a.Verify != nil {
		out = append(out, actionTemplate{"verify.service", a.Verify.Service})
	}
	if a.MaxStep != nil {
		out = append(out, actionTemplate{"max_step.value", a.MaxStep.Value})
	}
	return out
}

func (s Spec) templates(prefix string) []actionTemplate {
	var out []actionTemplate
	add := func(what, t string) {
		if isTemplate(t) {
			out = append(out, actionTemplate{prefix + what, t})
		}
	}
	for i, a := range s.Argv {
		add(fmt.Sprintf("argv[%d]", i), a)
	}
	if h := s.HTTP; h != nil {
		add("http.method", h.Method)
		add("http.url", h.URL)
		add("http.body", h.Body)
		for _, k := range slices.Sorted(maps.Keys(h.Headers)) {
			add("http.headers."+k, h.Headers[k])
		}
	}
	if sl := s.Silence; sl != nil {
		add("silence.matchers", sl.Matchers)
		add("silence.comment", sl.Comment)
	}
	if sm := s.Sim; sm != nil {
		add("sim.service", sm.Service)
		add("sim.target", sm.Target)
		for _, k := range slices.Sorted(maps.Keys(sm.Params)) {
			add("sim.params."+k, sm.Params[k])
		}
	}
	return out
}

// dataUse says where an action reads data without a typed input, starts
// an argument with a value that could be an option, or takes max_step's
// current value from anything but a reading.
func (rb *Runbook) dataUse(a Action) []string {
	var ps []string
	for _, t := range a.templates() {
		refs, err := templateRefs(t.text)
		if err != nil {
			continue // reported as a template error
		}
		for _, r := range refs {
			if p := rb.refProblem(r); p != "" {
				ps = append(ps, t.what+": "+p)
			}
		}
	}
	for _, argv := range [][]string{a.Argv, rollbackArgv(a)} {
		ps = append(ps, rb.leadingData(argv)...)
	}
	if m := a.MaxStep; m != nil && m.From != "" {
		refs, err := templateRefs(m.From)
		if err == nil && (len(refs) == 0 || slices.ContainsFunc(refs, func(r []string) bool { return len(r) < 2 || r[0] != "Steps" })) {
			ps = append(ps, "max_step.from must be a reading of a diagnosis step, e.g. {{.Steps.replicas.Used}}: a label or a fixed number is not the current value")
		}
	}
	return ps
}

func rollbackArgv(a Action) []string {
	if a.Rollback == nil {
		return nil
	}
	return a.Rollback.Argv
}

// refProblem says why an action may not read a field, or "".
func (rb *Runbook) refProblem(r []string) string {
	switch {
	case len(r) == 0:
		return "{{.}} would write every label: read a typed input, {{.Inputs.NAME}}"
	case r[0] == "Inputs":
		if len(r) < 2 {
			return "read one input, {{.Inputs.NAME}}"
		}
		if _, ok := rb.Inputs[r[1]]; !ok {
			return fmt.Sprintf("no input %q is declared (inputs: %s)", r[1], strings.Join(slices.Sorted(maps.Keys(rb.Inputs)), ", "))
		}
	case slices.Contains(builtinNames, r[0]), r[0] == "Likelihood":
	case r[0] == "Steps":
		if len(r) != 3 || !slices.Contains(stepFields, r[2]) {
			return fmt.Sprintf("an action reads a step's %s: declare an input from it", strings.Join(stepFields, ", "))
		}
	default:
		return fmt.Sprintf(".%s is data: declare a typed input (inputs: {NAME: {from: \"{{.%s}}\", type: …}}) and read {{.Inputs.NAME}}", strings.Join(r, "."), strings.Join(r, "."))
	}
	return ""
}

// leadingData refuses an argument that begins with a value that could
// begin with a dash, before any "--": data would become an option. It
// refuses as well one or two dashes followed by a template, as in
// "-{{.Inputs.unit}}": the runbook writes the dash, data the option's
// name.
func (rb *Runbook) leadingData(argv []string) []string {
	var ps []string
	for i := 1; i < len(argv); i++ {
		a := strings.TrimSpace(argv[i])
		if a == "--" {
			break
		}
		if optionNamedByData(a) {
			ps = append(ps, fmt.Sprintf("argv[%d] is a dash followed by data: data would write the option's name; write the name, as --name={{…}}", i))
			continue
		}
		if !strings.HasPrefix(a, "{{") || rb.safeLead(a) {
			continue
		}
		ps = append(ps, fmt.Sprintf("argv[%d] begins with a value that could begin with '-' and be read as an option: put -- before it, write it as --flag={{…}}, or give its input a type that cannot begin with '-'", i))
	}
	return ps
}

// optionNamedByData reports whether an argument is one or two dashes and
// then a template: "-{{…}}", "--{{…}}", or "- {{- …}}", whose trim marker
// joins the dash to the value.
func optionNamedByData(a string) bool {
	rest := strings.TrimPrefix(a, "-")
	if rest == a {
		return false
	}
	rest = strings.TrimPrefix(rest, "-")
	return strings.HasPrefix(rest, "{{") || strings.HasPrefix(strings.TrimLeft(rest, " \t\r\n"), "{{-")
}

// safeLead reports whether an argument's first action is a name that
// cannot begin with a dash: a built-in service name, or an input of such
// a type.
func (rb *Runbook) safeLead(a string) bool {
	first, _, ok := strings.Cut(strings.TrimPrefix(a, "{{"), "}}")
	if !ok {
		return false
	}
	f := strings.Fields(strings.Trim(first, "- "))
	if len(f) != 1 || !strings.HasPrefix(f[0], ".") {
		return false
	}
	path := strings.Split(f[0][1:], ".")
	if len(path) == 1 && slices.Contains(builtinNames, path[0]) {
		return true
	}
	if len(path) == 2 && path[0] == "Inputs" {
		in, ok := rb.Inputs[path[1]]
		return ok && in != nil && !in.mayBeginWithDash()
	}
	return false
}

// bind renders the inputs and built-in names an action reads and checks
// each against its type: the plan is refused with the first that fails,
// named, and its value made safe to show.
func (rb *Runbook) bind(a *Action, vars Vars) (Vars, error) {
	vars.Inputs = map[string]string{}
	for _, t := range a.templates() {
		refs, err := templateRefs(t.text)
		if err != nil {
			return vars, fmt.Errorf("%s: %w", t.what, err)
		}
		for _, r := range refs {
			if p := rb.refProblem(r); p != "" {
				// a runbook that skipped validation is held to it here
				return vars, fmt.Errorf("%s: %s", t.what, p)
			}
			switch {
			case len(r) >= 2 && r[0] == "Inputs":
				if _, done := vars.Inputs[r[1]]; done {
					continue
				}
				in, ok := rb.Inputs[r[1]]
				if !ok || in == nil {
					return vars, fmt.Errorf("%s: no input %q is declared", t.what, r[1])
				}
				v, err := renderer{vars: vars, all: true}.render("input "+r[1], in.From)
				if err != nil {
					return vars, err
				}
				if err := in.check(v); err != nil {
					return vars, fmt.Errorf("input %s (%s): %w", r[1], in.Type, err)
				}
				vars.Inputs[r[1]] = v
			case len(r) >= 1 && slices.Contains(builtinNames, r[0]):
				if err := (&Input{Type: TypeService}).check(builtinValue(vars, r[0])); err != nil {
					return vars, fmt.Errorf(".%s: %w", r[0], err)
				}
			}
		}
	}
	return vars, nil
}

func builtinValue(v Vars, name string) string {
	switch name {
	case "Target":
		return v.Target
	case "Service":
		return v.Service
	case "Caller":
		return v.Caller
	}
	return v.RootCause
}

// optionFromData says which rendered argument begins with a dash that its
// template did not write: a value became an option. Checked on every
// plan, whatever validation allowed.
func optionFromData(tmpl, rendered []string) error {
	for i := 1; i < len(rendered) && i < len(tmpl); i++ {
		if tmpl[i] == "--" {
			return nil
		}
		if strings.HasPrefix(rendered[i], "-") && !strings.HasPrefix(strings.TrimSpace(tmpl[i]), "-") {
			return fmt.Errorf("argv[%d] would be %s, an option written by data: refused", i, QuoteArg(termsafe.Line(rendered[i])))
		}
	}
	return nil
}

// shellText are the characters no regex input may hold: white space,
// controls and what shells, interpreters and option parsers read as
// syntax. With them gone, a value a permissive pattern lets through is
// still no code, wherever a program the argv table does not know reads it.
func shellText(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(";|&$`<>(){}[]*?!'\"\\#~^", r)
}
