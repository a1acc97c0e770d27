package history

import (
	"reflect"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/remediate"
)

func at(min int) time.Time { return time.Date(2026, 12, 7, 9, min, 0, 0, time.UTC) }

func TestMerge(t *testing.T) {
	live := &correlate.Incident{Summary: "live"}
	rebuilt := &correlate.Incident{Summary: "rebuilt"}
	tests := []struct {
		name     string
		old, new Record
		check    func(t *testing.T, m Record)
	}{
		{
			name: "unions keep both sides and sort by time",
			old: Record{ID: "inc-1", Services: []string{"web"},
				Alerts:    []AlertSpan{{Name: "A", Service: "web", Start: at(5)}},
				Acks:      []Ack{{T: at(7), By: "ann", Silence: "s1"}},
				Actions:   []Action{{T: at(9), ID: "a2"}},
				Notes:     []Note{{T: at(8), By: "ann", Text: "looking"}},
				Snapshots: []Snapshot{{T: at(6), Summary: "one"}}},
			new: Record{ID: "inc-1", Services: []string{"db", "web"},
				Alerts:    []AlertSpan{{Name: "B", Service: "db", Start: at(3)}},
				Acks:      []Ack{{T: at(7), By: "ann", Silence: "s1"}, {T: at(4), By: "bob"}},
				Actions:   []Action{{T: at(9), ID: "a2"}, {T: at(2), ID: "a1"}},
				Notes:     []Note{{T: at(8), By: "ann", Text: "looking"}, {T: at(8), By: "ann", Text: "found it"}},
				Snapshots: []Snapshot{{T: at(6), Summary: "one again"}, {T: at(10), Summary: "two"}}},
			check: func(t *testing.T, m Record) {
				if want := []string{"db", "web"}; !reflect.DeepEqual(m.Services, want) {
					t.Errorf("services %v, want %v", m.Services, want)
				}
				if len(m.Alerts) != 2 || m.Alerts[0].Name != "B" {
					t.Errorf("alerts %+v, want B then A", m.Alerts)
				}
				if len(m.Acks) != 2 || m.Acks[0].By != "bob" {
					t.Errorf("acks %+v, want bob's then the silence", m.Acks)
				}
				if len(m.Actions) != 2 || m.Actions[0].ID != "a1" {
					t.Errorf("actions %+v, want a1 then a2", m.Actions)
				}
				if len(m.Notes) != 2 {
					t.Errorf("notes %+v, want two", m.Notes)
				}
				if len(m.Snapshots) != 2 || m.Snapshots[0].Summary != "one" {
					t.Errorf("snapshots %+v, want the first kept at its time and a second", m.Snapshots)
				}
			},
		},
		{
			name: "a chaos run's record stays one when the audit log's reconstruction of it merges in",
			old:  Record{ID: "inc-1", Origin: OriginChaos, Title: "chaos experiment x failed"},
			new:  Record{ID: "inc-1", Origin: OriginReconstructed, Updated: at(9)},
			check: func(t *testing.T, m Record) {
				if m.Origin != OriginChaos {
					t.Errorf("origin %q, want chaos", m.Origin)
				}
			},
		},
		{
			name: "a later alert end wins, and an ended span beats a firing one",
			old: Record{Alerts: []AlertSpan{
				{Name: "A", Service: "web", Start: at(1), End: at(5)},
				{Name: "B", Service: "web", Start: at(1)},
			}},
			new: Record{Alerts: []AlertSpan{
				{Name: "A", Service: "web", Start: at(1), End: at(3)},
				{Name: "B", Service: "web", Start: at(1), End: at(4), Source: "prometheus"},
			}},
			check: func(t *testing.T, m Record) {
				if len(m.Alerts) != 2 || !m.Alerts[0].End.Equal(at(5)) || !m.Alerts[1].End.Equal(at(4)) {
					t.Errorf("alerts %+v, want A ending 09:05 and B ending 09:04", m.Alerts)
				}
			},
		},
		{
			name: "one firing seen live and rebuilt is one span, from the earlier start",
			old: Record{Alerts: []AlertSpan{
				{Name: "A", Service: "web", Start: at(1).Add(-30 * time.Second), Source: "alertmanager"},
				{Name: "A", Service: "web", Start: at(30), Source: "alertmanager"}, // fired again: another span
			}},
			new: Record{Alerts: []AlertSpan{
				{Name: "A", Service: "web", Start: at(1), End: at(20), Step: time.Minute, Source: "prometheus"},
				{Name: "A", Service: "db", Start: at(1), End: at(20), Step: time.Minute, Source: "prometheus"},
			}},
			check: func(t *testing.T, m Record) {
				if len(m.Alerts) != 3 {
					t.Fatalf("alerts %+v, want web's two firings and db's", m.Alerts)
				}
				if w := m.Alerts[0]; w.Service != "web" || w.Source != "alertmanager" || !w.End.Equal(at(20)) || w.Step != time.Minute {
					t.Errorf("first %+v, want web's from Alertmanager's start, ended at 09:20, at the history's 1m step", w)
				}
				if w := m.Alerts[2]; w.Service != "web" || !w.Start.Equal(at(30)) || !w.End.IsZero() {
					t.Errorf("last %+v, want web's second firing, still open", w)
				}
			},
		},
		{
			name: "earliest onset, detection, ack; resolution the only one",
			old: Record{Onset: Stamp{T: at(2), Source: "old"}, Detected: Stamp{T: at(5), Source: "old"},
				Resolved: Stamp{T: at(30), Source: "runbook"}},
			new: Record{Onset: Stamp{T: at(3), Source: "new"}, Detected: Stamp{T: at(4), Source: "new"},
				Acked: Stamp{T: at(6), Source: "new"}},
			check: func(t *testing.T, m Record) {
				if m.Onset.Source != "old" || m.Detected.Source != "new" || m.Acked.Source != "new" {
					t.Errorf("onset %v detected %v acked %v", m.Onset, m.Detected, m.Acked)
				}
				if m.Resolved.Source != "runbook" {
					t.Errorf("resolved %v, want the only one", m.Resolved)
				}
			},
		},
		{
			name: "a burn-rate alert's tail never replaces a verified resolution",
			old:  Record{Resolved: Stamp{T: at(30), Source: "runbook verified", Kind: KindVerified}},
			new:  Record{Resolved: Stamp{T: at(55), Source: "last firing", Kind: KindAlert}},
			check: func(t *testing.T, m Record) {
				if m.Resolved.Kind != KindVerified || !m.Resolved.T.Equal(at(30)) {
					t.Errorf("resolved %v, want the verified one", m.Resolved)
				}
			},
		},
		{
			name: "two resolutions known the same way: the earlier",
			old:  Record{Resolved: Stamp{T: at(40), Source: "late", Kind: KindAlert}},
			new:  Record{Resolved: Stamp{T: at(30), Source: "early", Kind: KindAlert}},
			check: func(t *testing.T, m Record) {
				if m.Resolved.Source != "early" {
					t.Errorf("resolved %v, want the earlier", m.Resolved)
				}
			},
		},
		{
			name: "live over reconstructed, whichever is newer",
			old: Record{Origin: OriginLive, Title: "live title", Root: "db", Incident: live,
				Updated: at(1)},
			new: Record{Origin: OriginReconstructed, Title: "rebuilt title", Root: "cache", Mechanism: "saturation",
				Incident: rebuilt, Updated: at(50)},
			check: func(t *testing.T, m Record) {
				if m.Origin != OriginLive || m.Title != "live title" || m.Root != "db" || m.Incident != live {
					t.Errorf("got origin %s title %q root %q incident %q", m.Origin, m.Title, m.Root, m.Incident.Summary)
				}
				if m.Mechanism != "saturation" {
					t.Errorf("mechanism %q, want the empty field filled from the other", m.Mechanism)
				}
				if !m.Updated.Equal(at(50)) {
					t.Errorf("updated %v, want the later", m.Updated)
				}
			},
		},
		{
			name: "both live: the newer by latest snapshot, not by Updated",
			old:  Record{Origin: OriginLive, Summary: "old", Snapshots: []Snapshot{{T: at(20)}}, Updated: at(59)},
			new:  Record{Origin: OriginLive, Summary: "new", Snapshots: []Snapshot{{T: at(10)}}, Updated: at(1)},
			check: func(t *testing.T, m Record) {
				if m.Summary != "old" {
					t.Errorf("summary %q, want the one with the latest snapshot", m.Summary)
				}
			},
		},
		{
			name: "no snapshots: the newer by Updated",
			old:  Record{Summary: "old", Updated: at(20)},
			new:  Record{Summary: "new", Updated: at(10)},
			check: func(t *testing.T, m Record) {
				if m.Summary != "old" {
					t.Errorf("summary %q, want the later-updated", m.Summary)
				}
			},
		},
		{
			name: "both live, nothing changed yet: the later look",
			old:  Record{Origin: OriginLive, Mechanism: "retry-amplification", Assessed: at(10), Updated: at(59)},
			new:  Record{Origin: OriginLive, Mechanism: "saturation", Assessed: at(14), Updated: at(1)},
			check: func(t *testing.T, m Record) {
				if m.Mechanism != "saturation" || !m.Assessed.Equal(at(14)) {
					t.Errorf("mechanism %q assessed %v, want the look at 09:14", m.Mechanism, m.Assessed)
				}
			},
		},
		{
			name: "a runbook step changed the system: the last look before it",
			old: Record{Origin: OriginLive, Mechanism: "retry-amplification", Incident: live, Assessed: at(10),
				Actions: []Action{{ID: "a", T: at(12), Action: "turn-down-retries", Command: "set retries=1", Result: "done"}}},
			new: Record{Origin: OriginLive, Mechanism: "saturation", Incident: rebuilt, Assessed: at(14)},
			check: func(t *testing.T, m Record) {
				if m.Mechanism != "retry-amplification" || m.Incident != live || !m.Assessed.Equal(at(10)) {
					t.Errorf("mechanism %q assessed %v, want the look at 09:10, before the fix", m.Mechanism, m.Assessed)
				}
			},
		},
		{
			name: "every look after the resolution: the earliest",
			old:  Record{Origin: OriginLive, Mechanism: "late", Assessed: at(30), Resolved: Stamp{T: at(20)}},
			new:  Record{Origin: OriginLive, Mechanism: "early", Assessed: at(25)},
			check: func(t *testing.T, m Record) {
				if m.Mechanism != "early" {
					t.Errorf("mechanism %q, want the look nearest the resolution", m.Mechanism)
				}
			},
		},
		{
			name: "an escalation or a refusal changes nothing",
			old: Record{Origin: OriginLive, Mechanism: "first", Assessed: at(10), Actions: []Action{
				{ID: "e", T: at(11), Runbook: "r", Result: "escalated: nobody was told"},
				{ID: "r", T: at(11), Runbook: "r", Action: "restart", Command: "kubectl rollout restart", Result: "refused: read-only"}}},
			new: Record{Origin: OriginLive, Mechanism: "second", Assessed: at(14)},
			check: func(t *testing.T, m Record) {
				if m.Mechanism != "second" {
					t.Errorf("mechanism %q, want the later look", m.Mechanism)
				}
			},
		},
		{
			name: "a look over a record of none (a note), and the severest severity",
			old:  Record{Origin: OriginLive, Title: "HighErrorRate on checkout", Severity: "page", Incident: live, Assessed: at(10), Updated: at(1)},
			new:  Record{Severity: "warning", Notes: []Note{{T: at(11), By: "ann", Text: "x"}}, Updated: at(59)},
			check: func(t *testing.T, m Record) {
				if m.Title != "HighErrorRate on checkout" || m.Incident != live || !m.Assessed.Equal(at(10)) || m.Severity != "page" {
					t.Errorf("title %q assessed %v severity %q", m.Title, m.Assessed, m.Severity)
				}
			},
		},
		{
			name: "a person's action means not by autopilot",
			old:  Record{ByAutopilot: true, Actions: []Action{{ID: "1", Autopilot: true}}},
			new:  Record{Actions: []Action{{ID: "2", User: "ann"}}},
			check: func(t *testing.T, m Record) {
				if m.ByAutopilot {
					t.Error("by autopilot despite a person's action")
				}
			},
		},
		{
			name: "the autopilot's verified action alone makes it by autopilot, on either side",
			old:  Record{Origin: OriginLive},
			new:  Record{Actions: []Action{{ID: "1", Autopilot: true, Result: remediate.ResultResolved}}},
			check: func(t *testing.T, m Record) {
				if !m.ByAutopilot {
					t.Error("not by autopilot")
				}
			},
		},
		{
			name: "a stored flag no action supports is dropped",
			old:  Record{ByAutopilot: true, Actions: []Action{{ID: "1", Autopilot: true, Result: remediate.ResultFailed}}},
			new:  Record{},
			check: func(t *testing.T, m Record) {
				if m.ByAutopilot {
					t.Error("by autopilot with no action that resolved it")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, Merge(tc.old, tc.new)) })
	}
}

