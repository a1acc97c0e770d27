package evaltest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// The hidden trial: an incident older than its window had its onset
// pinned to the window's start, and "what broke first" was wrong. The
// window is widened back until the first anomaly has a start, and the
// notes say so.
func TestOnsetOlderThanTheWindowIsFound(t *testing.T) {
	for _, tc := range []struct {
		window, after time.Duration
		widened       string
	}{
		{15 * time.Minute, 30 * time.Minute, "widened the window to 31m"},
		{30 * time.Minute, 45 * time.Minute, "widened the window to 46m"},
		// the fault is older than the window and its baseline: Gather reads
		// one more baseline of the services it cut
		{15 * time.Minute, 45 * time.Minute, "widened the window to 46m"},
	} {
		f, err := fleet("retry-storm", 1, tc.after)
		if err != nil {
			t.Fatal(err)
		}
		ev := correlate.Gather(context.Background(), simsrc.New(f).Set(), correlate.Trigger{At: f.Now(), Window: tc.window}, correlate.GatherOptions{Deadline: 2 * time.Minute})
		inc := correlate.Analyze(ev, testenv.SimMeta)
		truth := f.Truth()
		if len(inc.Anomalies) == 0 {
			t.Fatalf("window %s: no anomalies", tc.window)
		}
		first := inc.Anomalies[0].Onset // sorted by onset
		if d := first.Sub(truth.Onset).Abs(); d > ev.Step {
			t.Errorf("window %s at onset+%s: first onset %s, truth %s: more than a step (%s) apart", tc.window, tc.after,
				first.UTC().Format("15:04:05"), truth.Onset.UTC().Format("15:04:05"), ev.Step)
		}
		want := "the onset was at the window's start; " + tc.widened + " to find it"
		if !slices.Contains(inc.Notes, want) {
			t.Errorf("window %s: notes %q, want %q", tc.window, inc.Notes, want)
		}
		if !inc.Window.Start.Before(truth.Onset) || !inc.Baseline.End.Equal(inc.Window.Start) {
			t.Errorf("window %s: incident window %v, baseline %v", tc.window, inc.Window, inc.Baseline)
		}
		for _, n := range inc.Notes {
			if strings.HasPrefix(n, "stopped reporting") {
				t.Errorf("no service stopped: %q", n)
			}
		}
	}
}
