package sources

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseMatchers reads label matchers as Alertmanager and amtool write
// them (Alertmanager's matcher/parse grammar): an optional pair of braces
// around matchers separated by commas, a trailing comma allowed; each
// matcher a name, an operator (=, !=, =~ or !~) and a value; names and
// values either double-quoted, with Go escapes (\", \\, \n, \u…), or
// bare runs of anything but spaces and {}!=~,\"'`. Spaces around the
// parts are ignored. So `alertname="Foo Bar"`, `{alertname="X"}`,
// `team = sre` and `{a=b, c=~"d.*"}` all parse. Errors give the column.
func ParseMatchers(input string) ([]Matcher, error) {
	p := matcherParser{in: input}
	out, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("matchers %q: %w", input, err)
	}
	return out, nil
}

// String writes a matcher back in the grammar ParseMatchers reads, with
// the value always quoted: what amtool would print.
func (m Matcher) String() string {
	op := "="
	switch {
	case !m.IsEqual && m.IsRegex:
		op = "!~"
	case !m.IsEqual:
		op = "!="
	case m.IsRegex:
		op = "=~"
	}
	name := m.Name
	if !isBare(name) {
		name = strconv.Quote(name)
	}
	return name + op + strconv.Quote(m.Value)
}

// Matches reports whether a label set is selected by the matcher, with
// regular expressions anchored as Alertmanager anchors them.
func (m Matcher) Matches(l Labels) bool {
	v := l[m.Name]
	match := v == m.Value
	if m.IsRegex {
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		match = err == nil && re.MatchString(v)
	}
	return match == m.IsEqual
}

func isBare(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if reservedInMatchers(r) {
			return false
		}
	}
	return true
}

// reservedInMatchers are the runes a bare name or value cannot hold.
func reservedInMatchers(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("{}!=~,\\\"'`", r)
}

type matcherParser struct {
	in  string
	pos int // byte offset
}

// col is the 1-based column of a byte offset, in runes.
func (p *matcherParser) col(off int) int { return utf8.RuneCountInString(p.in[:off]) + 1 }

func (p *matcherParser) skipSpace() {
	for p.pos < len(p.in) {
		r, w := utf8.DecodeRuneInString(p.in[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += w
	}
}

// peek is the next rune after spaces, or -1 at the end.
func (p *matcherParser) peek() rune {
	p.skipSpace()
	if p.pos >= len(p.in) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(p.in[p.pos:])
	return r
}

func (p *matcherParser) errorf(off int, format string, a ...any) error {
	return fmt.Errorf("column %d: %s", p.col(off), fmt.Sprintf(format, a...))
}

func (p *matcherParser) parse() ([]Matcher, error) {
	var out []Matcher
	braced := p.peek() == '{'
	if braced {
		p.pos++
	}
	for {
		switch r := p.peek(); {
		case r == -1 && braced:
			return nil, p.errorf(p.pos, "expected a closing brace")
		case r == -1:
			return out, nil
		case r == '}' && braced:
			p.pos++
			if p.peek() != -1 {
				return nil, p.errorf(p.pos, "unexpected %q after the closing brace", p.in[p.pos:])
			}
			return out, nil
		case r == '}':
			return nil, p.errorf(p.pos, "a closing brace without an opening one")
		}
		m, err := p.matcher()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		switch r := p.peek(); r {
		case ',':
			p.pos++
			if next := p.peek(); next == ',' {
				return nil, p.errorf(p.pos, "expected a matcher after the comma")
			}
		case '}', -1:
		default:
			return nil, p.errorf(p.pos, "expected a comma or the end, found %q", string(r))
		}
	}
}

func (p *matcherParser) matcher() (Matcher, error) {
	name, err := p.word("a label name")
	if err != nil {
		return Matcher{}, err
	}
	m := Matcher{Name: name}
	p.skipSpace()
	start := p.pos
	switch {
	case strings.HasPrefix(p.in[p.pos:], "=~"):
		m.IsRegex, m.IsEqual = true, true
		p.pos += 2
	case strings.HasPrefix(p.in[p.pos:], "!~"):
		m.IsRegex = true
		p.pos += 2
	case strings.HasPrefix(p.in[p.pos:], "!="):
		p.pos += 2
	case strings.HasPrefix(p.in[p.pos:], "="):
		m.IsEqual = true
		p.pos++
	default:
		return Matcher{}, p.errorf(start, "expected an operator (=, !=, =~ or !~) after %q", name)
	}
	if m.Value, err = p.word("a value"); err != nil {
		return Matcher{}, err
	}
	if m.IsRegex {
		if _, err := regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
			return Matcher{}, p.errorf(start, "%s: %v", m.Name, err)
		}
	}
	return m, nil
}

// word reads a quoted or bare name or value.
func (p *matcherParser) word(what string) (string, error) {
	r := p.peek()
	start := p.pos
	switch {
	case r == -1:
		return "", p.errorf(start, "expected %s, found the end", what)
	case r == '"':
		escaped := false
		for i := p.pos + 1; i < len(p.in); i++ {
			switch c := p.in[i]; {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				s, err := strconv.Unquote(p.in[start : i+1])
				if err != nil {
					return "", p.errorf(start, "%s: bad escape in %s", what, p.in[start:i+1])
				}
				if !utf8.ValidString(s) {
					return "", p.errorf(start, "%s: %s is not valid UTF-8", what, p.in[start:i+1])
				}
				p.pos = i + 1
				return s, nil
			}
		}
		return "", p.errorf(start, "%s: %s has no closing quote", what, p.in[start:])
	case reservedInMatchers(r):
		return "", p.errorf(start, "expected %s, found %q", what, string(r))
	}
	for p.pos < len(p.in) {
		r, w := utf8.DecodeRuneInString(p.in[p.pos:])
		if reservedInMatchers(r) {
			break
		}
		if r == utf8.RuneError && w == 1 {
			return "", p.errorf(p.pos, "%s is not valid UTF-8", what)
		}
		p.pos += w
	}
	return p.in[start:p.pos], nil
}
