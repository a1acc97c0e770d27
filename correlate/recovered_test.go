package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// spell is an error ratio of bad from step from until step to (to < 0:
// the window's end), and of 0.001 otherwise.
func spell(from, to int, bad float64) func(int) float64 {
	return func(i int) float64 {
		if i >= from && (to < 0 || i < to) {
			return bad
		}
		return 0.001
	}
}

// The trial fleet: a dependency's earlier fault (a pool that shrank and
// grew back) recovered at 23:40, and its caller's own worker pool keeps
// failing it. The recovered one explained the caller's onset, and led as
// likely, though healthy for four minutes while the caller still fails.
func TestARecoveredDependencyDoesNotOutrankALiveCaller(t *testing.T) {
	ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second,
		RED: []sources.RED{
			red("edge", 180, 100, spell(148, -1, 0.9), flat(0.05)),
			red("wick", 180, 100, spell(148, 164, 0.4), flat(0.05)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "edge", RequestRate: 100},
			{Client: "edge", Server: "wick", RequestRate: 100, FailedRate: 20, P99Seconds: 0.05},
		},
		BaselineEdges: []sources.Edge{{Client: "edge", Server: "wick", RequestRate: 100, P99Seconds: 0.05}},
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) < 2 || inc.Candidates[0].Service != "edge" {
		t.Fatalf("candidates %+v, want the live edge first", inc.Candidates)
	}
	if r := reasonOf(inc.Candidates[0], ReasonUnexplained); r == nil {
		t.Errorf("edge %+v: a dependency healthy since 23:40 explains its failing now", inc.Candidates[0])
	}
	c := inc.Candidates[1]
	r := reasonOf(c, ReasonRecovered)
	if c.Service != "wick" || c.Likelihood == Likely || r == nil || r.Weight >= 0 || !r.Shown() ||
		r.Detail != "recovered at 23:40, while edge still anomalous: an earlier fault, not what fails now" {
		t.Fatalf("second %+v, want wick demoted with a shown recovered reason", c)
	}
}

// The trial fleet: an app's bad deploy was rolled back and its service
// recovered at 23:40; the entry it hurt went on failing without a healthy
// step, because another of its dependencies then lost its pool at 23:43.
// The entry's onset is the first fault's; what it suffers from now is the
// second, which must come first, ahead of the recovered one and of the
// entry itself.
func TestALiveFaultThatTookOverACallerComesFirst(t *testing.T) {
	ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second,
		RED: []sources.RED{
			red("web", 180, 100, spell(148, -1, 0.6), flat(0.05)),
			red("ladder", 180, 100, spell(148, 164, 0.4), flat(0.05)),
			red("basket", 180, 100, spell(174, -1, 0.5), flat(0.05)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "web", RequestRate: 100},
			{Client: "web", Server: "ladder", RequestRate: 50, FailedRate: 10, P99Seconds: 0.05},
			{Client: "web", Server: "basket", RequestRate: 50, FailedRate: 10, P99Seconds: 0.05},
		},
		BaselineEdges: []sources.Edge{
			{Client: "web", Server: "ladder", RequestRate: 50, P99Seconds: 0.05},
			{Client: "web", Server: "basket", RequestRate: 50, P99Seconds: 0.05},
		},
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) < 3 || inc.Candidates[0].Service != "basket" {
		t.Fatalf("candidates %+v, want the live basket first", inc.Candidates)
	}
	for _, c := range inc.Candidates[1:] {
		switch r := reasonOf(c, ReasonExplained); {
		case c.Service == "web" && (r == nil || !strings.HasSuffix(r.Detail, ": basket")):
			t.Errorf("web %+v, want it explained by basket, which fails it now", c)
		case c.Service == "ladder" && reasonOf(c, ReasonRecovered) == nil:
			t.Errorf("ladder %+v, want it demoted as recovered", c)
		}
	}
}

// A deploy rolled back before anything broke was undone: it weighs
// RolledBackChangeShare of what it would, and says so.
func TestAChangeRolledBackBeforeTheOnsetWeighsLess(t *testing.T) {
	deploy := sources.Change{Service: "cfg", Kind: sources.ChangeDeploy, T: t0.Add(31 * time.Minute), Version: "v2", Detail: "version v1 → v2"}
	rollback := sources.Change{Service: "cfg", Kind: sources.ChangeRollback, T: t0.Add(33 * time.Minute), Version: "v1", Detail: "version v2 → v1"}
	changeOf := func(changes ...sources.Change) *Reason {
		ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second,
			RED: []sources.RED{
				red("api", 180, 100, spell(152, -1, 0.5), flat(0.05)),
				red("cfg", 180, 100, flat(0.001), flat(0.05)),
			},
			Edges:   []sources.Edge{{Client: "api", Server: "cfg", RequestRate: 100, P99Seconds: 0.05}},
			Changes: changes,
		}
		for _, c := range Analyze(ev, Meta{}).Candidates {
			if c.Service == "cfg" {
				return reasonOf(c, ReasonChange)
			}
		}
		t.Fatalf("cfg is no candidate with changes %+v", changes)
		return nil
	}
	kept, undone := changeOf(deploy), changeOf(deploy, rollback)
	if kept == nil || undone == nil || kept.Weight <= 0 || undone.Weight != round2(kept.Weight*RolledBackChangeShare) {
		t.Fatalf("deploy weighs %+v kept and %+v rolled back", kept, undone)
	}
	if want := "deploy v2 at 23:31:00: version v1 → v2; rolled back at 23:33:00, before the first anomaly"; undone.Detail != want {
		t.Errorf("detail %q, want %q", undone.Detail, want)
	}
}

