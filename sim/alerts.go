package sim

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// The simulator evaluates the alerting rules a real fleet would have:
// multiwindow, multi-burn-rate SLO alerts (the Google SRE workbook's
// page and ticket pairs), pool exhaustion and crash loops.
const (
	pageBurn    = 14.4 // 2% of a 30-day budget in one hour
	ticketBurn  = 6.0  // 5% in six hours
	pageFor     = 2 * time.Minute
	ticketFor   = 5 * time.Minute
	poolFor     = time.Minute
	resolvedTTL = 15 * time.Minute
)

type alertInst struct {
	a       sources.Alert
	pending time.Time
}

type alertState struct {
	insts    map[string]*alertInst
	silences []sources.Silence
	nextSil  int
	// tried are the pools that have met the exhaustion rule once: only
	// those can have an alert to resolve, so the others cost nothing when
	// the rule is false (most pools, at 2,000 services)
	tried map[*pool]bool
}

func newAlertState() *alertState {
	return &alertState{insts: map[string]*alertInst{}, tried: map[*pool]bool{}}
}

func fingerprint(l sources.Labels) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\xff%s\xff", k, l[k])
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// burn is the error ratio over d divided by the error budget.
func (st *store) burn(i int, d time.Duration, objective float64) float64 {
	b := i * nSvcSeries
	req := st.sumOver(st.svc[b+sReq], d)
	if req == 0 {
		return 0
	}
	return st.sumOver(st.svc[b+sErr], d) / req / (1 - objective)
}

type ruleDef struct {
	name, severity, expr string
	forDur               time.Duration
}

var ruleDefs = []ruleDef{
	{"ErrorBudgetBurn", "page", "burn_rate(1h) > 14.4 and burn_rate(5m) > 14.4", pageFor},
	{"ErrorBudgetBurn", "ticket", "burn_rate(6h) > 6 and burn_rate(30m) > 6", ticketFor},
	{"ConnectionPoolExhausted", "warning", "pool_used / pool_max >= 0.95", poolFor},
	{"PodCrashLooping", "warning", "increase(restarts[10m]) >= 3", 0},
}

func (as *alertState) evaluate(f *Fleet) {
	now := f.m.now
	st := f.store
	set := func(rd ruleDef, cond bool, labels, ann sources.Labels) {
		labels["alertname"], labels["severity"] = rd.name, rd.severity
		fp := fingerprint(labels)
		in := as.insts[fp]
		if !cond {
			if in != nil && in.a.State != sources.AlertResolved {
				if in.a.State == sources.AlertPending {
					delete(as.insts, fp)
				} else {
					in.a.State, in.a.EndsAt = sources.AlertResolved, now
				}
			}
			return
		}
		if in == nil || in.a.State == sources.AlertResolved {
			in = &alertInst{a: sources.Alert{Name: rd.name, Fingerprint: fp, State: sources.AlertPending, Severity: rd.severity, Labels: labels, GeneratorURL: "sim://rules/" + rd.name}, pending: now}
			as.insts[fp] = in
		}
		in.a.Annotations = ann
		if in.a.State == sources.AlertPending && now.Sub(in.pending) >= rd.forDur {
			in.a.State, in.a.StartsAt = sources.AlertFiring, now
		}
	}
	for _, slo := range f.m.topo.SLOs {
		s := f.m.byName[slo.Service]
		b1h, b5m := st.burn(s.idx, time.Hour, slo.Objective), st.burn(s.idx, 5*time.Minute, slo.Objective)
		b6h, b30m := st.burn(s.idx, 6*time.Hour, slo.Objective), st.burn(s.idx, 30*time.Minute, slo.Objective)
		l := func() sources.Labels { return sources.Labels{"service": slo.Service, "slo": slo.Name} }
		set(ruleDefs[0], b1h > pageBurn && b5m > pageBurn, l(), sources.Labels{
			"summary":     fmt.Sprintf("%s is burning its error budget %.1fx too fast", slo.Name, b5m),
			"description": fmt.Sprintf("burn rate 1h %.1f, 5m %.1f (threshold %.1f) against objective %.2f%%", b1h, b5m, pageBurn, 100*slo.Objective),
		})
		set(ruleDefs[1], b6h > ticketBurn && b30m > ticketBurn, l(), sources.Labels{
			"summary":     fmt.Sprintf("%s is burning its error budget %.1fx too fast", slo.Name, b30m),
			"description": fmt.Sprintf("burn rate 6h %.1f, 30m %.1f (threshold %.1f) against objective %.2f%%", b6h, b30m, ticketBurn, 100*slo.Objective),
		})
	}
	for _, s := range f.m.services {
		for _, p := range s.pools {
			sz := p.size()
			cond := sz > 0 && p.used/sz >= 0.95
			if !cond && !as.tried[p] {
				continue
			}
			as.tried[p] = true
			set(ruleDefs[2], cond, sources.Labels{"service": s.spec.Name, "pool": p.target.spec.Name}, sources.Labels{
				"summary": fmt.Sprintf("%s connection pool %s is exhausted (%.0f/%.0f in use)", s.spec.Name, p.target.spec.Name, p.used, sz),
			})
		}
		if len(s.kills) > 0 {
			n := 0
			for _, k := range s.kills {
				if now.Sub(k) <= 10*time.Minute {
					n++
				}
			}
			pod := s.crashPod
			set(ruleDefs[3], n >= 3, sources.Labels{"service": s.spec.Name, "pod": pod}, sources.Labels{
				"summary": fmt.Sprintf("pod %s restarted %d times in 10 minutes (OOMKilled)", pod, n),
			})
		}
	}
	for fp, in := range as.insts {
		if in.a.State == sources.AlertResolved && now.Sub(in.a.EndsAt) > resolvedTTL {
			delete(as.insts, fp)
		}
	}
}

