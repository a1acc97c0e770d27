package history

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

// redacted is what a secret found in free text is shown as.
const redacted = "‹redacted›"

// secretKey is a key=value key that names a secret: DB_PASSWORD,
// PGPASSWORD, AWS_SECRET_ACCESS_KEY, access_token, REDpassword, and
// the short words only when they stand alone (sig, pwd, auth), so
// "design=" and "author=" are not keys. A service named payment-token is
// not one either: a hyphen before the word ends the key (see the
// pattern's left edge).
const secretKey = `(?:[A-Za-z0-9_]*(?:passw(?:or)?d|pwd|secret|token|api_?key|access_?key|private_?key|credentials?)(?:_?key)?` +
	`|pwd|pass|auth|sig|signature|api-key|access-key|private-key|client-secret)`

// The audit log's commands are redacted when written (‹secret:NAME›), and
// remediate has no function for free text; notes, log lines, alert
// labels and annotations, queries and hand-written rows are not. Every
// record oncall writes or reads goes through these (Redacted), so no
// listing, JSON or postmortem shows a secret a record picked up.
var secretPatterns = []struct {
	re   *regexp.Regexp
	with string
	// only, when set, says whether a match is a secret, from its
	// submatches: the pattern alone would take prose for one
	only func(sub []string) bool
}{
	// user:password@ in any URL
	{re: regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@:]+:[^/\s@]+@`), with: "${1}" + redacted + "@"},
	// Authorization: Bearer X
	{re: regexp.MustCompile(`(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}`), with: "${1}${2}" + redacted},
	// Basic X, token X: when X looks generated, so "basic functionality"
	// and "token refresh-failures" stay prose
	{re: regexp.MustCompile(`(?i)\b(basic|token)(\s+)([A-Za-z0-9._~+/=-]{8,})`), with: "${1}${2}" + redacted,
		only: func(sub []string) bool { return generated(sub[3]) }},
	// headers that carry credentials: X-Api-Key: X, X-Auth-Token: X; and
	// Authorization: X, Cookie: X to the end of the value, which has spaces
	{re: regexp.MustCompile(`(?i)((?:^|[^A-Za-z0-9_-])x-[a-z0-9-]*(?:key|token|secret|auth)[a-z0-9-]*\s*:\s*)[^\s"'‹]+`), with: "${1}" + redacted},
	{re: regexp.MustCompile(`(?i)((?:^|[^A-Za-z0-9_-])(?:authorization|proxy-authorization|cookie|set-cookie)\s*:\s*)[^\s"'‹][^"'\r\n]*`), with: "${1}" + redacted},
	// key=value, key: value, "key": "value", --key=value, ?key=value
	// (the audit log's ‹secret:NAME› is already redacted)
	{re: regexp.MustCompile(`(?i)((?:^|[^A-Za-z0-9_.‹-])-{0,2}` + secretKey + `["']?\s*[=:]\s*["']?)[^\s"'&,;}‹][^\s"'&,;}]*`), with: "${1}" + redacted},
	// --password X, --token X: a flag naming a secret, its value apart
	{re: regexp.MustCompile(`(?i)((?:^|\s)--?(?:[a-z0-9]+-)*(?:password|passwd|pass|token|secret|api-key|access-key|private-key|auth)\s+)[^\s‹-]\S*`), with: "${1}" + redacted},
	// passwd X, password X, as a person types it: when X looks
	// generated, so "password reset" stays prose
	{re: regexp.MustCompile(`(?i)\b(passw(?:or)?d)(\s+)([^\s‹]{4,})`), with: "${1}${2}" + redacted,
		only: func(sub []string) bool { return generated(sub[3]) }},
	// mysql -pSECRET, and any -p'SECRET' or -p"SECRET" (a port, -p8080,
	// is neither)
	{re: regexp.MustCompile(`(?i)(\bmysql\S*\s(?:[^|;&\r\n]*\s)?-p)([^\s'"‹]\S*)`), with: "${1}" + redacted},
	{re: regexp.MustCompile(`((?:^|\s)-p)('[^']+'|"[^"]+")`), with: "${1}" + redacted},
	// curl -u user:password, --user user:password
	{re: regexp.MustCompile(`((?:^|\s)(?:-u|--user)(?:\s+|=)["']?[^\s:"'‹]*:)[^\s"'‹]+`), with: "${1}" + redacted},
	// provider tokens: GitHub, Slack, AWS access keys, Stripe and
	// OpenAI-style keys, JWTs
	{re: regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|sk-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})`), with: redacted},
	// a PEM private key, whole
	{re: regexp.MustCompile(`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`), with: redacted},
}

// secretName is a label or annotation name whose value is a secret
// whole, whatever it looks like.
var secretName = regexp.MustCompile(`(?i)passw|pwd|secret|token|key|auth|cookie|credential|signature`)

// Redact hides the secrets free text may carry. It is idempotent, and
// leaves the audit log's ‹secret:NAME› as it is.
func Redact(s string) string {
	for _, p := range secretPatterns {
		if p.only == nil {
			s = p.re.ReplaceAllString(s, p.with)
			continue
		}
		s = p.re.ReplaceAllStringFunc(s, func(m string) string {
			sub := p.re.FindStringSubmatchIndex(m)
			if !p.only(submatches(m, sub)) {
				return m
			}
			return string(p.re.ExpandString(nil, p.with, m, sub))
		})
	}
	return s
}

func submatches(s string, idx []int) []string {
	out := make([]string, len(idx)/2)
	for i := range out {
		if idx[2*i] >= 0 {
			out[i] = s[idx[2*i]:idx[2*i+1]]
		}
	}
	return out
}

// generated says whether a word looks made by a machine rather than
// typed as prose: a digit, a capital past its first letter, or one of a
// token's symbols.
func generated(w string) bool {
	for i, r := range w {
		switch {
		case r >= '0' && r <= '9', i > 0 && r >= 'A' && r <= 'Z', strings.ContainsRune("+/=_~.", r):
			return true
		}
	}
	return false
}

// Redacted is r with every free text redacted (Redact): the title,
// summaries, sources, label values (whole when the label's name says
// secret), acks, actions and their commands, notes, snapshots and the
// assembled incident's text. Merge returns redacted records, so every
// write is; stores redact what they read, so rows others wrote are too.
// The ID is kept: it is the record's key.
func Redacted(r Record) Record {
	for _, f := range []*string{&r.Stack, &r.Title, &r.Severity, &r.Root, &r.Mechanism, &r.Summary,
		&r.Onset.Source, &r.Detected.Source, &r.Acked.Source, &r.Resolved.Source} {
		*f = Redact(*f)
	}
	r.Services = redactAll(r.Services)
	r.Alerts = append([]AlertSpan(nil), r.Alerts...)
	for i := range r.Alerts {
		a := &r.Alerts[i]
		a.Name, a.Service, a.Severity, a.Source = Redact(a.Name), Redact(a.Service), Redact(a.Severity), Redact(a.Source)
		a.Labels = redactLabels(a.Labels)
	}
	r.Acks = append([]Ack(nil), r.Acks...)
	for i := range r.Acks {
		a := &r.Acks[i]
		a.By, a.Silence, a.Source = Redact(a.By), Redact(a.Silence), Redact(a.Source)
	}
	r.Actions = append([]Action(nil), r.Actions...)
	for i := range r.Actions {
		a := &r.Actions[i]
		for _, f := range []*string{&a.Runbook, &a.Action, &a.Target, &a.User, &a.Command, &a.Approval, &a.Result} {
			*f = Redact(*f)
		}
	}
	r.Notes = append([]Note(nil), r.Notes...)
	for i := range r.Notes {
		r.Notes[i].By, r.Notes[i].Text = Redact(r.Notes[i].By), Redact(r.Notes[i].Text)
	}
	r.Snapshots = append([]Snapshot(nil), r.Snapshots...)
	for i := range r.Snapshots {
		s := &r.Snapshots[i]
		s.Summary = Redact(s.Summary)
		s.Candidates = append([]Suspect(nil), s.Candidates...)
		for j := range s.Candidates {
			s.Candidates[j].Service = Redact(s.Candidates[j].Service)
		}
		s.Blast.Services, s.Blast.Currency = redactAll(s.Blast.Services), Redact(s.Blast.Currency)
	}
	r.Incident = redactedIncident(r.Incident)
	return r
}

// redactAll keeps a nil list nil, so a record with nothing secret in it
// comes back equal to itself.
func redactAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Redact(s)
	}
	return out
}

func redactLabels(l sources.Labels) sources.Labels {
	if l == nil {
		return nil
	}
	out := make(sources.Labels, len(l))
	for k, v := range l {
		out[k] = redactValue(k, v)
	}
	return out
}

// redactValue is a named value redacted: whole when its name says secret.
func redactValue(name, v string) string {
	if v != "" && secretName.MatchString(name) {
		return redacted
	}
	return Redact(v)
}

// redactedIncident is inc with every string in it redacted: an
// incident is a deep tree (chain, candidates, reasons, log lines,
// traces, labels) that grows with correlate, so it is walked as the JSON
// the store keeps rather than field by field, and nothing added to it
// later escapes redaction. Object members whose name says secret (a
// label's) are redacted whole. With nothing to redact it is inc itself;
// else a copy, so an incident others hold is never changed. An incident
// that does not encode cannot be stored either: it is returned as it
// is, and the store's write says why.
func redactedIncident(inc *correlate.Incident) *correlate.Incident {
	if inc == nil {
		return nil
	}
	b, err := json.Marshal(inc)
	if err != nil {
		return inc
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers back exactly as they were
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return inc
	}
	changed := false
	tree = redactTree("", tree, &changed)
	if !changed {
		return inc
	}
	if b, err = json.Marshal(tree); err != nil {
		return inc
	}
	var out correlate.Incident
	if err := json.Unmarshal(b, &out); err != nil {
		return inc
	}
	return &out
}

// redactTree redacts the strings of a decoded JSON value in place, each
// by the name of the member holding it, and says whether any changed.
func redactTree(name string, v any, changed *bool) any {
	switch v := v.(type) {
	case string:
		r := redactValue(name, v)
		*changed = *changed || r != v
		return r
	case []any:
		for i := range v {
			v[i] = redactTree(name, v[i], changed)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = redactTree(k, e, changed)
		}
	}
	return v
}

// clean is what every free text of a draft goes through: redacted, and
// safe on a terminal on one line.
func clean(s string) string { return termsafe.Line(Redact(s)) }
