package present

import (
	"bytes"
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
