package chaos

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
)

const (
	// DefaultInterval is how often guards are read when the file does not
	// say: often enough that a tripped guard stops the fault within
	// seconds, rarely enough not to load the metrics backend.
	DefaultInterval = 5 * time.Second
	// DefaultOver is the window a RED check averages over when the file
	// does not say: one minute smooths a scrape's noise and still moves
	// within a few guard intervals of a change.
	DefaultOver = time.Minute
	// minInterval is the shortest guard interval: a scrape every second
	// is the finest any backend resolves.
	minInterval = time.Second
	// maxDuration is the longest an experiment's fault may stay in: one
	// longer than a day is a misconfiguration (10h meant as 10m), and
	// a rollback after an interrupt or a dead backend waits that long
	// for nobody.
	maxDuration = 24 * time.Hour
	// minSchedulePeriod is the shortest time between two scheduled
	// starts: a fault injected every few seconds is an outage, not an
	// experiment, and cron's own finest step is a minute.
	minSchedulePeriod = time.Minute
	// maxFileSize is the largest experiment file read: a real one is a
	// few kilobytes, and a file is read whole before it is parsed.
	maxFileSize = 1 << 20
	// categoryChaos is every experiment action's category unless the
	// file says otherwise, so the autopilot never counts them among its
	// automatable remedies.
	categoryChaos = "chaos"
)

// signals a RED check may read.
var signals = []string{remediate.SignalErrorRatio, remediate.SignalP99, remediate.SignalRequests}

// Parse reads and validates one experiment file: unknown keys, and every
// rule the experiment breaks, are problems naming file:line.
func Parse(b []byte, file string) (*Experiment, problem.Problems) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, problem.Problems{problem.FromYAML(file, err)}
	}
	if len(root.Content) == 0 {
		return nil, problem.Problems{{File: file, Msg: "empty file: an experiment needs name, hypothesis, target, inject, guards, duration and rollback"}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	e := &Experiment{File: file, Line: root.Content[0].Line}
	if err := dec.Decode(e); err != nil {
		return nil, problem.Problems{problem.FromYAML(file, err)}
	}
	sum := sha256.Sum256(b)
	e.SHA256 = hex.EncodeToString(sum[:])
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	e.Dir = filepath.Dir(abs)
	doc := root.Content[0]
	for key, lines := range map[string]func(int, int){
		"steady_state": func(i, l int) { e.SteadyState[i].Line = l },
		"guards":       func(i, l int) { e.Guards[i].Line = l },
		"inject":       func(i, l int) { e.Inject[i].Line = l },
		"rollback":     func(i, l int) { e.Rollback[i].Line = l },
	} {
		for i, l := range problem.ItemLines(doc, key) {
			lines(i, l)
		}
	}
	for i := range e.Inject {
		fill(&e.Inject[i], remediate.DangerHigh)
	}
	for i := range e.Rollback {
		fill(&e.Rollback[i], remediate.DangerLow)
	}
	if ps := e.check(keyLines(doc)); len(ps) > 0 {
		return nil, ps
	}
	return e, nil
}

// keyLines are the lines of a mapping's keys: where each top-level field
// was written, for its problems.
func keyLines(doc *yaml.Node) map[string]int {
	out := map[string]int{}
	if doc.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		out[doc.Content[i].Value] = doc.Content[i].Line
	}
	return out
}

// readFile reads an experiment file of at most maxFileSize bytes,
// refusing before it is read whole: a device or a huge file is no
// experiment, and reading it would hang or exhaust memory.
func readFile(path string) ([]byte, error) {
	// stat before open: opening a FIFO blocks until a writer comes, and
	// would hang list, run, the cockpit and the daemon for ever
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, notRegular(path, st)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		// replaced between the stat and the open
		return nil, notRegular(path, st)
	}
	tooBig := fmt.Errorf("%s is larger than %d bytes: an experiment file is a few kilobytes", path, maxFileSize)
	if st.Size() > maxFileSize {
		return nil, tooBig
	}
	// the file may grow between the stat and the read
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, tooBig
	}
	return b, nil
}

// fill gives an action the defaults of its section: an injection is high
// danger (its target's name is typed), a rollback low (it only undoes).
func fill(a *remediate.Action, danger remediate.Danger) {
	if a.Danger == "" {
		a.Danger = danger
	}
	if a.Category == "" {
		a.Category = categoryChaos
	}
}

