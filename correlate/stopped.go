package correlate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// ReasonStopped says that a candidate's service stopped reporting: its
// anomaly is its last data, not what fails now.
const ReasonStopped ReasonKind = "stopped"

// StoppedService is a service whose RED series end while the rest of the
// fleet's go on: it stopped reporting at Since, its last sample.
type StoppedService struct {
	Service string    `json:"service"`
	Since   time.Time `json:"since"`
}

// stoppedAfter is how long before the fleet's last sample a service's
// series must end to have stopped reporting: StoppedSteps steps, and at
// least StoppedMinGap.
func stoppedAfter(step time.Duration) time.Duration {
	return max(StoppedSteps*step, StoppedMinGap)
}

// lastSample is the time of the last finite sample of r's series.
func lastSample(r sources.RED) time.Time {
	var last time.Time
	for _, s := range []sources.Series{r.Requests, r.Errors, r.P99} {
		for i := len(s.Samples) - 1; i >= 0; i-- {
			if !math.IsNaN(s.Samples[i].V) {
				if s.Samples[i].T.After(last) {
					last = s.Samples[i].T
				}
				break
			}
		}
	}
	return last
}

// StoppedServices lists the services of reds whose series end more than
// stoppedAfter(step) before the fleet's last sample, by service. The end
// is compared with the fleet's, not with the range asked for: data that
// ends for every service (a Prometheus behind, a range reaching into the
// future, the end of history) is no service's stop.
func StoppedServices(reds []sources.RED, step time.Duration) []StoppedService {
	var fleetLast time.Time
	last := make(map[string]time.Time, len(reds))
	for _, r := range reds {
		t := lastSample(r)
		last[r.Service] = t
		if t.After(fleetLast) {
			fleetLast = t
		}
	}
	var out []StoppedService
	for s, t := range last {
		if !t.IsZero() && fleetLast.Sub(t) > stoppedAfter(step) {
			out = append(out, StoppedService{Service: s, Since: t})
		}
	}
	slices.SortFunc(out, func(a, b StoppedService) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Service, b.Service))
	})
	return out
}

// markStopped records on the anomalies of the services that stopped
// reporting when they stopped, and says whether any anomaly that is not
// background noise is live: of a service still reporting.
func (a *analysis) markStopped(stopped []StoppedService) (live bool) {
	for _, st := range stopped {
		if an := a.anoms[st.Service]; an != nil {
			an.StoppedSince = st.Since
		}
	}
	for s, an := range a.anoms {
		if an.StoppedSince.IsZero() && !a.noiseLike(s) {
			return true
		}
	}
	return false
}

// demoteStopped sets apart the candidates that stopped reporting: what
// they showed last is not evidence of what fails now. Each keeps
// StoppedScoreShare of its score, is never more than possible, and,
// while any anomaly is live, comes after every candidate still reporting.
func demoteStopped(cands []Candidate, stopped []StoppedService, live bool) []Candidate {
	since := map[string]time.Time{}
	for _, st := range stopped {
		since[st.Service] = st.Since
	}
	for i := range cands {
		c := &cands[i]
		t, ok := since[c.Service]
		if !ok {
			continue
		}
		cut := round2(c.Score * (1 - StoppedScoreShare))
		c.Score = round2(c.Score - cut)
		c.Reasons = append(c.Reasons, Reason{Kind: ReasonStopped, Weight: -cut,
			Detail: fmt.Sprintf("stopped reporting since %s: no data after it while the rest of the fleet reports; its last anomaly is not what fails now", t.UTC().Format("15:04"))})
		c.Confidence = math.Min(c.Confidence, LikelyConfidence-0.01)
		c.Likelihood = LikelihoodOf(c.Confidence)
	}
	isStopped := func(c Candidate) bool { _, ok := since[c.Service]; return ok && live }
	sort.SliceStable(cands, func(i, j int) bool { return !isStopped(cands[i]) && isStopped(cands[j]) })
	if !live {
		// all stopped, or nothing live: standings alone order them
		slices.SortStableFunc(cands, func(a, b Candidate) int {
			return CompareStanding(a.Likelihood, a.Score, b.Likelihood, b.Score)
		})
	}
	return cands
}

// stoppedNotes says which services stopped reporting, grouped by the
// minute they stopped: "stopped reporting since 09:50: a, b (...)".
func stoppedNotes(stopped []StoppedService, live bool) []string {
	var out []string
	byMinute := map[string][]string{}
	var minutes []string
	for _, st := range stopped {
		m := st.Since.UTC().Format("15:04")
		if byMinute[m] == nil {
			minutes = append(minutes, m)
		}
		byMinute[m] = append(byMinute[m], st.Service)
	}
	for _, m := range minutes {
		why := "their last data is not evidence of what fails now; they are ranked after the services still reporting"
		if len(byMinute[m]) == 1 {
			why = "its last data is not evidence of what fails now; it is ranked after the services still reporting"
		}
		if !live {
			why = "nothing still reporting is anomalous: the stop may itself be the incident"
		}
		out = append(out, fmt.Sprintf("stopped reporting since %s: %s (no data since, while the rest of the fleet reports; %s)", m, strings.Join(byMinute[m], ", "), why))
	}
	return out
}

// stoppedSummary is the incident's summary when every anomaly that is not
// noise is of a service that stopped reporting: the stop comes first.
func stoppedSummary(stopped []StoppedService, chain string) string {
	names := make([]string, 0, len(stopped))
	for _, st := range stopped {
		names = append(names, st.Service)
	}
	s := fmt.Sprintf("%s stopped reporting since %s, while the rest of the fleet reports", strings.Join(names, ", "), stopped[0].Since.UTC().Format("15:04"))
	if chain != "" {
		s += "; before the stop: " + chain
	}
	return s
}
