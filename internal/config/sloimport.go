package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/internal/suggest"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

// SLO formats ImportSLOs reads.
const (
	FormatOncall  = "oncall"
	FormatSloth   = "sloth"
	FormatPyrra   = "pyrra"
	FormatOpenSLO = "openslo"
)

// slothPeriod is the window of a Sloth SLO: Sloth's specs do not say it,
// and its default is 30 days.
const slothPeriod = 30 * 24 * time.Hour

// ImportSLOs reads every SLO in an SLO file, as it is: Sloth
// prometheus/v1 specs (and their PrometheusServiceLevel resource), Pyrra
// ServiceLevelObjective resources, OpenSLO v1 SLO documents (with the SLI
// documents they reference), or oncall's own `slos:` list. A file may
// hold several YAML documents. Each SLO's Origin is file:line (format).
// The error lists every problem with its line; the warnings, at theirs,
// what is valid but probably not meant (an objective of 0.999 where 99.9
// was).
func ImportSLOs(name string, b []byte) ([]SLO, problem.Problems, error) {
	im := &importer{file: name, slis: map[string]*yaml.Node{}}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			v := &validator{file: name}
			return nil, nil, problem.Problems{v.syntaxProblem(err)}
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			if len(doc.Content) > 0 && doc.Content[0].Tag == "!!null" {
				continue
			}
			im.problem(&doc, "a document is not a mapping")
			continue
		}
		docs = append(docs, doc.Content[0])
	}
	// OpenSLO SLIs first: an SLO may reference one defined after it
	for _, d := range docs {
		if str(d, "apiVersion") == "openslo/v1" && str(d, "kind") == "SLI" {
			im.slis[str(child(d, "metadata"), "name")] = d
		}
	}
	for _, d := range docs {
		api, kind := str(d, "apiVersion"), str(d, "kind")
		switch {
		case str(d, "version") == "prometheus/v1":
			im.sloth(d, d)
		case strings.HasPrefix(api, "sloth.slok.dev/") && kind == "PrometheusServiceLevel":
			im.sloth(d, child(d, "spec"))
		case strings.HasPrefix(api, "pyrra.dev/") && kind == "ServiceLevelObjective":
			im.pyrra(d)
		case api == "openslo/v1" && kind == "SLO":
			im.openSLO(d)
		case api == "openslo/v1":
			// SLIs are read through the SLOs that use them; other kinds
			// (Service, AlertPolicy…) say nothing oncall uses
		case child(d, "slos") != nil && api == "":
			im.native(child(d, "slos"))
		default:
			im.problem(d, "not a Sloth (version: prometheus/v1), Pyrra (pyrra.dev ServiceLevelObjective), OpenSLO (openslo/v1 SLO) or oncall (slos:) document")
		}
	}
	if len(im.problems) > 0 {
		return nil, im.warnings, im.problems
	}
	return im.out, im.warnings, nil
}

type importer struct {
	file     string
	out      []SLO
	problems problem.Problems
	warnings problem.Problems
	slis     map[string]*yaml.Node
}

func (im *importer) problem(n *yaml.Node, format string, a ...any) {
	im.problems = append(im.problems, problemAt(im.file, n, format, a...))
}

// add checks an imported SLO and keeps it, or reports it at n. A
// problem of a field is reported at the field's own line: at fields'
// node for the names CheckSLO uses (Pyrra's objective is its target),
// else at n's key of that name.
func (im *importer) add(n *yaml.Node, format string, s SLO, fields map[string]*yaml.Node) {
	s.Origin = fmt.Sprintf("%s:%d (%s)", im.file, n.Line, format)
	if s.Indicator == "" {
		s.Indicator = string(sources.SLIAvailability)
	}
	node := func(field string) *yaml.Node {
		if f := fields[field]; f != nil {
			return f
		}
		return at(n, field)
	}
	for _, msg := range CheckSLO(s) {
		field := msg
		if i := strings.IndexAny(field, ": "); i > 0 {
			field = field[:i]
		}
		im.problem(node(field), "slo %q: %s", s.Name, msg)
	}
	if w := RatioWarning(s.Objective); w != "" {
		im.warnings = append(im.warnings, problemAt(im.file, node("objective"), "slo %q: objective %s", s.Name, w))
	}
	im.out = append(im.out, s)
}