// silenced returns the IDs of active silences that match l.
func (as *alertState) silenced(l sources.Labels, now time.Time) []string {
	var ids []string
	for _, s := range as.silences {
		if now.Before(s.StartsAt) || !now.Before(s.EndsAt) {
			continue
		}
		ok := true
		for _, m := range s.Matchers {
			if matchOne(m, l[m.Name]) != m.IsEqual {
				ok = false
				break
			}
		}
		if ok {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func matchOne(m sources.Matcher, v string) bool {
	if !m.IsRegex {
		return v == m.Value
	}
	re, err := regexp.Compile("^(?:" + m.Value + ")$")
	return err == nil && re.MatchString(v)
}

// FiringAlerts returns firing alerts as Alertmanager would: silenced ones
// are suppressed. Pending alerts are not included.
func (f *Fleet) FiringAlerts() []sources.Alert {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []sources.Alert
	for _, in := range f.alerts.insts {
		if in.a.State != sources.AlertFiring {
			continue
		}
		a := in.a
		if ids := f.alerts.silenced(a.Labels, f.m.now); len(ids) > 0 {
			a.State, a.SilencedBy = sources.AlertSuppressed, ids
		}
		out = append(out, a)
	}
	sortAlerts(out)
	return out
}

func sortAlerts(a []sources.Alert) {
	sort.Slice(a, func(i, j int) bool {
		if !a[i].StartsAt.Equal(a[j].StartsAt) {
			return a[i].StartsAt.Before(a[j].StartsAt)
		}
		return a[i].Fingerprint < a[j].Fingerprint
	})
}

// RuleGroups returns the simulator's rule group with each rule's current
// pending and firing alerts, as Prometheus' rules API does.
func (f *Fleet) RuleGroups() []sources.RuleGroup {
	f.mu.RLock()
	defer f.mu.RUnlock()
	g := sources.RuleGroup{Name: "sim-slo-burn", File: "sim://rules"}
	for _, rd := range ruleDefs {
		r := sources.Rule{Name: rd.name, Type: "alerting", Query: rd.expr, Health: "ok"}
		for _, in := range f.alerts.insts {
			if in.a.Name == rd.name && in.a.Severity == rd.severity && in.a.State != sources.AlertResolved {
				r.Alerts = append(r.Alerts, in.a)
			}
		}
		sortAlerts(r.Alerts)
		g.Rules = append(g.Rules, r)
	}
	return []sources.RuleGroup{g}
}

// Silences lists silences with their state now.
func (f *Fleet) Silences() []sources.Silence {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]sources.Silence, len(f.alerts.silences))
	for i, s := range f.alerts.silences {
		switch {
		case f.m.now.Before(s.StartsAt):
			s.State = sources.SilencePending
		case f.m.now.Before(s.EndsAt):
			s.State = sources.SilenceActive
		default:
			s.State = sources.SilenceExpired
		}
		out[i] = s
	}
	return out
}

// AddSilence adds a silence, checked as Alertmanager checks it.
func (f *Fleet) AddSilence(s sources.Silence) (string, error) {
	if len(s.Matchers) == 0 {
		return "", fmt.Errorf("sim: silence needs at least one matcher")
	}
	for _, m := range s.Matchers {
		if m.IsRegex {
			if _, err := regexp.Compile(m.Value); err != nil {
				return "", fmt.Errorf("sim: matcher %s=~%q: %v", m.Name, m.Value, err)
			}
		}
	}
	if !s.EndsAt.After(s.StartsAt) {
		return "", fmt.Errorf("sim: silence ends (%s) before it starts (%s)", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	}
	if strings.TrimSpace(s.CreatedBy) == "" || strings.TrimSpace(s.Comment) == "" {
		return "", fmt.Errorf("sim: silence needs created_by and a comment")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// as Alertmanager does: a start already past is now, by this clock,
	// and an end already past is refused
	if s.StartsAt.Before(f.m.now) {
		s.StartsAt = f.m.now
	}
	if !s.EndsAt.After(s.StartsAt) {
		return "", fmt.Errorf("sim: silence ends (%s) before now (%s)", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	}
	f.alerts.nextSil++
	s.ID = fmt.Sprintf("sim-%04d", f.alerts.nextSil)
	f.alerts.silences = append(f.alerts.silences, s)
	return s.ID, nil
}

// EndSilence ends a silence now.
func (f *Fleet) EndSilence(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.alerts.silences {
		if f.alerts.silences[i].ID == id {
			if !f.alerts.silences[i].EndsAt.After(f.m.now) {
				return fmt.Errorf("sim: silence %s already expired", id)
			}
			f.alerts.silences[i].EndsAt = f.m.now
			return nil
		}
	}
	return fmt.Errorf("sim: no silence %s", id)
}
