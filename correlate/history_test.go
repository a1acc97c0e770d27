package correlate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// spells is an error ratio that is bad (0.2) on the given step ranges
// [from, to) and healthy (0.001) elsewhere.
func spells(r ...[2]int) func(int) float64 {
	return func(i int) float64 {
		for _, s := range r {
			if i >= s[0] && i < s[1] {
				return 0.2
			}
		}
		return 0.001
	}
}

func TestAnEarlierRecoveredIncidentIsNotWhatBrokeFirst(t *testing.T) {
	ev := &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start}, RED: []sources.RED{
		red("old", 180, 100, spells([2]int{122, 130}), flat(0.05)),
		red("now", 180, 100, spells([2]int{150, 180}), flat(0.05)),
	}}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "now" {
		t.Fatalf("candidates %v", inc.Candidates)
	}
	for _, c := range inc.Candidates {
		if c.Service == "old" {
			t.Errorf("the recovered incident is ranked: %+v", c)
		}
	}
	if !strings.Contains(strings.Join(inc.Notes, "\n"), "earlier, recovered at 23:32: old errors") {
		t.Errorf("notes %q", inc.Notes)
	}
	// it stays among the anomalies, for the timeline
	found := false
	for _, a := range inc.Anomalies {
		found = found || a.Service == "old"
	}
	if !found {
		t.Error("the recovered anomaly left the incident")
	}
}

func TestOverlappingAndFlappingAnomaliesAreNotRecovered(t *testing.T) {
	got := Anomalies(&Evidence{Window: window, RED: []sources.RED{
		// bad for two minutes at a time, two minutes apart: a crash loop,
		// healthy for three minutes at the end
		red("flapping", 180, 100, spells([2]int{125, 128}, [2]int{136, 139}, [2]int{147, 150}, [2]int{158, 167}), flat(0.05)),
		// recovered for good: healthy for over twice its one lull
		red("over", 180, 100, spells([2]int{125, 128}, [2]int{130, 133}), flat(0.05)),
	}})
	if a := got["flapping"]; a == nil || !a.Recovered.IsZero() {
		t.Errorf("flapping: %+v", a)
	}
	if a := got["over"]; a == nil || !a.Recovered.Equal(t0.Add(132*15*time.Second)) {
		t.Errorf("over: %+v", a)
	}
}

func TestAnEarlierIncidentInTheBaselineDoesNotHideTheNext(t *testing.T) {
	// half an hour of baseline, ten minutes of it at 20% errors and 1 s
	// p99: the baseline is what the healthy steps look like
	got := Anomalies(&Evidence{Window: window, RED: []sources.RED{
		red("svc", 180, 100, func(i int) float64 {
			switch {
			case i >= 20 && i < 60:
				return 0.2
			case i >= 150:
				return 0.03
			}
			return 0.001
		}, step(150, 0.05, 0.05)),
	}})
	a := got["svc"]
	if a == nil || !a.Onset.Equal(t0.Add(150*15*time.Second)) || a.BaseErrors > 0.002 || a.ShortBaseline {
		t.Fatalf("%+v", a)
	}
}

func TestShortHistoryIsJudgedAgainstTheEarliestData(t *testing.T) {
	// Prometheus has six minutes: all inside the window
	ev := &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start}}
	r := red("svc", 180, 100, step(165, 0.001, 0.2), flat(0.05))
	for _, s := range []*sources.Series{&r.Requests, &r.Errors, &r.P99} {
		s.Samples = s.Samples[156:]
	}
	ev.RED = []sources.RED{r}
	inc := Analyze(ev, Meta{})
	if len(inc.Anomalies) != 1 {
		t.Fatalf("anomalies %+v", inc.Anomalies)
	}
	a := inc.Anomalies[0]
	if !a.ShortBaseline || !a.Onset.Equal(t0.Add(165*15*time.Second)) || a.BaseErrors > 0.002 {
		t.Errorf("%+v", a)
	}
	if want := "baseline: 0 of 30 minutes have data; judged against the earliest data, 23:39–23:40"; !strings.Contains(strings.Join(inc.Notes, "\n"), want) {
		t.Errorf("notes %q, want %q", inc.Notes, want)
	}
	// with less than a baseline and a sustained run, nothing is claimed
	for _, s := range []*sources.Series{&r.Requests, &r.Errors, &r.P99} {
		s.Samples = s.Samples[len(s.Samples)-9:]
	}
	if got := Anomalies(&Evidence{Window: window, RED: []sources.RED{r}}); len(got) != 0 {
		t.Errorf("nine points made %v", keys(got))
	}
}

