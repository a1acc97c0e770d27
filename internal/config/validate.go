package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/internal/suggest"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

type validator struct {
	file     string
	dir      string
	problems problem.Problems
	// warnings are what is valid but probably not meant.
	warnings problem.Problems
	// blanked are the values bad() reported and blanked: the checks of
	// meaning say nothing more of them.
	blanked map[*yaml.Node]bool
	// pos maps a dotted path (datasources.loki.url, slos[0].name) to its value node.
	pos map[string]*yaml.Node
}

func (v *validator) at(n *yaml.Node, format string, args ...any) {
	v.problems = append(v.problems, problemAt(v.file, n, format, args...))
}

// problemAt is a problem of file at n's line and column, or of the whole
// file when n is nil.
func problemAt(file string, n *yaml.Node, format string, args ...any) problem.Problem {
	p := problem.Problem{File: file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	return p
}

// bad reports a value that cannot be decoded and blanks it, so that the
// rest of the file still decodes and every problem is reported at once.
func (v *validator) bad(n *yaml.Node, format string, args ...any) {
	v.at(n, format, args...)
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	if v.blanked == nil {
		v.blanked = map[*yaml.Node]bool{}
	}
	v.blanked[n] = true
}

// warnPath notes, at the node recorded for path, what is valid but
// probably not meant: it does not make the file fail.
func (v *validator) warnPath(path string, format string, args ...any) {
	v.warnings = append(v.warnings, problemAt(v.file, v.pos[path], "%s: %s", path, fmt.Sprintf(format, args...)))
}

// atPath reports at the node recorded for path, or the file when absent.
func (v *validator) atPath(path string, format string, args ...any) {
	if n := v.pos[path]; n != nil && v.blanked[n] {
		return
	}
	v.at(v.pos[path], "%s: %s", path, fmt.Sprintf(format, args...))
}

// conventionProblem reports a conventions error at the key it names
// (sources.ConventionError), or at the nearest key above it the file has
// (a single label is one value, not a list with an element [0]; a
// default is in no file).
func (v *validator) conventionProblem(err error) {
	var ce *sources.ConventionError
	if !errors.As(err, &ce) {
		if err != nil {
			v.atPath("conventions", "%v", err)
		}
		return
	}
	path := "conventions." + ce.Path
	for v.pos[path] == nil && strings.ContainsAny(path, ".[") {
		path = path[:strings.LastIndexAny(path, ".[")]
	}
	v.at(v.pos[path], "%s: %v", path, ce.Err)
}

// blankedUnder says whether the walk blanked a value at path or under it:
// it reported that value already, and what compiles the section would
// only say it again, or worse.
func (v *validator) blankedUnder(path string) bool {
	for p, n := range v.pos {
		if v.blanked[n] && (p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[")) {
			return true
		}
	}
	return false
}

var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// expandEnv replaces ${VAR} and ${VAR:-default} in scalar values ($$ is a
// literal $). Keys are not expanded. A plain scalar is re-typed after
// expansion, so `tier: ${TIER}` is still an integer.
func (v *validator) expandEnv(n *yaml.Node, getenv func(string) (string, bool)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			v.expandEnv(c, getenv)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			v.expandEnv(n.Content[i], getenv)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			if m == "$$" {
				return "$"
			}
			sub := envRef.FindStringSubmatch(m)
			if val, ok := getenv(sub[1]); ok && val != "" {
				return val
			}
			if strings.Contains(m, ":-") {
				return sub[2]
			}
			v.at(n, "environment variable %s is not set (write ${%s:-default} to give a fallback)", sub[1], sub[1])
			return ""
		})
		if n.Style == 0 {
			n.Tag = ""
		}
	}
}

var (
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	durationType    = reflect.TypeFor[timeparse.Duration]()
	labelListType   = reflect.TypeFor[sources.LabelList]()
)

func typeOf(x any) reflect.Type { return reflect.TypeOf(x) }

