package correlate

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// widenToOnset finds the onset of an incident older than its window. When
// the first anomaly starts at the window's start (within OnsetPinnedSteps),
// it began before it, and "what broke first" would be whichever service
// the window cut first. The window is widened back to just before the
// first bad step of the runs that reach its start, and the anomalies are
// judged again against the history left before it: the baseline shrinks,
// since RED is read over the baseline and the window at once, and Gather
// read further back (readBeforeOnset) when the runs reached the start of
// that. The baseline keeps MinBaselinePoints: a fault older than the data
// is not widened to (no healthy history would be left to judge it), and
// the note says the onset is at or before the data's start. It returns ev
// and anoms unchanged, and no note, when the onset is inside the window.
func widenToOnset(ev *Evidence, anoms map[string]*Anomaly) (*Evidence, map[string]*Anomaly, string) {
	cut, began, from := pinnedRuns(ev, anoms)
	if len(cut) == 0 {
		return ev, anoms, ""
	}
	floor := from.Add(MinBaselinePoints * ev.Step)
	// a step clear of the first bad one, so that the onset is not pinned
	// to the new start, and in whole minutes, as people write windows
	start := began.Add(-(OnsetPinnedSteps + 1) * ev.Step).Truncate(time.Minute)
	if start.Before(floor) {
		start = began.Add(-(OnsetPinnedSteps + 1) * ev.Step)
	}
	if start.Before(floor) {
		if slices.ContainsFunc(ev.Missing, func(m Missing) bool { return m.What == redBeforePart }) {
			// the data may go back further than what was read: its
			// start is not the fault's
			return ev, anoms, fmt.Sprintf("the onset was at the window's start, and the anomaly goes back to the start of the data read (%s); reading further back failed, so when it began is unknown: at or before then",
				from.UTC().Format("15:04"))
		}
		return ev, anoms, fmt.Sprintf("the onset was at the window's start, and the anomaly goes back to the start of the data read (%s): it began at or before then",
			from.UTC().Format("15:04"))
	}
	w := *ev
	w.Window.Start, w.Baseline.End = start, start
	w.Baseline.Start = minTime(ev.Baseline.Start, from)
	widened := Anomalies(&w)
	for _, s := range cut {
		if widened[s] == nil {
			// judged against less history it is no longer anomalous:
			// keep what was found, and say its onset was not
			return ev, anoms, fmt.Sprintf("the onset was at the window's start; widened to %dm, %s is not anomalous against the shorter history before it, so the window was kept: it began at or before %s",
				int(math.Round(w.Window.End.Sub(start).Minutes())), s, ev.Window.Start.UTC().Format("15:04"))
		}
	}
	return &w, widened, fmt.Sprintf("the onset was at the window's start; widened the window to %dm to find it",
		int(math.Round(w.Window.End.Sub(start).Minutes())))
}

// pinnedRuns names the services whose anomaly starts at the window's
// start, when the first anomaly does, with the first bad step of their
// runs back from it (began) and the first sample of their series (from).
// It names none when the first onset is inside the window, or the step
// before the start was healthy: the onset is then where detect put it.
func pinnedRuns(ev *Evidence, anoms map[string]*Anomaly) (cut []string, began, from time.Time) {
	if ev.Step <= 0 {
		return nil, time.Time{}, time.Time{}
	}
	pinned := ev.Window.Start.Add(OnsetPinnedSteps * ev.Step)
	var first time.Time
	for _, an := range anoms {
		if !an.FromEdges && (first.IsZero() || an.Onset.Before(first)) {
			first = an.Onset
		}
	}
	if first.IsZero() || first.After(pinned) {
		return nil, time.Time{}, time.Time{}
	}
	began, from = ev.Window.Start, ev.Window.Start
	for _, r := range ev.RED {
		an := anoms[r.Service]
		if an == nil || an.FromEdges || an.Onset.After(pinned) {
			continue
		}
		cut = append(cut, r.Service)
		pts := redPoints(r)
		if t := an.runStart(pts, ev.Window.Start); t.Before(began) {
			began = t
		}
		if len(pts) > 0 && pts[0].t.Before(from) {
			from = pts[0].t
		}
	}
	if !began.Before(ev.Window.Start) {
		return nil, time.Time{}, time.Time{}
	}
	return cut, began, from
}

// runStart is the first bad step of the run of bad steps that reaches
// from, walking back through pts, against the anomaly's baseline: a run
// ends at Sustain healthy steps in a row, as detect's runs begin at
// Sustain bad ones. It is from when the steps before it are healthy.
func (a *Anomaly) runStart(pts []point, from time.Time) time.Time {
	began, healthy := from, 0
	for i := len(pts) - 1; i >= 0 && healthy < Sustain; i-- {
		p := pts[i]
		if p.t.After(from) || p.req <= 0 {
			continue
		}
		if errBad, latBad := a.departs(p); errBad || latBad {
			began, healthy = p.t, 0
			continue
		}
		healthy++
	}
	return began
}

// readBeforeOnset reads further back the services whose anomaly starts at
// the window's start and whose run of bad steps reaches the start of the
// data read (within MinBaselinePoints): the onset is older than the
// baseline, and widenToOnset needs healthy history before it. It is one
// RED read of those services over one more baseline before the data,
// bounded by the deadline; their samples are put before reds'. When it
// fails, reds are kept, and the read is named missing (redBeforePart), as
// Gather names every part that did not arrive: the notes then say that
// when the fault began is unknown, not that the data begins there.
func (g *gatherer) readBeforeOnset(reds []sources.RED) ([]sources.RED, []Missing) {
	ev := &Evidence{Window: g.ev.Window, Baseline: g.ev.Baseline, Step: g.o.Step, RED: reds}
	cut, began, from := pinnedRuns(ev, Anomalies(ev))
	if len(cut) == 0 || began.After(from.Add(MinBaselinePoints*g.o.Step)) {
		return reds, nil
	}
	more, err := g.src.Metrics.RED(g.ctx, cut, sources.TimeRange{Start: from.Add(-g.o.Baseline), End: from.Add(-g.o.Step)}, g.o.Step)
	switch {
	case err != nil && g.ctx.Err() != nil:
		// the deadline cut it off: say so, not the context's error
		return reds, []Missing{g.late(redBeforePart)}
	case err != nil:
		return reds, []Missing{{redBeforePart, err.Error(), true}}
	}
	before := map[string]sources.RED{}
	for _, m := range more {
		before[m.Service] = m
	}
	out := make([]sources.RED, len(reds))
	for i, r := range reds {
		out[i] = r
		if m, ok := before[r.Service]; ok {
			out[i].Requests.Samples = prepend(m.Requests.Samples, r.Requests.Samples, from)
			out[i].Errors.Samples = prepend(m.Errors.Samples, r.Errors.Samples, from)
			out[i].P99.Samples = prepend(m.P99.Samples, r.P99.Samples, from)
		}
	}
	return out, nil
}

// redBeforePart names the RED read before the data's start that
// readBeforeOnset makes for an onset older than the baseline.
const redBeforePart = "metrics: RED before the baseline"

// prepend is the samples of earlier before from, then those of later.
func prepend(earlier, later []sources.Sample, from time.Time) []sources.Sample {
	out := make([]sources.Sample, 0, len(earlier)+len(later))
	for _, s := range earlier {
		if s.T.Before(from) {
			out = append(out, s)
		}
	}
	return append(out, later...)
}
