package sim

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

//go:embed topology.yaml
var defaultTopologyYAML []byte

// Service kinds. Databases, caches, queues and external peers are not
// instrumented: they appear in traces only as client spans of their callers
// and in the service graph as virtual nodes.
const (
	KindGateway  = "gateway"
	KindAPI      = "api"
	KindService  = "service"
	KindDatabase = "database"
	KindCache    = "cache"
	KindQueue    = "queue"
	KindExternal = "external"
)

// Topology is a fleet: its traffic and its services. It is data, loaded
// from YAML; the default is embedded.
type Topology struct {
	Name     string        `yaml:"name"`
	Currency string        `yaml:"currency"` // of value_per_request
	Traffic  TrafficSpec   `yaml:"traffic"`
	Tracing  TracingSpec   `yaml:"tracing"`
	SLOs     []SLOSpec     `yaml:"slos"`
	Services []ServiceSpec `yaml:"services"`
}

// TrafficSpec is the request rate entering the fleet and its daily shape.
type TrafficSpec struct {
	RPS            float64 `yaml:"rps"`             // mean requests per second entering all gateways
	DailyAmplitude float64 `yaml:"daily_amplitude"` // 0.3: peak is 30% above the mean
	PeakHour       float64 `yaml:"peak_hour"`       // UTC hour of the daily peak
	Noise          float64 `yaml:"noise"`           // relative standard deviation of minute-to-minute noise
}

// TracingSpec is head sampling: the fraction of entry requests traced.
type TracingSpec struct {
	Sample float64 `yaml:"sample"`
}

// SLOSpec is an availability objective on a service's server-side errors.
// The simulator evaluates multiwindow burn-rate alerts for each.
type SLOSpec struct {
	Name      string  `yaml:"name"`
	Service   string  `yaml:"service"`
	Objective float64 `yaml:"objective"` // 0.999
}

// ServiceSpec is one service of the fleet.
type ServiceSpec struct {
	Name      string  `yaml:"name"`
	Tier      string  `yaml:"tier"`
	Kind      string  `yaml:"kind"`
	Owner     string  `yaml:"owner"`
	Version   string  `yaml:"version"`
	Entry     float64 `yaml:"entry"` // share of the fleet's entry traffic
	Replicas  int     `yaml:"replicas"`
	Workers   int     `yaml:"workers"` // concurrent requests per replica
	Latency   Latency `yaml:"latency"` // own work, excluding calls
	ErrorRate float64 `yaml:"error_rate"`
	CPUms     float64 `yaml:"cpu_ms"` // CPU milliseconds per request
	Cores     float64 `yaml:"cores"`  // CPU cores per replica
	// MaxConnections is a database's server-side connection limit.
	MaxConnections int `yaml:"max_connections"`
	// HitRatio is a cache's steady-state hit ratio.
	HitRatio float64 `yaml:"hit_ratio"`
	// Consumes lists queues this service consumes; their publish rate is
	// its traffic, one tick later (asynchronous).
	Consumes    []string           `yaml:"consumes"`
	Pools       []PoolSpec         `yaml:"pools"`
	Calls       []CallSpec         `yaml:"calls"`
	Operations  []string           `yaml:"operations"` // span names of its server spans
	StartupTime timeparse.Duration `yaml:"startup"`    // how long a new replica takes to become ready
	// ValuePerRequest is what a successful request is worth in the
	// topology\'s currency (an order at checkout, say); 0 when unknown.
	ValuePerRequest float64 `yaml:"value_per_request"`
}

// Latency is a log-normal distribution given by its median and 99th percentile.
type Latency struct {
	P50 timeparse.Duration `yaml:"p50"`
	P99 timeparse.Duration `yaml:"p99"`
}

// PoolSpec is a client-side connection pool towards a store.
type PoolSpec struct {
	To             string             `yaml:"to"`
	Size           int                `yaml:"size"` // per replica
	AcquireTimeout timeparse.Duration `yaml:"acquire_timeout"`
}

// CallSpec is how a service calls one dependency.
type CallSpec struct {
	To      string             `yaml:"to"`
	Rate    float64            `yaml:"rate"` // calls per request (a probability when below 1)
	Route   bool               `yaml:"route"`
	Timeout timeparse.Duration `yaml:"timeout"`
	Retries int                `yaml:"retries"`
	Backoff timeparse.Duration `yaml:"backoff"`
	Breaker *BreakerSpec       `yaml:"breaker"`
	// Optional calls degrade gracefully: their failure does not fail the request.
	Optional bool `yaml:"optional"`
	// Hold names a pool whose connection is held while this call is made,
	// the classic way a slow dependency drains a database pool.
	Hold string `yaml:"hold"`
	// OnMiss makes the call happen only on a miss of this cache.
	OnMiss string `yaml:"on_miss"`
}

