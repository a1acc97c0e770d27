package chaos

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// TestQueriesSayHowTheValueIsComputed: a RED reading's query says it is
// a mean over the window at the adapter's step (an error ratio the mean
// of the errors over that of the requests), and a burn rate's says it is
// the window's error ratio over the budget the objective allows.
func TestQueriesSayHowTheValueIsComputed(t *testing.T) {
	f := newFixture(t, healthy)
	rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	for _, c := range []struct{ how, query, wantHow, wantQuery string }{
		{rep.SteadyState[0].How, rep.SteadyState[0].Query, "mean of the errors / mean of the requests over 5m (15s steps)", "sum(rate(errors[1m])) / sum(rate(requests[1m]))"},
		{rep.Guards[0].How, rep.Guards[0].Query, "mean of the errors / mean of the requests over 1m (15s steps)", "sum(rate(errors[1m])) / sum(rate(requests[1m]))"},
		{rep.Guards[1].How, rep.Guards[1].Query, "mean over 1m (15s steps)", "p99(latency[1m])"},
		{rep.Guards[2].How, rep.Guards[2].Query, "burn 5m = error ratio / (1 − objective 0.999)", "bad[5m0s] / total[5m0s]"},
	} {
		if c.how != c.wantHow || c.query != c.wantQuery {
			t.Errorf("%q of %q\nwant %q of %q", c.how, c.query, c.wantHow, c.wantQuery)
		}
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "    mean over 1m (15s steps) of:\n      p99(latency[1m])\n") {
		t.Errorf("text:\n%s", text.String())
	}
	short := Check{Service: "a", Signal: "p99", Over: timeparse.Duration(10 * time.Second)}
	if got := redHow(short); got != "mean over 10s (10s steps)" {
		t.Errorf("a window shorter than the step: %q", got)
	}
	o := slo.Objective{Objective: 0.995, Indicator: sources.Indicator{Kind: sources.SLILatency}}
	for _, c := range []struct {
		br   slo.Burn
		want string
	}{
		{slo.Burn{Window: time.Hour, Queries: []string{"(bad) * 3600", "(all) * 3600"}}, "burn 1h = (bad / all events) / (1 − objective 0.995)"},
		{slo.Burn{Window: time.Hour, Queries: []string{"buckets"}}, "burn 1h = (share of the histogram's events slower than the threshold) / (1 − objective 0.995)"},
		{slo.Burn{Window: time.Hour, Recorded: true, Queries: []string{"slo:sli_error:ratio_rate1h"}}, "burn 1h = error ratio / (1 − objective 0.995)"},
	} {
		if got := burnHow(o, c.br); got != c.want {
			t.Errorf("burn query %q\nwant       %q", got, c.want)
		}
	}
}

// TestGuardLinesOnlyWhenSomethingChanges: a ten-minute run whose values
// hold still says each guard once, and one whose values move says each
// at most once a minute; every reading still reaches the panel, and a
// trip is said at once.
func TestGuardLinesOnlyWhenSomethingChanges(t *testing.T) {
	count := func(f *fixture) (lines, readings int) {
		for _, ev := range f.events {
			if ev.Guard {
				readings++
				if ev.Line != "" {
					lines++
				}
			}
		}
		return lines, readings
	}
	f := newFixture(t, healthy)
	f.exp.Duration = timeparse.Duration(10 * time.Minute)
	if rep := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false); rep.Verdict != VerdictPassed {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	if lines, readings := count(f); lines != 3 || readings != 360 {
		t.Errorf("steady values: %d lines for %d readings, want 3 for 360", lines, readings)
	}
	moving := newFixture(t, func(_ string, at time.Time) (float64, float64, error) {
		s := at.Sub(t0).Seconds()
		if s >= 400 {
			return 0.05, 0.4, nil
		}
		return 0.001 + s/1e6, 0.4 + s/1000, nil
	})
	moving.exp.Duration = timeparse.Duration(10 * time.Minute)
	rep := moving.runner.Run(context.Background(), moving.exp, "confirmed by tester", false)
	if rep.Verdict != VerdictFailed {
		t.Fatalf("verdict %s: %s", rep.Verdict, rep.Why)
	}
	lines, readings := count(moving)
	// 79 rounds and the trip: the first of each guard, then at most one a
	// minute for the two that move (6 each), and the trip
	if readings != 79*3+1 || lines > 3+2*6+1 || lines < 3+1 {
		t.Errorf("moving values: %d lines for %d readings", lines, readings)
	}
	var last Event
	for _, ev := range moving.events {
		if ev.Guard {
			last = ev
		}
	}
	if !strings.Contains(last.Line, "5.0% FAILS") {
		t.Errorf("the trip was not said: last guard event %+v", last)
	}
}

