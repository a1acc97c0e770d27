package present

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

func TestShortLogLineShowsEachFieldOnce(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`level=error msg="POST /payments failed: pool payments-db (100/100 in use)" pool=payments-db trace_id=ab12`,
			`POST /payments failed: pool payments-db (100/100 in use)  pool=payments-db trace_id=ab12`},
		{`{"ts":"2026-11-27T23:31:10Z","level":"error","service":"payment-api","message":"charge failed","attempt":3,"peer":{"name":"bank"}}`,
			`charge failed  attempt=3 peer={"name":"bank"}`},
		// a level or service that differs from the row's is news: kept
		{`level=warn service=other msg=hi`, `hi  level=warn service=other`},
		{`level=error status=500`, `status=500`},
		// not structured: the raw line
		{`panic: runtime error: index out of range`, `panic: runtime error: index out of range`},
		{`msg="unterminated`, `msg="unterminated`},
		{`{"msg": "half a line`, `{"msg": "half a line`},
		{``, ``},
		// partly structured: the rest would be hidden, so the raw line
		{`{"msg":"GET /health 200"} HIDDEN: user=admin password=hunter2`, `{"msg":"GET /health 200"} HIDDEN: user=admin password=hunter2`},
		{`{"msg":"ok"}{"msg":"SECOND OBJECT HIDDEN"}`, `{"msg":"ok"}{"msg":"SECOND OBJECT HIDDEN"}`},
		{`{"msg":"ok"}   `, `ok`},
		{`msg="ok"HIDDEN level=error`, `msg="ok"HIDDEN level=error`},
		{`ts=1"HIDDEN text" msg=ok`, `ts=1"HIDDEN text" msg=ok`},
		{`ts=1=HIDDEN msg=ok`, `ts=1=HIDDEN msg=ok`},
		{`"user"=admin msg=ok`, `"user"=admin msg=ok`},
		{`level=error msg="ok"user=admin`, `level=error msg="ok"user=admin`},
	} {
		if got := ShortLogLine(c.line, "error", "payment-api"); got != c.want {
			t.Errorf("ShortLogLine(%q)\n got %q\nwant %q", c.line, got, c.want)
		}
	}
}

// The same sample line, once per trace, is written once with its count,
// in the cockpit's model and in `oncall incident`'s text alike.
func TestIncidentSampleLinesAreWrittenOnce(t *testing.T) {
	line := func(trace string) string {
		return `level=error msg="POST /payments failed: timeout acquiring connection" pool=payments-db trace_id=` + trace
	}
	inc := hostile()
	inc.Candidates[0].Reasons[0].Lines = []string{line("a1"), line("b2"), line("c3"), "level=error msg=\"other\x1b[2J\""}
	p := NewIncident(inc, Options{})
	got := p.Candidates[0].Reasons[0].Lines
	want := []string{"×3 POST /payments failed: timeout acquiring connection  pool=payments-db", "other"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("samples:\n%q\nwant\n%q", got, want)
	}
	var b bytes.Buffer
	if err := Text(&b, p, false); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "timeout acquiring connection"); n != 1 {
		t.Errorf("the text writes the sample %d times:\n%s", n, b.String())
	}
	for _, l := range got {
		if l != termsafe.Line(l) {
			t.Errorf("unsafe sample %q", l)
		}
	}
}

// Loki's detected_level is a level like any other, and the config's
// trace ID fields set lines apart as trace_id does: the lines that differ
// only by them are written once.
func TestIncidentSamplesKnowEveryLevelAndTraceKey(t *testing.T) {
	line := func(trace, ts string) string {
		return `{"ts":"` + ts + `","detected_level":"error","msg":"pool exhausted","req_trace":"` + trace + `"}`
	}
	inc := hostile()
	inc.Candidates[0].Reasons[0].Lines = []string{line("a1", "23:00:01"), line("b2", "23:00:02")}
	got := NewIncident(inc, Options{TraceFields: []string{"req_trace"}}).Candidates[0].Reasons[0].Lines
	if want := []string{"×2 pool exhausted"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("samples:\n%q\nwant\n%q", got, want)
	}
}

// The short form may drop only what the row restates (the time, the
// level and service when the row's, the message's key), never other
// text: for hostile lines made of JSON, logfmt and junk glued in any
// way, every word the generator marked as news (w1, w2, …) that the raw
// line holds is in the short form, or the short form is the raw line.
func TestShortLogLineHidesNoText(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 19))
	n := 0
	word := func(prefix string) string { n++; return fmt.Sprintf("%s%d", prefix, n) }
	restated := []string{"ts", "time", "level", "service", "app"}
	value := func(key string, json bool) string {
		v := word("w")
		switch {
		case slices.Contains(restated, key):
			v = word("r")
		case r.IntN(3) == 0:
			v += " " + word("w")
		case json && r.IntN(3) == 0:
			return `{"` + word("w") + `":["` + word("w") + `",2,true]}`
		}
		if json || strings.Contains(v, " ") || r.IntN(2) == 0 {
			return `"` + v + `"`
		}
		return v
	}
	key := func() string {
		return []string{"msg", "message", "ts", "level", "service", "app", "trace_id", word("w")}[r.IntN(8)]
	}
	fragment := func() string {
		switch r.IntN(6) {
		case 0:
			var m []string
			for range r.IntN(4) {
				k := key()
				m = append(m, `"`+k+`":`+value(k, true))
			}
			return "{" + strings.Join(m, ",") + "}"
		case 1, 2:
			k := key()
			return k + "=" + value(k, false)
		case 3:
			return word("w")
		default:
			return []string{`"`, `=`, `{`, `}`, `:`, `,`, `"` + word("w") + `"`, `=` + word("w"), word("w") + `=`}[r.IntN(9)]
		}
	}
	marked := regexp.MustCompile(`\bw[0-9]+\b`)
	structured := 0
	for range 20000 {
		var b strings.Builder
		for i := range 1 + r.IntN(5) {
			if i > 0 {
				b.WriteString([]string{" ", "", "\t", "  "}[r.IntN(4)])
			}
			b.WriteString(fragment())
		}
		line := b.String()
		short := ShortLogLine(line, "error", "payment-api")
		if short == line {
			continue
		}
		structured++
		shown := map[string]bool{}
		for _, w := range marked.FindAllString(short, -1) {
			shown[w] = true
		}
		for _, w := range marked.FindAllString(line, -1) {
			if !shown[w] {
				t.Fatalf("ShortLogLine(%q) = %q: %s is hidden", line, short, w)
			}
		}
	}
	if structured < 1000 {
		t.Fatalf("only %d of the lines read as structured: the test tries too little", structured)
	}
}