// BreakerSpec is a caller-side circuit breaker.
type BreakerSpec struct {
	FailureRatio float64            `yaml:"failure_ratio"` // opens above this ratio of failed attempts
	MinRPS       float64            `yaml:"min_rps"`       // and at least this many attempts per second
	Cooldown     timeparse.Duration `yaml:"cooldown"`      // open this long before a half-open probe
}

// DefaultTopology returns the embedded 47-service e-commerce fleet.
func DefaultTopology() *Topology {
	t, err := ParseTopology("topology.yaml (embedded)", defaultTopologyYAML)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return t
}

// LoadTopology reads a topology from a YAML file.
func LoadTopology(path string) (*Topology, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTopology(path, b)
}

// ParseTopology decodes and validates a topology. Errors name the file and line.
func ParseTopology(file string, b []byte) (*Topology, error) {
	var t Topology
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, yamlError(file, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := t.validate(file, &root); err != nil {
		return nil, err
	}
	t.applyDefaults()
	return &t, nil
}

// lineRe finds yaml's "line N: " prefixes.
var lineRe = regexp.MustCompile(`^line (\d+): `)

// yamlError rewrites yaml's "line N: msg" errors as "file:N: msg", one per
// line, the way compilers and editors expect.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if m := lineRe.FindStringSubmatch(l); m != nil {
			out = append(out, fmt.Sprintf("%s:%s: %s", file, m[1], l[len(m[0]):]))
			continue
		}
		out = append(out, file+": "+l)
	}
	return errors.New(strings.Join(out, "\n"))
}

func (t *Topology) applyDefaults() {
	for i := range t.Services {
		s := &t.Services[i]
		if s.Replicas == 0 {
			s.Replicas = 1
		}
		if s.Workers == 0 {
			s.Workers = 64
		}
		if s.Cores == 0 {
			s.Cores = 1
		}
		if s.CPUms == 0 {
			s.CPUms = 2
		}
		if s.Version == "" {
			s.Version = "v1.0.0"
		}
		if s.StartupTime == 0 {
			s.StartupTime = timeparse.Duration(45 * time.Second)
		}
		if len(s.Operations) == 0 {
			s.Operations = []string{"GET /"}
		}
		for j := range s.Pools {
			if s.Pools[j].AcquireTimeout == 0 {
				s.Pools[j].AcquireTimeout = timeparse.Duration(time.Second)
			}
		}
		for j := range s.Calls {
			c := &s.Calls[j]
			if c.Rate == 0 {
				c.Rate = 1
			}
			if c.Timeout == 0 {
				c.Timeout = timeparse.Duration(2 * time.Second)
			}
			if c.Backoff == 0 {
				c.Backoff = timeparse.Duration(50 * time.Millisecond)
			}
			if b := c.Breaker; b != nil {
				if b.FailureRatio == 0 {
					b.FailureRatio = 0.5
				}
				if b.Cooldown == 0 {
					b.Cooldown = timeparse.Duration(30 * time.Second)
				}
			}
		}
	}
}

// maxServices is how many services a fleet may have: spans and log
// records name their service and peer in an int16, which keeps a million
// spans in about 40 MB.
const maxServices = math.MaxInt16

// lineOf finds the line of services[i] (and calls[j] when j >= 0) in the
// document; 0 for a topology built in code, which has none.
func lineOf(root *yaml.Node, i, j int) int {
	if root == nil {
		return 0
	}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	child := func(n *yaml.Node, key string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for k := 0; k+1 < len(n.Content); k += 2 {
			if n.Content[k].Value == key {
				return n.Content[k+1]
			}
		}
		return nil
	}
	svcs := child(n, "services")
	if svcs == nil || i >= len(svcs.Content) {
		return 0
	}
	s := svcs.Content[i]
	if j < 0 {
		return s.Line
	}
	calls := child(s, "calls")
	if calls == nil || j >= len(calls.Content) {
		return s.Line
	}
	return calls.Content[j].Line
}

var validKinds = []string{KindGateway, KindAPI, KindService, KindDatabase, KindCache, KindQueue, KindExternal}

