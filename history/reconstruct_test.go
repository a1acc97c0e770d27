package history_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// rc is minute m of the reconstruction tests' day.
func rc(m int) time.Time {
	return time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute)
}

// fired is an alert's firing from minute start to minute end of the day
// (end < 0: still firing).
func fired(name, service, severity string, start, end int) sources.Firing {
	l := sources.Labels{"alertname": name, "severity": severity}
	if service != "" {
		l["service"] = service
	}
	f := sources.Firing{Alert: sources.Alert{Name: name, Service: service, Severity: severity, Labels: l}, Start: rc(start), Step: time.Minute,
		Source: `ALERTS{alertname="` + name + `"} at 1m steps (prometheus)`}
	if end >= 0 {
		f.End = rc(end)
	}
	return f
}

func servicesOf(recs []history.Record) [][]string {
	var out [][]string
	for _, r := range recs {
		out = append(out, r.Services)
	}
	return out
}

// TestReconstructGroupsThroughNeighboursNeverThroughAServicelessFiring:
// alerts on services that call each other are one incident when the
// graph says so; a firing with no service joins only firings of its own
// alert, so a fleet-wide alert overlapping many services' pages leaves
// them apart; heartbeats are no incident.
func TestReconstructGroupsThroughNeighboursNeverThroughAServicelessFiring(t *testing.T) {
	fs := []sources.Firing{fired("HighErrorRate", "checkout", "page", 0, 20), fired("PaymentsDown", "payments", "critical", 5, 25)}
	if got := history.Reconstruct(history.Inputs{Firings: fs}); len(got) != 2 {
		t.Fatalf("no graph: %v, want checkout and payments apart", servicesOf(got))
	}
	near := history.GraphNeighbours([]sources.Edge{{Client: "checkout", Server: "payments"}})
	got := history.Reconstruct(history.Inputs{Firings: fs, Near: near})
	if len(got) != 1 || strings.Join(got[0].Services, ",") != "checkout,payments" || got[0].Severity != "critical" {
		t.Fatalf("with the graph: %v", got)
	}

	// the attacker's shape: one alert with no service label firing for
	// hours over thirty services' pages, each page its own incident
	fs = []sources.Firing{fired("NodeDown", "", "page", 0, 220)}
	for i := range 30 {
		fs = append(fs, fired("HighLatency", fmt.Sprintf("svc-%02d", i), "warning", 7*i, 7*i+3))
	}
	got = history.Reconstruct(history.Inputs{Firings: fs})
	if len(got) != 31 {
		t.Fatalf("%d incidents, want 31: each service's page and the service-less alert apart: %v", len(got), servicesOf(got))
	}
	for _, r := range got {
		if len(r.Alerts) != 1 {
			t.Errorf("%s holds %d alerts: %v", r.ID, len(r.Alerts), r.Alerts)
		}
	}

	// a service-less firing joins its own alert's firings on a service,
	// but never bridges two services' incidents
	fs = []sources.Firing{fired("DiskFull", "cart", "warning", 0, 10), fired("DiskFull", "search", "warning", 20, 30), fired("DiskFull", "", "page", 8, 22)}
	got = history.Reconstruct(history.Inputs{Firings: fs})
	if len(got) != 2 || len(got[0].Alerts) != 2 || got[0].Severity != "page" || strings.Join(got[0].Services, ",") != "cart" ||
		strings.Join(got[1].Services, ",") != "search" {
		t.Fatalf("%v, want cart with the service-less DiskFull, search apart", got)
	}
	if got[0].Resolved.Source != "last firing of "+fs[2].Source || !got[0].Resolved.T.Equal(rc(22)) {
		t.Errorf("resolution %v", got[0].Resolved)
	}
	alone := history.Reconstruct(history.Inputs{Firings: []sources.Firing{fired("NodeDown", "", "page", 0, 5), fired("NodeDown", "", "page", 8, 12),
		fired("Watchdog", "", "none", 0, -1)}})
	if len(alone) != 1 || alone[0].Title != "NodeDown" || len(alone[0].Alerts) != 2 || alone[0].Services == nil || len(alone[0].Services) != 0 {
		t.Errorf("an alert naming no service, flapping, and a heartbeat: %+v", alone)
	}
}

