package present

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

var t0 = time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)

// hostile is an incident whose backend text tries to take over the
// terminal, with a tree that has a failing and a slow caller.
func hostile() *correlate.Incident {
	evil := "db\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J"
	return &correlate.Incident{
		Window:   sources.TimeRange{Start: t0, End: t0.Add(15 * time.Minute)},
		Baseline: sources.TimeRange{Start: t0.Add(-30 * time.Minute), End: t0},
		Summary:  "api errors ← " + evil,
		Chain:    []correlate.ChainLink{{Service: "api", What: "errors 0.1% → 40%"}, {Service: evil, What: "p99 5 ms → 900 ms\x1b[10;10H"}},
		Candidates: []correlate.Candidate{{Service: evil, Likelihood: correlate.Likely, Confidence: 0.9, Score: 7, Onset: t0.Add(time.Minute),
			Reasons: []correlate.Reason{
				{Kind: correlate.ReasonLogs, Detail: "3 log lines", Weight: 1, Lines: []string{"boom \u202e reversed"}, Source: "{app=\"db\"}"},
				{Kind: correlate.ReasonEarliest, Weight: 0, Detail: "not shown: it weighs nothing"},
			}}},
		Graph: []*correlate.GraphEdge{{Client: "api", Server: evil}, {Client: "web", Server: "api"}},
		Blast: &correlate.BlastRadius{Root: evil, Services: []correlate.Impacted{
			{Service: evil, Anomaly: "p99 5 ms → 900 ms"}, {Service: "api", Anomaly: "errors 0.1% → 40%"}, {Service: "web", Anomaly: "p99 10 ms → 30 ms"}},
			EntryPoints: []string{"web"}, FailingPerMin: 1234.5, AtRiskPerMin: 60000, MoneyPerMin: 99, Currency: "EUR",
			How: map[string]string{"services": "b", "entry_points": "a"}},
		Traces: []correlate.TraceView{{TraceID: "t1"}, {TraceID: "t2"}, {TraceID: "t3"}, {TraceID: "t4"}, {TraceID: "t5"}},
		Notes:  []string{"missing logs: \x1b[31mdown\x1b[0m"},
	}
}

func TestTextAndMarkdownAreInertAndComplete(t *testing.T) {
	p := NewIncident(hostile(), Options{Label: "config /etc/oncall.yaml"})
	for name, render := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return Text(b, p, true) },
		"markdown": func(b *bytes.Buffer) error { return Markdown(b, p) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s holds %q", name, bad)
			}
		}
		for _, want := range []string{"23:00:00–23:15:00 UTC", "1,234 req/min", "99 EUR", "not shown"} {
			if strings.Contains(out, want) != (want != "not shown") {
				t.Errorf("%s: %q present=%v\n%s", name, want, !strings.Contains(out, want), out)
			}
		}
	}
	var b bytes.Buffer
	_ = Text(&b, p, true)
	out := b.String()
	for _, want := range []string{
		"  ← db: p99 5 ms → 900 ms",              // the chain, control sequences gone
		"from {app=\"db\"}",                      // where the evidence came from
		"└─ api  ✗ errors 0.1% → 40%",            // errors fail
		"   └─ web  ! p99 10 ms → 30 ms",         // latency alone warns
		"  … 2 more in -o json",                  // traces beyond the first three
		"how entry_points: a\n  how services: b", // how, in order
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "RUNBOOKS") {
		t.Error("runbooks shown though none were offered")
	}
}

func TestRunbooksOfTheChain(t *testing.T) {
	inc := hostile()
	p := NewIncident(inc, Options{Runbooks: map[string][]string{"api": {"https://runbooks.example/api"}, "web": {"https://runbooks.example/web"}}})
	if p.Runbooks == nil || len(p.Runbooks.Links) != 1 || p.Runbooks.Links[0] != (RunbookLink{"api", "https://runbooks.example/api"}) || p.Runbooks.Gap != "" {
		t.Errorf("runbooks %+v: want only the chain's", p.Runbooks)
	}
	p = NewIncident(inc, Options{Runbooks: map[string][]string{}})
	if p.Runbooks == nil || p.Runbooks.Gap != "api, db" {
		t.Errorf("no links: %+v", p.Runbooks)
	}
}

// TestTextIsWholeOffATerminal: into a file nothing is cut, so a log
// line's trace ID survives; on a terminal long lines are shortened.
func TestTextIsWholeOffATerminal(t *testing.T) {
	inc := hostile()
	long := "level=error msg=\"" + strings.Repeat("x", 150) + "\" trace_id=4bf92f3577b34da6a3ce929d0e0e4736"
	inc.Candidates[0].Reasons[0].Lines = []string{long}
	p := NewIncident(inc, Options{})
	var file, tty bytes.Buffer
	_ = Text(&file, p, false)
	_ = Text(&tty, p, true)
	if !strings.Contains(file.String(), "trace_id=4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Error("the trace ID was cut from a file")
	}
	if strings.Contains(tty.String(), "trace_id=4bf92") {
		t.Error("a terminal line was not shortened")
	}
}