// LoadDir reads every *.yaml and *.yml file of a directory (not its
// subdirectories) as one experiment each. It returns the valid ones and
// the problems of the others: one bad file never hides the rest.
func LoadDir(dir string) ([]*Experiment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("experiments %s: %w", dir, err)
	}
	var out []*Experiment
	var problems problem.Problems
	seen := map[string]string{}
	for _, d := range entries {
		ext := filepath.Ext(d.Name())
		if d.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		name := filepath.Join(dir, d.Name())
		b, err := readFile(name)
		if err != nil {
			problems = append(problems, problem.Problem{File: name, Msg: err.Error()})
			continue
		}
		e, ps := Parse(b, name)
		if len(ps) > 0 {
			problems = append(problems, ps...)
			continue
		}
		if other, dup := seen[e.Name]; dup {
			problems = append(problems, problem.Problem{File: name, Line: e.Line, Msg: fmt.Sprintf("experiment %q is also defined in %s", e.Name, other)})
			continue
		}
		seen[e.Name] = name
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(problems) > 0 {
		return out, problems
	}
	return out, nil
}

func notRegular(path string, st os.FileInfo) error {
	return fmt.Errorf("%s is not a regular file (%s): an experiment is a YAML file", path, st.Mode().Type())
}

// LoadFile reads and validates one experiment file.
func LoadFile(path string) (*Experiment, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	e, ps := Parse(b, path)
	if len(ps) > 0 {
		return nil, ps
	}
	return e, nil
}

// validate checks an experiment built by hand (not parsed), whose
// problems point at its first line.
func (e *Experiment) validate() problem.Problems { return e.check(nil) }

