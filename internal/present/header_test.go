package present

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// TestIncidentHeaderDatesAndDurations: the header writes the date of a
// window of another day than now's, or across midnight, and its lengths
// as people say them, whole seconds at most.
func TestIncidentHeaderDatesAndDurations(t *testing.T) {
	now := time.Date(2026, 12, 6, 22, 33, 0, 0, time.UTC)
	for _, c := range []struct {
		name                string
		start, end          time.Time
		baseline            time.Duration
		now                 time.Time
		zone                *time.Location
		title, text, mdText string
	}{
		{name: "today", start: now.Add(-15 * time.Minute), end: now, baseline: 30 * time.Minute, now: now,
			title: "22:18:00–22:33:00 UTC", text: "(15m), baseline 30m before it"},
		{name: "another day", start: time.Date(2000, 12, 31, 23, 30, 0, 0, time.UTC), end: time.Date(2000, 12, 31, 23, 45, 0, 0, time.UTC), baseline: 30 * time.Minute, now: now,
			title: "2000-12-31 23:30:00–23:45:00 UTC"},
		{name: "across midnight, --at 2001-01-01T00:00:00Z", start: time.Date(2000, 12, 31, 23, 45, 0, 0, time.UTC), end: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), baseline: 30 * time.Minute, now: now,
			title: "2000-12-31 23:45:00–2001-01-01 00:00:00 UTC"},
		{name: "across midnight, no clock", start: time.Date(2000, 12, 31, 23, 45, 0, 0, time.UTC), end: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), baseline: 30 * time.Minute,
			title: "2000-12-31 23:45:00–2001-01-01 00:00:00 UTC"},
		{name: "another day, no clock", start: time.Date(2000, 12, 31, 23, 30, 0, 0, time.UTC), end: time.Date(2000, 12, 31, 23, 45, 0, 0, time.UTC), baseline: 30 * time.Minute,
			title: "23:30:00–23:45:00 UTC"},
		{name: "--window 30d", start: now.Add(-30 * 24 * time.Hour), end: now, baseline: 30 * time.Minute, now: now,
			title: "2026-11-06 22:33:00–2026-12-06 22:33:00 UTC", text: "(30d), baseline 30m before it", mdText: "window 30d, baseline 30m."},
		{name: "widened", start: now.Add(-16*time.Minute - 29697795404), end: now, baseline: 28*time.Minute + 30303*time.Millisecond, now: now,
			text: "(16m30s), baseline 28m30s before it", mdText: "window 16m30s, baseline 28m30s."},
		{name: "today in the zone, not in UTC", start: time.Date(2026, 12, 6, 23, 45, 0, 0, time.UTC), end: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), baseline: time.Hour,
			now: time.Date(2026, 12, 7, 0, 5, 0, 0, time.UTC), zone: time.FixedZone("EST", -5*3600), title: "18:45:00–19:00:00 EST"},
	} {
		inc := &correlate.Incident{Window: sources.TimeRange{Start: c.start, End: c.end},
			Baseline: sources.TimeRange{Start: c.start.Add(-c.baseline), End: c.start}, Summary: "no service departs from its baseline in this window"}
		p := NewIncident(inc, Options{Label: "config x.yaml", Now: c.now, Zone: c.zone})
		if c.title != "" && p.Title() != c.title {
			t.Errorf("%s: title %q, want %q", c.name, p.Title(), c.title)
		}
		var text, md bytes.Buffer
		if err := Text(&text, p, true); err != nil {
			t.Fatal(err)
		}
		if err := Markdown(&md, p); err != nil {
			t.Fatal(err)
		}
		if c.text != "" && !strings.Contains(text.String(), c.text) {
			t.Errorf("%s: text header lacks %q:\n%s", c.name, c.text, text.String())
		}
		if c.mdText != "" && !strings.Contains(md.String(), c.mdText) {
			t.Errorf("%s: markdown header lacks %q:\n%s", c.name, c.mdText, md.String())
		}
	}
}

// TestStopIsSaidFirstInText: an incident led by a service that stopped
// reporting says so under WHAT BROKE FIRST, before the chain from before
// the stop, as its summary (the JSON's) and the markdown do; one whose
// summary does not lead with the stop (something live explains it) does
// not.
func TestStopIsSaidFirstInText(t *testing.T) {
	since := t0.Add(13 * time.Minute)
	inc := &correlate.Incident{
		Window:       sources.TimeRange{Start: t0, End: t0.Add(15 * time.Minute)},
		Baseline:     sources.TimeRange{Start: t0.Add(-30 * time.Minute), End: t0},
		Summary:      "db stopped reporting since 23:13, while the rest of the fleet reports; before the stop: db errors 0.1% → 50.0% at 23:05",
		Chain:        []correlate.ChainLink{{Service: "db", What: "errors 0.1% → 50.0% at 23:05"}},
		Stopped:      []correlate.StoppedService{{Service: "db", Since: since}},
		StoppedFirst: true,
		Candidates: []correlate.Candidate{{Service: "db", Likelihood: correlate.Possible, Confidence: 0.5, Score: 2,
			Reasons: []correlate.Reason{{Kind: correlate.ReasonStopped, Weight: -2, Detail: "stopped reporting since 23:13: no data after it"}}}},
	}
	var text, md bytes.Buffer
	if err := Text(&text, NewIncident(inc, Options{}), true); err != nil {
		t.Fatal(err)
	}
	want := "WHAT BROKE FIRST\n  db stopped reporting since 23:13:00, while the rest of the fleet reports; before the stop:\n  db: errors 0.1% → 50.0% at 23:05\n"
	if !strings.Contains(text.String(), want) {
		t.Errorf("text lacks\n%s\nin\n%s", want, text.String())
	}
	// --timezone applies to the stop's clock as to every other
	text.Reset()
	if err := Text(&text, NewIncident(inc, Options{Zone: time.FixedZone("CET", 3600)}), true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "db stopped reporting since 00:13:00") {
		t.Errorf("text in CET:\n%s", text.String())
	}
	if err := Markdown(&md, NewIncident(inc, Options{})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## What broke first\n\ndb stopped reporting since 23:13") {
		t.Errorf("markdown:\n%s", md.String())
	}

	// live: the summary is the chain, the stop is a note, not the lead
	inc.Summary, inc.StoppedFirst = "db errors 0.1% → 50.0% at 23:05", false
	text.Reset()
	if err := Text(&text, NewIncident(inc, Options{}), true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "before the stop") {
		t.Errorf("a live incident's text leads with the stop:\n%s", text.String())
	}
}
