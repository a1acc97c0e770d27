package remediate

import (
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// Situation is what runbooks are matched against: the firing alerts, the
// incident when one is assembled, and the SLOs burning.
type Situation struct {
	Alerts   []sources.Alert
	Incident *correlate.Incident
	SLOs     []string // SLOs whose budget burns
}

// NewSituation keeps the alerts that fire and names the SLOs their
// burn-rate alerts say burn (Pyrra and Sloth label them slo, as the
// simulator does).
func NewSituation(alerts []sources.Alert, inc *correlate.Incident, burnRateAlerts []string) Situation {
	s := Situation{Incident: inc}
	for _, a := range alerts {
		if a.State != sources.AlertFiring {
			continue
		}
		s.Alerts = append(s.Alerts, a)
		if slo := a.Labels["slo"]; slo != "" && slices.Contains(burnRateAlerts, a.Name) && !slices.Contains(s.SLOs, slo) {
			s.SLOs = append(s.SLOs, slo)
		}
	}
	return s
}

// Matched is a runbook that applies, why, and to which service.
type Matched struct {
	Runbook *Runbook       `json:"-"`
	Name    string         `json:"runbook"`
	Service string         `json:"service"`
	Why     string         `json:"why"`
	Alert   *sources.Alert `json:"alert,omitempty"`
	SLO     string         `json:"slo,omitempty"`
	// Likelihood is the root-cause candidate's, when the match was on the
	// root cause; Thin is the incident's.
	Likelihood correlate.Likelihood `json:"likelihood,omitempty"`
	Thin       bool                 `json:"thin,omitempty"`
	score      int
}

// Weights of the kinds of match, for ordering: a likely root cause says
// most about what to do, an alert names the symptom, a service alone the
// least.
const (
	scoreRootLikely   = 4
	scoreRootPossible = 2
	scoreAlert        = 3
	scoreService      = 1
)

// MatchAll lists the runbooks that apply, one per runbook and service, in
// the diagnosis's order: those on the incident's likeliest candidate
// first (the candidates are ranked likely before possible, then by score),
// then those on services that are no candidate; among the runbooks on one
// service, the best match first.
func MatchAll(rbs []*Runbook, s Situation) []Matched {
	best := map[[2]string]Matched{}
	keep := func(m Matched) {
		k := [2]string{m.Runbook.Name, m.Service}
		if old, ok := best[k]; !ok || m.score > old.score {
			best[k] = m
		}
	}
	for _, rb := range rbs {
		for _, m := range matchOne(rb, s) {
			keep(m)
		}
	}
	out := make([]Matched, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := candidateRank(s.Incident, out[i].Service), candidateRank(s.Incident, out[j].Service); a != b {
			return a < b
		}
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Service < out[j].Service
	})
	return out
}

// candidateRank is a service's place in the incident's ranking of
// root-cause candidates, 0 for the likeliest; a service that is no
// candidate (or no incident) comes after every candidate.
func candidateRank(inc *correlate.Incident, service string) int {
	if inc == nil {
		return 0
	}
	for i, c := range inc.Candidates {
		if c.Service == service {
			return i
		}
	}
	return len(inc.Candidates)
}

func matchOne(rb *Runbook, s Situation) []Matched {
	m := rb.Match
	var out []Matched
	thin := s.Incident != nil && s.Incident.Thin
	base := func(service, why string, score int) Matched {
		return Matched{Runbook: rb, Name: rb.Name, Service: service, Why: why, Thin: thin, score: score}
	}
	// the root cause, when asked for, must hold whatever else matches
	var roots []Matched
	if rc := m.RootCause; rc != nil {
		if s.Incident == nil {
			return nil
		}
		min := correlate.Likelihood(rc.MinLikelihood)
		if min == "" {
			min = correlate.Possible
		}
		for _, c := range s.Incident.Candidates {
			if c.Likelihood.Rank() < min.Rank() || (len(rc.Services) > 0 && !slices.Contains(rc.Services, c.Service)) {
				continue
			}
			why := fmt.Sprintf("root cause %s (%s)", c.Service, c.Likelihood)
			if rc.Mechanism != "" {
				mech, ok := mechanismAt(s.Incident, rc.Mechanism, rc.Detail, c.Service)
				if !ok {
					continue
				}
				why += " with " + mech.Kind + ": " + mech.Detail
			}
			score := scoreRootPossible
			if c.Likelihood == correlate.Likely {
				score = scoreRootLikely
			}
			r := base(c.Service, why, score)
			r.Likelihood = c.Likelihood
			roots = append(roots, r)
		}
		if len(roots) == 0 {
			return nil
		}
	}
	// an SLO is matched by its burn-rate alert, which names its service
	byAlert := len(m.Alerts) > 0 || len(m.Labels) > 0 || (len(m.SLOs) > 0 && m.RootCause == nil)
	if byAlert {
		for i := range s.Alerts {
			a := &s.Alerts[i]
			if len(m.Alerts) > 0 && !slices.Contains(m.Alerts, a.Name) {
				continue
			}
			if !labelsMatch(m.Labels, a.Labels) || (len(m.Services) > 0 && !slices.Contains(m.Services, a.Service)) {
				continue
			}
			if len(m.SLOs) > 0 && !slices.Contains(m.SLOs, a.Labels["slo"]) {
				continue
			}
			why := "alert " + a.Name + serviceSuffix(a.Service)
			if slo := a.Labels["slo"]; slo != "" {
				why += " (SLO " + slo + ")"
			}
			r := base(a.Service, why, scoreAlert)
			r.Alert = a
			if rt, ok := rootFor(roots, a.Service); ok {
				r.Likelihood, r.Why, r.score = rt.Likelihood, r.Why+"; "+rt.Why, r.score+rt.score
			} else if m.RootCause != nil {
				continue
			}
			out = append(out, r)
		}
		return out
	}
	if m.RootCause != nil {
		for _, r := range roots {
			if (len(m.Services) == 0 || slices.Contains(m.Services, r.Service)) && sloOK(m.SLOs, s.SLOs) {
				out = append(out, r)
			}
		}
		return out
	}
	// services alone: the services the situation is about
	for _, svc := range situationServices(s) {
		if slices.Contains(m.Services, svc) {
			out = append(out, base(svc, "service "+svc, scoreService))
		}
	}
	return out
}

func serviceSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " at " + s
}

// rootFor finds the root-cause match for a service; an alert without a
// service takes the best root cause.
func rootFor(roots []Matched, service string) (Matched, bool) {
	for _, r := range roots {
		if r.Service == service || service == "" {
			return r, true
		}
	}
	return Matched{}, false
}

func sloOK(want, burning []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if slices.Contains(burning, w) {
			return true
		}
	}
	return false
}

func labelsMatch(want map[string]string, got sources.Labels) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func mechanismAt(inc *correlate.Incident, kind, detail, service string) (correlate.Mechanism, bool) {
	re, _ := regexp.Compile(detail) // validated at load
	for _, m := range inc.Mechanisms {
		if m.Kind == kind && m.Service == service && (re == nil || re.MatchString(m.Detail)) {
			return m, true
		}
	}
	return correlate.Mechanism{}, false
}

// situationServices are the services in play: the alerts', the
// incident's trigger and candidates.
func situationServices(s Situation) []string {
	var out []string
	add := func(x string) {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	for _, a := range s.Alerts {
		add(a.Service)
	}
	if s.Incident != nil {
		add(s.Incident.Trigger.Service)
		for _, c := range s.Incident.Candidates {
			add(c.Service)
		}
	}
	return out
}