// RatioWarning says what an objective between 0 and 1 means, for it is
// a percentage: a 99.9% SLO written as the ratio 0.999 asks for almost
// nothing. It is "" for any other objective.
func RatioWarning(objective float64) string {
	if !(objective > 0 && objective < 1) {
		return ""
	}
	pct := roundSignificant(100 * objective) // 0.9996 → 99.96, not 99.96000000000001
	return fmt.Sprintf("%v means %v%%; for %v%% write %v", objective, objective, pct, pct)
}

// Ratio is the SLO's objective as a ratio (99.9 → 0.999), rounded to 10
// significant digits so that no float noise (0.9990000000000001) reaches
// a screen or JSON: every objective is turned into a ratio here.
func (s SLO) Ratio() float64 { return roundSignificant(s.Objective / 100) }

// roundSignificant rounds x to 10 significant digits, far more than any
// objective is written with and far fewer than float64's noise.
func roundSignificant(x float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 10, 64), 64)
	if err != nil {
		return x
	}
	return r
}

// child is the value of key in a mapping, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// str is the scalar value of key, or "".
func str(n *yaml.Node, key string) string {
	if c := child(n, key); c != nil && c.Kind == yaml.ScalarNode {
		return c.Value
	}
	return ""
}

// path follows keys down from n.
func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = child(n, k)
	}
	return n
}

// at is the node to report a problem of key at: the key's value, or n.
func at(n *yaml.Node, key string) *yaml.Node {
	if c := child(n, key); c != nil {
		return c
	}
	return n
}

// number reads a scalar as a float: Pyrra writes its target as a string.
func (im *importer) number(n *yaml.Node, key string) (float64, bool) {
	c := child(n, key)
	if c == nil || c.Kind != yaml.ScalarNode {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(c.Value), 64)
	if err != nil {
		im.problem(c, "%s: %q is not a number", key, c.Value)
		return 0, false
	}
	return v, true
}

func (im *importer) duration(n *yaml.Node, key string) (timeparse.Duration, bool) {
	c := child(n, key)
	if c == nil || c.Kind != yaml.ScalarNode {
		return 0, false
	}
	d, err := timeparse.ParseDuration(c.Value)
	if err != nil {
		im.problem(c, "%s: %v", key, err)
		return 0, false
	}
	return timeparse.Duration(d), true
}

// native reads oncall's own slos: list.
func (im *importer) native(list *yaml.Node) {
	if list.Kind != yaml.SequenceNode {
		im.problem(list, "slos: expected a list")
		return
	}
	for _, n := range list.Content {
		v := &validator{file: im.file, pos: map[string]*yaml.Node{}}
		v.walk(n, typeOf(SLO{}), "")
		var s SLO
		if len(v.problems) == 0 {
			if err := n.Decode(&s); err != nil {
				im.problem(n, "%v", err)
				continue
			}
			im.add(n, FormatOncall, s, nil)
			continue
		}
		im.problems = append(im.problems, v.problems...)
	}
}