// walk checks n against Go type t: unknown keys, wrong shapes and scalars
// that do not parse, each at its line and column. It records every value's
// position under its path for the checks after decoding.
func (v *validator) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	v.pos[path] = n
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value keeps the default
	}
	where := path
	if where == "" {
		where = "the top level"
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			v.bad(n, "%s: expected a duration such as 30s or 5m, got a %s", where, kindName(n))
		} else if _, err := timeparse.ParseDuration(n.Value); err != nil {
			v.bad(n, "%s: %v", where, err)
		}
		return
	case reflect.PointerTo(t).Implements(unmarshalerType):
		return
	case t == labelListType && n.Kind == yaml.ScalarNode:
		return // one label; a list is walked as any list
	case t == labelListType && n.Kind != yaml.SequenceNode:
		v.bad(n, "%s: expected a label or a list of labels, got a %s", where, kindName(n))
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			v.bad(n, "%s: expected a mapping of %s, got a %s", where, strings.Join(fieldNames(t), ", "), kindName(n))
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		kept := n.Content[:0:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if seen[k.Value] {
				v.at(k, "%s: key %q appears twice", where, k.Value)
			}
			seen[k.Value] = true
			f, ok := fields[k.Value]
			if !ok {
				v.at(k, "unknown key %q in %s; expected one of: %s%s", k.Value, where, strings.Join(fieldNames(t), ", "), suggest.DidYouMean(k.Value, fieldNames(t)))
				continue // dropped, so the rest decodes
			}
			v.walk(val, f.Type, join(path, k.Value))
			kept = append(kept, k, val)
		}
		n.Content = kept
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			v.bad(n, "%s: expected a mapping, got a %s", where, kindName(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v.walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			v.bad(n, "%s: expected a list, got a %s", where, kindName(n))
			return
		}
		for i, c := range n.Content {
			v.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			v.bad(n, "%s: expected a string, got a %s", where, kindName(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			v.bad(n, "%s: expected true or false, got %s", where, describe(n))
		}
	case reflect.Int, reflect.Int64, reflect.Uint32:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			v.bad(n, "%s: expected a whole number, got %s", where, describe(n))
		}
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			v.bad(n, "%s: expected a number, got %s", where, describe(n))
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "scalar"
	}
}

func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = f
		}
	}
	return out
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// eachDatasource calls f for every datasource, the top-level ones and the
// contexts', with its path in the file.
func eachDatasource(c *Config, f func(path string, ds *Datasource)) {
	c.Datasources.Each(func(name string, ds *Datasource) { f("datasources."+name, ds) })
	for _, cn := range c.ContextNames() {
		ctx := c.Contexts[cn]
		ctx.Datasources.Each(func(name string, ds *Datasource) { f("contexts."+cn+".datasources."+name, ds) })
	}
}

// resolveSecrets reads *_file secrets, relative to the config file.
func (v *validator) resolveSecrets(c *Config) {
	eachDatasource(c, func(base string, ds *Datasource) {
		if ds.BearerTokenFile != "" {
			if ds.BearerToken != "" {
				v.atPath(base+".bearer_token_file", "set bearer_token or bearer_token_file, not both")
			}
			ds.BearerToken = v.readSecret(base+".bearer_token_file", ds.BearerTokenFile)
		}
		if ba := ds.BasicAuth; ba != nil && ba.PasswordFile != "" {
			if ba.Password != "" {
				v.atPath(base+".basic_auth.password_file", "set password or password_file, not both")
			}
			ba.Password = v.readSecret(base+".basic_auth.password_file", ba.PasswordFile)
		}
	})
}

func (v *validator) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(v.dir, p)
}

func (v *validator) readSecret(path, file string) Secret {
	b, err := os.ReadFile(v.resolve(file))
	if err != nil {
		v.atPath(path, "cannot read secret: %v", err)
		return ""
	}
	return Secret(strings.TrimRight(string(b), "\r\n"))
}

var themes = []string{"dark", "light", "high-contrast", "colorblind"}

