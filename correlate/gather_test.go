package correlate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// slowGraph answers RED at once and the service graph only when ctx ends.
type slowGraph struct{ sources.Metrics }

func (slowGraph) RED(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.RED, error) {
	return []sources.RED{red("checkout-api", 180, 1, flat(0.01), flat(0.2))}, nil
}

func (slowGraph) ServiceGraph(ctx context.Context, _ time.Time, _ time.Duration) ([]sources.Edge, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// brokenAlerts fails at once.
type brokenAlerts struct{ sources.Alerting }

func (brokenAlerts) Alerts(context.Context) ([]sources.Alert, error) {
	return nil, errors.New("connection refused")
}

// TestGatherNamesWhatDidNotArrive: a part that arrives is kept and told
// to Progress; a part that fails says why; a part the deadline cuts off
// is named with the deadline, never with the context's error; a backend
// that is not configured is named at once; and Progress is not called
// after Gather returns.
func TestGatherNamesWhatDidNotArrive(t *testing.T) {
	var mu sync.Mutex
	var told []int // how many parts had arrived at each Progress call
	returned := false
	src := sources.Set{Metrics: slowGraph{}, Alerts: brokenAlerts{}}
	ev := Gather(context.Background(), src, Trigger{At: t0}, GatherOptions{Deadline: 300 * time.Millisecond, Progress: func(e *Evidence) {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			t.Error("Progress called after Gather returned")
		}
		told = append(told, len(e.Arrived))
	}})
	mu.Lock()
	returned = true
	mu.Unlock()

	if len(ev.RED) != 1 || len(ev.Arrived) != 1 || ev.Arrived[0].What != "metrics: RED" {
		t.Errorf("RED not kept: %d series, arrived %v", len(ev.RED), ev.Arrived)
	}
	want := map[string]string{
		"metrics: service graph": "did not arrive within 300ms",
		"alerts":                 "connection refused",
		"changes":                "no datasource configured",
		"saturation":             "no datasource configured",
		"logs":                   "no datasource configured",
		"traces":                 "no datasource configured",
	}
	for _, m := range ev.Missing {
		if w, ok := want[m.What]; !ok || m.Why != w {
			t.Errorf("missing %s: %q, want %q", m.What, m.Why, w)
		}
		delete(want, m.What)
	}
	if len(want) > 0 {
		t.Errorf("not named as missing: %v", want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) == 0 || told[len(told)-1] != 1 {
		t.Errorf("Progress saw %v arrivals, want the RED's", told)
	}
}

// notReported is a Changes and Resources backend that answered but has
// none of the series its presets look for.
type notReported struct{}

func (notReported) Changes(context.Context, sources.TimeRange) ([]sources.Change, error) {
	return nil, fmt.Errorf("whatever the backend says: %w", sources.ErrNotReported)
}

func (notReported) Saturation(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.Saturation, error) {
	return nil, fmt.Errorf("whatever the backend says: %w", sources.ErrNotReported)
}

// TestGatherNotReportedIsANote: a backend that answers that this stack
// reports no changes or pools leaves a note naming the presets and
// doctor, not evidence that is down: the incident is not incomplete.
func TestGatherNotReportedIsANote(t *testing.T) {
	ev := Gather(context.Background(), sources.Set{Changes: notReported{}, Resources: notReported{}}, Trigger{At: t0}, GatherOptions{})
	inc := Analyze(ev, Meta{})
	if down := inc.Down(); len(down) != 0 {
		t.Errorf("not reported is down, the exit status would be incomplete: %+v", down)
	}
	notes := strings.Join(inc.Notes, "\n")
	// the backend's words are its own: the note's shape is Gather's
	for _, part := range []string{"changes: ", "saturation: "} {
		if !slices.ContainsFunc(inc.Notes, func(n string) bool {
			return strings.HasPrefix(n, part) && strings.HasSuffix(n, notReportedAside)
		}) {
			t.Errorf("no note %q…%q:\n%s", part, notReportedAside, notes)
		}
	}
	for _, m := range ev.Missing {
		if m.Down {
			t.Errorf("not reported is down: %+v", m)
		}
	}
	if strings.Contains(notes, "changes: no datasource configured") {
		t.Errorf("a backend that answered is called unconfigured:\n%s", notes)
	}
}