func (t *Topology) validate(file string, root *yaml.Node) error {
	var errs []error
	at := func(i, j int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, lineOf(root, i, j), fmt.Sprintf(format, args...)))
	}
	if len(t.Services) == 0 {
		errs = append(errs, fmt.Errorf("%s: no services", file))
	}
	if t.Traffic.RPS <= 0 {
		errs = append(errs, fmt.Errorf("%s: traffic.rps must be above 0", file))
	}
	if s := t.Tracing.Sample; s < 0 || s > 1 {
		errs = append(errs, fmt.Errorf("%s: tracing.sample must be between 0 and 1, got %g", file, s))
	}
	index := map[string]int{}
	for i, s := range t.Services {
		if s.Name == "" {
			at(i, -1, "service without a name")
			continue
		}
		if _, dup := index[s.Name]; dup {
			at(i, -1, "service %q is defined twice", s.Name)
		}
		index[s.Name] = i
	}
	if len(t.Services) > maxServices {
		errs = append(errs, fmt.Errorf("%s: %d services; the simulator supports at most %d, because spans and log lines index services in 16 bits to stay compact", file, len(t.Services), maxServices))
	}
	entry := 0.0
	for i, s := range t.Services {
		if !contains(validKinds, s.Kind) {
			at(i, -1, "service %q: kind %q is not one of %s", s.Name, s.Kind, strings.Join(validKinds, ", "))
		}
		if s.Entry < 0 || s.ErrorRate < 0 || s.ErrorRate > 1 || s.HitRatio < 0 || s.HitRatio > 1 {
			at(i, -1, "service %q: entry, error_rate and hit_ratio must be between 0 and 1", s.Name)
		}
		if s.Replicas < 0 || s.Workers < 0 || s.MaxConnections < 0 {
			at(i, -1, "service %q: replicas, workers and max_connections cannot be negative", s.Name)
		}
		if s.Latency.P50 <= 0 || s.Latency.P99 < s.Latency.P50 {
			at(i, -1, "service %q: latency needs p50 > 0 and p99 >= p50", s.Name)
		}
		entry += s.Entry
		for _, q := range s.Consumes {
			if k, ok := index[q]; !ok || t.Services[k].Kind != KindQueue {
				at(i, -1, "service %q consumes %q, which is not a queue of this topology", s.Name, q)
			}
		}
		pools := map[string]bool{}
		for _, p := range s.Pools {
			if _, ok := index[p.To]; !ok {
				at(i, -1, "service %q: pool to unknown service %q", s.Name, p.To)
			}
			if p.Size <= 0 {
				at(i, -1, "service %q: pool to %q needs a size above 0", s.Name, p.To)
			}
			pools[p.To] = true
		}
		for j, c := range s.Calls {
			k, ok := index[c.To]
			switch {
			case !ok:
				at(i, j, "service %q calls unknown service %q%s", s.Name, c.To, suggest(c.To, index))
			case c.To == s.Name:
				at(i, j, "service %q calls itself", s.Name)
			case t.Services[k].Kind == KindQueue && c.Retries > 0:
				at(i, j, "service %q: publishes to queue %q are not retried in this model", s.Name, c.To)
			}
			if c.Rate < 0 || c.Retries < 0 || c.Retries > 10 {
				at(i, j, "service %q call to %q: rate must be >= 0 and retries between 0 and 10", s.Name, c.To)
			}
			if c.Hold != "" && !pools[c.Hold] {
				at(i, j, "service %q call to %q holds pool %q, which it does not have", s.Name, c.To, c.Hold)
			}
			if c.OnMiss != "" {
				if k, ok := index[c.OnMiss]; !ok || t.Services[k].Kind != KindCache {
					at(i, j, "service %q call to %q: on_miss %q is not a cache", s.Name, c.To, c.OnMiss)
				}
			}
			if b := c.Breaker; b != nil && (b.FailureRatio < 0 || b.FailureRatio >= 1) {
				at(i, j, "service %q call to %q: breaker failure_ratio must be in [0, 1)", s.Name, c.To)
			}
		}
	}
	if len(t.Services) > 0 && math.Abs(entry-1) > 0.01 {
		errs = append(errs, fmt.Errorf("%s: entry shares add up to %.3f, want 1", file, entry))
	}
	for _, o := range t.SLOs {
		if _, ok := index[o.Service]; !ok {
			errs = append(errs, fmt.Errorf("%s: slo %q: unknown service %q", file, o.Name, o.Service))
		}
		if o.Objective <= 0 || o.Objective >= 1 {
			errs = append(errs, fmt.Errorf("%s: slo %q: objective must be in (0, 1), like 0.999", file, o.Name))
		}
	}
	if len(errs) == 0 {
		if cyc := t.callCycle(index); cyc != nil {
			errs = append(errs, fmt.Errorf("%s: synchronous call cycle %s; break it with a queue", file, strings.Join(cyc, " → ")))
		}
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func suggest(name string, index map[string]int) string {
	var names []string
	for n := range index {
		if strings.Contains(n, name) || strings.Contains(name, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", strings.Join(names, " or "))
}

// callCycle returns a cycle of synchronous calls, or nil.
func (t *Topology) callCycle(index map[string]int) []string {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(t.Services))
	var stack []string
	var found []string
	var visit func(i int) bool
	visit = func(i int) bool {
		color[i] = grey
		stack = append(stack, t.Services[i].Name)
		for _, c := range t.Services[i].Calls {
			k := index[c.To]
			if color[k] == grey {
				for s := range stack {
					if stack[s] == c.To {
						found = append(append([]string{}, stack[s:]...), c.To)
					}
				}
				return true
			}
			if color[k] == white && visit(k) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
		return false
	}
	for i := range t.Services {
		if color[i] == white && visit(i) {
			return found
		}
	}
	return nil
}

// Service returns the spec of the named service.
func (t *Topology) Service(name string) (*ServiceSpec, bool) {
	for i := range t.Services {
		if t.Services[i].Name == name {
			return &t.Services[i], true
		}
	}
	return nil, false
}