// check is every rule the experiment breaks; lines are its top-level
// keys' lines (e.Line for a key not written).
func (e *Experiment) check(lines map[string]int) problem.Problems {
	var ps problem.Problems
	bad := func(line int, format string, a ...any) {
		ps = append(ps, problem.Problem{File: e.File, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	at := func(key string) int {
		if l, ok := lines[key]; ok {
			return l
		}
		return e.Line
	}
	for _, f := range []struct{ name, v, why string }{
		{"name", e.Name, "the audit log files the run under it"},
		{"hypothesis", e.Hypothesis, "one sentence the report checks against"},
		{"target", e.Target, "the service the fault goes into, typed to confirm"},
	} {
		switch {
		case strings.TrimSpace(f.v) == "":
			bad(at(f.name), "%s is required: %s", f.name, f.why)
		case hasControl(f.v):
			bad(at(f.name), "%s %s has a control character: shown stripped, it would read as another", f.name, strconv.QuoteToASCII(f.v))
		}
	}
	if e.Target != "" && !hasControl(e.Target) {
		// {{.Target}} goes into argv: "--help" or "../x" must never get there
		if err := remediate.CheckServiceName(e.Target); err != nil {
			bad(at("target"), "target: %v", err)
		}
	}
	if len(e.Inject) == 0 {
		bad(at("inject"), "inject: an experiment needs at least one action that puts the fault in")
	}
	if len(e.Guards) == 0 {
		bad(at("guards"), "guards: an experiment needs at least one guard: it never runs unwatched")
	}
	if len(e.Rollback) == 0 {
		bad(at("rollback"), "rollback: an experiment needs at least one action that takes the fault out; without one it does not run")
	}
	duration, interval := time.Duration(e.Duration), e.Interval.Or(DefaultInterval)
	switch {
	case duration <= 0:
		bad(at("duration"), "duration is required and must be positive: how long the fault stays in")
	case duration > maxDuration:
		bad(at("duration"), "duration %s: at most %s; an experiment longer than a day is a misconfiguration, and its rollback would wait that long", timeparse.FormatDuration(duration), timeparse.FormatDuration(maxDuration))
	case interval < minInterval:
		bad(at("interval"), "interval %s: at least 1s", timeparse.FormatDuration(interval))
	case interval >= duration:
		bad(at("interval"), "interval %s: shorter than the duration %s, or the guards are read at most once", timeparse.FormatDuration(interval), timeparse.FormatDuration(duration))
	}
	if e.Schedule != "" {
		if sch, err := ParseSchedule(e.Schedule); err != nil {
			bad(at("schedule"), "schedule %q: %v (five fields, minute hour day month weekday, or @daily and the like; UTC)", e.Schedule, err)
		} else if p := schedulePeriod(sch); p < minSchedulePeriod {
			bad(at("schedule"), "schedule %q starts a run every %s: at most one a minute, or the fault is an outage", e.Schedule, timeparse.FormatDuration(p))
		}
	}
	names := map[string]bool{}
	actions := func(section string, as []remediate.Action) {
		for _, a := range as {
			switch {
			case a.Name == "":
				bad(a.Line, "%s action without a name", section)
			case hasControl(a.Name):
				bad(a.Line, "%s action %s: its name has a control character", section, strconv.QuoteToASCII(a.Name))
			case names[a.Name]:
				bad(a.Line, "action %q is defined twice", a.Name)
			}
			names[a.Name] = true
			if section == StageInject && a.Kind == remediate.KindSilence {
				bad(a.Line, "action %q: kind silence cannot inject a fault (exec, http or sim)", a.Name)
			}
			// a runbook's follow-ups have no meaning here: the
			// experiment's own rollback and guards stand in for them
			for _, f := range []struct {
				set  bool
				name string
			}{{a.ForEach != "", "for_each"}, {a.Verify != nil, "verify"}, {len(a.OnFailure) > 0, "on_failure"}, {a.Rollback != nil, "rollback"}, {a.Auto, "auto"}} {
				if f.set {
					bad(a.Line, "action %q: %s is a runbook's; an experiment has its guards and its rollback section instead", a.Name, f.name)
				}
			}
			for _, p := range remediate.CheckActions(nil, []remediate.Action{a}) {
				bad(a.Line, "%s", p)
			}
		}
	}
	actions(StageInject, e.Inject)
	actions(StageRollback, e.Rollback)
	for _, c := range e.SteadyState {
		for _, p := range c.problems() {
			bad(c.Line, "steady_state: %s", p)
		}
	}
	for _, c := range e.Guards {
		for _, p := range c.problems() {
			bad(c.Line, "guard: %s", p)
		}
	}
	return ps
}

// problems are what is wrong with one check.
func (c Check) problems() []string {
	var ps []string
	red, burn := c.Service != "" || c.Signal != "", c.SLO != "" || c.Burn != 0
	for _, n := range []struct{ key, v string }{{"service", c.Service}, {"slo", c.SLO}} {
		if hasControl(n.v) {
			ps = append(ps, fmt.Sprintf("%s %s has a control character", n.key, strconv.QuoteToASCII(n.v)))
		}
	}
	for _, b := range []*Bound{c.Below, c.Above} {
		if b != nil && (math.IsNaN(float64(*b)) || math.IsInf(float64(*b), 0)) {
			ps = append(ps, fmt.Sprintf("bound %s: a finite number", b))
		}
	}
	switch {
	case red == burn:
		ps = append(ps, "give service and signal, or slo and burn")
	case red && (c.Service == "" || !slices.Contains(signals, c.Signal)):
		ps = append(ps, fmt.Sprintf("service %q, signal %q: a service and one of %s", c.Service, c.Signal, strings.Join(signals, ", ")))
	case burn && (c.SLO == "" || c.Burn <= 0):
		ps = append(ps, "slo and burn (a window such as 5m) go together")
	case burn && c.Over != 0:
		ps = append(ps, "over is a RED check's: an SLO's burn is already over its window")
	}
	if (c.Below == nil) == (c.Above == nil) {
		ps = append(ps, "give exactly one of below and above")
	}
	if c.Signal == remediate.SignalErrorRatio {
		for _, b := range []*Bound{c.Below, c.Above} {
			if b != nil && (*b < 0 || *b > 1) {
				ps = append(ps, fmt.Sprintf("error ratio bound %s: a ratio between 0 and 1 (write 1%% or 0.01)", b))
			}
		}
	}
	return ps
}

// hasControl says whether s holds a control or format character (an
// escape, a newline, a bidi override): stripped or rendered, such a name
// reads as another.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0
}

// schedulePeriod is the shortest time between two of a schedule's next
// few starts after a fixed time: enough for @every and for cron's minute
// fields.
func schedulePeriod(s cron.Schedule) time.Duration {
	at := s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	shortest := time.Duration(math.MaxInt64)
	for range 4 {
		next := s.Next(at)
		if next.IsZero() {
			break
		}
		shortest = min(shortest, next.Sub(at))
		at = next
	}
	return shortest
}

// ParseSchedule reads an experiment's schedule: five cron fields or a
// descriptor (@daily, @every 1h), in UTC unless it names its zone
// (CRON_TZ=Europe/Paris …), so that one file means one time everywhere.
func ParseSchedule(spec string) (cron.Schedule, error) {
	s := strings.TrimSpace(spec)
	if !strings.HasPrefix(s, "TZ=") && !strings.HasPrefix(s, "CRON_TZ=") {
		s = "CRON_TZ=UTC " + s
	}
	return cron.ParseStandard(s)
}

// UnmarshalYAML reads a number or a percentage ("1%" is 0.01) as a
// runbook's condition does (remediate.Number), or a duration ("500ms" is
// 0.5: p99 is in seconds).
func (b *Bound) UnmarshalYAML(n *yaml.Node) error {
	var num remediate.Number
	if err := num.UnmarshalYAML(n); err == nil {
		*b = Bound(num)
		return nil
	}
	s := strings.TrimSpace(n.Value)
	d, err := timeparse.ParseDuration(s)
	if err != nil {
		// .inf, or 1e400 (out of float64's range): a number, but no bound
		_, ferr := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
		if n.ShortTag() == "!!float" || errors.Is(ferr, strconv.ErrRange) {
			return fmt.Errorf("line %d: bound %q must be a finite number", n.Line, s)
		}
		return fmt.Errorf("line %d: bound %q: write a number (14.4), a percentage (1%%) or a duration (500ms)", n.Line, s)
	}
	*b = Bound(d.Seconds())
	return nil
}

// String writes the bound as a plain number (a ratio, seconds or a rate).
func (b Bound) String() string { return strconv.FormatFloat(float64(b), 'g', -1, 64) }

// Label is the check in words: "payment-api error ratio < 1%",
// "payment-api p99 < 2s", "checkout-availability burn 5m < 14.4".
func (c Check) Label() string {
	op, b := "<", c.Below
	if c.Above != nil {
		op, b = ">", c.Above
	}
	bound := "?"
	if b != nil {
		bound = c.written(float64(*b))
	}
	if c.SLO != "" {
		return fmt.Sprintf("%s burn %s %s %s", c.SLO, timeparse.FormatDuration(time.Duration(c.Burn)), op, bound)
	}
	return fmt.Sprintf("%s %s %s %s", c.Service, strings.ReplaceAll(c.Signal, "_", " "), op, bound)
}

// Format writes a value of the check's signal as every oncall output
// writes it (internal/humanize): a ratio as a percentage, a latency in
// ms or s, a rate per second, a burn rate to three figures.
func (c Check) Format(v float64) string {
	switch {
	case v != v:
		return "undefined"
	case c.SLO != "":
		return strconv.FormatFloat(v, 'g', 3, 64)
	case c.Signal == remediate.SignalErrorRatio:
		return humanize.Percent(v)
	case c.Signal == remediate.SignalP99:
		return humanize.SecondsShort(v)
	case c.Signal == remediate.SignalRequests:
		return humanize.Rate(v)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// written is a bound as its file wrote it: "1%", "500ms", "14.4".
func (c Check) written(v float64) string {
	switch {
	case c.SLO != "":
	case c.Signal == remediate.SignalErrorRatio:
		return strconv.FormatFloat(v*100, 'g', -1, 64) + "%"
	case c.Signal == remediate.SignalP99:
		return timeparse.FormatDuration(time.Duration(v * float64(time.Second)).Round(time.Millisecond))
	case c.Signal == remediate.SignalRequests:
		return strconv.FormatFloat(v, 'g', -1, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// holds says whether v meets the check's bound; an undefined value never
// does.
func (c Check) holds(v float64) bool {
	if v != v {
		return false
	}
	return (c.Below == nil || v < float64(*c.Below)) && (c.Above == nil || v > float64(*c.Above))
}

// over is the window a RED check averages over.
func (c Check) over() time.Duration { return c.Over.Or(DefaultOver) }
