package history_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// scenarioRun is one scenario resolved by its shipped runbook, as the
// e2e test of remediate runs it: the runbook, its target, and how long
// after the onset the on-call engineer looks.
type scenarioRun struct {
	scenario, runbook, target string
	after                     time.Duration
}

var scenarioRuns = []scenarioRun{
	{"db-pool-exhaustion", "pool-full", "payment-api", 5 * time.Minute},
	{"connection-leak", "pool-full", "payment-api", 35 * time.Minute},
	{"slow-db", "pool-full", "payment-api", 5 * time.Minute},
	{"crash-loop", "crash-loop", "cart", 5 * time.Minute},
	{"bad-deploy", "bad-deploy", "inventory", 5 * time.Minute},
	{"cache-miss-storm", "cache-flushed", "product-cache", 90 * time.Second},
	{"retry-storm", "retry-storm", "user-preferences-api", 5 * time.Minute},
	{"slow-burn", "memory-leak", "payment-api", time.Hour},
}

// The scenario test's bounds: how long after the runbook the record is
// watched for its own resolution, and how often.
const (
	watchFor   = 20 * time.Minute
	watchEvery = 2 * time.Minute
)

// TestPostmortemOfEachScenario builds each scenario's incident on the
// simulator, records it live into the SQLite store, runs its runbook with
// the simulator's actuator, records the actions from the audit log and
// the resolution, and compares the draft to a golden (fixed seed and
// clock). The record's onset and detection are within one sampling step
// of the simulator's truth.
func TestPostmortemOfEachScenario(t *testing.T) {
	rbs, err := remediate.LoadFS(sim.Runbooks, "runbooks", "sim/runbooks")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range scenarioRuns {
		t.Run(c.scenario, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f, err := sim.New(sim.Options{Scenario: c.scenario, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			f.AdvanceTo(f.Onset().Add(c.after))
			k, b := scenarioKit(t, f, rbs)
			st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "history.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			rec := &history.Recorder{Store: st, Stack: "demo", Wall: f.Now, AlertSource: "simulator"}

			s, step := look(ctx, t, k, b)
			r, err := rec.Observe(ctx, s.Incident, s.Alerts)
			if err != nil {
				t.Fatal(err)
			}
			truth := f.Truth()
			want := rootImpact(truth)
			if d := r.Onset.T.Sub(want).Abs(); r.Onset.IsZero() || d > step+onsetSlack[c.scenario] {
				t.Errorf("onset %s (%s), truth %s: more than one step (%s) apart", r.Onset.T, r.Onset.Source, want, step)
			}
			first := firstAlert(time.Time{}, s.Alerts)

			rb, err := k.Find(c.runbook)
			if err != nil {
				t.Fatal(err)
			}
			m, ok := k.MatchFor(rb, s, c.target)
			if !ok {
				t.Fatalf("%s does not match %s", c.runbook, c.target)
			}
			out := k.Run(ctx, k.Planner.Plan(ctx, m, s.Incident), "confirmed by alice", false, nil)
			rows, bad, err := k.Audit.Read()
			if err != nil || len(bad) > 0 {
				t.Fatalf("audit log: %v %v", err, bad)
			}
			for _, a := range history.ActionsFrom(rows, r, nil) {
				if err := rec.Acted(ctx, r.ID, a); err != nil {
					t.Fatal(err)
				}
			}
			if out.Result == remediate.ResultResolved {
				if err := rec.Resolve(ctx, r.ID, history.Stamp{T: f.Now().UTC(), Source: "runbook " + c.runbook + " verified (audit log)"}); err != nil {
					t.Fatal(err)
				}
			}
			// a record the runbook did not resolve is watched until it
			// resolves by itself (later looks may open other records)
			id := r.ID
			for end := f.Now().Add(watchFor); f.Now().Before(end); f.Advance(watchEvery) {
				if r, err = st.Get(ctx, id); err != nil {
					t.Fatal(err)
				}
				if !r.Open() {
					break
				}
				s, _ := look(ctx, t, k, b)
				first = firstAlert(first, s.Alerts)
				if _, err = rec.Observe(ctx, s.Incident, s.Alerts); err != nil {
					t.Fatal(err)
				}
			}
			if r, err = st.Get(ctx, id); err != nil {
				t.Fatal(err)
			}
			if d := r.Detected.T.Sub(first).Abs(); r.Detected.IsZero() != first.IsZero() || d > step {
				t.Errorf("detected %s (%s), the simulator's first alert %s: more than one step (%s) apart", r.Detected.T, r.Detected.Source, first, step)
			}
			past, err := st.List(ctx, history.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			d := history.Postmortem(r, past, history.PostmortemOptions{Now: f.Now(), Owner: "@alice"})
			md := d.Markdown()
			// the audit log's entry IDs are random: the golden names them by order
			for i, a := range r.Actions {
				md = strings.ReplaceAll(md, a.ID, fmt.Sprintf("audit-%d", i+1))
			}
			golden.RequireEqual(t, []byte(md))
		})
	}
}

// rootImpact is when the root cause was first hurt, as the simulator's
// model measured it (its errors or latency off their baseline for ten
// seconds), else the scenario's onset.
func rootImpact(tr sim.Truth) time.Time {
	for _, im := range tr.Affected {
		if im.Service == tr.RootCause {
			return im.At
		}
	}
	return tr.Onset
}

// onsetSlack is how much further than a step from the truth a scenario's
// onset may be, and why.
var onsetSlack = map[string]time.Duration{
	// the deploy went out 90 s before its errors began, and correlate
	// dates the onset from the deploy it names as the cause
	"bad-deploy": 90 * time.Second,
	// a memory leak: the model sees payment-api depart at once, anomaly
	// detection on 2-minute rates only when GC pauses fail requests,
	// half an hour later (a limit of detection, reported in issue 22)
	"slow-burn": 25 * time.Minute,
}

// scenarioKit is remediate's kit on the simulated fleet, as `oncall
// runbook run --demo` builds it: the simulator's sources and actuator,
// its silences as the ledger, an audit log in a temporary directory, and
// waits that advance the simulated clock.
func scenarioKit(t *testing.T, f *sim.Fleet, rbs []*remediate.Runbook) (*remediate.Kit, *simsrc.Backend) {
	b := simsrc.New(f)
	src := b.Set()
	wait := func(ctx context.Context, d time.Duration) error { f.Advance(d); return ctx.Err() }
	policy := remediate.DefaultRunPolicy()
	ledger := remediate.SilenceLedger{Alerts: b}
	audit := &remediate.Audit{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	meta := correlate.Meta{Services: map[string]correlate.ServiceMeta{}, BurnRateAlerts: sources.DefaultConventions().Alerts.BurnRate, Currency: "EUR"}
	for _, s := range f.Topology().Services {
		meta.Services[s.Name] = correlate.ServiceMeta{ValuePerRequest: s.ValuePerRequest, Owner: s.Owner}
	}
	k := &remediate.Kit{Runbooks: rbs, Ledger: ledger, Audit: audit, Policy: policy, Meta: meta, Deadline: 2 * time.Minute,
		Planner: &remediate.Planner{Sources: src, Policy: policy, Ledger: ledger, Now: f.Now},
		Exec: remediate.Executor{Sources: src, Actuator: b, Audit: audit, Escalate: &remediate.Escalator{}, HTTP: http.DefaultClient,
			Guard:  &remediate.Guard{Ledger: ledger, Policy: policy, Now: f.Now, Sleep: wait},
			Getenv: func(string) (string, bool) { return "", false }, Now: f.Now, Wait: wait, User: "alice", Host: "testhost"}}
	return k, b
}

// look is Kit.Look that also says the evidence's sampling step.
func look(ctx context.Context, t *testing.T, k *remediate.Kit, b *simsrc.Backend) (remediate.Situation, time.Duration) {
	t.Helper()
	alerts, err := b.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := correlate.Gather(ctx, k.Planner.Sources, correlate.Trigger{At: k.Planner.Now(), Window: 15 * time.Minute}, correlate.GatherOptions{Deadline: k.Deadline})
	return remediate.NewSituation(alerts, correlate.Analyze(ev, k.Meta), k.Meta.BurnRateAlerts), ev.Step
}

// firstAlert is when the simulator's first alert began firing: the
// earlier of first and the alerts' starts.
func firstAlert(first time.Time, alerts []sources.Alert) time.Time {
	for _, a := range alerts {
		if !a.StartsAt.IsZero() && (first.IsZero() || a.StartsAt.Before(first)) {
			first = a.StartsAt
		}
	}
	return first
}
