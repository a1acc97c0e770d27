package remediate

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// sensitiveHeaders are shown as ‹redacted› whatever their template.
var sensitiveHeaders = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "X-Api-Key": true, "X-Auth-Token": true}

func redactHeader(k, v string) string {
	if sensitiveHeaders[http.CanonicalHeaderKey(k)] && !strings.Contains(v, "‹secret:") {
		return "‹redacted›"
	}
	return v
}

var urlSecrets = regexp.MustCompile(`(?i)([?&](?:token|access_token|api_key|apikey|key|password|secret|sig|signature)=)[^&#]*`)

// redactURL hides credentials in a URL: user:password@ and token-like
// query parameters.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if at := strings.Index(rest, "@"); at >= 0 && at < strings.IndexAny(rest+"/", "/?#") {
			u = u[:i+3] + "‹redacted›@" + rest[at+1:]
		}
	}
	return urlSecrets.ReplaceAllString(u, "${1}‹redacted›")
}

// minScrubbed is the shortest value scrubbed out of text: a shorter
// "secret" guards nothing, and scrubbing it would rewrite ordinary words.
const minScrubbed = 4

// scrubber removes known secret values from text: the last guard for
// what a command, a server or an error echoes back of what it was sent.
type scrubber struct {
	secrets  []shownSecret
	replacer *strings.Replacer // the secrets, longest first, in one pass
}

type shownSecret struct{ value, shown string }

// add scrubs value as shown: as written, as a URL, JSON or base64
// encodes it, forms in which a server echoes what it was sent.
func (s *scrubber) add(value, shown string) {
	quoted, _ := json.Marshal(value)
	forms := []string{value, url.PathEscape(value), url.QueryEscape(value), strings.Trim(string(quoted), `"`),
		base64.StdEncoding.EncodeToString([]byte(value)), base64.RawStdEncoding.EncodeToString([]byte(value)), base64.RawURLEncoding.EncodeToString([]byte(value))}
	for _, v := range forms {
		if len(v) < minScrubbed || slices.ContainsFunc(s.secrets, func(x shownSecret) bool { return x.value == v }) {
			continue
		}
		s.secrets = append(s.secrets, shownSecret{v, shown})
	}
	// the longest first: a secret that holds another is replaced whole
	slices.SortStableFunc(s.secrets, func(a, b shownSecret) int { return len(b.value) - len(a.value) })
	pairs := make([]string, 0, 2*len(s.secrets))
	for _, x := range s.secrets {
		pairs = append(pairs, x.value, x.shown)
	}
	s.replacer = strings.NewReplacer(pairs...)
}

// addURL scrubs the secrets of the URL called name, which a server echoes
// or a redirect carries to another host: its user and password, each
// query value, and its path when it holds a secret (a webhook's does).
// The scheme, host and parameter names stay readable.
func (s *scrubber) addURL(u, name string, pathSecret bool) {
	p, err := url.Parse(u)
	if err != nil {
		// unreadable: scrubbed whole
		s.add(u, secretShown(name))
		return
	}
	if pathSecret && p.Path != "/" {
		s.add(p.EscapedPath(), secretShown(name+" path"))
		s.add(p.Path, secretShown(name+" path"))
	}
	for _, kv := range strings.Split(p.RawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		s.add(v, secretShown(name+" query "+k))
		if plain, err := url.QueryUnescape(v); err == nil {
			s.add(plain, secretShown(name+" query "+k))
		}
	}
	if p.User != nil {
		s.add(p.User.Username(), secretShown(name+" user"))
		if pw, ok := p.User.Password(); ok {
			s.add(pw, secretShown(name+" password"))
		}
	}
}

// reading is getenv, keeping each secret it hands out to scrub it later.
// Without a getenv no secret is set: a command never runs with a
// placeholder in place of its secret.
func (s *scrubber) reading(getenv func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if getenv == nil {
			return "", false
		}
		v, ok := getenv(name)
		if ok {
			s.add(v, secretShown(name))
		}
		return v, ok
	}
}

// scrub replaces every secret in text with how it is shown.
func (s *scrubber) scrub(text string) string {
	if s.replacer == nil {
		return text
	}
	return s.replacer.Replace(text)
}

// scrubbing is the executor with its reports scrubbed of a run's
// secrets: a command's output and a server's answer may echo them.
func (x *Executor) scrubbing(s *scrubber) *Executor {
	y := *x
	if x.Report != nil {
		y.Report = func(e Event) {
			e.Line = s.scrub(e.Line)
			x.Report(e)
		}
	}
	return &y
}

// credentialsFixedHost says why a request that carries a credential (a
// secret, or a header that holds one) lets data choose where it goes, or
// "": its scheme, host and port must be written in the runbook before any
// template. The authority must end in that text too, at a '/', '?' or '#':
// a template before that end could write "host/?" and turn the written
// host into userinfo, or name another port or host.
func (h *HTTPSpec) credentialsFixedHost() string {
	if !h.carriesCredential() {
		return ""
	}
	written, templated := writtenURL(h.URL)
	scheme, rest, ok := strings.Cut(written, "://")
	end := strings.IndexAny(rest, "/?#")
	if !ok || scheme == "" || (templated && end < 1) {
		return "http.url: the request carries a credential, so its scheme, host and port must be fixed in the runbook, written before any template and followed by '/', '?' or '#': data would choose where the credential goes"
	}
	return ""
}

// carriesCredential reports whether a request sends a secret or a header
// that holds one.
func (h *HTTPSpec) carriesCredential() bool {
	carries := strings.Contains(h.URL+h.Body, "secret")
	for k, v := range h.Headers {
		carries = carries || strings.Contains(v, "secret") || sensitiveHeaders[http.CanonicalHeaderKey(k)]
	}
	return carries
}

// writtenURL is the text of a URL template before its first template, and
// whether a template follows.
func writtenURL(t string) (string, bool) {
	written, _, templated := strings.Cut(t, "{{")
	return written, templated
}

// sentWhereWritten refuses a rendered request that carries a credential
// to another scheme, host or port than the runbook wrote: what validation
// asks of the template, checked on every plan, whatever validation allowed
// (a runbook built in code skips it).
func (s Spec) sentWhereWritten(c Command) error {
	if s.Kind != KindHTTP || s.HTTP == nil || c.Request == nil || !s.HTTP.carriesCredential() {
		return nil
	}
	written, _ := writtenURL(s.HTTP.URL)
	w, werr := url.Parse(written)
	r, rerr := url.Parse(c.Request.URL)
	if werr != nil || rerr != nil || w.Host == "" || !strings.EqualFold(w.Scheme, r.Scheme) || w.Host != r.Host || w.User.String() != r.User.String() {
		return fmt.Errorf("http.url: the request carries a credential and would go to %s, not where the runbook wrote: data would choose where the credential goes",
			QuoteArg(termsafe.Line(redactURL(c.Request.URL))))
	}
	return nil
}
