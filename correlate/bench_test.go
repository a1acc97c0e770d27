package correlate

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// syntheticEvidence is the benchmark load: 47 services' RED over
// 45 minutes at 15 s, 50,000 log lines and 2,000 traces of 30 spans.
func syntheticEvidence() *Evidence {
	rng := rand.New(rand.NewPCG(1, 2))
	const nSvc, nPts = 47, 180
	svc := func(i int) string { return fmt.Sprintf("svc-%02d", i) }
	ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second}
	for i := 0; i < nSvc; i++ {
		broken := i%7 == 3
		ev.RED = append(ev.RED, red(svc(i), nPts, 100+float64(i), func(k int) float64 {
			if broken && k > 130 {
				return 0.3
			}
			return 0.001 + 0.0005*rng.Float64()
		}, flat(0.05)))
		for _, j := range []int{i + 1, i + 2, i + 5} {
			if j < nSvc {
				ev.Edges = append(ev.Edges, sources.Edge{Client: svc(i), Server: svc(j), RequestRate: 50, FailedRate: 1, P99Seconds: 0.05})
				ev.BaselineEdges = append(ev.BaselineEdges, sources.Edge{Client: svc(i), Server: svc(j), RequestRate: 50, P99Seconds: 0.05})
			}
		}
	}
	for k := 0; k < 2000; k++ {
		tr := sources.Trace{ID: fmt.Sprintf("%032x", k+1)}
		start := window.Start.Add(time.Duration(k) * 400 * time.Millisecond)
		for s := 0; s < 30; s++ {
			sp := sources.Span{TraceID: tr.ID, SpanID: fmt.Sprintf("%016x", k*100+s+1), Service: svc((k + s) % nSvc), Name: "GET /x",
				Kind: "server", Start: start.Add(time.Duration(s) * time.Millisecond), End: start.Add(time.Duration(60-s) * time.Millisecond)}
			if s > 0 {
				sp.ParentSpanID = fmt.Sprintf("%016x", k*100+s)
			}
			if s > 25 && k%3 == 0 {
				sp.Status = sources.StatusError
			}
			tr.Spans = append(tr.Spans, sp)
		}
		ev.Traces = append(ev.Traces, tr)
	}
	msgs := []string{
		`level=error msg="POST /pay failed: timeout acquiring connection from pool payment-db (100/100 in use)" pool=payment-db`,
		`level=warn msg="retrying call to svc-10 (attempt 2/4): context deadline exceeded after 1s" peer=svc-10`,
		`level=error msg="GET /x failed: call to svc-03: 503 Service Unavailable" peer=svc-03 status=502`,
		`level=error msg="GET /x failed: unexpected EOF reading request body" status=500`,
	}
	for k := 0; k < 50000; k++ {
		ev.Logs = append(ev.Logs, sources.LogLine{T: window.Start.Add(time.Duration(k) * 18 * time.Millisecond), Service: svc(k % nSvc),
			Level: []string{"error", "warn"}[k%2], TraceID: fmt.Sprintf("%032x", k%2500+1), Line: msgs[k%len(msgs)]})
	}
	return ev
}

// BenchmarkAnalyze measures incident assembly from the load.
// Target: under 200 ms and 150 MB per op.
func BenchmarkAnalyze(b *testing.B) {
	ev := syntheticEvidence()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inc := Analyze(ev, Meta{})
		if len(inc.Candidates) == 0 {
			b.Fatal("no candidates")
		}
	}
}

// BenchmarkBlastRadius1000 measures the blast radius on a generated graph
// of 1,000 services in 10 tiers, each calling three of the next tier, with
// a third of them anomalous. Target: under 10 ms.
func BenchmarkBlastRadius1000(b *testing.B) {
	const tiers, width = 10, 100
	name := func(t, i int) string { return fmt.Sprintf("t%d-s%03d", t, i) }
	var edges []sources.Edge
	anoms := map[string]*Anomaly{}
	for t := 0; t < tiers; t++ {
		for i := 0; i < width; i++ {
			if (t*width+i)%3 != 1 {
				anoms[name(t, i)] = &Anomaly{Service: name(t, i), Rate: 10, ErrorRate: 1}
			}
			if t == tiers-1 {
				continue
			}
			for _, j := range []int{i, (i + 7) % width, (i + 31) % width} {
				edges = append(edges, sources.Edge{Client: name(t, i), Server: name(t+1, j), RequestRate: 10})
			}
		}
	}
	g := BuildGraph(nil, edges, nil, nil)
	root := name(tiers-1, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		br := Blast(root, g, anoms, nil, nil, nil, "")
		if len(br.Services) < 2 {
			b.Fatal("empty blast radius")
		}
	}
}