// The trial fleet: a leaf's bad deploy was rolled back and the leaf
// recovered four minutes before its caller's pool was cut to one. The
// deploy and its rollback belong to the earlier incident: neither is a
// suspect of what fails now, nor explains the caller's new anomaly.
func TestAChangeAnEarlierIncidentSettledIsNoSuspect(t *testing.T) {
	deploy := sources.Change{Service: "tally", Kind: sources.ChangeDeploy, T: t0.Add(32 * time.Minute), Version: "v2-rc.bad", Detail: "version v2 → v2-rc.bad"}
	rollback := sources.Change{Service: "tally", Kind: sources.ChangeRollback, T: t0.Add(37*time.Minute + 30*time.Second), Version: "v2", Detail: "version v2-rc.bad → v2"}
	ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second,
		RED: []sources.RED{
			red("gate", 180, 100, spell(168, -1, 0.6), flat(0.05)),
			red("berth", 180, 100, spell(168, -1, 0.4), flat(0.05)),
			red("tally", 180, 100, spell(128, 150, 0.3), flat(0.05)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "gate", RequestRate: 100},
			{Client: "gate", Server: "berth", RequestRate: 100, FailedRate: 40, P99Seconds: 0.05},
			{Client: "berth", Server: "tally", RequestRate: 100, FailedRate: 30, P99Seconds: 0.05},
		},
		BaselineEdges: []sources.Edge{
			{Client: "gate", Server: "berth", RequestRate: 100, P99Seconds: 0.05},
			{Client: "berth", Server: "tally", RequestRate: 100, P99Seconds: 0.05},
		},
		Changes: []sources.Change{deploy, rollback},
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "berth" || inc.Candidates[0].Likelihood != Likely {
		t.Fatalf("candidates %+v, want berth first and likely", inc.Candidates)
	}
	if reasonOf(inc.Candidates[0], ReasonUnexplained) == nil {
		t.Errorf("berth %+v: the rolled-back leaf explains it", inc.Candidates[0])
	}
	for _, c := range inc.Candidates {
		if c.Service == "tally" {
			t.Errorf("tally %+v is a suspect: its deploy and rollback were an earlier incident", c)
		}
	}

	// the same deploy with tally failing still is the suspect
	ev.RED[2] = red("tally", 180, 100, spell(128, -1, 0.3), flat(0.05))
	ev.Changes = []sources.Change{deploy}
	if c := Analyze(ev, Meta{}).Candidates; len(c) == 0 || c[0].Service != "tally" {
		t.Errorf("with tally still failing, candidates %+v, want tally first", c)
	}
}

// The trial fleet: an app's entry failed on without a healthy step
// through three faults. A leaf's bad deploy was rolled back at 23:40:30
// and the leaf recovered; the database was slow earlier and is fast
// again; then the pool owner's pool was cut to one. The rollback is not
// what its caller's new anomaly comes from, and the database that is
// fast again did not fill the pool: the owner comes first, with the pool.
func TestAFaultAfterRecoveredOnesBlamesTheLiveOwner(t *testing.T) {
	used := poolInUse("pool of hive", 171)
	ev := &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start},
		RED: []sources.RED{
			red("front", 180, 100, spell(128, -1, 0.6), flat(0.05)),
			red("hive", 180, 100, spell(172, -1, 0.4), flat(0.05)),
			red("fence", 180, 100, spell(150, 162, 0.3), flat(0.05)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "front", RequestRate: 100},
			{Client: "front", Server: "hive", RequestRate: 100, FailedRate: 40, P99Seconds: 1.1},
			{Client: "hive", Server: "fence", RequestRate: 100, FailedRate: 30, P99Seconds: 0.05},
			{Client: "hive", Server: "pg", Kind: sources.EdgeDatabase, RequestRate: 100, P99Seconds: 1.3, Query: "calls into pg"},
		},
		RecentEdges: []sources.Edge{
			{Client: "hive", Server: "pg", Kind: sources.EdgeDatabase, RequestRate: 100, P99Seconds: 0.1},
		},
		BaselineEdges: []sources.Edge{
			{Client: "front", Server: "hive", RequestRate: 100, P99Seconds: 0.05},
			{Client: "hive", Server: "fence", RequestRate: 100, P99Seconds: 0.05},
			{Client: "hive", Server: "pg", Kind: sources.EdgeDatabase, RequestRate: 100, P99Seconds: 0.1},
		},
		Saturation: []sources.Saturation{{Service: "hive", Resource: "pool:pg", Max: 1, Used: used}},
		Changes: []sources.Change{
			{Service: "fence", Kind: sources.ChangeDeploy, T: t0.Add(37*time.Minute + 30*time.Second), Version: "v5-rc.bad", Detail: "version v5 → v5-rc.bad"},
			{Service: "fence", Kind: sources.ChangeRollback, T: t0.Add(40*time.Minute + 30*time.Second), Version: "v5", Detail: "version v5-rc.bad → v5"},
		},
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "hive" || inc.Candidates[0].Likelihood != Likely {
		t.Fatalf("candidates %+v, want hive first and likely", inc.Candidates)
	}
	hive := inc.Candidates[0]
	if reasonOf(hive, ReasonUnexplained) == nil {
		t.Errorf("hive %+v: the rolled-back fence explains it", hive)
	}
	if r := reasonOf(hive, ReasonPool); r == nil || !strings.Contains(r.Detail, "while pg's latency held (its earlier anomaly recovered at 23:40)") {
		t.Errorf("hive's pool reason %+v: want it filled from hive's side", r)
	}
	for _, an := range inc.Anomalies {
		if an.Service == "pg" && an.Onset.After(an.Recovered) {
			t.Errorf("pg's anomaly began at %v, after it recovered at %v", an.Onset, an.Recovered)
		}
	}
}
