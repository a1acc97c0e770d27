package correlate

import (
	"fmt"
	"math"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/oncall-cockpit/oncall/sources"
)

// Bounds on what gathering asks of the metrics backend.
const (
	// MaxIncidentSteps bounds the steps of each series an incident
	// reads (a range of n steps is n+1 points): three hours at the 15 s
	// default step. A longer span gets a coarser step (stepFor), since
	// no timeline is wider than a few hundred columns, and Prometheus
	// refuses a range query of more than 11,000 points.
	MaxIncidentSteps = 720
	// MaxGraphSlices bounds the service-graph slices of a window: an
	// hour in slices of graphSlice. Each slice is three queries sent at
	// once, so a window of hours in five-minute slices would be hundreds.
	MaxGraphSlices = 12
)

// stepFor is the least step, in whole seconds, that reads span in
// MaxIncidentSteps steps.
func stepFor(span time.Duration) time.Duration {
	return (span/MaxIncidentSteps + time.Second - 1).Truncate(time.Second)
}

// The figures the screen compares (departs): the window's worst against
// the baseline's median, and the mean traffic of both.
const (
	screenNow  = sources.FigureRequests | sources.FigurePeakRequests | sources.FigurePeakErrorRatio | sources.FigurePeakP99
	screenBase = sources.FigureRequests | sources.FigureTypicalErrorRatio | sources.FigureTypicalP99
)

// Screen is what the screen decided: which services were read whole,
// and how many were left out because their summaries stayed within
// their baselines. When it could not run, Skipped says why, and every
// service was read whole.
type Screen struct {
	Read    []string `json:"read"`
	Within  []string `json:"within"`
	Skipped string   `json:"skipped,omitempty"`
}

// screen summarizes every service over the window and over the
// baseline, at once, and picks the services to read whole. It returns
// nil when the backend cannot summarize.
func (g *gatherer) screen() *Screen {
	sum, ok := g.src.Metrics.(sources.REDSummarizer)
	if !ok {
		return nil
	}
	var now, base []sources.REDSummary
	eg, ctx := errgroup.WithContext(g.ctx)
	eg.Go(func() (err error) {
		now, err = sum.SummarizeRED(ctx, nil, g.ev.Window, ScreenResolution, screenNow)
		return err
	})
	eg.Go(func() (err error) {
		base, err = sum.SummarizeRED(ctx, nil, g.ev.Baseline, ScreenResolution, screenBase)
		return err
	})
	if err := eg.Wait(); err != nil {
		return &Screen{Skipped: "the screen failed (" + err.Error() + "); every service was read whole"}
	}
	s := screenSummaries(now, base)
	if len(s.Read) > ScreenReadAllAbove {
		return &Screen{Skipped: fmt.Sprintf("%d services depart from their baselines, more than %d; every service was read whole", len(s.Read), ScreenReadAllAbove)}
	}
	return s
}

// screenSummaries splits the services into those to read whole and
// those within their baselines. A service with a figure unread in
// either range, or seen in only one of them, is read whole: the screen
// cannot tell, so detect must.
func screenSummaries(now, base []sources.REDSummary) *Screen {
	before := map[string]sources.REDSummary{}
	for _, b := range base {
		before[b.Service] = b
	}
	s := &Screen{Read: []string{}, Within: []string{}}
	seen := map[string]bool{}
	for _, n := range now {
		seen[n.Service] = true
		b, ok := before[n.Service]
		if !ok || departs(n, b) {
			s.Read = append(s.Read, n.Service)
		} else {
			s.Within = append(s.Within, n.Service)
		}
	}
	for _, b := range base {
		if !seen[b.Service] {
			s.Read = append(s.Read, b.Service) // reported before, silent now
		}
	}
	sort.Strings(s.Read)
	sort.Strings(s.Within)
	return s
}

// departs is whether the window's summary n may hold an anomaly against
// the baseline's b, or cannot be told from it.
func departs(n, b sources.REDSummary) bool {
	nan := math.IsNaN
	if nan(n.Requests) || nan(b.Requests) || n.Requests < 0 || b.Requests < 0 {
		return true // unread, or no rate at all
	}
	if b.Requests <= 0 || n.Requests <= 0 {
		// idle in both is within (its ratios are 0/0: unread); traffic
		// that began or stopped is not
		return n.Requests != b.Requests
	}
	if nan(n.PeakErrorRatio) || nan(b.TypicalErrorRatio) || nan(n.PeakRequests) {
		return true
	}
	if n.PeakRequests > ScreenSurgeFactor*b.Requests || n.Requests < b.Requests/ScreenDropFactor {
		return true
	}
	// no point can fail more often than the worst ratio at the busiest
	// point: a service that quiet has no errors detect counts
	if n.PeakErrorRatio > b.TypicalErrorRatio+ScreenErrorDelta && n.PeakErrorRatio*n.PeakRequests > ScreenMinErrorsPerSecond {
		return true
	}
	if nan(n.PeakP99) != nan(b.TypicalP99) {
		return true // latency began or stopped being reported
	}
	return !nan(n.PeakP99) && n.PeakP99 > ScreenLatencyFactor*b.TypicalP99 && n.PeakP99-b.TypicalP99 > LatencyFloor.Seconds()/2
}

// redServices is the service list to read whole, and false when the
// screen read nothing: every service is within its baseline.
func (s *Screen) redServices() ([]string, bool) {
	if s == nil || s.Skipped != "" {
		return nil, true // every service
	}
	return s.Read, len(s.Read) > 0
}

// note says what the screen did, for the incident's notes.
func (s *Screen) note() string {
	switch {
	case s == nil:
		return ""
	case s.Skipped != "":
		return "metrics screen: " + s.Skipped
	default:
		return fmt.Sprintf("metrics screen: %d of %d services read whole; the other %d stayed within their baselines (worst minute against the baseline's median, summarized on the server)",
			len(s.Read), len(s.Read)+len(s.Within), len(s.Within))
	}
}

// screenedRED reads the services the screen picked whole, or every
// service when it could not screen.
func (g *gatherer) screenedRED(s *Screen) ([]sources.RED, error) {
	services, some := s.redServices()
	if !some {
		return nil, nil
	}
	return g.src.Metrics.RED(g.ctx, services, g.all, g.o.Step)
}
