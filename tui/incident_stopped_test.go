package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

// stoppingMetrics is a fleet's metrics in which the services named stop
// reporting at stop: their RED series end there while the others' go
// on. It hides the backend's summarizer, so the overview reads series.
type stoppingMetrics struct {
	sources.Metrics
	stopped map[string]bool
	stop    time.Time
}

func (m stoppingMetrics) RED(ctx context.Context, services []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	reds, err := m.Metrics.RED(ctx, services, r, step)
	for i := range reds {
		if !m.stopped[reds[i].Service] {
			continue
		}
		for _, s := range []*sources.Series{&reds[i].Requests, &reds[i].Errors, &reds[i].P99} {
			var kept []sources.Sample
			for _, x := range s.Samples {
				if !x.T.After(m.stop) {
					kept = append(kept, x)
				}
			}
			s.Samples = kept
		}
	}
	return reds, err
}

// stoppedIncident opens the incident of the bad deploy ten minutes in,
// the services named having stopped reporting four minutes before now,
// in a cockpit w×h in CET; it returns the view and the words of the stop.
func stoppedIncident(t *testing.T, w, h int, stopped ...string) (*App, *incidentView, string) {
	f := fleetAt(t, "bad-deploy", 1, 10*time.Minute)
	d := deps(f)
	stop := f.Now().Add(-4 * time.Minute).Truncate(time.Minute)
	set := map[string]bool{}
	for _, s := range stopped {
		set[s] = true
	}
	d.Sources.Metrics = stoppingMetrics{Metrics: d.Sources.Metrics, stopped: set, stop: stop}
	d.Zone = time.FixedZone("CET", 3600)
	a := startedWith(t, d, w, h)
	drive(t, a, press("enter"))
	iv, ok := a.top().(*incidentView)
	if !ok || !iv.whole {
		t.Fatalf("no whole incident:\n%s", screen(a))
	}
	for i, l := range iv.lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells: %q", i, lw, ansi.Strip(l))
		}
	}
	return a, iv, "stopped reporting since " + stop.In(d.Zone).Format("15:04")
}

// saysStopped reports whether the view's candidate c says, on its
// heading, that its service stopped reporting.
func saysStopped(all string, c present.Candidate, since string) bool {
	return strings.Contains(all, fmt.Sprintf("%d. %s  %s %.2f  ! %s", c.Rank, c.Service, c.Likelihood, c.Confidence, since))
}

// When every anomalous service stopped reporting, the incident view
// leads with the stop, as the text output does, and every candidate and
// tree row says since when, in the cockpit's zone, within 80 cells.
func TestIncidentLeadsWithTheStop(t *testing.T) {
	a, iv, since := stoppedIncident(t, 80, 24, "inventory", "shipping-api")
	if !iv.inc.StoppedFirst {
		t.Fatalf("the incident does not lead with the stop: %q", iv.inc.Summary)
	}
	out := screen(a)
	if first := strings.SplitN(out, "\n", 3)[1]; !strings.HasPrefix(first, iv.shown.StoppedFirst[:40]) {
		t.Errorf("the summary does not lead with the stop:\n%s", out)
	}
	all := ansi.Strip(strings.Join(iv.lines, "\n"))
	if len(iv.shown.Candidates) == 0 {
		t.Fatalf("no candidates:\n%s", all)
	}
	for _, c := range iv.shown.Candidates {
		if !saysStopped(all, c, since) {
			t.Errorf("candidate %d (%s) does not say it stopped:\n%s", c.Rank, c.Service, all)
		}
	}
	if len(iv.shown.Tree) == 0 || !strings.Contains(all, iv.shown.Tree[0].Service+"  ! "+since) {
		t.Errorf("the tree's root does not say it stopped:\n%s", all)
	}
	golden.RequireEqual(t, []byte(stripTook(out)))
}

// A service that stopped while another still fails is marked alone, in
// the tree, and the summary is the live chain's.
func TestStoppedServiceAmongLiveOnes(t *testing.T) {
	_, iv, since := stoppedIncident(t, 80, 24, "shipping-api")
	if iv.inc.StoppedFirst {
		t.Fatalf("a stop leads while inventory still fails: %q", iv.inc.Summary)
	}
	all := ansi.Strip(strings.Join(iv.lines, "\n"))
	if !strings.Contains(all, "└─ shipping-api  ! "+since) || strings.Count(all, "! "+since) != 1 {
		t.Errorf("want shipping-api marked once, in the tree:\n%s", all)
	}
	if strings.Contains(strings.SplitN(all, "\n", 2)[0], "stopped") {
		t.Errorf("the summary leads with the stop:\n%s", all)
	}
}

// A candidate whose heading has no room for the stop says it on the
// next line, whole; one still reporting says nothing of a stop.
func TestStoppedMarkKeepsToTheWidth(t *testing.T) {
	since := time.Date(2026, 11, 25, 9, 50, 0, 0, time.UTC)
	long := "a-service-with-a-name-long-enough-to-fill-the-line"
	inc := &correlate.Incident{Summary: "x", Stopped: []correlate.StoppedService{{Service: long, Since: since}},
		Candidates: []correlate.Candidate{{Service: long, Likelihood: correlate.Possible, Confidence: 0.4}, {Service: "pay-web", Likelihood: correlate.Possible, Confidence: 0.3}}}
	p := present.NewIncident(inc, present.Options{Zone: time.FixedZone("EST", -5*3600)})
	lines := renderIncident(p, false, 80, styles())
	view := ansi.Strip(strings.Join(lines, "\n"))
	if !strings.Contains(view, "1. "+long+"  possible 0.40") || !strings.Contains(view, "\n   ! stopped reporting since 04:50 ") {
		t.Errorf("the stop is not on its own line:\n%s", view)
	}
	if strings.Count(view, "stopped reporting") != 1 {
		t.Errorf("a service still reporting is marked stopped:\n%s", view)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d cells: %q", i, w, ansi.Strip(l))
		}
	}
}