var hexColour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// check validates meaning: URLs, exclusive options, files, SLO maths.
func (v *validator) check(c *Config) {
	eachDatasource(c, v.checkDatasource)
	for _, name := range c.ContextNames() {
		ctx := c.Contexts[name]
		p := "contexts." + name
		if ctx.Confirm != "" && ctx.Confirm != ConfirmTyped {
			v.atPath(p+".confirm", "%q is not %q (leave it out for y/N)%s", ctx.Confirm, ConfirmTyped, suggest.DidYouMean(ctx.Confirm, []string{ConfirmTyped}))
		}
		if ctx.Color != "" && !hexColour.MatchString(ctx.Color) {
			v.atPath(p+".color", "%q is not a colour like #d55e00", ctx.Color)
		}
		n := 0
		ctx.Datasources.Each(func(string, *Datasource) { n++ })
		if n == 0 {
			v.atPath(p, "a context needs datasources")
		}
	}
	v.checkGrafana("grafana", &c.Grafana)
	for _, name := range c.ContextNames() {
		if g := c.Contexts[name].Grafana; g != nil {
			v.checkGrafana("contexts."+name+".grafana", g)
		}
	}
	if cur := c.CurrentContext; cur != "" {
		if _, ok := c.Contexts[cur]; !ok {
			v.atPath("current-context", "%q is not one of the contexts (%s)%s", cur, strings.Join(c.ContextNames(), ", "), suggest.DidYouMean(cur, c.ContextNames()))
		}
	}
	if _, err := c.Conventions.CompileRED(); err != nil {
		v.atPath("conventions.red", "%v", err)
	}
	if _, err := c.Conventions.CompileTraceID(); err != nil {
		v.atPath("conventions.trace_id.regexes", "%v", err)
	}
	if !v.blankedUnder("conventions.resources") {
		_, err := c.Conventions.CompileResources()
		v.conventionProblem(err)
	}
	if !v.blankedUnder("conventions.changes") {
		_, err := c.Conventions.CompileChanges()
		v.conventionProblem(err)
	}
	if len(c.Conventions.Alerts.ServiceLabels) == 0 {
		v.atPath("conventions.alerts.service_labels", "needs at least one label, or no alert names its service")
	}
	for name, s := range c.Services {
		p := "services." + name
		if s.ValuePerRequest < 0 {
			v.atPath(p+".value_per_request", "must not be negative")
		}
		if s.Tier < 0 {
			v.atPath(p+".tier", "must not be negative")
		}
		for i, link := range s.Runbooks {
			if u, err := url.Parse(link); err != nil || u.Scheme == "" {
				v.atPath(fmt.Sprintf("%s.runbooks[%d]", p, i), "%q is not a URL", link)
			}
		}
	}
	names := map[string]bool{}
	for i := range c.SLOs {
		s := &c.SLOs[i]
		p := fmt.Sprintf("slos[%d]", i)
		if n := v.pos[p]; n != nil {
			s.Origin = fmt.Sprintf("%s:%d", v.file, n.Line)
		}
		if s.Name != "" && names[s.Name] {
			v.atPath(p+".name", "SLO %q is defined twice", s.Name)
		}
		names[s.Name] = true
		if s.Indicator == "" {
			s.Indicator = string(sources.SLIAvailability)
		}
		for _, msg := range CheckSLO(*s) {
			// "objective: …" is reported at the objective's line
			field := msg
			if i := strings.IndexAny(field, ": "); i > 0 {
				field = field[:i]
			}
			if _, ok := v.pos[p+"."+field]; ok {
				v.atPath(p+"."+field, "%s", strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(msg, field), ":")))
				continue
			}
			v.atPath(p, "%s", msg)
		}
		if w := RatioWarning(s.Objective); w != "" {
			v.warnPath(p+".objective", "%s", w)
		}
	}
	// a file listed twice is read once: its problems are said once
	listed, twice := map[string]string{}, map[int]bool{}
	for i, f := range c.SLOFiles {
		p := fmt.Sprintf("slo_files[%d]", i)
		if first, ok := listed[v.resolve(f)]; ok {
			v.warnPath(p, "%s is listed twice (also %s)", f, first)
			twice[i] = true
		}
		listed[v.resolve(f)] = cmp.Or(listed[v.resolve(f)], p)
	}
	for i, f := range c.SLOFiles {
		p := fmt.Sprintf("slo_files[%d]", i)
		if twice[i] {
			continue
		}
		b, err := os.ReadFile(v.resolve(f))
		if err != nil {
			v.atPath(p, "%v", err)
			continue
		}
		slos, warnings, err := ImportSLOs(v.resolve(f), b)
		v.warnings = append(v.warnings, warnings...)
		var ps problem.Problems
		if errors.As(err, &ps) {
			v.problems = append(v.problems, ps...)
			continue
		}
		for _, s := range slos {
			if names[s.Name] {
				v.atPath(p, "SLO %q of %s is defined twice", s.Name, s.Origin)
			}
			names[s.Name] = true
			c.SLOs = append(c.SLOs, s)
		}
	}
	v.checkRemediation(c.Remediation)
	v.checkIncident(c)
	v.checkHistory(&c.History)
	v.checkChaos(&c.Chaos)
	if c.Runbooks != "" {
		if st, err := os.Stat(v.resolve(c.Runbooks)); err != nil || !st.IsDir() {
			v.atPath("runbooks", "%q is not a directory", c.Runbooks)
		} else {
			c.Runbooks = v.resolve(c.Runbooks)
		}
	}
	if c.Theme != "" && !slices.Contains(themes, c.Theme) {
		if !strings.HasSuffix(c.Theme, ".yaml") && !strings.HasSuffix(c.Theme, ".yml") {
			v.atPath("theme", "%q is not one of %s, nor a .yaml palette file%s", c.Theme, strings.Join(themes, ", "), suggest.DidYouMean(c.Theme, themes))
		} else if _, err := os.Stat(v.resolve(c.Theme)); err != nil {
			v.atPath("theme", "palette file: %v", err)
		} else {
			c.Theme = v.resolve(c.Theme)
		}
	}
	if c.Currency == "" {
		c.Currency = "USD"
	}
}

