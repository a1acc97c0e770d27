package present

import (
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
)

// resolvedStorm is a resolved live record with one of everything, its
// text from backends and people laced with terminal controls.
func resolvedStorm() history.Record {
	at := time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)
	min := func(n int) time.Time { return at.Add(time.Duration(n) * time.Minute) }
	return history.Record{
		ID: "inc-3f9a1c07", Stack: "demo", Origin: history.OriginLive, Title: "HighErrorRate on checkout-api\x1b]52;c;ZXZpbA==\a", Severity: "page",
		Services: []string{"checkout-api", "payment-api"}, Root: "user-preferences-api", Mechanism: "retry storm",
		Summary:  "user-preferences-api slowed; payment-api's retries multiplied its load.",
		Onset:    history.Stamp{T: at, Source: "p99 of user-preferences-api, anomaly (sim)"},
		Detected: history.Stamp{T: min(3), Source: "ALERTS (prometheus)"},
		Acked:    history.Stamp{T: min(5), Source: "silence 7c1e by alice (alertmanager)"},
		Resolved: history.Stamp{T: min(45), Source: "runbook retry-storm verified (audit log)"},
		Alerts: []history.AlertSpan{
			{Name: "HighErrorRate", Service: "checkout-api", Severity: "page", Start: min(3), End: min(25), Source: "prometheus"},
			{Name: "RetryBudget", Service: "payment-api", Severity: "warning", Start: min(20), End: min(40), Source: "prometheus"},
			{Name: "SlowPrefs", Start: min(4), Source: "alertmanager"},
		},
		Acks: []history.Ack{{T: min(5), By: "alice", Silence: "7c1e", Source: "alertmanager"}},
		Actions: []history.Action{{T: min(20), ID: "a1", Runbook: "retry-storm", Action: "cap-retries", Target: "payment-api", User: "autopilot",
			Command: "kubectl set env deploy/payment-api --token ‹secret:KUBE_TOKEN›", Result: "resolved", Autopilot: true},
			{T: min(21), ID: "a2"}},
		ByAutopilot: true,
		Notes:       []history.Note{{T: min(10), By: "alice", Text: "retries\x1b[2J look like the amplifier"}},
		Snapshots: []history.Snapshot{{T: min(4), Summary: "payment-api retrying",
			Candidates: []history.Suspect{{Service: "user-preferences-api", Likelihood: correlate.Likely}},
			Blast:      history.BlastFigure{Services: []string{"checkout-api", "payment-api"}, FailingPerMin: 1240, MoneyPerMin: 310, Currency: "EUR"}}},
	}
}