// TestReconstructAcksOnlySignedAckSilencesWhileOpen: an acknowledgement
// is a silence signed with "ack: " that matches an alert of the record
// and began while it was open, by the first such.
func TestReconstructAcksOnlySignedAckSilencesWhileOpen(t *testing.T) {
	ack := func(id, by, comment string, at int, m ...sources.Matcher) sources.Silence {
		return sources.Silence{ID: id, CreatedBy: by, Comment: comment, StartsAt: rc(at), EndsAt: rc(at + 60), Matchers: m}
	}
	name := sources.Matcher{Name: "alertname", Value: "HighErrorRate", IsEqual: true}
	svc := sources.Matcher{Name: "service", Value: "check.*", IsRegex: true, IsEqual: true}
	other := sources.Matcher{Name: "service", Value: "cart", IsEqual: true}
	in := history.Inputs{Firings: []sources.Firing{fired("HighErrorRate", "checkout", "page", 0, -1)}, Silences: []sources.Silence{
		ack("late", "bob", "ack: bob is on it (oncall)", 9, name),
		ack("first", "alice", "ack: alice is on it (oncall)", 3, name, svc),
		ack("unsigned", "", "ack: someone", 1, name),
		ack("planned", "ops", "ack: ops", -2, name),
		ack("maintenance", "ops", "maintenance window", 2, name),
		ack("elsewhere", "carol", "ack: carol is on it (oncall)", 2, name, other),
		ack("nomatchers", "dan", "ack: dan", 2),
	}}
	r := history.Reconstruct(in)[0]
	var ids []string
	for _, a := range r.Acks {
		ids = append(ids, a.Silence)
	}
	if strings.Join(ids, ",") != "first,late" || !r.Acked.T.Equal(rc(3)) || r.Acks[0].By != "alice" || !r.Resolved.IsZero() {
		t.Fatalf("acks %v, acked %v, resolved %v", ids, r.Acked, r.Resolved)
	}
	// once resolved, a later silence is no answer to it
	in.Firings[0].End = rc(5)
	if r := history.Reconstruct(in)[0]; len(r.Acks) != 1 {
		t.Fatalf("resolved at 5m: acks %+v", r.Acks)
	}
}

// TestReconstructAcksInTheStepBeforeTheFirstSample: the ALERTS series'
// first sample comes up to a step after the alert fired, and an ack can
// come between them (the trial's harbor-tally: fired 05:11:45, acked
// 05:11:58, first sample 05:12:00). It counts, with an MTTA of 0; one
// from before that step is still planned ahead.
func TestReconstructAcksInTheStepBeforeTheFirstSample(t *testing.T) {
	ack := func(id string, at time.Time) sources.Silence {
		return sources.Silence{ID: id, CreatedBy: "alice", Comment: "ack: alice is on it (oncall)", StartsAt: at, EndsAt: at.Add(time.Hour),
			Matchers: []sources.Matcher{{Name: "alertname", Value: "TallyLag", IsEqual: true}}}
	}
	in := history.Inputs{Firings: []sources.Firing{fired("TallyLag", "harbor-tally", "page", 12, 30)},
		Silences: []sources.Silence{ack("quick", rc(12).Add(-2*time.Second))}}
	r := history.Reconstruct(in)[0]
	if len(r.Acks) != 1 || !r.Acked.T.Equal(rc(12).Add(-2*time.Second)) {
		t.Fatalf("acks %+v, acked %v; want the ack 2s before the first sample", r.Acks, r.Acked)
	}
	if m := history.RecordFigures(r).Ack; !m.OK || m.D != 0 {
		t.Errorf("MTTA %+v, want measured 0", m)
	}
	in.Silences = []sources.Silence{ack("planned", rc(11).Add(-time.Second))}
	if r := history.Reconstruct(in)[0]; len(r.Acks) != 0 || history.RecordFigures(r).Ack.OK {
		t.Errorf("a silence over a step before the first sample: acks %+v", r.Acks)
	}
}

