package history_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/alertmanager"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

// wantRecord is what a reconstructed record must say.
type wantRecord struct {
	first, service, severity string // the first alert's name and service
	alerts                   int
	services                 []string
	detected, resolved       time.Time
	acked                    time.Time
	ackedBy                  string
	acks                     int
	actions                  []string // audit IDs, each "+auto" when the autopilot's
	byAutopilot              bool
}

func (w wantRecord) String() string {
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format("Jan 2 15:04")
	}
	return fmt.Sprintf("%s on %s (%s, %d alerts, %v) detected %s resolved %s acked %s by %q (%d acks) actions %v autopilot %v",
		w.first, w.service, w.severity, w.alerts, w.services, at(w.detected), at(w.resolved), at(w.acked), w.ackedBy, w.acks, w.actions, w.byAutopilot)
}

// TestReconstructAMonthFromRealPrometheusAndAlertmanager backfills a real
// Prometheus with a month of ALERTS holding known incidents, creates
// acknowledgements and other silences in a real Alertmanager, writes an
// audit log, and reconstructs: the records, their times, acks and
// actions, and the on-call figures counted from them, are the known ones.
//
// The month lies a week or more ahead: Alertmanager moves the start of a
// new silence that lies in the past to its own now, so only silences
// made ahead of time keep the start the test gives them. It starts on a
// Monday, so which pages fall out of hours is known.
func TestReconstructAMonthFromRealPrometheusAndAlertmanager(t *testing.T) {
	now := time.Now().UTC()
	base := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 8)
	for base.Weekday() != time.Monday {
		base = base.AddDate(0, 0, 1)
	}
	day := func(d, h, m int) time.Time {
		return base.Add(time.Duration(d*24+h)*time.Hour + time.Duration(m)*time.Minute)
	}
	month := sources.TimeRange{Start: base, End: base.Add(30 * 24 * time.Hour)}
	alert := func(name, service, severity string) string {
		l := fmt.Sprintf(`alertname=%q,alertstate="firing"`, name)
		if service != "" {
			l += fmt.Sprintf(",service=%q", service)
		} else {
			l += `,instance="node-3"`
		}
		return l + fmt.Sprintf(",severity=%q", severity)
	}
	firings := []testenv.AlertFiring{
		// Tuesday morning: two alerts on checkout are one incident; search
		// slows at the same time, on a service checkout does not call
		{Labels: alert("HighErrorRate", "checkout", "page"), Start: day(1, 10, 0), End: day(1, 10, 40)},
		{Labels: alert("HighLatency", "checkout", "warning"), Start: day(1, 10, 3), End: day(1, 10, 30)},
		{Labels: alert("SearchLatency", "search", "warning"), Start: day(1, 10, 10), End: day(1, 10, 25)},
		// Saturday night, out of hours: payments burns, clears, and burns
		// again within GroupGap: one incident
		{Labels: alert("PaymentsErrorBudgetBurn", "payments", "critical"), Start: day(5, 3, 0), End: day(5, 3, 30)},
		{Labels: alert("PaymentsErrorBudgetBurn", "payments", "critical"), Start: day(5, 3, 33), End: day(5, 3, 45)},
		// across the edge of the second piece Prometheus is asked for
		{Labels: alert("HighErrorRate", "orders", "page"), Start: day(7, 15, 0), End: day(7, 15, 40)},
		// an alert with no service overlapping cart's is not cart's: it
		// names no service, and joins only its own alert's firings
		{Labels: alert("HighLatency", "cart", "warning"), Start: day(12, 14, 0), End: day(12, 14, 20)},
		{Labels: alert("NodeDiskPressure", "", "warning"), Start: day(12, 14, 15), End: day(12, 14, 18)},
		// still firing when the month ends
		{Labels: alert("ErrorBudgetBurn", "web-gateway", "page"), Start: day(29, 17, 30), End: month.End},
	}
	promURL := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: testenv.AlertsOpenMetrics(firings, time.Minute)})
	prom, err := prometheus.New(promURL, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	am, err := alertmanager.New(testenv.Alertmanager(t), http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	silence := func(by, comment string, at time.Time, matchers ...string) string {
		s := sources.Silence{StartsAt: at, EndsAt: at.Add(2 * time.Hour), CreatedBy: by, Comment: comment}
		for _, m := range matchers {
			name, value, _ := strings.Cut(m, "=")
			s.Matchers = append(s.Matchers, sources.Matcher{Name: name, Value: value, IsEqual: true})
		}
		id, err := am.CreateSilence(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ack := func(by string, at time.Time, name, service string) string {
		return silence(by, "ack: "+by+" is on it (oncall)", at, "alertname="+name, "service="+service)
	}
	aliceAck := ack("alice", day(1, 10, 4), "HighErrorRate", "checkout")
	ack("alice", day(1, 10, 6), "HighErrorRate", "checkout")
	silence("ops", "maintenance: checkout database upgrade", day(1, 10, 5), "service=checkout")
	bobAck := ack("bob", day(5, 3, 12), "PaymentsErrorBudgetBurn", "payments")
	ack("frank", day(7, 14, 50), "HighErrorRate", "orders") // before the page: planned, not an answer
	ack("erin", day(12, 14, 30), "HighLatency", "cart")     // after it resolved
	carolAck := ack("carol", day(29, 17, 50), "ErrorBudgetBurn", "web-gateway")
	silences, err := am.Silences(ctx)
	if err != nil {
		t.Fatal(err)
	}

	audit := &remediate.Audit{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	run := func(id, user, approval, target string, at time.Time, result string) {
		b := remediate.Entry{ID: id, Phase: remediate.PhaseBefore, Time: at, DataTime: at, User: user, Host: "h", Runbook: "fix-" + target,
			Action: "restart", Target: target, Command: "kubectl rollout restart deploy/" + target, Approval: approval}
		a := b
		a.Phase, a.Result = remediate.PhaseAfter, result
		for _, e := range []remediate.Entry{b, a} {
			if err := audit.Append(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	const autopilot = "autopilot: every action auto and automatable, the target the likeliest cause and likely"
	run("a1", "alice", "confirmed by alice in the cockpit", "checkout", day(1, 10, 10), remediate.ResultResolved)
	run("a2", "oncall", autopilot, "payments", day(5, 3, 20), remediate.ResultResolved)
	if err := audit.Append(remediate.Entry{ID: "a3", Phase: remediate.PhaseDecision, Time: day(7, 15, 5), User: "dave", Runbook: "fix-orders",
		Target: "orders", Result: "proposal p1 approved by dave"}); err != nil {
		t.Fatal(err)
	}
	run("a4", "dave", "proposal p1 approved by dave", "orders", day(7, 15, 6), remediate.ResultResolved)
	run("a5", "oncall", autopilot, "web-gateway", day(29, 17, 40), remediate.ResultFailed)
	run("a6", "alice", "confirmed by alice on the shell", "checkout", day(20, 12, 0), remediate.ResultDone) // no incident then
	rows, bad, err := audit.Read()
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}

	fs, err := prom.Firings(ctx, month, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	recs := history.Reconstruct(history.Inputs{Stack: "prod", Firings: fs, Silences: silences, Audit: rows})

	wants := []wantRecord{
		{first: "HighErrorRate", service: "checkout", severity: "page", alerts: 2, services: []string{"checkout"},
			detected: day(1, 10, 0), resolved: day(1, 10, 40), acked: day(1, 10, 4), ackedBy: "alice", acks: 2, actions: []string{"a1"}},
		{first: "SearchLatency", service: "search", severity: "warning", alerts: 1, services: []string{"search"},
			detected: day(1, 10, 10), resolved: day(1, 10, 25)},
		{first: "PaymentsErrorBudgetBurn", service: "payments", severity: "critical", alerts: 2, services: []string{"payments"},
			detected: day(5, 3, 0), resolved: day(5, 3, 45), acked: day(5, 3, 12), ackedBy: "bob", acks: 1, actions: []string{"a2+auto"}, byAutopilot: true},
		{first: "HighErrorRate", service: "orders", severity: "page", alerts: 1, services: []string{"orders"},
			detected: day(7, 15, 0), resolved: day(7, 15, 40), actions: []string{"a3", "a4"}},
		{first: "HighLatency", service: "cart", severity: "warning", alerts: 1, services: []string{"cart"},
			detected: day(12, 14, 0), resolved: day(12, 14, 20)},
		{first: "NodeDiskPressure", severity: "warning", alerts: 1, services: []string{},
			detected: day(12, 14, 15), resolved: day(12, 14, 18)},
		{first: "ErrorBudgetBurn", service: "web-gateway", severity: "page", alerts: 1, services: []string{"web-gateway"},
			detected: day(29, 17, 30), acked: day(29, 17, 50), ackedBy: "carol", acks: 1, actions: []string{"a5+auto"}},
	}
	checkRecords(t, recs, wants)
	for i, id := range map[int]string{0: aliceAck, 2: bobAck, 6: carolAck} {
		if recs[i].Acks[0].Silence != id || !strings.Contains(recs[i].Acked.Source, id) {
			t.Errorf("record %d acked by silence %q (%s), want %s", i, recs[i].Acks[0].Silence, recs[i].Acked.Source, id)
		}
	}
	if src := recs[0].Detected.Source; src != `ALERTS{alertname="HighErrorRate",service="checkout"} at 1m steps (prometheus)` {
		t.Errorf("detection source %q", src)
	}

	// onsets from an assembly that puts each root a known lead before its
	// first alert, so that the figures are known too
	lead := map[string]time.Duration{"checkout": 4 * time.Minute, "search": 2 * time.Minute, "payments": 6 * time.Minute,
		"orders": 3 * time.Minute, "cart": 5 * time.Minute, "web-gateway": 10 * time.Minute}
	if _, err := history.FindOnsets(ctx, recs, leadAssembly(lead)); err != nil {
		t.Fatal(err)
	}
	st := history.Figures(recs, history.StatsOptions{Since: month.Start, Now: month.End})
	f := st.Fleet
	for what, got := range map[string][3]time.Duration{
		// leads 2, 3, 4, 5, 6 and 10 minutes
		"MTTD": {f.MTTD.Mean, f.MTTD.Median, time.Duration(f.MTTD.N)},
		// acks after 4, 12 and 20 minutes
		"MTTA": {f.MTTA.Mean, f.MTTA.Median, time.Duration(f.MTTA.N)},
		// onset to resolution: 44, 17, 51, 43 and 25 minutes, and 3 from
		// the first alert of the one with no onset; one still open
		"MTTR": {f.MTTR.Mean, f.MTTR.Median, time.Duration(f.MTTR.N)},
	} {
		want := map[string][3]time.Duration{
			"MTTD": {5 * time.Minute, 4*time.Minute + 30*time.Second, 6},
			"MTTA": {12 * time.Minute, 12 * time.Minute, 3},
			"MTTR": {30*time.Minute + 30*time.Second, 34 * time.Minute, 6},
		}[what]
		if got != want {
			t.Errorf("%s mean %s median %s over %d, want %s %s over %d", what, got[0], got[1], got[2], want[0], want[1], want[2])
		}
	}
	if f.Autopilot != (history.Share{N: 1, Of: 6}) || f.Pages.N != 4 || f.Pages.OutOfHours != 1 || f.Open != 1 {
		t.Errorf("autopilot %+v, pages %d (%d out of hours), open %d; want 1 of 6, 4 (1), 1", f.Autopilot, f.Pages.N, f.Pages.OutOfHours, f.Open)
	}
}

// checkRecords compares records with what they must say.
func checkRecords(t *testing.T, recs []history.Record, wants []wantRecord) {
	t.Helper()
	if len(recs) != len(wants) {
		for _, r := range recs {
			t.Logf("%s %s %v %s–%s", r.ID, r.Title, r.Services, r.Detected.T, r.Resolved.T)
		}
		t.Fatalf("%d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		var actions []string
		for _, a := range r.Actions {
			id := a.ID
			if a.Autopilot {
				id += "+auto"
			}
			actions = append(actions, id)
		}
		var by string
		if len(r.Acks) > 0 {
			by = r.Acks[0].By
		}
		got := wantRecord{first: r.Alerts[0].Name, service: r.Alerts[0].Service, severity: r.Severity, alerts: len(r.Alerts), services: r.Services,
			detected: r.Detected.T, resolved: r.Resolved.T, acked: r.Acked.T, ackedBy: by, acks: len(r.Acks), actions: actions, byAutopilot: r.ByAutopilot}
		if got.String() != w.String() {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, w)
		}
		if id := history.RecordID("prod", w.first, w.service, w.detected); r.ID != id || r.Origin != history.OriginReconstructed || r.Stack != "prod" {
			t.Errorf("record %d is %s (%s, %s), want %s", i, r.ID, r.Origin, r.Stack, id)
		}
		want := w.first + " on " + w.service
		if w.service == "" {
			want = w.first // an alert naming no service is titled by its name
		}
		if r.Title != want && !strings.HasPrefix(r.Title, want+", root ") {
			t.Errorf("record %d titled %q, want %q", i, r.Title, want)
		}
	}
}

// leadAssembly is an incident assembly whose top candidate is the
// trigger's service, its onset lead[service] before the trigger.
func leadAssembly(lead map[string]time.Duration) history.Assemble {
	return func(_ context.Context, t correlate.Trigger) (*correlate.Incident, error) {
		d, ok := lead[t.Service]
		if !ok {
			return &correlate.Incident{Trigger: t}, nil // no anomaly before it
		}
		return &correlate.Incident{Trigger: t, Summary: t.Service + " failed",
			Candidates: []correlate.Candidate{{Service: t.Service, Likelihood: correlate.Likely, Onset: t.At.Add(-d)}},
			Anomalies:  []*correlate.Anomaly{{Service: t.Service, Onset: t.At.Add(-d), Source: "rate(http_requests_total[2m])"}},
			Mechanisms: []correlate.Mechanism{{Kind: "deploy", Service: t.Service}}}, nil
	}
}
