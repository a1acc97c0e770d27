package present

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Field is one key and value of a structured log line.
type Field struct{ Key, Value string }

// LogFields is a logfmt or JSON log line read as its message and its
// other fields, in the line's order.
type LogFields struct {
	Message string
	Fields  []Field
}

// messageKeys name a line's message, the most common spelling first.
var messageKeys = []string{"msg", "message"}

// restatedKeys give the role of the keys that repeat what a log row
// already shows beside the line: its time, and its level and service when
// they say the same; and of the keys naming a trace or span, which lines
// that otherwise say the same thing differ by. The one list of these
// keys: lower case, as lines are matched in any case.
var restatedKeys = map[string]string{
	"ts": "time", "time": "time", "timestamp": "time", "@timestamp": "time",
	"level": "level", "lvl": "level", "severity": "level", "detected_level": "level",
	"service": "service", "service_name": "service", "app": "service",
	"trace_id": "trace", "traceid": "trace", "span_id": "trace", "spanid": "trace",
}

// roleKeys are the keys of restatedKeys in role, and extra.
func roleKeys(role string, extra ...string) []string {
	keys := slices.Clone(extra)
	for k, r := range restatedKeys {
		if r == role {
			keys = append(keys, k)
		}
	}
	return keys
}

// ParseLogLine reads a logfmt or JSON line. ok is false for a line that
// is neither (free text, a half-written line, a line that is only partly
// structured): show it raw then, as the short form must never hide text.
func ParseLogLine(line string) (f LogFields, ok bool) {
	t := strings.TrimSpace(line)
	var fields []Field
	if strings.HasPrefix(t, "{") {
		fields, ok = jsonFields(t)
	} else {
		fields, ok = logfmtFields(t)
	}
	if !ok {
		return LogFields{}, false
	}
	for _, fl := range fields {
		if f.Message == "" && isMessageKey(fl.Key) {
			f.Message = fl.Value
			continue
		}
		f.Fields = append(f.Fields, fl)
	}
	return f, true
}

func isMessageKey(k string) bool {
	return slices.ContainsFunc(messageKeys, func(m string) bool { return strings.EqualFold(k, m) })
}

// Rest writes the fields a row does not already show, as key=value:
// the time always, the level and the service when they are the row's.
func (f LogFields) Rest(level, service string) string {
	var b strings.Builder
	for _, fl := range f.Fields {
		switch restatedKeys[strings.ToLower(fl.Key)] {
		case "time":
			continue
		case "level":
			if strings.EqualFold(fl.Value, level) {
				continue
			}
		case "service":
			if fl.Value == service {
				continue
			}
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fl.Key + "=" + quoteIfSpaced(fl.Value))
	}
	return b.String()
}

// ShortLogLine is the line as a row shows it beside its time, level and
// service: the message, then the fields not already shown; the raw line
// when it is not structured. It is not made safe: callers do that.
func ShortLogLine(line, level, service string) string {
	f, ok := ParseLogLine(line)
	if !ok {
		return line
	}
	return f.Text(level, service)
}

// Text is the message, then the fields Rest keeps.
func (f LogFields) Text(level, service string) string {
	rest := f.Rest(level, service)
	switch {
	case f.Message == "":
		return rest
	case rest == "":
		return f.Message
	}
	return f.Message + "  " + rest
}

// Without is f without the fields of these keys (any case).
func (f LogFields) Without(keys ...string) LogFields {
	out := LogFields{Message: f.Message}
	for _, fl := range f.Fields {
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(fl.Key, k) }) {
			out.Fields = append(out.Fields, fl)
		}
	}
	return out
}

func quoteIfSpaced(v string) string {
	if v == "" || strings.ContainsAny(v, " \t") {
		return strconv.Quote(v)
	}
	return v
}

// logfmtFields splits key=value pairs, values bare or double-quoted with
// Go-style escapes, apart by spaces or tabs. A line with anything else
// (a bare word, text glued to a pair) is not logfmt: the short form
// would drop it, so the line is shown raw.
func logfmtFields(s string) ([]Field, bool) {
	var out []Field
	for s != "" {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexAny(s, " \t")
		if eq <= 0 || (sp >= 0 && sp < eq) {
			return nil, false // a bare word: free text, not logfmt
		}
		k := s[:eq]
		s = s[eq+1:]
		var v string
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, false
			}
			v, _ = strconv.Unquote(q)
			s = s[len(q):]
		} else {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			v, s = s[:end], s[end:]
			if strings.ContainsAny(v, `"=`) {
				return nil, false // junk glued to a value, as in ts=1"more text"
			}
		}
		if strings.ContainsAny(k, `"`) || (s != "" && !strings.ContainsAny(s[:1], " \t")) {
			return nil, false // a quoted key, or text glued after a quoted value
		}
		out = append(out, Field{k, v})
	}
	return out, len(out) > 0
}

// jsonFields reads a JSON object's members in their order; strings are
// unquoted, other values kept as their JSON. A line is JSON only when it
// is one object and nothing more: what follows the } would be hidden.
func jsonFields(s string) ([]Field, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []Field
	for dec.More() {
		t, err := dec.Token()
		k, isKey := t.(string)
		if err != nil || !isKey {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		v := string(bytes.TrimSpace(raw))
		var str string
		if json.Unmarshal(raw, &str) == nil {
			v = str
		}
		out = append(out, Field{k, v})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if strings.TrimSpace(s[dec.InputOffset():]) != "" {
		return nil, false // text after the object, or a second object
	}
	return out, true
}