// sloth reads a Sloth prometheus/v1 spec: its SLOs' event or raw
// queries, its page and ticket alerts (Sloth's windows for its 30-day
// period), and the recording rules Sloth names by sloth_id.
func (im *importer) sloth(doc, spec *yaml.Node) {
	service := str(spec, "service")
	if service == "" {
		im.problem(at(spec, "service"), "a Sloth spec needs its service")
	}
	list := child(spec, "slos")
	if list == nil || list.Kind != yaml.SequenceNode {
		im.problem(at(spec, "slos"), "a Sloth spec needs a list of slos")
		return
	}
	for _, n := range list.Content {
		s := SLO{Name: str(n, "name"), Service: service, Window: timeparse.Duration(slothPeriod),
			Recorded: &SLORecording{By: sources.RecordedBySloth, ID: service + "-" + str(n, "name")}}
		s.Objective, _ = im.number(n, "objective")
		sli := child(n, "sli")
		switch {
		case path(sli, "events") != nil:
			ev := path(sli, "events")
			s.Indicator, s.ErrorQuery, s.TotalQuery = string(sources.SLIRaw), str(ev, "error_query"), str(ev, "total_query")
		case path(sli, "raw") != nil:
			s.Indicator, s.ErrorRatioQuery = string(sources.SLIRaw), str(path(sli, "raw"), "error_ratio_query")
		case path(sli, "plugin") != nil:
			im.problem(path(sli, "plugin"), "slo %q: Sloth SLI plugins (%s) run inside Sloth; write its queries as events", s.Name, str(path(sli, "plugin"), "id"))
			continue
		default:
			im.problem(at(n, "sli"), "slo %q: the sli needs events or raw", s.Name)
			continue
		}
		al := child(n, "alerting")
		page, ticket := !(str(path(al, "page_alert"), "disable") == "true"), !(str(path(al, "ticket_alert"), "disable") == "true")
		for _, w := range []BurnAlert{
			{Severity: "page", Long: timeparse.Duration(time.Hour), Short: timeparse.Duration(5 * time.Minute), Factor: 14.4},
			{Severity: "page", Long: timeparse.Duration(6 * time.Hour), Short: timeparse.Duration(30 * time.Minute), Factor: 6},
			{Severity: "ticket", Long: timeparse.Duration(24 * time.Hour), Short: timeparse.Duration(2 * time.Hour), Factor: 3},
			{Severity: "ticket", Long: timeparse.Duration(72 * time.Hour), Short: timeparse.Duration(6 * time.Hour), Factor: 1},
		} {
			if (w.Severity == "page" && page) || (w.Severity == "ticket" && ticket) {
				s.Alerting = append(s.Alerting, w)
			}
		}
		if len(s.Alerting) == 0 {
			// both disabled: nothing to evaluate, but the policy may not be
			// empty (that means the default); keep the ticket one
			s.Alerting = []BurnAlert{{Severity: "ticket", Long: timeparse.Duration(72 * time.Hour), Short: timeparse.Duration(6 * time.Hour), Factor: 1}}
		}
		im.add(n, FormatSloth, s, nil)
	}
}

var (
	// plainSelector is a PromQL series selector and nothing else.
	plainSelector = regexp.MustCompile(`^\s*(?:[a-zA-Z_:][a-zA-Z0-9_:]*\s*(?:\{.*\})?|\{.*\})\s*$`)
	leMatcher     = regexp.MustCompile(`\s*,?\s*\ble\s*=\s*"([^"]*)"\s*,?`)
	metricName    = regexp.MustCompile(`^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)
	// serviceMatch finds an equality matcher on a label that names the
	// service, the way SLO tools' selectors usually carry it.
	serviceMatch = regexp.MustCompile(`\b(service|service_name|job|app)\s*=\s*"([^"]+)"`)
)

// serviceOf guesses the service from a selector's matchers, else def.
func serviceOf(sel, def string) string {
	best := ""
	rank := map[string]int{"service": 0, "service_name": 1, "job": 2, "app": 3}
	bestRank := 9
	for _, m := range serviceMatch.FindAllStringSubmatch(sel, -1) {
		if r := rank[m[1]]; r < bestRank {
			best, bestRank = m[2], r
		}
	}
	if best == "" {
		return def
	}
	return best
}