func TestEntryPointsAreWhatTempoUserNodeCalls(t *testing.T) {
	// Tempo names the callers of root spans "user": frontend is called by
	// it (and by a batch job), so it is an entry point; "user" is no service
	edges := []sources.Edge{
		{Client: sources.UserNode, Server: "frontend", Kind: sources.EdgeVirtualNode, RequestRate: 100},
		{Client: "batch", Server: "frontend", RequestRate: 5},
		{Client: "frontend", Server: "api", RequestRate: 100},
		{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 300},
	}
	g := BuildGraph(nil, edges, nil, nil)
	for _, n := range g.Nodes() {
		if n == sources.UserNode {
			t.Fatal("the user node is in the graph")
		}
	}
	an := func(s string, rate, errs float64) *Anomaly {
		return &Anomaly{Service: s, Rate: rate, ErrorRate: errs, Kind: "errors"}
	}
	b := Blast("db", g, map[string]*Anomaly{"db": an("db", 300, 30), "api": an("api", 100, 10), "frontend": an("frontend", 100, 10)}, nil, nil, nil, "")
	if strings.Join(b.EntryPoints, ",") != "frontend" || b.FailingPerMin != 600 || b.Unknown != "" {
		t.Errorf("%+v", b)
	}
	// the frontend hides the failure (retries, a fallback): nothing hurt
	// meets users, and the blast radius says so instead of printing zeros
	b = Blast("db", g, map[string]*Anomaly{"db": an("db", 300, 30), "api": an("api", 100, 10)}, nil, nil, nil, "")
	if len(b.EntryPoints) != 0 || !strings.Contains(b.Unknown, "the entry points (batch, frontend) show no anomaly") {
		t.Errorf("%+v", b)
	}
}

func TestATimeoutWithNoPeerNamesNone(t *testing.T) {
	if got := timeoutDetail(Signature{Count: 3, Service: "api"}); got != "3 timeout lines at api" {
		t.Error(got)
	}
	if got := timeoutDetail(Signature{Count: 3, Service: "api", Peer: "db"}); got != "3 timeout lines at api (calls to db)" {
		t.Error(got)
	}
}

func TestAnIncidentAboutAServiceIsAboutItsPartOfTheGraph(t *testing.T) {
	// two apps share the Prometheus: shop (frontend → cart → cart-db) and
	// blog (web → posts); posts broke first and worse, cart-db later
	ev := &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start},
		Trigger: Trigger{Service: "frontend"},
		RED: []sources.RED{
			red("frontend", 180, 100, step(150, 0.001, 0.1), flat(0.05)),
			red("cart", 180, 100, step(150, 0.001, 0.1), flat(0.05)),
			red("cart-db", 180, 100, step(150, 0.001, 0.1), flat(0.05)),
			red("web", 180, 100, step(130, 0.001, 0.5), flat(0.05)),
			red("posts", 180, 100, step(130, 0.001, 0.9), flat(0.05)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "frontend", RequestRate: 100},
			{Client: "frontend", Server: "cart", RequestRate: 100, FailedRate: 10},
			{Client: "cart", Server: "cart-db", RequestRate: 100, FailedRate: 10},
			{Client: sources.UserNode, Server: "web", RequestRate: 100},
			{Client: "web", Server: "posts", RequestRate: 100, FailedRate: 90},
		}}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "cart-db" {
		t.Fatalf("candidates %+v", inc.Candidates)
	}
	for _, c := range inc.Candidates {
		if c.Service == "posts" || c.Service == "web" {
			t.Errorf("the other app is a candidate: %+v", c)
		}
	}
	if got := strings.Join(inc.Blast.Names(), ","); got != "cart-db,cart,frontend" {
		t.Errorf("blast %s", got)
	}
	if want := "elsewhere: 2 services anomalous outside what frontend calls and its callers (posts, web); not ranked"; !strings.Contains(strings.Join(inc.Notes, "\n"), want) {
		t.Errorf("notes %q", inc.Notes)
	}
	// the fleet-wide incident is the blog's
	ev.Trigger.Service = ""
	if inc := Analyze(ev, Meta{}); inc.Candidates[0].Service != "posts" {
		t.Errorf("fleet-wide: %+v", inc.Candidates[0])
	}
	// a service the graph does not know is not scoped, and the notes say so
	ev.Trigger.Service = "batch"
	inc = Analyze(ev, Meta{})
	if inc.Candidates[0].Service != "posts" || !strings.Contains(strings.Join(inc.Notes, "\n"), "scope: no call from or to batch is known") {
		t.Errorf("unknown service: %+v %q", inc.Candidates[0], inc.Notes)
	}
}

