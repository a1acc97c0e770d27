package sources

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMatchersAsAlertmanagerDoes(t *testing.T) {
	eq := func(n, v string) Matcher { return Matcher{Name: n, Value: v, IsEqual: true} }
	for in, want := range map[string][]Matcher{
		`alertname="Foo Bar"`:             {eq("alertname", "Foo Bar")},
		`{alertname="X"}`:                 {eq("alertname", "X")},
		`team = sre`:                      {eq("team", "sre")},
		`{foo=bar,}`:                      {eq("foo", "bar")},
		`foo=bar, bar!=baz`:               {eq("foo", "bar"), {Name: "bar", Value: "baz"}},
		`{ job =~ "api|web" , x !~ y.* }`: {{Name: "job", Value: "api|web", IsRegex: true, IsEqual: true}, {Name: "x", Value: "y.*", IsRegex: true}},
		`foo="\"quoted\" \\ \u00e9"`:      {eq("foo", `"quoted" \ é`)},
		`"label with space"="v"`:          {eq("label with space", "v")},
		`foo=🙂bar`:                        {eq("foo", "🙂bar")},
		`{}`:                              nil,
		``:                                nil,
	} {
		got, err := ParseMatchers(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", in, got, want)
		}
	}
	for in, want := range map[string]string{
		`,`:                 "column 1: expected a label name",
		`{,}`:               "column 2",
		`{`:                 "expected a closing brace",
		`{foo=bar`:          "expected a closing brace",
		`foo=bar}`:          "closing brace without an opening one",
		`foo bar`:           "expected an operator",
		`foo==bar`:          "expected a value, found \"=\"",
		`foo="bar`:          "has no closing quote",
		`foo="bar\w"`:       "bad escape",
		`foo=bar\n`:         "expected a comma or the end",
		`foo=~(`:            "missing closing )",
		`foo=bar,,baz=qux`:  "expected a matcher after the comma",
		`{foo=bar} x`:       "after the closing brace",
		`foo="\xf0\x9f"`:    "not valid UTF-8",
		`foo!bar`:           "expected an operator",
		"alertname=\"X\"\t": "",
	} {
		_, err := ParseMatchers(in)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

func TestMatcherStringAndMatches(t *testing.T) {
	ms, err := ParseMatchers(`{alertname="Foo Bar", service=~"pay.*", "a b"!=c, x!~"y|z"}`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.String())
	}
	if got := strings.Join(out, ", "); got != `alertname="Foo Bar", service=~"pay.*", "a b"!="c", x!~"y|z"` {
		t.Errorf("printed %s", got)
	}
	l := Labels{"alertname": "Foo Bar", "service": "payment-api", "x": "w"}
	for _, m := range ms {
		if !m.Matches(l) {
			t.Errorf("%s does not match %v", m, l)
		}
	}
	// regexes are anchored: pay.* must not match "repay"
	if ms[1].Matches(Labels{"service": "repayments"}) {
		t.Error("an unanchored regex")
	}
}

func FuzzParseMatchers(f *testing.F) {
	for _, s := range []string{`alertname="Foo Bar"`, `{a=b,c!~"d.*"}`, `team = sre`, `{"x y"="\"z\""}`, `a=b,`, `{`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := ParseMatchers(in)
		if err != nil {
			return
		}
		// what parses prints back to something that parses the same
		var parts []string
		for _, m := range ms {
			parts = append(parts, m.String())
		}
		again, err := ParseMatchers("{" + strings.Join(parts, ",") + "}")
		if err != nil || len(again) != len(ms) {
			t.Fatalf("%q printed as %q: %v", in, parts, err)
		}
		for i := range ms {
			if again[i] != ms[i] {
				t.Fatalf("%q: %+v became %+v", in, ms[i], again[i])
			}
		}
	})
}
