package correlate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// widenEvidence is a fleet read in 15 s steps from t0: 180 steps, the window
// its last 15 minutes (steps 120 on), the baseline the 30 before.
func widenEvidence(missing []Missing, reds ...sources.RED) *Evidence {
	return &Evidence{Step: 15 * time.Second, Window: window,
		Baseline: sources.TimeRange{Start: t0, End: window.Start}, RED: reds, Missing: missing}
}

// An incident older than its window is found where it began: the window
// is widened back to just before its first bad step, when the history
// read before it can judge it; otherwise the note says how much is known.
func TestWidenToOnset(t *testing.T) {
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 15 * time.Second) }
	healthy := red("healthy", 180, 100, flat(0.001), flat(0.05))
	failed := []Missing{{redBeforePart, "prometheus query_range: HTTP 503", true}}
	// failing every other step since step 8, then at every step from the
	// window's start: a run that reaches back to the data's start, over
	// a baseline still healthy at most steps
	flapping := func(i int) float64 {
		if i >= 120 || (i >= 8 && i%2 == 0) {
			return 0.2
		}
		return 0.001
	}
	for _, tc := range []struct {
		name    string
		ev      *Evidence
		cut     []string  // pinnedRuns' services
		began   time.Time // and the first bad step of their runs
		start   time.Time // the window's start after widenToOnset
		note    string    // a part of its note; "" for none
		onsetAt time.Time // the onset of "errs" it leaves
	}{{
		name:  "pinned and widened",
		ev:    widenEvidence(nil, red("errs", 180, 100, step(100, 0.001, 0.2), flat(0.05)), healthy),
		cut:   []string{"errs"},
		began: at(100), start: at(96), onsetAt: at(100),
		note: "the onset was at the window's start; widened the window to 21m to find it",
	}, {
		name:  "pinned, but the anomaly goes back to the start of the data",
		ev:    widenEvidence(nil, red("errs", 180, 100, flapping, flat(0.05)), healthy),
		cut:   []string{"errs"},
		began: at(8), start: window.Start, onsetAt: at(121),
		note: "goes back to the start of the data read (23:00): it began at or before then",
	}, {
		name:  "pinned, and the read before the data failed",
		ev:    widenEvidence(failed, red("errs", 180, 100, flapping, flat(0.05)), healthy),
		cut:   []string{"errs"},
		began: at(8), start: window.Start, onsetAt: at(121),
		note: "goes back to the start of the data read (23:00); reading further back failed, so when it began is unknown",
	}, {
		name:  "not pinned: the onset is inside the window",
		ev:    widenEvidence(nil, red("errs", 180, 100, step(130, 0.001, 0.2), flat(0.05)), healthy),
		start: window.Start, onsetAt: at(130),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			anoms := Anomalies(tc.ev)
			cut, began, _ := pinnedRuns(tc.ev, anoms)
			if fmt.Sprint(cut) != fmt.Sprint(tc.cut) || !began.Equal(tc.began) {
				t.Errorf("pinnedRuns: %v from %s, want %v from %s", cut, began.Format("15:04:05"), tc.cut, tc.began.Format("15:04:05"))
			}
			ev, got, note := widenToOnset(tc.ev, anoms)
			if !ev.Window.Start.Equal(tc.start) || !ev.Baseline.End.Equal(tc.start) {
				t.Errorf("window %s, baseline to %s; want both at %s", ev.Window.Start.Format("15:04:05"), ev.Baseline.End.Format("15:04:05"), tc.start.Format("15:04:05"))
			}
			if (tc.note == "") != (note == "") || !strings.Contains(note, tc.note) {
				t.Errorf("note %q, want one with %q", note, tc.note)
			}
			if an := got["errs"]; an == nil || !an.Onset.Equal(tc.onsetAt) {
				t.Errorf("errs %+v, want its onset at %s", an, tc.onsetAt.Format("15:04:05"))
			}
			if got["healthy"] != nil {
				t.Errorf("healthy is anomalous: %+v", got["healthy"])
			}
		})
	}
}

// olderThanData answers the RED of the fleet, then fails the read before
// the data's start that an onset older than the baseline asks for.
type olderThanData struct {
	sources.Metrics
	reds  []sources.RED
	calls int
}

func (m *olderThanData) RED(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.RED, error) {
	if m.calls++; m.calls > 1 {
		return nil, fmt.Errorf("prometheus query_range: HTTP 503")
	}
	return m.reds, nil
}
func (*olderThanData) ServiceGraph(context.Context, time.Time, time.Duration) ([]sources.Edge, error) {
	return nil, nil
}
func (*olderThanData) Exemplars(context.Context, []string, sources.TimeRange) ([]sources.Exemplar, error) {
	return nil, nil
}

// A read before the data's start that fails is named missing, as every
// part that did not arrive is, and the note does not claim the fault
// began where the data does.
func TestAFailedReadBeforeTheDataIsMissingNotAnOnset(t *testing.T) {
	flapping := func(i int) float64 {
		if i >= 120 || (i >= 8 && i%2 == 0) {
			return 0.2
		}
		return 0.001
	}
	m := &olderThanData{reds: []sources.RED{red("errs", 180, 100, flapping, flat(0.05)), red("healthy", 180, 100, flat(0.001), flat(0.05))}}
	ev := Gather(context.Background(), sources.Set{Metrics: m}, Trigger{At: window.End, Window: 15 * time.Minute},
		GatherOptions{Step: 15 * time.Second, Baseline: 30 * time.Minute, Deadline: time.Minute})
	if m.calls != 2 {
		t.Fatalf("%d RED reads, want the fleet's and the one before the data", m.calls)
	}
	want := Missing{redBeforePart, "prometheus query_range: HTTP 503", true}
	if !slices.Contains(ev.Missing, want) {
		t.Errorf("missing %+v, want %+v among them", ev.Missing, want)
	}
	inc := Analyze(ev, Meta{})
	notes := strings.Join(inc.Notes, "\n")
	if !strings.Contains(notes, "reading further back failed, so when it began is unknown") || strings.Contains(notes, "(23:00): it began at or before then") {
		t.Errorf("notes:\n%s", notes)
	}
}
