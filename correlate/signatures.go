package correlate

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

// Signature kinds: failure shapes recognised in log lines.
const (
	SigPoolExhausted = "pool-exhausted"
	SigTooManyConns  = "too-many-connections"
	SigTimeout       = "timeout"
	SigOOM           = "oom-killed"
	SigConnRefused   = "connection-refused"
	SigPanic         = "panic"
	SigBreakerOpen   = "breaker-open"
	SigQueueFull     = "queue-full"
	maxSamplesPerSig = 3
)

// signatureRules are tried in order, most specific first; a line matches
// a rule when its lower-cased text contains one of the rule's keywords.
// (Keywords, not regular expressions: 50,000 lines must classify in
// milliseconds.)
var signatureRules = []struct {
	kind     string
	keywords []string
}{
	{SigPoolExhausted, []string{"timeout acquiring connection from pool", "connection pool exhausted", "connection pool timeout", "pool exhausted", "queuepool limit"}},
	{SigTooManyConns, []string{"too many clients", "too many connections"}},
	{SigOOM, []string{"oomkilled", "out of memory"}},
	{SigPanic, []string{"panic", "nil pointer dereference", "nullpointerexception", "segmentation fault"}},
	{SigBreakerOpen, []string{"circuit breaker open", "circuit breaker to "}},
	{SigQueueFull, []string{"queue full", "workers busy"}},
	{SigConnRefused, []string{"connection refused", "connection reset"}},
	{SigTimeout, []string{"deadline exceeded", "timed out", "timeout"}},
}

// classify returns the kind of the first rule a line matches, or "".
func classify(line string) string {
	low := strings.ToLower(line)
	for _, r := range signatureRules {
		for _, k := range r.keywords {
			if strings.Contains(low, k) {
				if r.kind == SigBreakerOpen && k == "circuit breaker to " && !strings.Contains(low, "opened") {
					continue
				}
				return r.kind
			}
		}
	}
	return ""
}

// poolUsage finds "(100/100 in use)" and the pool's name.
var poolUsage = regexp.MustCompile(`pool (\S+) \((\d+)/(\d+) in use\)`)

// peerOf finds the dependency a line blames: "call to X", "peer=X", "pool=X".
func peerOf(line string) string {
	for _, marker := range []string{"call to ", "peer=", "pool="} {
		i := strings.Index(line, marker)
		if i < 0 {
			continue
		}
		rest := line[i+len(marker):]
		n := 0
		for n < len(rest) {
			c := rest[n]
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
				n++
				continue
			}
			break
		}
		if n > 0 {
			return rest[:n]
		}
	}
	return ""
}

// Signature is a failure shape seen in one service's logs.
type Signature struct {
	Service  string   `json:"service"`
	Kind     string   `json:"kind"`
	Count    int      `json:"count"`
	Peer     string   `json:"peer,omitempty"`  // the dependency the lines name most
	Usage    string   `json:"usage,omitempty"` // e.g. "100/100" for pools
	Samples  []string `json:"samples"`         // a few lines, terminal-safe
	TraceIDs []string `json:"trace_ids,omitempty"`
}

// Signatures classifies error and warning lines per service. A line gets
// the first kind that matches, most specific first.
func Signatures(logs []sources.LogLine) []Signature {
	type key struct{ svc, kind string }
	acc := map[key]*Signature{}
	peers := map[key]map[string]int{}
	for _, l := range logs {
		if l.Level != "error" && l.Level != "warn" && l.Level != "" {
			continue
		}
		kind := classify(l.Line)
		if kind == "" {
			continue
		}
		k := key{l.Service, kind}
		s := acc[k]
		if s == nil {
			s = &Signature{Service: l.Service, Kind: kind}
			acc[k] = s
			peers[k] = map[string]int{}
		}
		s.Count++
		if len(s.Samples) < maxSamplesPerSig {
			s.Samples = append(s.Samples, termsafe.Line(l.Line))
		}
		if l.TraceID != "" && len(s.TraceIDs) < maxSamplesPerSig && !slices.Contains(s.TraceIDs, l.TraceID) {
			s.TraceIDs = append(s.TraceIDs, l.TraceID)
		}
		if kind == SigPoolExhausted && strings.Contains(l.Line, " in use)") {
			if m := poolUsage.FindStringSubmatch(l.Line); m != nil {
				s.Usage = m[2] + "/" + m[3]
				peers[k][m[1]] += 10
			}
		}
		if p := peerOf(l.Line); p != "" {
			peers[k][p]++
		}
	}
	out := make([]Signature, 0, len(acc))
	for k, s := range acc {
		best, n := "", 0
		for p, c := range peers[k] {
			if c > n || (c == n && p < best) {
				best, n = p, c
			}
		}
		s.Peer = termsafe.Line(best)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Service+out[i].Kind < out[j].Service+out[j].Kind
	})
	return out
}

// ErrorOrigin is, for one failed trace, the deepest failing span whose
// children all succeeded: where the error started.
type ErrorOrigin struct {
	TraceID string `json:"trace_id"`
	Service string `json:"service"`
	Span    string `json:"span"`
	Message string `json:"message,omitempty"`
}

// ErrorOrigins finds the origin of each failed trace. A failed client
// span to an uninstrumented peer blames the peer only when the message is
// not a timeout (a timeout blames the slow callee, which is the peer too).
func ErrorOrigins(traces []sources.Trace) []ErrorOrigin {
	var out []ErrorOrigin
	for _, t := range traces {
		children := map[string][]*sources.Span{}
		for i := range t.Spans {
			children[t.Spans[i].ParentSpanID] = append(children[t.Spans[i].ParentSpanID], &t.Spans[i])
		}
		depth := func(sp *sources.Span) int {
			d := 0
			seen := map[string]bool{}
			for p := sp.ParentSpanID; p != "" && !seen[p]; d++ {
				seen[p] = true
				next := ""
				for i := range t.Spans {
					if t.Spans[i].SpanID == p {
						next = t.Spans[i].ParentSpanID
						break
					}
				}
				p = next
			}
			return d
		}
		var best *sources.Span
		bestDepth := -1
		for i := range t.Spans {
			sp := &t.Spans[i]
			if sp.Status != sources.StatusError {
				continue
			}
			failingChild := false
			for _, c := range children[sp.SpanID] {
				if c.Status == sources.StatusError {
					failingChild = true
					break
				}
			}
			if failingChild {
				continue
			}
			if d := depth(sp); d > bestDepth {
				best, bestDepth = sp, d
			}
		}
		if best == nil {
			continue
		}
		svc := best.Service
		if peer := best.Attributes["peer.service"]; peer != "" && best.Kind != "server" {
			svc = peer
		}
		out = append(out, ErrorOrigin{TraceID: t.ID, Service: termsafe.Line(svc), Span: termsafe.Line(best.Name), Message: termsafe.Line(strings.TrimSpace(best.StatusMessage))})
	}
	return out
}