// TestActionsFromTellsTheAutopilotByItsApproval: the autopilot's runs,
// and their rollbacks, are its; a person's confirmation or approval is
// not; rows belong to a record by time and by target.
func TestActionsFromTellsTheAutopilotByItsApproval(t *testing.T) {
	row := func(id, approval, target string, at int, result string) remediate.Row {
		b := remediate.Entry{ID: id, Phase: remediate.PhaseBefore, Time: rc(at).Add(time.Hour), DataTime: rc(at), User: "u", Target: target, Approval: approval}
		a := b
		a.Phase, a.Result = remediate.PhaseAfter, result
		return remediate.Row{Before: b, After: &a}
	}
	rows := []remediate.Row{
		row("ran", "autopilot: every action auto and automatable, the target the likeliest cause and likely", "payments", 2, remediate.ResultFailed),
		row("rolledback", "autopilot: every action auto and automatable, the target the likeliest cause and likely; rollback after failure", "payments", 3, remediate.ResultDone),
		row("plain", "autopilot", "db", 4, remediate.ResultResolved),
		row("before", "autopilot", "payments", -1, remediate.ResultResolved),
		row("after", "autopilot", "payments", 31, remediate.ResultResolved),
		row("unrelated", "autopilot", "search", 5, remediate.ResultResolved),
		{Before: remediate.Entry{ID: "cut", Phase: remediate.PhaseBefore, DataTime: rc(6), Target: "checkout", Approval: "confirmed by alice in the cockpit"}, Unfinished: true},
		{Before: remediate.Entry{ID: "decided", Phase: remediate.PhaseDecision, Time: rc(7), User: "dave", Result: "proposal p1 approved by dave"}},
	}
	r := history.Record{Services: []string{"checkout", "payments"}, Root: "db", Detected: history.Stamp{T: rc(0)}, Resolved: history.Stamp{T: rc(30)}}
	got := history.ActionsFrom(rows, r, nil)
	var seen []string
	for _, a := range got {
		s := a.ID + ":" + a.Result
		if a.Autopilot {
			s += "+auto"
		}
		seen = append(seen, s)
	}
	want := "ran:failed+auto rolledback:done+auto plain:resolved+auto cut:unfinished: the log has no outcome decided:proposal p1 approved by dave"
	if strings.Join(seen, " ") != want {
		t.Fatalf("actions\n %s\nwant\n %s", strings.Join(seen, " "), want)
	}
	if !got[0].T.Equal(rc(2)) {
		t.Errorf("action at %s, want the data's clock %s", got[0].T, rc(2))
	}
	if history.ResolvedByAutopilot(got) {
		t.Error("a person acted too, yet the autopilot is said to have resolved it alone")
	}
	if !history.ResolvedByAutopilot(got[:3]) || history.ResolvedByAutopilot(got[:2]) {
		t.Error("the autopilot alone with a verified resolution resolved it; without one it did not")
	}
	near := history.GraphNeighbours([]sources.Edge{{Client: "checkout", Server: "search"}})
	if n := len(history.ActionsFrom(rows, r, near)); n != len(got)+1 {
		t.Errorf("with search next to checkout, %d actions, want %d", n, len(got)+1)
	}
}

