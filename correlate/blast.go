package correlate

import (
	"encoding/json"
	"sort"
)

// ServiceMeta is what the config says of a service.
type ServiceMeta struct {
	ValuePerRequest float64 // money per successful request
	Owner           string
}

// Impacted is one service inside the blast radius.
type Impacted struct {
	Service    string  `json:"service"`
	Anomaly    string  `json:"anomaly,omitempty"`
	Rate       float64 `json:"rate"`       // requests per second
	ErrorRate  float64 `json:"error_rate"` // failed per second
	EntryPoint bool    `json:"entry_point,omitempty"`
	Value      float64 `json:"value_per_request,omitempty"`
}

// BlastRadius is who is hurt by the root cause and what it costs.
type BlastRadius struct {
	Root          string     `json:"root"`
	Services      []Impacted `json:"services"`
	EntryPoints   []string   `json:"entry_points"`
	FailingPerMin float64    `json:"failing_per_min"`
	AtRiskPerMin  float64    `json:"at_risk_per_min"`
	MoneyPerMin   float64    `json:"money_per_min"`
	Currency      string     `json:"currency,omitempty"`
	// Unknown says why the requests at the entry points are not known:
	// FailingPerMin and AtRiskPerMin are then 0 in Go, not measured, and
	// null in JSON.
	Unknown string `json:"unknown,omitempty"`
	// EntryPointsMissing is set when the entry points' own metrics did
	// not arrive: EntryPoints lists only those other evidence shows
	// hurt, and more may be.
	EntryPointsMissing bool `json:"entry_points_missing,omitempty"`
	// How says how each number was computed.
	How map[string]string `json:"how"`
}

// Blast computes the blast radius of root: the anomalous services that
// depend on it, directly or not, and the peers whose load they drive,
// weighted by their traffic. Services in noise (background trouble) stay
// out.
func Blast(root string, g *Graph, anoms map[string]*Anomaly, loadBy map[string][]string, noise map[string]bool, meta map[string]ServiceMeta, currency string) BlastRadius {
	in := map[string]bool{root: true}
	// grow to a fixed point: dependents of members, and peers loaded by members
	for changed := true; changed; {
		changed = false
		for s := range anoms {
			if in[s] || noise[s] {
				continue
			}
			join := false
			for _, e := range g.Dependencies(s) {
				if in[e.Server] {
					join = true
					break
				}
			}
			for _, sender := range loadBy[s] {
				if in[sender] {
					join = true
				}
			}
			if join {
				in[s], changed = true, true
			}
		}
	}
	b := BlastRadius{Root: root, Currency: currency, How: map[string]string{
		"services":        "the root cause, every anomalous service that depends on a member (directly or not), and every anomalous peer whose traffic surged from a member",
		"entry_points":    "members that Tempo's user node calls, or that nothing in the graph calls: where users meet the failure",
		"failing_per_min": "failed requests per second at the entry points, averaged from the onset to the end of the window, times 60",
		"at_risk_per_min": "all requests per second at the entry points over the same span, times 60",
		"money_per_min":   "for each member with a value per request in the config, failed requests per second above its baseline times that value, times 60",
	}}
	for s := range in {
		im := Impacted{Service: s}
		if a := anoms[s]; a != nil {
			im.Anomaly, im.Rate, im.ErrorRate = a.describe(), a.Rate, a.ErrorRate
			im.EntryPoint = g.EntryPoint(s)
			if m, ok := meta[s]; ok && m.ValuePerRequest > 0 {
				im.Value = m.ValuePerRequest
				extra := a.ErrorRate - a.BaseErrors*a.Rate
				if extra > 0 {
					b.MoneyPerMin += extra * m.ValuePerRequest * 60
				}
			}
		}
		if im.EntryPoint {
			b.EntryPoints = append(b.EntryPoints, s)
			b.FailingPerMin += im.ErrorRate * 60
			b.AtRiskPerMin += im.Rate * 60
		}
		b.Services = append(b.Services, im)
	}
	sort.Strings(b.EntryPoints)
	if len(b.EntryPoints) == 0 {
		b.Unknown = noEntryPoint(root, g, anoms)
	}
	sort.Slice(b.Services, func(i, j int) bool {
		if b.Services[i].Service == root {
			return true
		}
		if b.Services[j].Service == root {
			return false
		}
		if b.Services[i].ErrorRate != b.Services[j].ErrorRate {
			return b.Services[i].ErrorRate > b.Services[j].ErrorRate
		}
		return b.Services[i].Service < b.Services[j].Service
	})
	b.FailingPerMin, b.AtRiskPerMin, b.MoneyPerMin = round2(b.FailingPerMin), round2(b.AtRiskPerMin), round2(b.MoneyPerMin)
	if currency == "" {
		b.How["money_per_min"] += " (no currency configured)"
	}
	return b
}

