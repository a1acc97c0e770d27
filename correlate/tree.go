package correlate

import "sort"

// TreeRow is one line of the dependency tree around the root cause: the
// root, then its hurt callers depth first, each service once.
type TreeRow struct {
	Prefix  string   `json:"prefix"` // box-drawing indent: "│  ├─ "
	Service string   `json:"service"`
	Anomaly string   `json:"anomaly,omitempty"`
	Calls   []string `json:"calls,omitempty"`   // the root's own dependencies
	ByLoad  bool     `json:"by_load,omitempty"` // reached through load, not calls
}

// Tree lays out the blast radius as the tree of callers above the root.
func (inc *Incident) Tree() []TreeRow {
	if inc.Blast == nil {
		return nil
	}
	root := inc.Blast.Root
	in := map[string]Impacted{}
	for _, s := range inc.Blast.Services {
		in[s.Service] = s
	}
	callers := map[string][]string{}
	var deps []string
	for _, e := range inc.Graph {
		if _, ok := in[e.Client]; ok {
			if _, ok := in[e.Server]; ok {
				callers[e.Server] = append(callers[e.Server], e.Client)
			}
		}
		if e.Client == root {
			deps = append(deps, e.Server)
		}
	}
	sort.Strings(deps)
	rows := []TreeRow{{Service: root, Anomaly: in[root].Anomaly, Calls: deps}}
	seen := map[string]bool{root: true}
	var walk func(s, prefix string)
	walk = func(s, prefix string) {
		cs := callers[s]
		sort.Strings(cs)
		var todo []string
		for _, c := range cs {
			if !seen[c] {
				seen[c] = true
				todo = append(todo, c)
			}
		}
		for i, c := range todo {
			branch, next := "├─ ", "│  "
			if i == len(todo)-1 {
				branch, next = "└─ ", "   "
			}
			rows = append(rows, TreeRow{Prefix: prefix + branch, Service: c, Anomaly: in[c].Anomaly})
			walk(c, prefix+next)
		}
	}
	walk(root, "")
	var rest []string
	for s := range in {
		if !seen[s] {
			rest = append(rest, s)
		}
	}
	sort.Strings(rest)
	for _, s := range rest {
		rows = append(rows, TreeRow{Prefix: "· ", Service: s, Anomaly: in[s].Anomaly, ByLoad: true})
	}
	return rows
}
