package correlate

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// summary is a service's summary with the same means, peak and median.
func summary(svc string, rps, errRatio, p99 float64) sources.REDSummary {
	return sources.REDSummary{Service: svc, Requests: rps, PeakRequests: rps,
		PeakErrorRatio: errRatio, TypicalErrorRatio: errRatio, PeakP99: p99, TypicalP99: p99}
}

func TestScreenReadsWhatMayDepart(t *testing.T) {
	healthy := summary("steady", 100, 0.001, 0.2)
	peak := func(s sources.REDSummary, ratio, p99 float64) sources.REDSummary {
		s.PeakErrorRatio, s.PeakP99 = ratio, p99
		return s
	}
	nanP99 := summary("nolatency", 10, 0, math.NaN())
	// a service idle in both ranges that still exports its counters:
	// Prometheus answers its ratios and p99 as 0/0, unread
	idle := sources.REDSummary{Service: "idle", PeakErrorRatio: math.NaN(), TypicalErrorRatio: math.NaN(),
		PeakP99: math.NaN(), TypicalP99: math.NaN()}
	woke := idle
	woke.Service, woke.Requests, woke.PeakRequests = "woke", 5, 5
	wokeBefore := idle
	wokeBefore.Service = "woke"
	base := []sources.REDSummary{healthy, summary("errs", 100, 0.001, 0.2), summary("slow", 100, 0.001, 0.2),
		summary("surge", 100, 0.001, 0.2), summary("drop", 100, 0.001, 0.2), summary("gone", 100, 0.001, 0.2),
		summary("unread", 100, 0.001, 0.2), nanP99, summary("blip", 100, 0.001, 0.2), idle, wokeBefore, summary("negative", -5, 0, 0.1), summary("quiet", 0.5, 0, 0.1)}
	surge := func(s sources.REDSummary, peak float64) sources.REDSummary {
		s.PeakRequests = peak
		return s
	}
	unread := summary("unread", 100, 0.001, 0.2)
	unread.PeakErrorRatio = math.NaN()
	now := []sources.REDSummary{healthy,
		peak(summary("errs", 100, 0.001, 0.2), 0.001+ScreenErrorDelta*1.1, 0.2), // half of ErrorDelta is read
		peak(summary("slow", 100, 0.001, 0.2), 0.001, 0.2*ScreenLatencyFactor*1.1),
		surge(summary("surge", 100, 0.001, 0.2), 100*ScreenSurgeFactor*1.1),
		summary("drop", 100/ScreenDropFactor/1.1, 0.001, 0.2),
		unread, nanP99,
		surge(peak(summary("blip", 100, 0.001, 0.2), 0.001+ScreenErrorDelta*0.9, 0.2*ScreenLatencyFactor*0.9), 100*ScreenSurgeFactor*0.9),
		summary("new", 5, 0, 0.1), idle, woke, summary("negative", -5, 0, 0.1),
		peak(summary("quiet", 0.5, 0, 0.1), 0.9*ScreenMinErrorsPerSecond/0.5, 0.1)} // one error in a minute at half a request a second
	s := screenSummaries(now, base)
	if want := []string{"drop", "errs", "gone", "negative", "new", "slow", "surge", "unread", "woke"}; !slices.Equal(s.Read, want) {
		t.Errorf("read whole %v, want %v", s.Read, want)
	}
	if want := []string{"blip", "idle", "nolatency", "quiet", "steady"}; !slices.Equal(s.Within, want) {
		t.Errorf("within %v, want %v", s.Within, want)
	}
	if n := s.note(); !strings.Contains(n, "9 of 14 services read whole; the other 5 stayed within their baselines") {
		t.Errorf("note %q", n)
	}
}

// screening answers SummarizeRED from its tables and records which
// services RED was asked for.
type screening struct {
	sources.Metrics
	now, base []sources.REDSummary
	fail      error
	mu        sync.Mutex
	asked     [][]string
}

func (m *screening) SummarizeRED(_ context.Context, _ []string, r sources.TimeRange, _ time.Duration, _ sources.REDFigure) ([]sources.REDSummary, error) {
	if m.fail != nil {
		return nil, m.fail
	}
	if r.End.Equal(window.End) {
		return m.now, nil
	}
	return m.base, nil
}

func (m *screening) RED(_ context.Context, services []string, _ sources.TimeRange, _ time.Duration) ([]sources.RED, error) {
	m.mu.Lock()
	m.asked = append(m.asked, services)
	m.mu.Unlock()
	var out []sources.RED
	for _, s := range services {
		out = append(out, red(s, 180, 1, step(150, 0.001, 0.2), flat(0.2)))
	}
	return out, nil
}

func (m *screening) ServiceGraph(context.Context, time.Time, time.Duration) ([]sources.Edge, error) {
	return nil, nil
}

func (m *screening) Exemplars(context.Context, []string, sources.TimeRange) ([]sources.Exemplar, error) {
	return nil, nil
}