// TestFindOnsetsFillsWhatItCanAndSaysWhyNotForTheRest assembles at most
// two incidents at once; a record whose assembly fails, names no
// candidate or puts the onset after the first alert keeps no onset, and
// the error names each.
func TestFindOnsetsFillsWhatItCanAndSaysWhyNotForTheRest(t *testing.T) {
	recs := history.Reconstruct(history.Inputs{Firings: []sources.Firing{
		fired("A", "a", "page", 0, 10), fired("B", "b", "page", 100, 110), fired("C", "c", "page", 200, 210),
		fired("D", "d", "page", 300, 310), fired("E", "e", "page", 400, 410),
	}})
	recs[4].Onset = history.Stamp{T: rc(395), Source: "live"}
	var running, most atomic.Int32
	var mu sync.Mutex
	var asked []correlate.Trigger
	assemble := func(ctx context.Context, tr correlate.Trigger) (*correlate.Incident, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		mu.Lock()
		asked = append(asked, tr)
		mu.Unlock()
		// time for the others to pile up: an unbounded FindOnsets has all
		// four inside by then, and a bounded one cannot fail for it
		time.Sleep(20 * time.Millisecond)
		switch tr.Service {
		case "b":
			return nil, errors.New("prometheus: connection refused")
		case "c":
			return &correlate.Incident{}, nil
		case "d":
			return &correlate.Incident{Candidates: []correlate.Candidate{{Service: "d", Onset: tr.At.Add(time.Minute)}}}, nil
		}
		return &correlate.Incident{Summary: "a broke", Candidates: []correlate.Candidate{{Service: "db", Onset: tr.At.Add(-3 * time.Minute)}},
			Anomalies: []*correlate.Anomaly{{Service: "db", Source: "rate(errors[2m])"}}, Mechanisms: []correlate.Mechanism{{Kind: "saturation"}}}, nil
	}
	rep, err := history.FindOnsets(context.Background(), recs, assemble)
	if most.Load() > 2 {
		t.Errorf("%d assemblies at once, want at most 2", most.Load())
	}
	if len(asked) != 4 {
		t.Errorf("%d assemblies, want 4: the record with an onset is left alone", len(asked))
	}
	for _, tr := range asked {
		if tr.Service == "a" && (!tr.At.Equal(rc(0)) || tr.Window != history.OnsetLookback || tr.Alert != "A") {
			t.Errorf("trigger %+v, want at the first alert, looking back %s", tr, history.OnsetLookback)
		}
	}
	a := recs[0]
	if !a.Onset.T.Equal(rc(-3)) || a.Root != "db" || a.Summary != "a broke" || a.Mechanism != "saturation" || a.Incident == nil ||
		a.Onset.Source != "oncall anomaly detection on rate(errors[2m])" || a.Title != "A on a, root db" || !a.OnsetSearch.IsZero() {
		t.Errorf("record a: %+v", a)
	}
	// b's backend failed: a failure, and b is searched again next time
	if err == nil || !strings.Contains(err.Error(), recs[1].ID) || !strings.Contains(err.Error(), "connection refused") ||
		!recs[1].OnsetSearch.IsZero() || !history.NeedsOnset(recs[1]) {
		t.Errorf("record b: search %v; error %v should name %s and its cause", recs[1].OnsetSearch, err, recs[1].ID)
	}
	// c and d: no onset is data, kept so that they are not searched again
	for i, why := range map[int]string{2: "names no root-cause candidate", 3: "after the first alert"} {
		r := recs[i]
		if !r.Onset.IsZero() || !r.OnsetSearch.T.Equal(r.Detected.T) || !strings.Contains(r.OnsetSearch.Source, "no earlier anomaly found: ") ||
			!strings.Contains(r.OnsetSearch.Source, why) || history.NeedsOnset(r) || strings.Contains(err.Error(), r.ID) {
			t.Errorf("record %d: onset %v, search %+v, want none found because %q, and no error for it", i, r.Onset, r.OnsetSearch, why)
		}
	}
	want := history.OnsetReport{Searched: 4, Found: 1, Failed: 1, NotFound: []history.OnsetMiss{
		{Reason: history.NoCandidate, Count: 1, Example: recs[2].ID + " (C on c)"}, {Reason: history.OnsetAfter, Count: 1, Example: recs[3].ID + " (D on d)"}}}
	if fmt.Sprint(rep) != fmt.Sprint(want) {
		t.Errorf("report %+v\nwant %+v", rep, want)
	}
	if line := rep.String(); strings.Count(line, "\n") != 0 || !strings.Contains(line, "4 searched, 1 found") || !strings.Contains(line, "1 failed") {
		t.Errorf("report line %q", line)
	}
	if !recs[4].Onset.T.Equal(rc(395)) {
		t.Errorf("a known onset was replaced: %v", recs[4].Onset)
	}
	// a later firing does not search again; an earlier first alert does
	asked = nil
	recs[2].Alerts = append(recs[2].Alerts, history.AlertSpan{Name: "C", Service: "c", Start: rc(260)})
	recs[3].Detected.T = rc(290)
	if _, err := history.FindOnsets(context.Background(), recs[2:4], assemble); err != nil || len(asked) != 1 || !asked[0].At.Equal(rc(290)) {
		t.Errorf("searched again %+v (%v), want only d's, from its new first alert", asked, err)
	}
}

