package history_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

// seen is when the recorder tests begin, on the data's clock.
var seen = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func minute(m int) time.Time { return seen.Add(time.Duration(m) * time.Minute) }

// sqlite is the store the recorder writes in the cockpit and the demo.
func sqlite(t *testing.T) history.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func recorder(t *testing.T) *history.Recorder {
	wall := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	return &history.Recorder{Store: sqlite(t), Stack: "demo", AlertSource: "alertmanager",
		Wall: func() time.Time { wall = wall.Add(time.Second); return wall }}
}

// incident is checkout paging because db, which it calls, fails: looked
// at at minute at.
func incident(at int, likelihood correlate.Likelihood) *correlate.Incident {
	log := func(i int) sources.LogLine { return sources.LogLine{T: minute(3), Line: fmt.Sprintf("line %d", i)} }
	var logs []sources.LogLine
	for i := range 20 {
		logs = append(logs, log(i))
	}
	var traces []correlate.TraceView
	for i := range 6 {
		traces = append(traces, correlate.TraceView{TraceID: fmt.Sprint(i), Spans: []correlate.SpanView{{SpanID: "a", Logs: logs}}, Unattached: logs})
	}
	return &correlate.Incident{
		Trigger:    correlate.Trigger{Service: "checkout", Alert: "HighErrorRate", At: minute(at)},
		Window:     sources.TimeRange{Start: minute(at - 30), End: minute(at)},
		Summary:    "checkout errors ← db saturated",
		Chain:      []correlate.ChainLink{{Service: "checkout", What: "errors"}, {Service: "db", What: "saturated"}},
		Candidates: []correlate.Candidate{{Service: "db", Likelihood: likelihood, Onset: minute(1)}, {Service: "checkout", Likelihood: correlate.Unlikely, Onset: minute(2)}},
		Anomalies:  []*correlate.Anomaly{{Service: "db", Onset: minute(1), Source: `rate(db_errors[1m])`}, {Service: "checkout", Onset: minute(2)}},
		Mechanisms: []correlate.Mechanism{{Kind: "saturation", Service: "db"}, {Kind: "timeouts", Service: "checkout"}, {Kind: "saturation", Service: "db"}},
		Graph:      []*correlate.GraphEdge{{Client: "checkout", Server: "db"}, {Client: "web", Server: "checkout"}},
		Traces:     traces,
	}
}

func alertFiring(name, service, severity string, start int) sources.Alert {
	return sources.Alert{Name: name, Service: service, Severity: severity, State: sources.AlertFiring, StartsAt: minute(start)}
}

