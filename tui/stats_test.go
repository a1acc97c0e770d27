package tui

import (
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/history"
)

// S counts what oncall stats counts: the stack and the working hours
// come from Deps.Stats, and the demo's records are counted alone, on the
// simulator's clock, saying so.
func TestStatsCountTheStackAndHoursTheDepsGive(t *testing.T) {
	recs := pastIncidents(testFleet(t).Now())

	d := historyDeps(t, fakeHistory{records: recs})
	d.Stats = history.StatsOptions{Stack: history.DemoStack}
	a := startedWith(t, d, 120, 40)
	drive(t, a, press("S"))
	out := screen(a)
	// the demo's two: the retry storm (in hours) and the open pool
	for _, want := range []string{"The demo's records, dated on the simulator's clock.", "2 incidents, 1 open", "of 2 incidents"} {
		if !strings.Contains(out, want) {
			t.Errorf("S with the demo's stack lacks %q:\n%s", want, out)
		}
	}

	// by default the demo's are left out beside a real stack's; every
	// hour a working one, no page is out of hours
	all := []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	d.Stats = history.StatsOptions{WorkStart: 0, WorkEnd: 24, Workdays: all}
	a = startedWith(t, d, 120, 40)
	drive(t, a, press("S"))
	out = screen(a)
	for _, want := range []string{"Every stack's records but the demo's.", "3 incidents, 0 open", "out of hours: 0 of 2 pages", "outside 00–24 Sun Mon Tue Wed Thu Fri Sat (UTC)"} {
		if !strings.Contains(out, want) {
			t.Errorf("S with every hour a working one lacks %q:\n%s", want, out)
		}
	}
}

// With no other stack's record in its thirty days, S counts the demo's,
// read from the demo's epoch however far the cockpit's clock is from it,
// as oncall stats does.
func TestStatsCountTheDemoWhenNothingElseIsStored(t *testing.T) {
	now := testFleet(t).Now()
	var demo []history.Record
	for _, r := range pastIncidents(now) {
		if r.Stack == history.DemoStack {
			demo = append(demo, r)
		}
	}
	d := historyDeps(t, fakeHistory{records: demo})
	d.DemoEpoch = now.Add(-3 * time.Hour)
	later := now.Add(400 * 24 * time.Hour) // a year on, the demo's records are far behind
	d.Now = func() time.Time { return later }
	a := startedWith(t, d, 120, 40)
	drive(t, a, press("S"))
	out := screen(a)
	for _, want := range []string{"The demo's records, dated on the simulator's clock.", "2 incidents, 1 open"} {
		if !strings.Contains(out, want) {
			t.Errorf("S over the demo's records alone lacks %q:\n%s", want, out)
		}
	}
}

// The figures' words where a figure cannot be given: pages over less than
// a week are a count over the span, nothing resolved says so, and MTTA
// with the acknowledgements unread says why rather than "0 of N"; every
// line exactly the width.
func TestStatsSayWhatCannotBeCounted(t *testing.T) {
	now := testFleet(t).Now()
	recs := pastIncidents(now)
	const why = "Alertmanager did not answer (acks are read from its silences)"
	o := history.StatsOptions{Stack: history.DemoStack, Since: now.Add(-20 * time.Minute), Now: now, AcksUnread: why}
	open := history.Figures(recs, o) // the open pool, its ack unread
	o.Since = now.Add(-3 * time.Hour)
	both := history.Figures(recs, o) // with the storm, acked in its live record
	for _, width := range []int{80, 120} {
		lines := renderStats(&statsFigures{Stats: open}, nil, time.UTC, width, styles())
		out := ansi.Strip(strings.Join(lines, "\n"))
		for _, want := range []string{"MTTA first alert → ack     unknown: Alertmanager did not answer", "its silences)",
			"resolved by the autopilot: none resolved yet", "pages: 1 in 20 min; too short a span for a weekly rate"} {
			if !strings.Contains(out, want) {
				t.Errorf("at %d columns, no %q in\n%s", width, want, out)
			}
		}
		for _, bad := range []string{"0 of 0", "a week over", "MTTA first alert → ack           –"} {
			if strings.Contains(out, bad) {
				t.Errorf("at %d columns, %q in\n%s", width, bad, out)
			}
		}
		lines = append(lines, renderStats(&statsFigures{Stats: both}, nil, time.UTC, width, styles())...)
		var trimmed []string
		for _, l := range lines {
			trimmed = append(trimmed, strings.TrimRight(ansi.Strip(l), " "))
		}
		if out = strings.Join(trimmed, "\n"); !strings.Contains(out, "1 of 2, others unknown:\n                           Alertmanager did not answer") {
			t.Errorf("at %d columns, the measured acks lack the others' reason:\n%s", width, out)
		}
		for _, l := range lines {
			if w := lipgloss.Width(l); w != width {
				t.Errorf("%d cells, want %d: %q", w, width, ansi.Strip(l))
			}
		}
	}
}