// TestFindOnsetsSearchesAtMostItsBoundNewestFirst: a month of records
// is searched OnsetSearchesPerRun a run, the newest first, and the rest
// are counted as left for the next.
func TestFindOnsetsSearchesAtMostItsBoundNewestFirst(t *testing.T) {
	n := history.OnsetSearchesPerRun + 50
	recs := manyRecords(n)
	var calls atomic.Int32
	rep, err := history.FindOnsets(context.Background(), recs, countingAssembly(&calls))
	if err != nil || int(calls.Load()) != history.OnsetSearchesPerRun || rep.Left != 50 || rep.Searched != history.OnsetSearchesPerRun {
		t.Fatalf("%d assemblies, report %+v, %v; want %d searched and 50 left", calls.Load(), rep, err, history.OnsetSearchesPerRun)
	}
	for i, r := range recs {
		if searched := !history.NeedsOnset(r); searched != (i >= 50) {
			t.Errorf("record %d (of %d, oldest first) searched %v", i, n, searched)
		}
	}
	if !strings.Contains(rep.String(), "50 left for the next runs") {
		t.Errorf("report line %q", rep.String())
	}
}

// manyRecords is n records of one alert each on its own service, an hour
// apart, oldest first.
func manyRecords(n int) []history.Record {
	fs := make([]sources.Firing, n)
	for i := range fs {
		fs[i] = fired("HighLatency", fmt.Sprintf("svc-%04d", i), "warning", 60*i, 60*i+10)
	}
	return history.Reconstruct(history.Inputs{Stack: "prod", Firings: fs})
}

// countingAssembly counts its calls and finds no candidate, as most of
// a big stack's assemblies did.
func countingAssembly(calls *atomic.Int32) history.Assemble {
	return func(context.Context, correlate.Trigger) (*correlate.Incident, error) {
		calls.Add(1)
		return &correlate.Incident{}, nil
	}
}

// TestSyncSearchesEachRecordOnce: a second Sync over the same history
// assembles nothing and writes nothing, whether the first found the
// onsets or found none; a record it could not search is searched again.
func TestSyncSearchesEachRecordOnce(t *testing.T) {
	st := sqlite(t)
	in := history.Inputs{Stack: "prod", Firings: []sources.Firing{fired("A", "a", "page", 0, 10), fired("B", "b", "page", 100, 110),
		fired("C", "c", "page", 200, 210)}}
	var calls atomic.Int32
	assemble := func(_ context.Context, tr correlate.Trigger) (*correlate.Incident, error) {
		calls.Add(1)
		switch tr.Service {
		case "a":
			return &correlate.Incident{Candidates: []correlate.Candidate{{Service: "a", Onset: tr.At.Add(-time.Minute)}}}, nil
		case "b":
			return &correlate.Incident{}, nil
		}
		return &correlate.Incident{Missing: []correlate.Missing{{What: "prometheus metrics", Why: "timeout", Down: true}}}, nil
	}
	rep, err := history.Sync(context.Background(), st, in, assemble)
	if err == nil || !strings.Contains(err.Error(), "prometheus metrics: timeout") || calls.Load() != 3 || len(rep.Records) != 3 {
		t.Fatalf("first sync: %d assemblies, %d records, %v; want 3, 3, and c's backend failure", calls.Load(), len(rep.Records), err)
	}
	calls.Store(0)
	counted := &savesCounted{Store: st}
	rep, err = history.Sync(context.Background(), counted, in, assemble)
	if calls.Load() != 1 || rep.Onsets.Searched != 1 || err == nil {
		t.Fatalf("second sync: %d assemblies (%+v), %v; want only c's, which failed before", calls.Load(), rep.Onsets, err)
	}
	if counted.saves != 0 {
		t.Errorf("second sync saved %d records, want none: nothing changed", counted.saves)
	}
	for _, r := range rep.Records {
		if r.Services[0] == "b" && !strings.Contains(r.OnsetSearch.Source, history.NoCandidate) {
			t.Errorf("b's stored search: %+v", r.OnsetSearch)
		}
	}
}

