package correlate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// scopeTo narrows an incident about one service to its part of the
// graph, so that another app sharing the Prometheus does not lend it a
// root cause:
//   - candidates are the service and what it calls, transitively, plus
//     whatever sent a surge of load into those (a noisy neighbour on a
//     shared database) with what it calls;
//   - the blast radius may also take in their callers, transitively.
//
// Anomalies outside both are dropped and named in a note. When the graph
// knows no call of the service, it cannot be scoped; the note says so and
// the whole fleet is considered.
func (a *analysis) scopeTo(svc string) []string {
	if svc == "" {
		return nil
	}
	if len(a.g.Dependencies(svc)) == 0 && len(a.g.Dependents(svc)) == 0 {
		return []string{fmt.Sprintf("scope: no call from or to %s is known (no traces or service graph); every service is considered", svc)}
	}
	cands := map[string]bool{svc: true}
	queue := []string{svc}
	add := func(s string) {
		if !cands[s] {
			cands[s] = true
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range a.g.Dependencies(n) {
			add(e.Server)
		}
		for _, e := range a.g.Dependents(n) {
			if e.Surge() >= SurgeFactor {
				add(e.Client)
			}
		}
	}
	connected := map[string]bool{}
	for s := range cands {
		connected[s] = true
		for u := range a.g.upstream(s, nil) {
			connected[u] = true
		}
	}
	a.candidates = cands
	var out []string
	for s := range a.anoms {
		if !connected[s] {
			out = append(out, s)
			delete(a.anoms, s)
		}
	}
	kept := a.sigs[:0:0]
	for _, sg := range a.sigs {
		if connected[sg.Service] {
			kept = append(kept, sg)
		}
	}
	a.sigs = kept
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	return []string{fmt.Sprintf("elsewhere: %s anomalous outside what %s calls and its callers (%s); not ranked (without a service, the incident covers the whole fleet)",
		humanize.Count(len(out), "service"), svc, firstFew(out, 4))}
}

// firstFew lists up to n names, and how many more there are.
func firstFew(names []string, n int) string {
	list := strings.Join(names[:min(n, len(names))], ", ")
	if len(names) > n {
		list += fmt.Sprintf(" and %d more", len(names)-n)
	}
	return list
}