func TestRetriesIntoASlowDatabaseAreNotALoadSurge(t *testing.T) {
	// payment-db slows by 300 ms; api's pool fills and its requests fail.
	// api retries its failed queries: three times the calls reach the
	// database, 60% of them retries, while api's own traffic is flat
	ev := &Evidence{Window: window, Step: 15 * time.Second, Baseline: sources.TimeRange{Start: t0, End: window.Start},
		RED: []sources.RED{
			red("gw", 180, 100, step(152, 0.001, 0.3), step(152, 0.1, 1.2)),
			red("api", 180, 100, step(152, 0.001, 0.4), step(152, 0.05, 1.1)),
		},
		Edges: []sources.Edge{
			{Client: sources.UserNode, Server: "gw", RequestRate: 100},
			{Client: "gw", Server: "api", RequestRate: 100, FailedRate: 40, P99Seconds: 1.1},
			{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 300, FailedRate: 60, P99Seconds: 0.35},
		},
		BaselineEdges: []sources.Edge{
			{Client: "gw", Server: "api", RequestRate: 100, P99Seconds: 0.05},
			{Client: "api", Server: "db", Kind: sources.EdgeDatabase, RequestRate: 100, P99Seconds: 0.025},
		},
		Logs: []sources.LogLine{{T: t0.Add(40 * time.Minute), Service: "api", Level: "error",
			Line: `msg="POST /pay failed: timeout acquiring connection from pool payment-db (100/100 in use)" pool=payment-db`}},
	}
	for i := 0; i < 10; i++ {
		ev.Traces = append(ev.Traces, retriedTrace(fmt.Sprintf("%032x", i+1)))
	}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) == 0 || inc.Candidates[0].Service != "db" {
		t.Fatalf("ranked %+v\n%s", inc.Candidates, inc.Summary)
	}
	for _, r := range inc.Candidates[0].Reasons {
		if strings.Contains(r.Detail, "surged") {
			t.Errorf("the retries explain the database away: %+v", r)
		}
	}
	// the same surge with api's own traffic tripled is load: a flash sale
	// on a database whose pool is the bottleneck is another story, and the
	// database is then a victim
	ev.RED[1] = red("api", 180, 100, flat(0.001), flat(0.05))
	for i := range ev.RED[1].Requests.Samples {
		if i >= 150 {
			ev.RED[1].Requests.Samples[i].V = 300
			ev.RED[1].Errors.Samples[i].V = 300 * 0.4
		}
	}
	a := &analysis{ev: ev, anoms: Anomalies(ev), g: BuildGraph(ev.Traces, ev.Edges, ev.BaselineEdges, nil)}
	a.sigs = Signatures(ev.Logs)
	a.findLoad()
	if len(a.loadBy["db"]) == 0 {
		t.Errorf("a tripled demand is not load: %v", a.loadBy)
	}
}

