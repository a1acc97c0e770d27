package history

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The guards of a drafted experiment: the seed's own example (payment-api
// under 1% errors and 500 ms p99), with a steady state at half the error
// bound so that a service already near it is not experimented on, read
// every five seconds as oncall chaos experiments are.
const (
	guardErrorRatio  = "1%"
	guardP99         = "500ms"
	steadyErrorRatio = "0.5%"
	steadyOver       = "5m"
	experimentFor    = "10m"
	guardInterval    = "5s"
)

// maxGuarded bounds the guarded services: the symptom and the two entry
// points failing most. Each guard is an abort condition someone must
// read before running the experiment; more than three hides the one
// that paged among services the fault barely reaches.
const maxGuarded = 3

// fault is what an experiment injects into the root, as the simulator
// and Toxiproxy each do it.
type fault struct {
	name, what string
	sim        map[string]string
	toxic      string // Toxiproxy's toxic type
	attributes string // its attributes, as JSON
	toxicity   string
}

// faultFor picks the fault that reproduces a mechanism: errors for a
// change, dropped connections for a crash, fewer pool slots for a
// saturation (the simulator's limit-pool without a target: a client's
// only pool, or a database's connection limit), and else latency, which
// is how retries, timeouts and surges begin.
func faultFor(mechanism string) fault {
	switch mechanism {
	case "deploy", "change":
		return fault{"errors", "fails 15% of its requests", map[string]string{"action": "inject-errors", "ratio": "15%"}, "reset_peer", `{"timeout":0}`, "0.15"}
	case "crash-loop", "crash":
		return fault{"kill", "loses a replica again and again (Toxiproxy: its connections reset)", map[string]string{"action": "kill-replicas", "replicas": "1"}, "reset_peer", `{"timeout":0}`, "0.5"}
	case "saturation":
		return fault{"pool", "has half its connection pool", map[string]string{"action": "limit-pool", "size": "50%"}, "limit_data", `{"bytes":1048576}`, "1"}
	}
	return fault{"latency", "answers 200 ms slower on half its requests", map[string]string{"action": "inject-latency", "latency": "200ms", "share": "50%"}, "latency", `{"latency":200,"jitter":50}`, "0.5"}
}

// experiment writes the chaos experiment that would have caught r, in
// the format of oncall chaos experiments: steady state, injection on the root, guards on the
// services users reach, and a rollback that always runs. The demo's
// records inject into the simulator; other stacks through Toxiproxy.
func experiment(r Record) string {
	if r.Root == "" {
		return ""
	}
	root := clean(r.Root)
	f := faultFor(primaryMechanism(r.Mechanism))
	guarded := guardedServices(r)
	var b strings.Builder
	id := clean(r.ID)
	fmt.Fprintf(&b, "# The experiment that would have caught %s: %s %s.\n", id, root, f.what)
	b.WriteString("# For `oncall chaos run`.\n")
	fmt.Fprintf(&b, "name: %s\n", yq(id+"-"+root+"-"+f.name))
	keep := "keep"
	if len(guarded) == 1 {
		keep = "keeps"
	}
	fmt.Fprintf(&b, "hypothesis: %s\n", yq(fmt.Sprintf("%s %s errors under %s and p99 under %s while %s %s", strings.Join(guarded, ", "), keep, guardErrorRatio, guardP99, root, f.what)))
	fmt.Fprintf(&b, "target: %s\n", yq(root))
	b.WriteString("steady_state:\n")
	for _, s := range guarded {
		fmt.Fprintf(&b, "  - {service: %s, signal: error_ratio, below: %s, over: %s}\n", yq(s), steadyErrorRatio, steadyOver)
	}
	b.WriteString("inject:\n")
	if r.Stack == DemoStack {
		fmt.Fprintf(&b, "  - name: %s\n    kind: sim\n    sim:\n      action: %s\n      service: \"{{.Target}}\"\n      params: {", f.name, f.sim["action"])
		var ps []string
		for _, k := range sortedKeys(f.sim) {
			if k != "action" {
				ps = append(ps, k+": "+yq(f.sim[k]))
			}
		}
		b.WriteString(strings.Join(ps, ", ") + "}\n")
	} else {
		body := fmt.Sprintf(`{"name":"oncall-%s","type":%q,"toxicity":%s,"attributes":%s}`, f.name, f.toxic, f.toxicity, f.attributes)
		fmt.Fprintf(&b, "  - name: %s\n    kind: http\n    http:\n      method: POST\n      url: %s\n      headers: {Content-Type: application/json}\n      body: %s\n",
			f.name, yq(toxiproxyURL("")), yq(body))
	}
	b.WriteString("guards:\n")
	for _, s := range guarded {
		fmt.Fprintf(&b, "  - {service: %s, signal: error_ratio, below: %s}\n", yq(s), guardErrorRatio)
		fmt.Fprintf(&b, "  - {service: %s, signal: p99, below: %s}\n", yq(s), guardP99)
	}
	fmt.Fprintf(&b, "interval: %s\n", guardInterval)
	fmt.Fprintf(&b, "duration: %s\n", experimentFor)
	b.WriteString("rollback:\n")
	if r.Stack == DemoStack {
		fmt.Fprintf(&b, "  - name: clear-%s\n    kind: sim\n    sim:\n      action: clear-faults\n      service: \"{{.Target}}\"\n", f.name)
	} else {
		fmt.Fprintf(&b, "  - name: clear-%s\n    kind: http\n    http:\n      method: DELETE\n      url: %s\n", f.name, yq(toxiproxyURL("oncall-"+f.name)))
	}
	return b.String()
}