// TestGatherReadsOnlyWhatTheScreenPicks: RED is asked for the services
// that departed, once; a fleet all within its baselines asks no RED; a
// screen that fails reads every service and says why.
func TestGatherReadsOnlyWhatTheScreenPicks(t *testing.T) {
	trig := Trigger{At: window.End, Window: window.End.Sub(window.Start)}
	base := []sources.REDSummary{summary("checkout", 100, 0.001, 0.2), summary("steady", 100, 0.001, 0.2)}
	failing := []sources.REDSummary{peak2(summary("checkout", 100, 0.001, 0.2), 0.2), summary("steady", 100, 0.001, 0.2)}

	m := &screening{now: failing, base: base}
	ev := Gather(context.Background(), sources.Set{Metrics: m}, trig, GatherOptions{})
	if len(m.asked) != 1 || !slices.Equal(m.asked[0], []string{"checkout"}) {
		t.Fatalf("RED asked for %v, want [checkout] once", m.asked)
	}
	if ev.Screen == nil || !slices.Equal(ev.Screen.Within, []string{"steady"}) {
		t.Fatalf("screen %+v", ev.Screen)
	}
	if a := Anomalies(ev); len(a) != 1 || a["checkout"] == nil {
		t.Errorf("anomalies %v, want checkout's", keys(a))
	}

	m = &screening{now: base, base: base}
	ev = Gather(context.Background(), sources.Set{Metrics: m}, trig, GatherOptions{})
	if len(m.asked) != 0 || len(ev.RED) != 0 || !slices.ContainsFunc(ev.Arrived, func(a Arrival) bool { return a.What == "metrics: RED" }) {
		t.Errorf("all within: RED asked %v, arrived %v", m.asked, ev.Arrived)
	}

	m = &screening{fail: errors.New("subqueries are not supported")}
	ev = Gather(context.Background(), sources.Set{Metrics: m}, trig, GatherOptions{})
	if len(m.asked) != 1 || m.asked[0] != nil {
		t.Errorf("after a failed screen RED asked for %v, want every service (nil)", m.asked)
	}
	if n := ev.Screen.note(); !strings.Contains(n, "subqueries are not supported") || !strings.Contains(n, "every service was read whole") {
		t.Errorf("note %q", n)
	}
}

func peak2(s sources.REDSummary, ratio float64) sources.REDSummary {
	s.PeakErrorRatio = ratio
	return s
}

func TestStepForLongSpans(t *testing.T) {
	for span, want := range map[time.Duration]time.Duration{
		45 * time.Minute:              4 * time.Second, // under the 15 s default, which stays
		3 * time.Hour:                 15 * time.Second,
		72 * time.Hour:                6 * time.Minute,
		24*time.Hour + 30*time.Minute: 123 * time.Second,
	} {
		if got := stepFor(span); got != want {
			t.Errorf("stepFor(%s) = %s, want %s", span, got, want)
		}
		if pts := (span / max(stepFor(span), 15*time.Second)); pts > MaxIncidentSteps {
			t.Errorf("%s at %s is %d points", span, stepFor(span), pts)
		}
	}
	ev := Gather(context.Background(), sources.Set{}, Trigger{At: t0, Window: 72 * time.Hour}, GatherOptions{})
	if ev.Step != 6*time.Minute+3*time.Second {
		t.Errorf("a 72-hour window and 30-minute baseline are read at %s, want 6m3s", ev.Step)
	}
}

// graphCalls counts the service-graph queries and the widths asked.
type graphCalls struct {
	sources.Metrics
	mu     sync.Mutex
	widths []time.Duration
}

func (m *graphCalls) ServiceGraph(_ context.Context, _ time.Time, w time.Duration) ([]sources.Edge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.widths = append(m.widths, w)
	return nil, nil
}

func (m *graphCalls) RED(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.RED, error) {
	return nil, nil
}

func (m *graphCalls) Exemplars(context.Context, []string, sources.TimeRange) ([]sources.Exemplar, error) {
	return nil, nil
}

// TestLongWindowsAskFewGraphSlices: a window of an hour or less is read
// in five-minute slices; a longer one in at most MaxGraphSlices, its last
// five minutes still a slice of their own.
func TestLongWindowsAskFewGraphSlices(t *testing.T) {
	for window, want := range map[time.Duration]int{15 * time.Minute: 3, time.Hour: 12, 6 * time.Hour: MaxGraphSlices, 72 * time.Hour: MaxGraphSlices} {
		m := &graphCalls{}
		Gather(context.Background(), sources.Set{Metrics: m}, Trigger{At: t0, Window: window}, GatherOptions{})
		var got []time.Duration
		var covered time.Duration
		for _, w := range m.widths {
			if w != 30*time.Minute { // the baseline's
				got = append(got, w)
				covered += w
			}
		}
		if len(got) != want || covered != window || !slices.Contains(got, graphSlice) {
			t.Errorf("a %s window: %d slices %v covering %s, want %d covering it with one of %s", window, len(got), got, covered, want, graphSlice)
		}
	}
}
