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
