package correlate

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// ReasonRecovered says that a candidate's anomaly was over before the
// window's end while others are still going on: an earlier fault (a bad
// deploy rolled back, a flap), not what fails now.
const ReasonRecovered ReasonKind = "recovered"

// liveAnomalies are the services, sorted, whose anomaly is still going on
// at the window's end: not recovered, still reporting, not noise.
func (a *analysis) liveAnomalies() []string {
	var out []string
	for s, an := range a.anoms {
		if an.Recovered.IsZero() && an.StoppedSince.IsZero() && !a.noiseLike(s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// demoteRecovered sets back the candidates whose anomaly recovered while
// another is still live: a service healthy for RecoveredFor cannot be
// what keeps the live ones failing, though it may have started them
// (setAsideRecovered keeps it when it overlaps them). Each keeps
// RecoveredScoreShare of its score and is never more than possible, so a
// live cause with half the evidence outranks it; with nothing live, the
// incident asked about is the recovered one and nothing changes.
func (a *analysis) demoteRecovered(cands []Candidate) []Candidate {
	live := a.liveAnomalies()
	if len(live) == 0 {
		return cands
	}
	for i := range cands {
		c := &cands[i]
		an := a.anoms[c.Service]
		if an == nil || an.Recovered.IsZero() {
			continue
		}
		named := live
		if len(named) > recoveredLiveNamed {
			named = append(live[:recoveredLiveNamed:recoveredLiveNamed], fmt.Sprintf("%d more", len(live)-recoveredLiveNamed))
		}
		cut := round2(c.Score * (1 - RecoveredScoreShare))
		c.Score = round2(c.Score - cut)
		c.Reasons = append(c.Reasons, Reason{Kind: ReasonRecovered, Weight: -cut,
			Detail: fmt.Sprintf("recovered at %s, while %s still anomalous: an earlier fault, not what fails now", an.Recovered.UTC().Format("15:04"), strings.Join(named, ", "))})
		c.Confidence = math.Min(c.Confidence, LikelyConfidence-0.01)
		c.Likelihood = LikelihoodOf(c.Confidence)
	}
	slices.SortStableFunc(cands, func(a, b Candidate) int {
		return CompareStanding(a.Likelihood, a.Score, b.Likelihood, b.Score)
	})
	return cands
}

// earlierAnomaly is s's anomaly when it was set aside as an earlier
// incident, over before the ongoing one began (setAsideRecovered), or nil.
func (a *analysis) earlierAnomaly(s string) *Anomaly {
	for _, an := range a.earlier {
		if an.Service == s {
			return an
		}
	}
	return nil
}

// recoveredLiveNamed bounds the live services a recovered candidate's
// reason names.
const recoveredLiveNamed = 3

// recoveredBefore is whether d's anomaly recovered while s's is still
// going on: d, healthy for RecoveredFor, does not explain s's failing now.
func recoveredBefore(d, s *Anomaly) bool {
	return !d.Recovered.IsZero() && s.Recovered.IsZero()
}

// tookOver returns the dependencies of s that explain its failing now
// when the one that explained its onset recovered: live ones, on degraded
// calls, that began after s did. A caller hurt by one fault and then,
// without a healthy step between, by another has one onset, the first
// fault's; the second, still live, is what it suffers from now.
func (a *analysis) tookOver(s string, an *Anomaly) []string {
	deps := a.g.Dependencies(s)
	first := slices.ContainsFunc(deps, func(e *GraphEdge) bool {
		d := a.anoms[e.Server]
		return d != nil && recoveredBefore(d, an) && !d.Onset.After(an.Onset.Add(a.tolerance))
	})
	if !first {
		return nil
	}
	queued := a.queues[s]
	var out []string
	for _, e := range deps {
		d := a.anoms[e.Server]
		if d == nil || !d.Recovered.IsZero() || !d.Onset.After(an.Onset.Add(a.tolerance)) || !a.degraded(e) {
			continue
		}
		if queued != nil && queued.fast[e.Server] != "" {
			continue
		}
		out = append(out, e.Server)
	}
	return out
}

// rolledBack is when a rollback of ch's service came after ch and before
// the first anomaly, or zero: the change was undone before anything
// broke, and is weaker evidence for what broke.
func (a *analysis) rolledBack(ch sources.Change) time.Time {
	for _, rb := range a.ev.Changes {
		if rb.Service == ch.Service && rb.Kind == sources.ChangeRollback && rb.T.After(ch.T) && rb.T.Before(a.earliest) {
			return rb.T
		}
	}
	return time.Time{}
}