// TestSparklineCoversTheWholeRun: 120 readings draw 40 cells, each its
// bucket's worst (the highest for below, the lowest for above), so that
// an early spike shows and worst and sparkline agree.
func TestSparklineCoversTheWholeRun(t *testing.T) {
	vals := make([]float64, 120)
	for i := range vals {
		vals[i] = 0.5
	}
	vals[4] = 2 // a spike in the second bucket
	below := Check{Service: "a", Signal: "p99", Below: ptr(Bound(2))}
	s := []rune(spark(below, vals))
	if len(s) != sparkWidth || s[1] != '█' || s[0] != '▃' || s[39] != '▃' {
		t.Errorf("below: %q", string(s))
	}
	vals[4], vals[100] = 0.5, 0 // a dip near the end
	above := Check{Service: "a", Signal: "requests", Above: ptr(Bound(0.1))}
	if s := []rune(spark(above, vals)); s[33] != '▁' || s[32] != '█' {
		t.Errorf("above: %q", string(s))
	}
}

func ptr[T any](v T) *T { return &v }

// TestTextReportFitsEightyColumns: every line of a failed run's report,
// a dry run's and a refused one's fits 80 columns, with no trailing
// space; a query is cut (…) in text and whole in markdown; a run with no
// ID says none, and a dry run says so once.
func TestTextReportFitsEightyColumns(t *testing.T) {
	f := newFixture(t, func(svc string, at time.Time) (float64, float64, error) {
		if at.Sub(t0) >= 22*time.Second {
			return 0.05, 0.4, nil
		}
		return 0.001, 0.4, nil
	})
	failed := f.runner.Run(context.Background(), f.exp, "confirmed by tester", true)
	failed = f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	long := strings.Repeat("sum(rate(x[1m])) ", 8)
	failed.Guards[0].Query = long
	dry := f.runner.Run(context.Background(), f.exp, "confirmed by tester", true)
	f.runner.Exec.ReadOnly = true
	refused := f.runner.Run(context.Background(), f.exp, "confirmed by tester", false)
	for name, rep := range map[string]Report{"failed": failed, "dry run": dry, "refused": refused} {
		var b bytes.Buffer
		if err := WriteText(&b, rep); err != nil {
			t.Fatal(err)
		}
		text := b.String()
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if n := utf8.RuneCountInString(line); n > textWidth || line != strings.TrimRight(line, " ") {
				t.Errorf("%s: line of %d columns or with trailing space: %q", name, n, line)
			}
		}
		if strings.Contains(text, "(run )") || strings.Count(strings.ToLower(text), "dry run") > 1 {
			t.Errorf("%s:\n%s", name, text)
		}
		if rep.Verdict != VerdictFailed && !strings.Contains(text, "    no reading\n") {
			t.Errorf("%s: a guard without readings:\n%s", name, text)
		}
	}
	var text, md bytes.Buffer
	if err := WriteText(&text, failed); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, failed); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "      "+long[:73]+"…\n") || !strings.Contains(md.String(), strings.TrimSpace(long)) {
		t.Errorf("long query: text\n%s\nmarkdown\n%s", text.String(), md.String())
	}
}

// TestReportTimesInTheZoneAsked: UTC by default; InZone writes the
// operator's zone, in both renderings.
func TestReportTimesInTheZoneAsked(t *testing.T) {
	rep := Report{Experiment: "x", Verdict: VerdictPassed, Started: t0, Injected: t0.Add(time.Minute), Ended: t0.Add(11 * time.Minute)}
	var b bytes.Buffer
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "injected    2026-03-03T03:01:00Z\n") {
		t.Errorf("default zone:\n%s", b.String())
	}
	paris := time.FixedZone("CET", 3600)
	b.Reset()
	if err := WriteText(&b, rep, InZone(paris)); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&b, rep, InZone(paris)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "started     2026-03-03T04:00:00+01:00\n") || !strings.Contains(b.String(), "- **Ended:** 2026-03-03T04:11:00+01:00\n") {
		t.Errorf("in CET:\n%s", b.String())
	}
	if v := worstOf(Check{}, []float64{math.NaN()}); !math.IsNaN(v) {
		t.Errorf("worst of no reading %v", v)
	}
}