func TestObserveOpensARecord(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	inc := incident(10, correlate.Likely)
	alerts := []sources.Alert{
		alertFiring("HighErrorRate", "checkout", "page", 3),
		alertFiring("DBSlow", "db", "critical", 4),        // the root, by name
		alertFiring("Latency", "web", "warning", 5),       // a neighbour in the graph
		alertFiring("DiskFull", "billing", "critical", 2), // another trouble
		{Name: "Soon", Service: "checkout", State: sources.AlertPending, StartsAt: minute(6)},
		{Name: "Watchdog", Severity: "none", State: sources.AlertFiring, StartsAt: minute(-600)},      // no service, fires always
		{Name: "NodeDown", State: sources.AlertFiring, StartsAt: minute(-30)},                         // no service, long before the onset
		{Name: "ClusterErrors", Severity: "warning", State: sources.AlertFiring, StartsAt: minute(4)}, // no service, since the onset: not the incident's (see Related)
	}
	r, err := rc.Observe(ctx, inc, alerts)
	if err != nil {
		t.Fatal(err)
	}
	if want := history.RecordID("demo", "HighErrorRate", "checkout", minute(3)); r.ID != want {
		t.Errorf("id %s, want %s (the first alert's)", r.ID, want)
	}
	if r.Origin != history.OriginLive || r.Stack != "demo" || r.Root != "db" || r.Severity != "critical" {
		t.Errorf("origin %s stack %s root %s severity %s", r.Origin, r.Stack, r.Root, r.Severity)
	}
	if r.Title != "HighErrorRate on checkout, root db" || r.Mechanism != "saturation, timeouts" || r.Summary != inc.Summary {
		t.Errorf("title %q mechanism %q summary %q", r.Title, r.Mechanism, r.Summary)
	}
	var names []string
	for _, a := range r.Alerts {
		names = append(names, a.Name)
		if a.Source != "alertmanager" {
			t.Errorf("alert %s source %q", a.Name, a.Source)
		}
	}
	if got := strings.Join(names, " "); got != "HighErrorRate DBSlow Latency" {
		t.Errorf("alerts %s, want the incident's three firing ones", got)
	}
	if strings.Join(r.Services, " ") != "checkout db web" {
		t.Errorf("services %v", r.Services)
	}
	if !r.Onset.T.Equal(minute(1)) || !strings.Contains(r.Onset.Source, "anomaly detection on rate(db_errors[1m])") {
		t.Errorf("onset %+v", r.Onset)
	}
	if !r.Detected.T.Equal(minute(3)) || !strings.Contains(r.Detected.Source, "alertmanager") {
		t.Errorf("detected %+v", r.Detected)
	}
	if !r.Open() || len(r.Snapshots) != 1 || len(r.Snapshots[0].Candidates) != 2 {
		t.Errorf("open %v snapshots %+v", r.Open(), r.Snapshots)
	}
	if r.Incident == nil || len(r.Incident.Traces) != 3 || len(r.Incident.Traces[0].Spans[0].Logs) != 3 || len(r.Incident.Traces[0].Unattached) != 3 {
		t.Errorf("the recorded incident is not trimmed to 3 traces of 3 lines")
	}
	if len(inc.Traces) != 6 || len(inc.Traces[0].Spans[0].Logs) != 20 {
		t.Error("trimming changed the incident shown")
	}
	got, err := rc.Store.Get(ctx, r.ID)
	if err != nil || got.Title != r.Title {
		t.Fatalf("stored %+v, %v", got, err)
	}
}

func TestObserveSnapshotsOnlyChanges(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	alerts := []sources.Alert{alertFiring("HighErrorRate", "checkout", "page", 3)}
	for i, l := range []correlate.Likelihood{correlate.Possible, correlate.Possible, correlate.Likely, correlate.Likely} {
		if _, err := rc.Observe(ctx, incident(10+i, l), alerts); err != nil {
			t.Fatal(err)
		}
	}
	inc := incident(20, correlate.Likely)
	inc.Summary = "checkout errors ← db down"
	r, err := rc.Observe(ctx, inc, alerts)
	if err != nil {
		t.Fatal(err)
	}
	var at []int
	for _, s := range r.Snapshots {
		at = append(at, int(s.T.Sub(seen).Minutes()))
	}
	if fmt.Sprint(at) != "[10 12 20]" {
		t.Errorf("snapshots at minutes %v, want [10 12 20]: the first, the likelihood's change, the chain's", at)
	}
	if r.Summary != "checkout errors ← db down" {
		t.Errorf("summary %q, want the latest", r.Summary)
	}
}

func TestObserveJoinsARelatedOpenRecord(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	first, err := rc.Observe(ctx, incident(10, correlate.Likely), []sources.Alert{alertFiring("HighErrorRate", "checkout", "page", 3)})
	if err != nil {
		t.Fatal(err)
	}
	// another cockpit opens it from web's alert, which fired first there
	// with checkout's not seen: another ID, the same incident
	inc := incident(12, correlate.Likely)
	inc.Trigger = correlate.Trigger{Service: "web", Alert: "Latency", At: minute(12)}
	second, err := rc.Observe(ctx, inc, []sources.Alert{alertFiring("Latency", "web", "warning", 2)})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || len(second.Alerts) != 2 {
		t.Errorf("second look %s with %d alerts, want joined to %s with both", second.ID, len(second.Alerts), first.ID)
	}
	// in another stack, nothing is joined
	other := *rc
	other.Stack = "prod"
	third, err := other.Observe(ctx, incident(12, correlate.Likely), []sources.Alert{alertFiring("HighErrorRate", "checkout", "page", 3)})
	if err != nil {
		t.Fatal(err)
	}
	if third.ID == first.ID || third.Stack != "prod" {
		t.Errorf("prod's record %s joined demo's", third.ID)
	}
}