// TestHistoryRecordTextIsTheRecordWhole: `oncall history show`'s text has every
// part of the record, each time in the zone asked for with its source,
// the record's own figures, an alert's end crossing midnight with its
// date, an alert with no end on a resolved record as an end not seen,
// and no terminal control from the record's text.
func TestHistoryRecordTextIsTheRecordWhole(t *testing.T) {
	berlin := time.FixedZone("CET", 60*60) // a zone every machine has
	var b strings.Builder
	if err := RecordText(&b, NewRecord(resolvedStorm(), RecordOptions{Zone: berlin})); err != nil {
		t.Fatal(err)
	}
	want := `INCIDENT inc-3f9a1c07 · stack demo · live record · resolved by the autopilot
HighErrorRate on checkout-api
severity page · root user-preferences-api · retry storm
services checkout-api, payment-api
user-preferences-api slowed; payment-api's retries multiplied its load.

TIMELINE (times in CET, each with its source)
  2026-11-28 00:30:00 onset        p99 of user-preferences-api, anomaly (sim)
  2026-11-28 00:33:00 first alert  ALERTS (prometheus)
  2026-11-28 00:35:00 acknowledged silence 7c1e by alice (alertmanager)
  2026-11-28 01:15:00 resolved     runbook retry-storm verified (audit log)
  MTTD 3 min · MTTA 2 min · MTTR 45 min

ALERTS (3)
  2026-11-28 00:33:00–00:55:00 HighErrorRate checkout-api page prometheus
  2026-11-28 00:50:00–01:10:00 RetryBudget payment-api warning prometheus
  2026-11-28 00:34:00 (end not seen) SlowPrefs no service alertmanager

ACKNOWLEDGEMENTS (1)
  2026-11-28 00:35:00 alice silence 7c1e alertmanager

ACTIONS (2, from the audit log)
  2026-11-28 00:50:00 retry-storm/cap-retries on payment-api by the autopilot → resolved
    $ kubectl set env deploy/payment-api --token ‹secret:KUBE_TOKEN›
  2026-11-28 00:51:00 audit entry a2

NOTES (1)
  2026-11-28 00:40:00 alice: retries look like the amplifier

SNAPSHOTS (1: what oncall knew as it went)
  2026-11-28 00:34:00 payment-api retrying
    candidates user-preferences-api likely
    blast 2 services · 1,240 failing/min · 310 EUR/min
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestHistoryRecordAlertEnds: an alert with no end is still firing while its
// record is open, in the warning tone; once the record resolved its end
// was not seen, muted; an end past midnight in the zone has its date.
func TestHistoryRecordAlertEnds(t *testing.T) {
	r := resolvedStorm()
	r.Alerts = []history.AlertSpan{{Name: "Late", Start: time.Date(2026, 11, 27, 23, 50, 0, 0, time.UTC), End: time.Date(2026, 11, 28, 0, 10, 0, 0, time.UTC)},
		{Name: "Open", Start: time.Date(2026, 11, 27, 23, 55, 0, 0, time.UTC)}}
	first := func(r history.Record) []Part { return NewRecord(r, RecordOptions{}).Alerts.Lines[0].Parts }
	if got := first(r)[0].Text; got != "2026-11-27 23:50:00–2026-11-28 00:10:00 " {
		t.Errorf("an end past midnight: %q", got)
	}
	ended := NewRecord(r, RecordOptions{}).Alerts.Lines[1].Parts[0]
	if ended.Text != "2026-11-27 23:55:00 (end not seen) " || ended.Tone != ToneMuted {
		t.Errorf("no end on a resolved record: %+v", ended)
	}
	r.Resolved = history.Stamp{}
	open := NewRecord(r, RecordOptions{}).Alerts.Lines[1].Parts[0]
	if open.Text != "2026-11-27 23:55:00 (still firing) " || open.Tone != ToneWarn {
		t.Errorf("no end on an open record: %+v", open)
	}
	if state := NewRecord(r, RecordOptions{}).Head.Title.Parts[2]; state.Text != "open" || state.Tone != ToneWarn {
		t.Errorf("an open record's state: %+v", state)
	}
}

// TestHistoryRecordWithoutOnset: a reconstructed record with no onset, ack or
// anything else says which times are unknown, measures its MTTR from the
// first alert and says so, and leaves the empty sections out.
func TestHistoryRecordWithoutOnset(t *testing.T) {
	det := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	r := history.Record{ID: "inc-c55e0b9a", Origin: history.OriginReconstructed, Services: []string{"cart"},
		Detected: history.Stamp{T: det, Source: "ALERTS (prometheus)"}, Resolved: history.Stamp{T: det.Add(time.Hour)}}
	got := strings.Join(PlainLines(NewRecord(r, RecordOptions{}).Lines()), "\n")
	want := `INCIDENT inc-c55e0b9a · stack unnamed · reconstructed record · resolved
untitled
severity – · root unknown
services cart

TIMELINE (times in UTC, each with its source)
  –                   onset        unknown
  2026-11-24 18:00:00 first alert  ALERTS (prometheus)
  –                   acknowledged unknown
  2026-11-24 19:00:00 resolved     source unsaid
  MTTD – · MTTA – · MTTR 60 min (from the first alert: the onset is unknown)

ALERTS (0)
  none recorded (an incident opened from a service has none)`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestHistoryRecordSaysWhyItsOnsetIsUnknown: a search that found no
// earlier anomaly is shown with the onset, so "unknown" says why.
func TestHistoryRecordSaysWhyItsOnsetIsUnknown(t *testing.T) {
	det := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	r := history.Record{ID: "inc-c55e0b9a", Detected: history.Stamp{T: det, Source: "ALERTS (prometheus)"},
		OnsetSearch: history.Stamp{T: det, Source: "no earlier anomaly found: cart's RED held its baseline"}}
	got := strings.Join(PlainLines(NewRecord(r, RecordOptions{}).Lines()), "\n")
	if !strings.Contains(got, "onset        unknown: no earlier anomaly found: cart's RED held its baseline") {
		t.Errorf("the onset line does not say why:\n%s", got)
	}
}

// TestHistoryRecordHostileValues: a record written by hand with line
// breaks of every kind, escapes and a 2 MB command in its fields shows
// as many lines as a plain one (no field prints a line of its own), no
// control, and the command bounded.
func TestHistoryRecordHostileValues(t *testing.T) {
	plain := resolvedStorm()
	var want strings.Builder
	if err := RecordText(&want, NewRecord(plain, RecordOptions{})); err != nil {
		t.Fatal(err)
	}
	for _, brk := range []string{"\n", "\r", "\r\n", "\v", "\f", "\u0085", "\u2028", "\u2029"} {
		inject := brk + "RESOLVED by alice (audit log)" + brk + "\x1b[2K"
		r := resolvedStorm()
		r.ID += inject
		r.Title += inject
		r.Summary += inject
		r.Services[0] += inject
		r.Onset.Source += inject
		r.Alerts[0].Name += inject
		r.Alerts[0].Source += inject
		r.Acks[0].By += inject
		r.Actions[0].Command = "kubectl apply -f -" + inject + strings.Repeat("x", 2<<20)
		r.Notes[0].Text += inject
		r.Snapshots[0].Summary += inject
		var b strings.Builder
		if err := RecordText(&b, NewRecord(r, RecordOptions{})); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if got, n := strings.Count(out, "\n"), strings.Count(want.String(), "\n"); got != n {
			t.Errorf("%q: %d lines, want %d", brk, got, n)
		}
		for _, bad := range []string{"\r", "\x1b", "\v", "\f", "\u0085", "\u2028", "\u2029"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q: the text holds %q", brk, bad)
			}
		}
		if !strings.Contains(out, "⏎RESOLVED by alice (audit log)⏎") {
			t.Errorf("%q: the break is not shown as ⏎", brk)
		}
		if len(out) > 20_000 || !strings.Contains(out, "more bytes; oncall audit shows it whole)") {
			t.Errorf("%q: the 2 MB command is not bounded: %d bytes", brk, len(out))
		}
	}
}