// checkGrafana checks the Explore settings: an http(s) URL, and UIDs for
// the datasources links can open.
func (v *validator) checkGrafana(p string, g *Grafana) {
	if a := g.Annotations; a != nil {
		if g.URL == "" {
			v.atPath(p+".annotations", "needs %s.url, the Grafana to read them from", p)
		}
		if a.Limit < 0 {
			v.atPath(p+".annotations.limit", "must be positive")
		}
	}
	if g.Annotations != nil && g.URL != "" {
		// the annotations are read as a datasource is: the same rules for
		// the URL, TLS files and timeout
		ds := Datasource{URL: g.URL, TLS: g.TLS, Timeout: g.Timeout}
		v.checkDatasource(p, &ds)
		g.TLS = ds.TLS
	} else if g.URL != "" {
		if u, err := url.Parse(g.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.atPath(p+".url", "%q is not an http(s) URL", g.URL)
		}
	}
	kinds := []string{"prometheus", "loki", "tempo"}
	for k := range g.Datasources {
		if !slices.Contains(kinds, k) {
			v.atPath(p+".datasources."+k, "links open prometheus, loki or tempo, not %q%s", k, suggest.DidYouMean(k, kinds))
		}
	}
}

func (v *validator) checkDatasource(p string, ds *Datasource) {
	u, err := url.Parse(ds.URL)
	switch {
	case ds.URL == "":
		v.atPath(p, "url is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.atPath(p+".url", "%q is not an http(s) URL", ds.URL)
	case u.User != nil:
		v.atPath(p+".url", "put credentials in basic_auth, not in the URL")
	case u.RawQuery != "":
		// a key in a query string would be printed with every error
		// that names the URL
		v.atPath(p+".url", "a datasource URL takes no query (?…): put credentials in basic_auth, bearer_token or headers, where they are redacted")
	}
	if ba := ds.BasicAuth; ba != nil {
		if ba.Username == "" {
			v.atPath(p+".basic_auth", "username is required")
		}
		if ds.BearerToken != "" {
			v.atPath(p+".basic_auth", "set basic_auth or a bearer token, not both")
		}
	}
	for _, f := range []struct{ key, file string }{{"ca_file", ds.TLS.CAFile}, {"cert_file", ds.TLS.CertFile}, {"key_file", ds.TLS.KeyFile}} {
		if f.file == "" {
			continue
		}
		if _, err := os.Stat(v.resolve(f.file)); err != nil {
			v.atPath(p+".tls."+f.key, "%v", err)
		}
	}
	ds.TLS.CAFile, ds.TLS.CertFile, ds.TLS.KeyFile = v.resolve(ds.TLS.CAFile), v.resolve(ds.TLS.CertFile), v.resolve(ds.TLS.KeyFile)
	if (ds.TLS.CertFile == "") != (ds.TLS.KeyFile == "") {
		v.atPath(p+".tls", "cert_file and key_file go together")
	}
	if ds.Timeout < 0 {
		v.atPath(p+".timeout", "must be positive")
	}
	if ds.Retries != nil && (*ds.Retries < 0 || *ds.Retries > 10) {
		v.atPath(p+".retries", "must be between 0 and 10")
	}
	if ds.MaxConcurrency < 0 {
		v.atPath(p+".max_concurrency", "must be positive")
	}
}

func (v *validator) checkRemediation(r Remediation) {
	for i, c := range r.Automatable {
		// compared as a person means it: "Security", "data-corruption ",
		// "financial_transactions" and a zero-width space are the
		// categories they name
		norm := normalizeCategory(c)
		switch at := fmt.Sprintf("remediation.automatable[%d]", i); {
		case strings.ContainsAny(c, "*?[]"):
			v.atPath(at, "%q: a category is a name, not a pattern: list each one", c)
		case slices.Contains(NeverAutomatable, norm):
			v.atPath(at, "%q is never automatable: %s always go to a human", c, strings.Join(NeverAutomatable, ", "))
		case norm != c:
			// runbooks' categories are compared exactly: this one would never match
			v.atPath(at, "%q: write it as %q, as runbooks write categories", c, norm)
		}
	}
	for _, f := range []struct{ path, val string }{{"remediation.rate_per_action", r.RatePerAction}, {"remediation.rate_per_service", r.RatePerService}} {
		if f.val == "" {
			continue
		}
		if _, _, err := timeparse.ParseRate(f.val); err != nil {
			v.atPath(f.path, "%q: write runs/duration, e.g. 3/1h", f.val)
		}
	}
	if r.MaxConcurrent < 0 {
		v.atPath("remediation.max_concurrent", "must not be negative")
	}
	kinds := []string{"pagerduty", "slack", "webhook"}
	names := map[string]bool{}
	for i, e := range r.Escalation {
		p := fmt.Sprintf("remediation.escalation[%d]", i)
		if e.Name == "" {
			v.atPath(p, "an escalation target needs a name")
		} else if names[e.Name] {
			v.atPath(p+".name", "%q is defined twice", e.Name)
		}
		names[e.Name] = true
		switch {
		case !slices.Contains(kinds, e.Kind):
			v.atPath(p+".kind", "%q is not pagerduty, slack or webhook%s", e.Kind, suggest.DidYouMean(e.Kind, kinds))
		case e.Kind == "pagerduty" && e.RoutingKey == "":
			v.atPath(p, "pagerduty needs routing_key (the Events API v2 integration key; ${VAR} reads it from the environment)")
		case e.Kind != "pagerduty" && e.URL == "":
			v.atPath(p, "%s needs url", e.Kind)
		}
		if e.URL != "" {
			if u, err := url.Parse(e.URL.Reveal()); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				v.atPath(p+".url", "not an http(s) URL")
			}
		}
	}
}

// normalizeCategory is a category as runbooks must write it: lower case,
// words joined by '-', with no invisible characters.
func normalizeCategory(c string) string {
	c = strings.Map(func(r rune) rune {
		switch {
		case r == '_' || unicode.IsSpace(r):
			return '-'
		case !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r):
			return -1
		}
		return unicode.ToLower(r)
	}, c)
	return strings.Trim(c, "-")
}