// retriedTrace is gw → api → db, where api tried the query three times.
func retriedTrace(id string) sources.Trace {
	sp := func(sid, parent, svc, kind string, attrs map[string]string) sources.Span {
		return sources.Span{TraceID: id, SpanID: sid, ParentSpanID: parent, Service: svc, Kind: kind, Name: "call", Start: t0.Add(40 * time.Minute), End: t0.Add(40*time.Minute + time.Second), Attributes: attrs}
	}
	return sources.Trace{ID: id, Spans: []sources.Span{
		sp("01", "", "gw", "server", nil),
		sp("02", "01", "gw", "client", map[string]string{"peer.service": "api"}),
		sp("03", "02", "api", "server", nil),
		sp("04", "03", "api", "client", map[string]string{"peer.service": "db"}),
		sp("05", "03", "api", "client", map[string]string{"peer.service": "db", "http.request.resend_count": "1"}),
		sp("06", "03", "api", "client", map[string]string{"peer.service": "db", "http.request.resend_count": "2"}),
	}}
}

func TestASecondSpellAfterALongHealthyGapIsTheIncident(t *testing.T) {
	// bad for 2.5 minutes, healthy for 3.75, bad again until now: the
	// second spell is the incident, the first an earlier one
	got := Anomalies(&Evidence{Window: window, RED: []sources.RED{
		red("svc", 180, 100, spells([2]int{125, 135}, [2]int{150, 180}), flat(0.05)),
		// two minutes apart is one crash loop, not two incidents
		red("loop", 180, 100, spells([2]int{125, 130}, [2]int{138, 143}, [2]int{151, 156}, [2]int{164, 180}), flat(0.05)),
		// a fault that recovered four minutes before the next began, read
		// through a two-minute rate: its end drawn out to 2.5 healthy
		// minutes before the next spell; still two incidents
		red("smeared", 180, 100, spells([2]int{120, 140}, [2]int{150, 180}), flat(0.05)),
	}})
	if s := got["smeared"]; s == nil || !s.Onset.Equal(t0.Add(150*15*time.Second)) || !s.EarlierEpisode.Equal(t0.Add(139*15*time.Second)) {
		t.Errorf("smeared: %+v", s)
	}
	a := got["svc"]
	if a == nil || !a.Onset.Equal(t0.Add(150*15*time.Second)) || !a.EarlierEpisode.Equal(t0.Add(134*15*time.Second)) || !a.Recovered.IsZero() {
		t.Errorf("svc: %+v", a)
	}
	if l := got["loop"]; l == nil || !l.Onset.Equal(t0.Add(125*15*time.Second)) || !l.EarlierEpisode.IsZero() {
		t.Errorf("loop: %+v", l)
	}
}

func TestUninstrumentedPeersAreJudgedFromTheirCallers(t *testing.T) {
	now := []sources.Edge{
		{Client: "api", Server: "db", RequestRate: 100, FailedRate: 1, P99Seconds: 0.33, Query: "q"},
		{Client: "worker", Server: "db", RequestRate: 50, P99Seconds: 0.2},
		{Client: "api", Server: "cache", RequestRate: 300, P99Seconds: 0.002},
		{Client: sources.UserNode, Server: "api", RequestRate: 100},
		{Client: "gw", Server: "api", RequestRate: 100},
	}
	base := []sources.Edge{{Client: "api", Server: "db", RequestRate: 100, P99Seconds: 0.03}, {Client: "api", Server: "cache", RequestRate: 300, P99Seconds: 0.002}}
	got := PeerStatuses(now, base, []string{"api", "gw", "worker"})
	if len(got) != 2 || got[0].Service != "cache" || got[1].Service != "db" {
		t.Fatalf("%+v", got)
	}
	db := got[1]
	if !db.FromEdges || db.Rate != 150 || db.P99 != 0.33 || db.BaseP99 != 0.03 || db.Health != Failing || db.Query != "q" {
		t.Errorf("db %+v", db)
	}
	if got[0].Health != Healthy {
		t.Errorf("cache %+v", got[0])
	}
}