// MarshalJSON writes failing_per_min and at_risk_per_min as null when
// they are not known, so that no reader takes the 0 for a measure.
func (b BlastRadius) MarshalJSON() ([]byte, error) {
	type fields BlastRadius // without this method
	out := struct {
		fields
		FailingPerMin *float64 `json:"failing_per_min"`
		AtRiskPerMin  *float64 `json:"at_risk_per_min"`
		MoneyPerMin   *float64 `json:"money_per_min"`
	}{fields: fields(b)}
	if b.Unknown == "" {
		out.FailingPerMin, out.AtRiskPerMin, out.MoneyPerMin = &b.FailingPerMin, &b.AtRiskPerMin, &b.MoneyPerMin
	}
	return json.Marshal(out)
}

// checkEntryPoints makes the requests at the entry points unknown when
// the evidence could not measure them: the RED metrics did not arrive, or
// an entry point whose calls lead into the blast radius has no series of
// its own, was not screened as within its baseline, and has no
// service-graph edge into it. Then neither a sum nor "no entry point is
// hurt" can be said.
func (b *BlastRadius) checkEntryPoints(g *Graph, ev *Evidence) {
	for _, m := range ev.Missing {
		if m.What == redPart {
			b.unknownBecause("the entry points' metrics did not arrive (" + m.What + ": " + m.Why + ")")
			return
		}
	}
	known := map[string]bool{}
	if ev.Screen != nil {
		for _, s := range ev.Screen.Within {
			known[s] = true
		}
	}
	for _, r := range ev.RED {
		known[r.Service] = true
	}
	for _, e := range ev.Edges {
		known[e.Server] = true
	}
	var absent []string
	for _, s := range upstreamEntryPoints(g, b.Names()) {
		if !known[s] {
			absent = append(absent, s)
		}
	}
	if len(absent) > 0 {
		b.unknownBecause("no metrics arrived for the entry points " + firstFew(absent, 3))
	}
}

// unknownBecause marks the requests at the entry points as not measured.
func (b *BlastRadius) unknownBecause(why string) {
	b.Unknown, b.EntryPointsMissing = why, true
	b.FailingPerMin, b.AtRiskPerMin = 0, 0
}

// upstreamEntryPoints lists, sorted, the entry points among members and
// their callers, direct or not: where users meet what members serve.
func upstreamEntryPoints(g *Graph, members []string) []string {
	seen := map[string]bool{}
	queue := append([]string(nil), members...)
	for _, s := range members {
		seen[s] = true
	}
	var out []string
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if g.EntryPoint(s) {
			out = append(out, s)
		}
		for _, e := range g.Dependents(s) {
			if !seen[e.Client] {
				seen[e.Client] = true
				queue = append(queue, e.Client)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Names lists the services in the blast radius.
func (b BlastRadius) Names() []string {
	out := make([]string, len(b.Services))
	for i, s := range b.Services {
		out[i] = s.Service
	}
	return out
}

// noEntryPoint says why no member of the blast radius is an entry point:
// the hurt stops short of the services users call, or the graph has no
// place where users come in.
func noEntryPoint(root string, g *Graph, anoms map[string]*Anomaly) string {
	if anoms[root] == nil {
		return "no entry point is hurt: " + root + " shows no anomaly of its own to follow to its callers"
	}
	var entries []string
	for _, n := range g.Nodes() {
		if g.EntryPoint(n) && len(g.Dependencies(n)) > 0 {
			entries = append(entries, n)
		}
	}
	if len(entries) == 0 {
		return "the graph has no entry point: no service is called by Tempo's user node or by nothing"
	}
	return "no entry point is hurt: the failure stops at callers that absorb it, and the entry points (" + firstFew(entries, 3) + ") show no anomaly"
}