// toxiproxyURL is the toxics endpoint of the target's proxy on
// Toxiproxy's default port: the team points it at theirs. The proxy is
// the experiment's {{.Target}}, as the shipped Toxiproxy experiments
// name it.
func toxiproxyURL(toxic string) string {
	u := "http://localhost:8474/proxies/{{.Target}}/toxics"
	if toxic != "" {
		u += "/" + url.PathEscape(toxic)
	}
	return u
}

// guardedServices are where users would feel the fault: the symptom
// first (symptom), then the blast radius's entry points by their failing
// rate, then the chain's symptom and the alerts' other services; the
// root itself only when there is nothing else. The root is where the
// fault goes, so it is no guard.
func guardedServices(r Record) []string {
	var out []string
	add := func(s string) {
		if s != "" && s != r.Root && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	alerts := slices.Clone(r.Alerts)
	slices.SortStableFunc(alerts, func(a, b AlertSpan) int { return a.Start.Compare(b.Start) })
	add(symptom(r, alerts))
	inc := r.Incident
	if inc != nil {
		if inc.Blast != nil {
			failing := map[string]float64{}
			for _, s := range inc.Blast.Services {
				failing[s.Service] = s.ErrorRate
			}
			entries := slices.Clone(inc.Blast.EntryPoints)
			slices.SortStableFunc(entries, func(a, b string) int {
				return cmp.Or(cmp.Compare(failing[b], failing[a]), strings.Compare(a, b))
			})
			for _, s := range entries {
				add(s)
			}
		}
		if len(inc.Chain) > 0 {
			add(inc.Chain[0].Service)
		}
	}
	for _, a := range alerts {
		add(a.Service)
	}
	for _, s := range r.Services {
		add(s)
	}
	if len(out) == 0 {
		out = []string{r.Root}
	}
	out = out[:min(len(out), maxGuarded)]
	for i := range out {
		out[i] = clean(out[i])
	}
	return out
}

// symptom is the service the incident is known by: the first alert
// that paged (the on-call engineer's way in), else the service the
// incident was opened on, else the first alert's; "" when none names one.
// alerts are the record's, by start.
func symptom(r Record, alerts []AlertSpan) string {
	for _, a := range alerts {
		if a.Service != "" && a.Service != r.Root && slices.Contains(pageSeverities, strings.ToLower(a.Severity)) {
			return a.Service
		}
	}
	if r.Incident != nil && r.Incident.Trigger.Service != r.Root && r.Incident.Trigger.Service != "" {
		return r.Incident.Trigger.Service
	}
	for _, a := range alerts {
		if a.Service != "" && a.Service != r.Root {
			return a.Service
		}
	}
	return ""
}

// yq quotes a YAML scalar: a double-quoted string, whose escapes YAML
// reads as Go writes them, so data can never become YAML structure.
func yq(s string) string { return strconv.Quote(s) }