func TestObserveResolves(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	alerts := []sources.Alert{alertFiring("HighErrorRate", "checkout", "page", 3)}
	if _, err := rc.Observe(ctx, incident(10, correlate.Likely), alerts); err != nil {
		t.Fatal(err)
	}
	recovered := incident(30, correlate.Likely)
	recovered.Anomalies[0].Recovered = minute(25)
	recovered.Anomalies[1].Recovered = minute(26)

	// alerts unread: nothing is taken to have ended
	r, err := rc.Observe(ctx, recovered, nil)
	if err != nil || !r.Open() || !r.Alerts[0].End.IsZero() {
		t.Fatalf("with the alerts unread: open %v, end %v, %v", r.Open(), r.Alerts[0].End, err)
	}
	// the alert still fires: open
	if r, err = rc.Observe(ctx, recovered, alerts); err != nil || !r.Open() {
		t.Fatalf("with the alert firing: open %v, %v", r.Open(), err)
	}
	// the alert is gone but the root is still anomalous: open, the span ended
	if r, err = rc.Observe(ctx, incident(28, correlate.Likely), []sources.Alert{}); err != nil || !r.Open() {
		t.Fatalf("with db still anomalous: open %v, %v", r.Open(), err)
	}
	if !r.Alerts[0].End.Equal(minute(28)) {
		t.Errorf("alert end %v, want when it was seen gone", r.Alerts[0].End)
	}
	// the root recovered, but checkout, on its chain, still fails: open
	rootOnly := incident(30, correlate.Likely)
	rootOnly.Anomalies[0].Recovered = minute(25)
	if r, err := rc.Observe(ctx, rootOnly, []sources.Alert{}); err != nil || !r.Open() {
		t.Fatalf("with checkout still anomalous: open %v, %v", r.Open(), err)
	}
	// both over: resolved at the later of the two
	r, err = rc.Observe(ctx, recovered, []sources.Alert{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Resolved.T.Equal(minute(28)) || !strings.Contains(r.Resolved.Source, "db's anomaly and its chain's ended") || r.Resolved.Kind != history.KindRecovered {
		t.Errorf("resolved %+v, want 09:28 from the alerts and db", r.Resolved)
	}
}

func TestNoteResolveActed(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	r, err := rc.Observe(ctx, incident(10, correlate.Likely), []sources.Alert{alertFiring("HighErrorRate", "checkout", "page", 3)})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Note(ctx, r.ID, history.Note{T: minute(11), By: "ann", Text: "db pool at max"}); err != nil {
		t.Fatal(err)
	}
	if err := rc.Acted(ctx, r.ID, history.Action{T: minute(12), ID: "audit-1", Runbook: "restart-db", Result: remediate.ResultResolved, Autopilot: true}); err != nil {
		t.Fatal(err)
	}
	if err := rc.Resolve(ctx, r.ID, history.Stamp{T: minute(13), Source: "runbook restart-db verified (audit log)"}); err != nil {
		t.Fatal(err)
	}
	got, err := rc.Store.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notes) != 1 || got.Notes[0].Text != "db pool at max" || len(got.Actions) != 1 || got.Resolved.Source != "runbook restart-db verified (audit log)" {
		t.Errorf("notes %+v actions %+v resolved %+v", got.Notes, got.Actions, got.Resolved)
	}
	if got.Title != r.Title || got.Origin != history.OriginLive || len(got.Snapshots) != 1 {
		t.Errorf("the additions changed the record: %+v", got)
	}
	if !got.ByAutopilot {
		t.Error("the autopilot's verified action alone resolved it, but the live record is not by autopilot")
	}
	for name, err := range map[string]error{
		"note":    rc.Note(ctx, "inc-00000000", history.Note{T: minute(1), By: "ann", Text: "x"}),
		"resolve": rc.Resolve(ctx, "inc-00000000", history.Stamp{T: minute(1), Source: "by hand"}),
		"acted":   rc.Acted(ctx, "inc-00000000", history.Action{ID: "x"}),
	} {
		if !errors.Is(err, history.ErrNotFound) || !strings.Contains(err.Error(), "inc-00000000") {
			t.Errorf("%s on an unknown record: %v, want ErrNotFound naming it", name, err)
		}
	}
	if _, err := rc.Store.Get(ctx, "inc-00000000"); err == nil {
		t.Error("an unknown ID was created")
	}
}

func TestObservedAlerts(t *testing.T) {
	a := []sources.Alert{alertFiring("A", "web", "page", 1)}
	if got := history.ObservedAlerts(&correlate.Evidence{Alerts: a}); len(got) != 1 {
		t.Errorf("read alerts: %v", got)
	}
	if got := history.ObservedAlerts(&correlate.Evidence{}); got == nil {
		t.Error("none firing is not the same as unread: want an empty slice")
	}
	ev := &correlate.Evidence{Alerts: a, Missing: []correlate.Missing{{What: "alerts", Why: "timeout", Down: true}}}
	if got := history.ObservedAlerts(ev); got != nil {
		t.Errorf("alerts that did not arrive: %v, want nil", got)
	}
}

// A runbook resolves the record; the cockpit keeps looking while the
// burn-rate alert fires on and the first alert has left the alert
// source's list. The looks join the resolved record, which stays
// resolved, and `oncall postmortem last` (the newest record) is still it.
func TestObserveAfterResolutionJoinsTheRecord(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	page := alertFiring("HighErrorRate", "checkout", "page", 3)
	burn := alertFiring("ErrorBudgetBurn", "checkout", "ticket", 5)
	r, err := rc.Observe(ctx, incident(10, correlate.Likely), []sources.Alert{page, burn})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Acted(ctx, r.ID, history.Action{T: minute(11), ID: "audit-1", Runbook: "restart-db", Action: "restart", Target: "db", Command: "kubectl rollout restart deploy/db", Result: "resolved"}); err != nil {
		t.Fatal(err)
	}
	fixed := history.Stamp{T: minute(12), Source: "runbook restart-db verified (audit log)"}
	if err := rc.Resolve(ctx, r.ID, fixed); err != nil {
		t.Fatal(err)
	}
	after := incident(15, correlate.Likely)
	after.Summary, after.Mechanisms = "checkout errors", nil
	for _, look := range []struct {
		at     int
		alerts []sources.Alert
	}{
		{15, []sources.Alert{page, burn}}, // the same alerts: the same ID
		{17, []sources.Alert{burn}},       // the page is gone: another first alert, another ID
		{19, []sources.Alert{burn}},
		{21, []sources.Alert{}}, // the burn rate stops too
	} {
		after.Trigger.At = minute(look.at)
		got, err := rc.Observe(ctx, after, look.alerts)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != r.ID {
			t.Fatalf("the look at minute %d opened %s, want it in the resolved %s", look.at, got.ID, r.ID)
		}
	}
	all, err := rc.Store.List(ctx, history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("%d records after the fix, want the one", len(all))
	}
	got := all[0]
	if got.Resolved != fixed {
		t.Errorf("resolved %+v, want the runbook's %+v kept", got.Resolved, fixed)
	}
	ends := map[string]time.Time{}
	for _, a := range got.Alerts {
		ends[a.Name] = a.End
	}
	if !ends["HighErrorRate"].Equal(minute(17)) || !ends["ErrorBudgetBurn"].Equal(minute(21)) {
		t.Errorf("alert ends %v, want each when it was first seen gone (17, 21)", ends)
	}
	if len(got.Snapshots) != 1 || got.Summary != r.Summary || got.Mechanism != "saturation, timeouts" {
		t.Errorf("snapshots %d, summary %q, mechanism %q: the looks after the fix changed the incident's account", len(got.Snapshots), got.Summary, got.Mechanism)
	}

	// a page starting well after the fix is a new incident
	again := incident(40, correlate.Likely)
	next, err := rc.Observe(ctx, again, []sources.Alert{alertFiring("HighErrorRate", "checkout", "page", 35)})
	if err != nil {
		t.Fatal(err)
	}
	if next.ID == r.ID || !next.Open() {
		t.Errorf("a page 23 minutes after the fix joined the resolved record (%s, open %v)", next.ID, next.Open())
	}
}

// The record keeps the assessment of the last look before its first
// action changed the system: a look after the fix sees the aftermath.
func TestObserveKeepsTheAssessmentBeforeTheFix(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	alerts := []sources.Alert{alertFiring("HighErrorRate", "checkout", "page", 3)}
	storm := incident(8, correlate.Possible)
	storm.Mechanisms = []correlate.Mechanism{{Kind: "retry-amplification", Service: "db"}, {Kind: "saturation", Service: "db"}}
	storm.Summary = "checkout errors ← db saturated, retry storm"
	r, err := rc.Observe(ctx, incident(6, correlate.Possible), alerts)
	if err != nil {
		t.Fatal(err)
	}
	// an escalation only asked people: the system is as it was
	if err := rc.Acted(ctx, r.ID, history.Action{T: minute(7), ID: "audit-1", Runbook: "retry-storm", Result: "escalated: nobody was told"}); err != nil {
		t.Fatal(err)
	}
	if r, err = rc.Observe(ctx, storm, alerts); err != nil {
		t.Fatal(err)
	}
	if r.Mechanism != "retry-amplification, saturation" {
		t.Fatalf("mechanism %q before any change, want the latest look's", r.Mechanism)
	}
	fix := history.Action{T: minute(10), ID: "audit-2", Runbook: "retry-storm", Action: "turn-down-retries", Command: "set retries=1", Result: "done"}
	if err := rc.Acted(ctx, r.ID, fix); err != nil {
		t.Fatal(err)
	}
	// the retries are gone; the saturation they left is all a later look sees
	if r, err = rc.Observe(ctx, incident(14, correlate.Likely), alerts); err != nil {
		t.Fatal(err)
	}
	if r.Mechanism != "retry-amplification, saturation" || r.Summary != storm.Summary || r.Incident.Summary != storm.Summary || !r.Assessed.Equal(minute(8)) {
		t.Errorf("mechanism %q summary %q assessed %s, want the look at minute 8's, before the fix", r.Mechanism, r.Summary, r.Assessed)
	}
	if len(r.Snapshots) != 3 {
		t.Errorf("%d snapshots, want every look's kept", len(r.Snapshots))
	}
}

// Alerts on the incident's own services belong to it whatever their
// start, as long as the evidence covers it: a burn-rate alert on the root
// that fired before its anomaly did is the detection, not another trouble.
func TestObserveKeepsEarlyAlertsOfItsOwnServices(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	inc := incident(30, correlate.Likely)
	inc.Candidates[0].Onset = minute(20) // the anomaly detection dates it late
	inc.Baseline = sources.TimeRange{Start: minute(-45), End: minute(0)}
	alerts := []sources.Alert{
		alertFiring("HighErrorRate", "checkout", "page", 22),
		alertFiring("ErrorBudgetBurn", "db", "ticket", 5),                                                        // the root's, 15 minutes before its onset
		alertFiring("DBReplicaLag", "db", "warning", -60),                                                        // the root's, before the evidence began
		alertFiring("Latency", "web", "warning", 5),                                                              // a neighbour's, long before the onset
		{Name: "DBSlow", Service: "db", State: sources.AlertResolved, StartsAt: minute(-10), EndsAt: minute(-5)}, // over before the incident
	}
	r, err := rc.Observe(ctx, inc, alerts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range r.Alerts {
		names = append(names, a.Name)
	}
	if got := strings.Join(names, " "); got != "ErrorBudgetBurn HighErrorRate" {
		t.Errorf("alerts %s, want the root's burn rate and the page", got)
	}
	if !r.Detected.T.Equal(minute(5)) || !strings.HasPrefix(r.Detected.Source, "ErrorBudgetBurn on db") {
		t.Errorf("detected %+v, want the burn-rate alert at 09:05", r.Detected)
	}
	if want := history.RecordID("demo", "ErrorBudgetBurn", "db", minute(5)); r.ID != want {
		t.Errorf("id %s, want %s (the first alert's)", r.ID, want)
	}
}

// A look at the whole fleet has no trigger: its record is named by its
// severest alert, else by its root and how it failed.
func TestObserveTitlesAFleetLook(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	inc := incident(10, correlate.Likely)
	inc.Trigger = correlate.Trigger{At: minute(10), Window: 15 * time.Minute}
	r, err := rc.Observe(ctx, inc, []sources.Alert{
		alertFiring("DBConnections", "db", "warning", 2),
		alertFiring("HighErrorRate", "checkout", "page", 3),
		alertFiring("ErrorBudgetBurn", "web", "page", 4),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "HighErrorRate on checkout, root db" {
		t.Errorf("title %q, want the earliest page's, with the root", r.Title)
	}
	if r, err = recorder(t).Observe(ctx, inc, []sources.Alert{}); err != nil {
		t.Fatal(err)
	}
	if r.Title != "saturation at db" {
		t.Errorf("title %q with no alert, want the root's mechanism at it", r.Title)
	}
}

// TestAckedRecordsTheCockpitsAcknowledgement: the silence the cockpit's
// a key makes lands on the record of the alert it silences, once, as its
// acknowledgement; a silence that is not an ack, or one of another
// stack's recorder, does not.
func TestAckedRecordsTheCockpitsAcknowledgement(t *testing.T) {
	ctx := context.Background()
	rc := recorder(t)
	page := alertFiring("HighErrorRate", "checkout", "page", 3)
	page.ServiceLabel, page.Labels = "service", sources.Labels{"alertname": "HighErrorRate", "service": "checkout"}
	r, err := rc.Observe(ctx, incident(10, correlate.Likely), []sources.Alert{page})
	if err != nil {
		t.Fatal(err)
	}
	ack := sources.Silence{ID: "s-1", StartsAt: minute(12), EndsAt: minute(72), CreatedBy: "ann", Comment: history.AckCommentPrefix + "ann is on it (oncall)",
		Matchers: []sources.Matcher{{Name: "alertname", Value: "HighErrorRate", IsEqual: true}, {Name: "service", Value: "checkout", IsEqual: true}}}
	for range 2 {
		ids, err := rc.Acked(ctx, ack)
		if err != nil || len(ids) != 1 || ids[0] != r.ID {
			t.Fatalf("acked %v, %v; want %s", ids, err, r.ID)
		}
	}
	got, err := rc.Store.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Acks) != 1 || got.Acks[0].By != "ann" || !got.Acked.T.Equal(minute(12)) || got.Acked.Kind != history.KindAck || !strings.Contains(got.Acked.Source, "s-1") {
		t.Errorf("acks %+v, acked %+v; want ann's one at 09:12", got.Acks, got.Acked)
	}

	maintenance := ack
	maintenance.ID, maintenance.Comment = "s-2", "disk swap"
	other := *rc
	other.Stack = "prod"
	for name, acked := range map[string]func() ([]string, error){
		"a silence that is no ack": func() ([]string, error) { return rc.Acked(ctx, maintenance) },
		"another stack's":          func() ([]string, error) { return other.Acked(ctx, ack) },
	} {
		if ids, err := acked(); err != nil || len(ids) != 0 {
			t.Errorf("%s: acked %v, %v; want none", name, ids, err)
		}
	}
}