func TestMergeIsIdempotent(t *testing.T) {
	r := Record{ID: "inc-1", Origin: OriginLive, Services: []string{"web"},
		Alerts: []AlertSpan{{Name: "A", Service: "web", Start: at(1)}},
		Notes:  []Note{{T: at(2), By: "ann", Text: "x"}}, Updated: at(3)}
	if m := Merge(r, r); !reflect.DeepEqual(m, r) {
		t.Errorf("Merge(r, r) = %+v, want r", m)
	}
}

func TestRecordID(t *testing.T) {
	id := RecordID("demo", "HighErrorRate", "checkout", at(5))
	if len(id) != len("inc-")+8 || id[:4] != "inc-" {
		t.Fatalf("id %q, want inc- and 8 hex", id)
	}
	if again := RecordID("demo", "HighErrorRate", "checkout", at(5).Add(999*time.Millisecond)); again != id {
		t.Errorf("sub-second start changed the id: %s vs %s", again, id)
	}
	if other := RecordID("prod", "HighErrorRate", "checkout", at(5)); other == id {
		t.Error("another stack got the same id")
	}
	if a, b := RecordID("demo", "", "db", at(5).Add(10*time.Second)), RecordID("demo", "", "db", at(5).Add(50*time.Second)); a != b {
		t.Errorf("a service's onset within one minute gave two ids: %s %s", a, b)
	}
	if a, b := RecordID("demo", "ab", "c", at(5)), RecordID("demo", "a", "bc", at(5)); a == b {
		t.Error("parts run together")
	}
}

// TestResolutionRanks: each way of knowing a resolution wins over every
// later-ranked one, whatever the times, and within a rank the earlier.
func TestResolutionRanks(t *testing.T) {
	surest := []string{KindHand, KindVerified, KindRecovered, KindAlert, ""}
	for i, better := range surest {
		for _, worse := range surest[i+1:] {
			b, w := Stamp{T: at(50), Kind: better}, Stamp{T: at(10), Kind: worse}
			if got := resolution(w, b); got != b {
				t.Errorf("resolution(%q, %q) = %+v, want %q's", worse, better, got, better)
			}
			if got := resolution(b, w); got != b {
				t.Errorf("resolution(%q, %q) = %+v, want %q's", better, worse, got, better)
			}
		}
		if got := resolution(Stamp{T: at(9), Kind: better}, Stamp{T: at(5), Kind: better}); !got.T.Equal(at(5)) {
			t.Errorf("two %q resolutions gave %v, want the earlier", better, got.T)
		}
	}
	if got := resolution(Stamp{}, Stamp{T: at(5), Kind: KindAlert}); !got.T.Equal(at(5)) {
		t.Errorf("with one unknown: %+v", got)
	}
}
