package correlate

import (
	"math"
	"sort"

	"github.com/oncall-cockpit/oncall/sources"
)

// Provenance says where a dependency edge was seen.
const (
	FromTraces       = "traces"
	FromServiceGraph = "service-graph"
	FromConfig       = "config"
)

// GraphEdge is a caller → callee dependency with what is known of it.
type GraphEdge struct {
	Client     string           `json:"client"`
	Server     string           `json:"server"`
	Kind       sources.EdgeKind `json:"kind,omitempty"`
	Provenance []string         `json:"provenance"`
	Rate       float64          `json:"rate"` // requests per second, service graph
	BaseRate   float64          `json:"base_rate"`
	ErrorRatio float64          `json:"error_ratio"`
	P99Seconds float64          `json:"p99_seconds"`
	TraceCalls int              `json:"trace_calls,omitempty"` // calls seen in the traces fetched or searched
	Retries    int              `json:"retries,omitempty"`     // of which repeated attempts
	Query      string           `json:"query,omitempty"`
}

// Graph is the dependency graph around an incident.
type Graph struct {
	Edges []*GraphEdge `json:"edges"`
	// Called names the services Tempo's user node calls: entry points
	// even when services call them too.
	Called map[string]bool `json:"-"`
	deps   map[string][]*GraphEdge
	users  map[string][]*GraphEdge
}

// EntryPoint says users meet s: Tempo's user node calls it, or nothing in
// the graph does.
func (g *Graph) EntryPoint(s string) bool { return g.Called[s] || len(g.users[s]) == 0 }

// Dependencies are the edges out of a service (what it calls).
func (g *Graph) Dependencies(s string) []*GraphEdge { return g.deps[s] }

// Dependents are the edges into a service (who calls it).
func (g *Graph) Dependents(s string) []*GraphEdge { return g.users[s] }

// Nodes lists every service in the graph, sorted.
func (g *Graph) Nodes() []string {
	seen := map[string]bool{}
	for _, e := range g.Edges {
		seen[e.Client], seen[e.Server] = true, true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// BuildGraph merges the dependencies seen in traces, in service-graph
// metrics and in the config. Self-edges are dropped; cycles are kept
// (walks over the graph track what they visited).
func BuildGraph(traces []sources.Trace, edges, baseline []sources.Edge, static map[string][]string) *Graph {
	g := &Graph{Called: map[string]bool{}, deps: map[string][]*GraphEdge{}, users: map[string][]*GraphEdge{}}
	idx := map[[2]string]*GraphEdge{}
	get := func(c, s string) *GraphEdge {
		if c == "" || s == "" || c == s {
			return nil
		}
		if c == sources.UserNode {
			// the users, not a service: s is an entry point
			g.Called[s] = true
			return nil
		}
		k := [2]string{c, s}
		e := idx[k]
		if e == nil {
			e = &GraphEdge{Client: c, Server: s}
			idx[k] = e
			g.Edges = append(g.Edges, e)
		}
		return e
	}
	mark := func(e *GraphEdge, p string) {
		for _, x := range e.Provenance {
			if x == p {
				return
			}
		}
		e.Provenance = append(e.Provenance, p)
	}
	marked := retriesMarked(traces)
	for _, t := range traces {
		retried := retryAttempts(t, marked)
		byID := make(map[string]*sources.Span, len(t.Spans))
		for i := range t.Spans {
			byID[t.Spans[i].SpanID] = &t.Spans[i]
		}
		for i := range t.Spans {
			sp := &t.Spans[i]
			var e *GraphEdge
			if peer := sp.Attributes["peer.service"]; peer != "" && sp.Kind != "server" {
				e = get(sp.Service, peer)
			} else if p := byID[sp.ParentSpanID]; p != nil && p.Service != sp.Service && childOf(p, sp) {
				e = get(p.Service, sp.Service)
			}
			if e == nil {
				continue
			}
			mark(e, FromTraces)
			if sp.Kind != "server" {
				e.TraceCalls++
				if retried[sp.SpanID] {
					e.Retries++
				}
			}
		}
	}
	for _, se := range baseline {
		if e := get(se.Client, se.Server); e != nil {
			e.BaseRate += se.RequestRate
		}
	}
	for _, se := range edges {
		e := get(se.Client, se.Server)
		if e == nil {
			continue
		}
		mark(e, FromServiceGraph)
		e.Kind, e.Query = se.Kind, se.Query
		e.Rate += se.RequestRate
		if e.Rate > 0 {
			e.ErrorRatio = se.FailedRate / e.Rate
		}
		e.P99Seconds = math.Max(e.P99Seconds, se.P99Seconds)
	}
	for c, ss := range static {
		for _, s := range ss {
			if e := get(c, s); e != nil {
				mark(e, FromConfig)
			}
		}
	}
	sort.Slice(g.Edges, func(i, j int) bool {
		if g.Edges[i].Client != g.Edges[j].Client {
			return g.Edges[i].Client < g.Edges[j].Client
		}
		return g.Edges[i].Server < g.Edges[j].Server
	})
	for _, e := range g.Edges {
		sort.Strings(e.Provenance)
		g.deps[e.Client] = append(g.deps[e.Client], e)
		g.users[e.Server] = append(g.users[e.Server], e)
	}
	return g
}

// Surge is an edge's request rate over its baseline, or 0 when unknown.
func (e *GraphEdge) Surge() float64 {
	if e.BaseRate <= 0 || e.Rate <= 0 {
		return 0
	}
	return e.Rate / e.BaseRate
}