// savesCounted is a store that counts its saves.
type savesCounted struct {
	history.Store
	saves int
}

func (s *savesCounted) Save(ctx context.Context, r history.Record) (history.Record, error) {
	s.saves++
	return s.Store.Save(ctx, r)
}

// BenchmarkSync reconstructs and syncs a month of a big stack's records
// into SQLite, twice: the first run searches OnsetSearchesPerRun onsets,
// the second only the next OnsetSearchesPerRun, never one searched before.
func BenchmarkSync(b *testing.B) {
	const n = 2000
	fs := make([]sources.Firing, n)
	for i := range fs {
		fs[i] = fired("HighLatency", fmt.Sprintf("svc-%04d", i), "warning", 20*i, 20*i+10)
	}
	in := history.Inputs{Stack: "prod", Firings: fs}
	for b.Loop() {
		b.StopTimer()
		st, err := sqlstore.Open(context.Background(), filepath.Join(b.TempDir(), "history.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var calls atomic.Int32
		for run := 1; run <= 2; run++ {
			rep, err := history.Sync(context.Background(), st, in, countingAssembly(&calls))
			if err != nil || len(rep.Records) != n || rep.Onsets.Left != n-run*history.OnsetSearchesPerRun {
				b.Fatalf("run %d: %d records, %+v, %v", run, len(rep.Records), rep.Onsets, err)
			}
			if int(calls.Load()) != run*history.OnsetSearchesPerRun {
				b.Fatalf("run %d: %d assemblies in all, want %d", run, calls.Load(), run*history.OnsetSearchesPerRun)
			}
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "records/op")
}

// TestSyncMergesIntoTheLiveRecordItIs: a live record whose alert started
// when Alertmanager saw it (a step from the ALERTS series' start, so
// another ID) takes the reconstruction in, keeps its own onset without a
// second assembly, and a record nobody kept is saved with its onset,
// not into a record of its service left open days before.
func TestSyncMergesIntoTheLiveRecordItIs(t *testing.T) {
	st := sqlite(t)
	stored := func() int {
		all, err := st.List(context.Background(), history.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	live := history.Record{ID: "inc-live0001", Stack: "prod", Origin: history.OriginLive, Title: "HighErrorRate on checkout, root db", Root: "db",
		Services: []string{"checkout"}, Onset: history.Stamp{T: rc(-4), Source: "oncall anomaly detection"},
		Detected: history.Stamp{T: rc(0).Add(-30 * time.Second), Source: "alertmanager"},
		Alerts:   []history.AlertSpan{{Name: "HighErrorRate", Service: "checkout", Start: rc(0).Add(-30 * time.Second), Source: "alertmanager"}}}
	// left open half a day before the sync's first record, and days
	// before cart's: its end was never seen
	stale := history.Record{ID: "inc-stale001", Stack: "prod", Origin: history.OriginLive, Title: "CartSlow on cart", Services: []string{"cart"},
		Detected: history.Stamp{T: rc(-12 * 60)}, Alerts: []history.AlertSpan{{Name: "CartSlow", Service: "cart", Start: rc(-12 * 60)}}}
	for _, r := range []history.Record{live, stale} {
		if _, err := st.Save(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	in := history.Inputs{Stack: "prod", Firings: []sources.Firing{fired("HighErrorRate", "checkout", "page", 0, 20), fired("CartSlow", "cart", "warning", 3*24*60, 3*24*60+10)},
		Silences: []sources.Silence{{ID: "s1", CreatedBy: "alice", Comment: "ack: alice", StartsAt: rc(2), EndsAt: rc(60),
			Matchers: []sources.Matcher{{Name: "alertname", Value: "HighErrorRate", IsEqual: true}}}}}
	var asked []string
	assemble := func(_ context.Context, tr correlate.Trigger) (*correlate.Incident, error) {
		asked = append(asked, tr.Service)
		return &correlate.Incident{Candidates: []correlate.Candidate{{Service: tr.Service, Onset: tr.At.Add(-time.Minute)}}}, nil
	}
	rep, err := history.Sync(context.Background(), st, in, assemble)
	if err != nil {
		t.Fatal(err)
	}
	saved := rep.Records
	if len(saved) != 2 || saved[0].ID != live.ID || saved[1].ID == stale.ID || stored() != 3 {
		t.Fatalf("saved %d records (%d stored), %s and %s; want 2 of 3, the first the live one, the second not the stale one", len(saved), stored(), saved[0].ID, saved[1].ID)
	}
	got := saved[0]
	if got.Origin != history.OriginLive || !got.Onset.T.Equal(rc(-4)) || got.Root != "db" || !got.Acked.T.Equal(rc(2)) || !got.Resolved.T.Equal(rc(20)) {
		t.Errorf("merged live record: %+v", got)
	}
	if strings.Join(asked, ",") != "cart" {
		t.Errorf("assembled %v, want only cart's (checkout's onset is known)", asked)
	}
	if cart := saved[1]; !cart.Onset.T.Equal(rc(3*24*60-1)) || cart.Origin != history.OriginReconstructed {
		t.Errorf("cart: %+v", cart)
	}
	// a second sync changes nothing
	rep, err = history.Sync(context.Background(), st, in, assemble)
	again := rep.Records
	if err != nil || len(again) != 2 || stored() != 3 || len(again[0].Alerts) != len(got.Alerts) {
		t.Fatalf("second sync: %d records, %d stored, %v", len(again), stored(), err)
	}
}

// TestSyncKeepsALaterPageOutOfAResolvedLiveRecord is the trial's shape:
// a live record taken while its alert fired (its span has no End),
// resolved at 05:08 by reconstruction, and a later sync whose history
// holds a new firing on the same service at 05:15. That is a second
// incident: the first record keeps its alerts and its resolution. A
// reconstruction of the first record's own firing gives its span the
// End the live record never saw.
func TestSyncKeepsALaterPageOutOfAResolvedLiveRecord(t *testing.T) {
	st := sqlite(t)
	live := history.Record{ID: "inc-retry001", Stack: "prod", Origin: history.OriginLive, Title: "RetryStorm on meadow", Services: []string{"meadow"},
		Detected: history.Stamp{T: rc(0).Add(-30 * time.Second), Source: "alertmanager"},
		Resolved: history.Stamp{T: rc(8), Source: "last firing of ALERTS (prometheus)", Kind: history.KindAlert},
		Alerts:   []history.AlertSpan{{Name: "RetryStorm", Service: "meadow", Start: rc(0).Add(-30 * time.Second), Source: "alertmanager"}}}
	if _, err := st.Save(context.Background(), live); err != nil {
		t.Fatal(err)
	}
	sync := func(fs ...sources.Firing) []history.Record {
		t.Helper()
		if _, err := history.Sync(context.Background(), st, history.Inputs{Stack: "prod", Firings: fs}, nil); err != nil {
			t.Fatal(err)
		}
		all, err := st.List(context.Background(), history.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(all, func(a, b history.Record) int { return a.When().Compare(b.When()) })
		return all
	}
	all := sync(fired("SlowDB", "meadow", "page", 15, 18))
	if len(all) != 2 || all[0].ID != live.ID || !all[0].Resolved.T.Equal(rc(8)) || len(all[0].Alerts) != 1 || all[1].ID == live.ID {
		t.Fatalf("%d records, first %+v; want the live one as it was and SlowDB's apart", len(all), all[0])
	}
	if slow := all[1]; len(slow.Alerts) != 1 || slow.Alerts[0].Name != "SlowDB" || !slow.Resolved.T.Equal(rc(18)) {
		t.Errorf("second record %+v, want SlowDB's alone, resolved at 18m", slow)
	}
	all = sync(fired("RetryStorm", "meadow", "page", 0, 8), fired("SlowDB", "meadow", "page", 15, 18))
	if len(all) != 2 || all[0].ID != live.ID || !all[0].Resolved.T.Equal(rc(8)) || len(all[0].Alerts) != 1 || !all[0].Alerts[0].End.Equal(rc(8)) {
		t.Fatalf("%d records, first %+v; want the live one, its span ended at 8m", len(all), all[0])
	}
}

// TestOneSyncResolvesAnOpenLiveRecordBeforeMatchingLaterPages: a live
// record taken while its alert fired, never seen to end, and one
// reconstruction holding that alert's whole firing and a later page on
// the same service: the rebuilt firing resolves the live record first,
// so the later page is an incident of its own (the trial fleet's
// meadow record took in the next fault's alerts before this).
func TestOneSyncResolvesAnOpenLiveRecordBeforeMatchingLaterPages(t *testing.T) {
	st := sqlite(t)
	live := history.Record{ID: "inc-retry002", Stack: "prod", Origin: history.OriginLive, Title: "RetryStorm on meadow", Services: []string{"meadow"},
		Detected: history.Stamp{T: rc(0).Add(-30 * time.Second), Source: "alertmanager"},
		Alerts:   []history.AlertSpan{{Name: "RetryStorm", Service: "meadow", Start: rc(0).Add(-30 * time.Second), Source: "alertmanager"}}}
	if _, err := st.Save(context.Background(), live); err != nil {
		t.Fatal(err)
	}
	in := history.Inputs{Stack: "prod", Firings: []sources.Firing{fired("RetryStorm", "meadow", "page", 0, 8), fired("SlowDB", "meadow", "page", 15, 18)}}
	if _, err := history.Sync(context.Background(), st, in, nil); err != nil {
		t.Fatal(err)
	}
	all, err := st.List(context.Background(), history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(all, func(a, b history.Record) int { return a.When().Compare(b.When()) })
	if len(all) != 2 || all[0].ID != live.ID || !all[0].Resolved.T.Equal(rc(8)) || len(all[0].Alerts) != 1 {
		t.Fatalf("%d records, first %+v; want the live one resolved at 8m with its own alert, SlowDB's apart", len(all), all[0])
	}
	if slow := all[1]; len(slow.Alerts) != 1 || slow.Alerts[0].Name != "SlowDB" {
		t.Errorf("second record %+v, want SlowDB's alone", slow)
	}
}

// TestFindOnsetsOnTheSimulatorFindsTheScenariosRootAndOnset assembles a
// simulated incident the way the incident view does, from the first
// alert the simulator fired: the record's root and onset are the
// scenario's own, the onset within a minute.
func TestFindOnsetsOnTheSimulatorFindsTheScenariosRootAndOnset(t *testing.T) {
	f, err := sim.New(sim.Options{Scenario: "retry-storm", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.AdvanceTo(f.Onset().Add(20 * time.Minute))
	set := simsrc.New(f).Set()
	alerts, err := set.Alerts.Alerts(context.Background())
	if err != nil || len(alerts) == 0 {
		t.Fatalf("no alert fired 20m after the onset: %v", err)
	}
	var fs []sources.Firing
	for _, a := range alerts {
		fs = append(fs, sources.Firing{Alert: a, Start: a.StartsAt, Step: time.Second, Source: "simulator rules"})
	}
	recs := history.Reconstruct(history.Inputs{Stack: "demo", Firings: fs})
	assemble := func(ctx context.Context, tr correlate.Trigger) (*correlate.Incident, error) {
		return correlate.Analyze(correlate.Gather(ctx, set, tr, correlate.GatherOptions{Deadline: 2 * time.Minute}), testenv.SimMeta), nil
	}
	if _, err := history.FindOnsets(context.Background(), recs[:1], assemble); err != nil {
		t.Fatal(err)
	}
	truth, r := f.Truth(), recs[0]
	if r.Root != truth.RootCause || r.Onset.T.Sub(truth.Onset).Abs() > time.Minute || !r.Onset.T.Before(r.Detected.T) {
		t.Fatalf("root %s onset %s (first alert %s), want %s at %s", r.Root, r.Onset.T, r.Detected.T, truth.RootCause, truth.Onset)
	}
	if !strings.HasPrefix(r.Onset.Source, "oncall anomaly detection on ") || r.Summary == "" || r.Incident == nil {
		t.Fatalf("onset source %q, summary %q", r.Onset.Source, r.Summary)
	}
}