// pyrra reads a Pyrra ServiceLevelObjective: a ratio or latency
// indicator, its target and window, Pyrra's four burn-rate alerts scaled
// to the window, and the recording rules Pyrra names after the total
// metric and the objective's name.
func (im *importer) pyrra(doc *yaml.Node) {
	name := str(child(doc, "metadata"), "name")
	spec := child(doc, "spec")
	s := SLO{Name: name}
	s.Objective, _ = im.number(spec, "target")
	if w, ok := im.duration(spec, "window"); ok {
		s.Window = w
	}
	ind := child(spec, "indicator")
	var total string
	switch {
	case child(ind, "ratio") != nil:
		r := child(ind, "ratio")
		s.Errors, s.Total = str(child(r, "errors"), "metric"), str(child(r, "total"), "metric")
		total = s.Total
	case child(ind, "latency") != nil:
		l := child(ind, "latency")
		success, all := str(child(l, "success"), "metric"), str(child(l, "total"), "metric")
		m := leMatcher.FindStringSubmatch(success)
		if m == nil {
			im.problem(at(l, "success"), "slo %q: the latency success metric needs an le=\"…\" matcher, the threshold", name)
			return
		}
		le, err := strconv.ParseFloat(m[1], 64)
		if err != nil || le <= 0 || math.IsInf(le, 0) {
			im.problem(at(l, "success"), "slo %q: le=%q is not a latency in seconds", name, m[1])
			return
		}
		s.Indicator, s.LatencyThreshold = string(sources.SLILatency), timeparse.Duration(le*float64(time.Second))
		s.Histogram = strings.Replace(leMatcher.ReplaceAllString(success, ","), "{,", "{", 1)
		s.Histogram = strings.Replace(strings.Replace(s.Histogram, ",}", "}", 1), "{}", "", 1)
		total = all
	default:
		im.problem(at(spec, "indicator"), "slo %q: only Pyrra's ratio and latency indicators are read (not latencyNative or bool_gauge)", name)
		return
	}
	s.Service = serviceOf(total, name)
	if m := metricName.FindStringSubmatch(total); m != nil {
		s.Recorded = &SLORecording{By: sources.RecordedByPyrra, ID: name, Metric: m[1]}
	}
	// Pyrra's windows, for 28 days: 1h/5m ×14, 6h/30m ×7, 1d/2h ×2, 4d/6h ×1
	scale := func(d time.Duration) timeparse.Duration {
		return timeparse.Duration((time.Duration(float64(d) * float64(s.Window) / float64(28*24*time.Hour))).Round(time.Minute))
	}
	if str(path(spec, "alerting"), "disabled") != "true" && s.Window > 0 {
		s.Alerting = []BurnAlert{
			{Severity: "page", Long: scale(time.Hour), Short: scale(5 * time.Minute), Factor: 14},
			{Severity: "page", Long: scale(6 * time.Hour), Short: scale(30 * time.Minute), Factor: 7},
			{Severity: "ticket", Long: scale(24 * time.Hour), Short: scale(2 * time.Hour), Factor: 2},
			{Severity: "ticket", Long: scale(4 * 24 * time.Hour), Short: scale(6 * time.Hour), Factor: 1},
		}
	}
	im.add(doc, FormatPyrra, s, map[string]*yaml.Node{"objective": child(spec, "target"), "window": child(spec, "window"),
		"name": child(child(doc, "metadata"), "name"), "indicator": child(spec, "indicator")})
}

// openSLO reads an OpenSLO v1 SLO: one oncall SLO per objective, from a
// ratio indicator (inline or referenced) over Prometheus queries, with
// occurrences budgeting over a rolling window.
func (im *importer) openSLO(doc *yaml.Node) {
	name := str(child(doc, "metadata"), "name")
	spec := child(doc, "spec")
	if m := str(spec, "budgetingMethod"); m != "" && m != "Occurrences" {
		im.problem(at(spec, "budgetingMethod"), "slo %q: budgeting method %s: only Occurrences (events) is computed", name, m)
		return
	}
	ind := child(spec, "indicator")
	if ref := str(spec, "indicatorRef"); ref != "" {
		if ind = im.slis[ref]; ind == nil {
			im.problem(at(spec, "indicatorRef"), "slo %q: no SLI %q in this file", name, ref)
			return
		}
	}
	ratio := path(ind, "spec", "ratioMetric")
	if ratio == nil {
		im.problem(at(spec, "indicator"), "slo %q: only ratioMetric indicators are read", name)
		return
	}
	query := func(part string) string {
		src := path(ratio, part, "metricSource")
		if src == nil {
			return ""
		}
		if t := str(src, "type"); t != "" && !strings.EqualFold(t, "prometheus") {
			im.problem(at(src, "type"), "slo %q: metric source %s: only Prometheus is read", name, t)
		}
		return str(child(src, "spec"), "query")
	}
	good, bad, total := query("good"), query("bad"), query("total")
	base := SLO{Service: str(spec, "service")}
	if base.Service == "" {
		base.Service = name
	}
	if tw := child(spec, "timeWindow"); tw != nil && tw.Kind == yaml.SequenceNode && len(tw.Content) > 0 {
		w := tw.Content[0]
		if r := str(w, "isRolling"); r == "false" {
			im.problem(at(w, "isRolling"), "slo %q: calendar windows are not computed; use a rolling one", name)
			return
		}
		if d, ok := im.duration(w, "duration"); ok {
			base.Window = d
		}
	}
	sel := func(q string) bool { return plainSelector.MatchString(q) && !strings.Contains(q, "{{") }
	switch {
	case sel(total) && (sel(good) || sel(bad)):
		base.Total, base.Good, base.Errors = total, good, bad
	default:
		base.Indicator, base.TotalQuery, base.GoodQuery, base.ErrorQuery = string(sources.SLIRaw), total, good, bad
	}
	objectives := child(spec, "objectives")
	if objectives == nil || objectives.Kind != yaml.SequenceNode || len(objectives.Content) == 0 {
		im.problem(at(spec, "objectives"), "slo %q: no objectives", name)
		return
	}
	for i, o := range objectives.Content {
		s := base
		s.Name = name
		if len(objectives.Content) > 1 {
			s.Name = fmt.Sprintf("%s-%d", name, i+1)
			if dn := str(o, "displayName"); dn != "" {
				s.Name = name + "-" + strings.ReplaceAll(strings.ToLower(dn), " ", "-")
			}
		}
		objective := child(o, "targetPercent")
		if v, ok := im.number(o, "targetPercent"); ok {
			s.Objective = v
		} else if v, ok := im.number(o, "target"); ok {
			s.Objective, objective = roundSignificant(100*v), child(o, "target")
		}
		im.add(o, FormatOpenSLO, s, map[string]*yaml.Node{"objective": objective})
	}
}

