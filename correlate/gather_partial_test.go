package correlate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// partialChanges answers with what some presets found and a partial
// error naming the one that did not answer.
type partialChanges struct{}

func (partialChanges) Changes(context.Context, sources.TimeRange) ([]sources.Change, error) {
	return []sources.Change{{T: t0.Add(-time.Minute), Service: "checkout", Kind: sources.ChangeDeploy, Source: "prometheus: target_info"}},
		sources.Partial(errors.New("presets build_info did not answer within 4.5s"))
}

func (partialChanges) Saturation(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.Saturation, error) {
	return []sources.Saturation{{Service: "checkout", Resource: "pool:orders-db", Max: 10}},
		sources.Partial(errors.New("preset hikaricp: HTTP 500"))
}

// TestGatherKeepsAPartialAnswerAndNotesWhatItLacks: a backend that
// answered with part of what was asked gives evidence, and what it lacks
// is a note, not a part down: the incident is not incomplete.
func TestGatherKeepsAPartialAnswerAndNotesWhatItLacks(t *testing.T) {
	ev := Gather(context.Background(), sources.Set{Changes: partialChanges{}, Resources: partialChanges{}}, Trigger{At: t0}, GatherOptions{})
	if len(ev.Changes) != 1 || len(ev.Saturation) != 1 {
		t.Fatalf("what arrived was dropped: changes %+v, saturation %+v", ev.Changes, ev.Saturation)
	}
	for _, want := range []Missing{{"changes", "presets build_info did not answer within 4.5s", false},
		{"saturation", "preset hikaricp: HTTP 500", false}} {
		if !slices.Contains(ev.Missing, want) {
			t.Errorf("no note %+v in %+v", want, ev.Missing)
		}
	}
	if down := Analyze(ev, Meta{}).Down(); slices.ContainsFunc(down, func(m Missing) bool {
		return strings.HasPrefix(m.What, "changes") || strings.HasPrefix(m.What, "saturation")
	}) {
		t.Errorf("a partial answer is down: %+v", down)
	}
}
