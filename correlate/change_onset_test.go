package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// The trial fleet: an earlier fault at 23:31 set the window's first
// onset, and its callers went on failing; at 23:40 a bad version of
// tally went out and tally began to fail. The deploy was nine minutes
// after the first onset, so it was no suspect, and tally came last. A
// change is also judged by its own service's onset, and the deploy, not
// the restart that came with it, is what the evidence names.
func TestADeployNearItsOwnServicesOnsetIsASuspect(t *testing.T) {
	deploy := t0.Add(40 * time.Minute)
	ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second,
		RED: []sources.RED{
			red("gate", 180, 100, spell(125, -1, 0.9), flat(0.05)),
			red("berth", 180, 100, spell(125, -1, 0.3), flat(0.05)),
			red("tally", 180, 100, spell(161, -1, 0.3), flat(0.05)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "gate", RequestRate: 100},
			{Client: "gate", Server: "berth", RequestRate: 100, FailedRate: 30, P99Seconds: 0.05},
			{Client: "berth", Server: "tally", RequestRate: 100, FailedRate: 30, P99Seconds: 0.05},
		},
		Changes: []sources.Change{
			{T: deploy.Add(-15 * time.Second), Service: "tally", Kind: sources.ChangeRestart, Detail: "process restarted"},
			{T: deploy, Service: "tally", Kind: sources.ChangeDeploy, Version: "1.3-bad", Detail: "version 1.2 → 1.3-bad"},
		},
	}
	inc := Analyze(ev, Meta{})
	var tally *Candidate
	for i := range inc.Candidates {
		if inc.Candidates[i].Service == "tally" {
			tally = &inc.Candidates[i]
		}
	}
	if tally == nil {
		t.Fatalf("tally is no candidate: %+v", inc.Candidates)
	}
	r := reasonOf(*tally, ReasonChange)
	if r == nil || !strings.HasPrefix(r.Detail, "deploy 1.3-bad at 23:40:00") {
		t.Fatalf("tally %+v: the deploy just before its own onset is not its change reason", tally)
	}
}