// CheckSLO lists what is wrong with an SLO, field by field, as
// "field: message".
func CheckSLO(s SLO) []string {
	var out []string
	bad := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if s.Name == "" {
		bad("name is required")
	}
	if s.Service == "" {
		bad("service is required")
	}
	// written so that NaN, which compares false with everything, fails
	if !(s.Objective > 0 && s.Objective < 100) {
		bad("objective: %v is not a percentage between 0 and 100 exclusive, e.g. 99.9", s.Objective)
	}
	if s.Window <= 0 {
		bad("window is required, e.g. 28d")
	}
	// an unknown kind is reported alone: what a kind needs means nothing
	// before the kind is known, and the other fields are still checked
	kinds := []string{string(sources.SLIAvailability), string(sources.SLILatency), string(sources.SLIRaw)}
	if s.Indicator != "" && !slices.Contains(kinds, s.Indicator) {
		bad("indicator: %q is not availability, latency or raw%s", s.Indicator, suggest.DidYouMean(s.Indicator, kinds))
	} else if err := SLOIndicator(s).Check(); err != nil {
		bad("%v", err)
	}
	for _, q := range []struct{ field, v string }{{"errors", s.Errors}, {"good", s.Good}, {"total", s.Total}, {"histogram", s.Histogram}} {
		if q.v != "" && !plainSelector.MatchString(q.v) {
			bad("%s: %q is not a series selector, like http_requests_total{job=\"api\"}", q.field, q.v)
		}
	}
	for i, a := range s.Alerting {
		switch {
		case a.Severity != "page" && a.Severity != "ticket":
			bad("alerting[%d].severity: %q is not page or ticket", i, a.Severity)
		case a.Short <= 0 || a.Long <= a.Short:
			bad("alerting[%d]: the long window (%s) must be longer than the short one (%s)", i, time.Duration(a.Long), time.Duration(a.Short))
		case a.Factor <= 0:
			bad("alerting[%d].factor must be positive", i)
		}
	}
	if s.ValuePerMinuteDown < 0 {
		bad("value_per_minute_down must not be negative")
	}
	return out
}

// SLOIndicator is the SLO's indicator in domain terms.
func SLOIndicator(s SLO) sources.Indicator {
	kind := sources.SLIKind(s.Indicator)
	if kind == "" {
		kind = sources.SLIAvailability
	}
	ind := sources.Indicator{Kind: kind, Service: s.Service, Errors: s.Errors, Good: s.Good, Total: s.Total,
		Threshold: time.Duration(s.LatencyThreshold), Histogram: s.Histogram,
		ErrorQuery: s.ErrorQuery, GoodQuery: s.GoodQuery, TotalQuery: s.TotalQuery, ErrorRatioQuery: s.ErrorRatioQuery}
	if r := s.Recorded; r != nil {
		ind.Recorded = &sources.Recording{By: r.By, ID: r.ID, Metric: r.Metric}
	}
	return ind
}
