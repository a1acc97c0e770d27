package correlate

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// graphMetrics answers RED with one service and the service graph from
// its fields: now for the last PeerWindow, before for the window before;
// each read records the window it was asked for.
type graphMetrics struct {
	sources.Metrics
	redErr, nowErr, beforeErr error
	now, before               []sources.Edge
	step                      time.Duration
	baseSpan                  time.Duration
}

func (g *graphMetrics) RED(_ context.Context, _ []string, _ sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	g.step = step
	if g.redErr != nil {
		return nil, g.redErr
	}
	return []sources.RED{red("checkout-api", 120, 100, flat(0.001), flat(0.2))}, nil
}

func (g *graphMetrics) ServiceGraph(_ context.Context, _ time.Time, window time.Duration) ([]sources.Edge, error) {
	if window == PeerWindow {
		return g.now, g.nowErr
	}
	g.baseSpan = window
	return g.before, g.beforeErr
}

func TestServiceStatuses(t *testing.T) {
	at := t0.Add(time.Hour)
	db := func(p99 float64) []sources.Edge {
		return []sources.Edge{{Client: "checkout-api", Server: "payments-db", Kind: sources.EdgeDatabase, RequestRate: 50, P99Seconds: p99}}
	}
	down := errors.New("connection refused")
	cases := []struct {
		name    string
		m       graphMetrics
		rows    []string
		peersOK bool // nil error
		redErr  bool
	}{
		{name: "all read", m: graphMetrics{now: db(2), before: db(0.1)}, rows: []string{"checkout-api", "payments-db"}, peersOK: true},
		{name: "no service graph", m: graphMetrics{}, rows: []string{"checkout-api"}, peersOK: true},
		{name: "RED failed", m: graphMetrics{redErr: down}, redErr: true},
		{name: "graph failed", m: graphMetrics{nowErr: down}, rows: []string{"checkout-api"}},
		{name: "graph before failed", m: graphMetrics{now: db(2), beforeErr: down}, rows: []string{"checkout-api", "payments-db"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := ServiceStatuses(context.Background(), &c.m, 20*time.Minute, at)
			var names []string
			for _, r := range rows {
				names = append(names, r.Service)
			}
			if len(names) != len(c.rows) || (len(names) > 0 && names[len(names)-1] != c.rows[len(c.rows)-1]) {
				t.Errorf("rows %v, want %v", names, c.rows)
			}
			switch {
			case c.peersOK && err != nil:
				t.Errorf("error %v, want none", err)
			case c.redErr && (err == nil || errors.Is(err, ErrPeersUnread)):
				t.Errorf("error %v, want RED's alone", err)
			case !c.peersOK && !c.redErr && (!errors.Is(err, ErrPeersUnread) || !errors.Is(err, down)):
				t.Errorf("error %v, want the peers unread, with the cause", err)
			}
			if c.m.step != 20*time.Minute/ServiceSteps {
				t.Errorf("RED read in steps of %s, want the window over ServiceSteps", c.m.step)
			}
			if c.m.before != nil && c.m.baseSpan != 20*time.Minute {
				t.Errorf("the peers' base read over %s, want the window", c.m.baseSpan)
			}
		})
	}
}

func TestJudgedOn(t *testing.T) {
	cases := []struct {
		st   ServiceStatus
		want Signal
	}{
		{ServiceStatus{ErrorRatio: 0.001, P99: 0.2, BaseP99: 0.2}, OnNothing},
		{ServiceStatus{ErrorRatio: 0.2, P99: 5, BaseP99: 0.2}, OnErrors},
		{ServiceStatus{ErrorRatio: 0.02, P99: 0.2, BaseP99: 0.2}, OnErrors},
		{ServiceStatus{ErrorRatio: 0.001, P99: 5, BaseP99: 0.2}, OnLatency},
		{ServiceStatus{ErrorRatio: 0.001, P99: 0.5, BaseP99: 0.2}, OnLatency},
	}
	for _, c := range cases {
		c.st.judge()
		if got := c.st.JudgedOn(); got != c.want {
			t.Errorf("%+v judged on %d, want %d", c.st, got, c.want)
		}
	}
}

// summaries answers SummarizeRED with base, recording each range asked,
// and RED with the series of its fields, recording each range asked.
type summaries struct {
	graphMetrics
	series []sources.RED
	base   []sources.REDSummary
	asked  []sources.TimeRange
}

func (s *summaries) SummarizeRED(_ context.Context, services []string, r sources.TimeRange, _ time.Duration, _ sources.REDFigure) ([]sources.REDSummary, error) {
	s.asked = append(s.asked, r)
	if len(services) > 0 {
		panic("the table's summaries are of every service")
	}
	return s.base, nil
}

func (s *summaries) RED(_ context.Context, _ []string, r sources.TimeRange, step time.Duration) ([]sources.RED, error) {
	s.asked, s.step = append(s.asked, r), step
	var out []sources.RED
	for _, red := range s.series {
		red := red
		cut := func(ss sources.Series) sources.Series {
			var in []sources.Sample
			for _, x := range ss.Samples {
				if !x.T.Before(r.Start) && !x.T.After(r.End) {
					in = append(in, x)
				}
			}
			ss.Samples = in
			return ss
		}
		red.Requests, red.Errors, red.P99 = cut(red.Requests), cut(red.Errors), cut(red.P99)
		out = append(out, red)
	}
	return out, nil
}

func TestSummaryStatusesJudgeAsTheSeriesDo(t *testing.T) {
	window := 30 * time.Minute
	end := t0.Add(59 * 15 * time.Second) // the last of red's 60 steps
	lastStep := func(last, before float64) func(int) float64 {
		return func(i int) float64 { return map[bool]float64{true: last, false: before}[i == 59] }
	}
	s := &summaries{series: []sources.RED{
		red("slow", 60, 100, flat(0), lastStep(2, 0.2)),
		red("failing", 60, 100, lastStep(0.2, 0), flat(0.2)),
		red("calm", 60, 100, flat(0.0001), flat(0.2)),
		red("silent", 0, 0, flat(0), flat(0)),
	}}
	whole := map[string]ServiceStatus{}
	for _, r := range s.series {
		st := StatusOf(r)
		whole[r.Service] = st
		s.base = append(s.base, sources.REDSummary{Service: r.Service, TypicalP99: st.BaseP99})
	}
	base, err := ReadBases(context.Background(), s, s, window, end)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := SummaryStatuses(context.Background(), s, base, window, end)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		w := whole[r.Service]
		if r.Health != w.Health || r.Rate != w.Rate || r.ErrorRatio != w.ErrorRatio || r.P99 != w.P99 || r.Unread() != w.Unread() {
			t.Errorf("%s: %+v, want the figures and health of its series whole, %+v", r.Service, r, w)
		}
		if r.Summarized == r.Unread() || r.Rates != nil {
			t.Errorf("%s: summarized %v with series %v, want summarized unless unread, and no series", r.Service, r.Summarized, r.Rates)
		}
	}
	want := []sources.TimeRange{{Start: end.Add(-window), End: end.Add(-window / 2)}, {Start: end.Add(-window / ServiceSteps), End: end}}
	if !slices.Equal(s.asked, want) {
		t.Errorf("asked %v, want the window's first half summarized and the last step read", s.asked)
	}
}

func TestSummaryStatusesAddThePeers(t *testing.T) {
	at := t0.Add(time.Hour)
	db := func(p99 float64) []sources.Edge {
		return []sources.Edge{{Client: "checkout-api", Server: "payments-db", Kind: sources.EdgeDatabase, RequestRate: 50, P99Seconds: p99}}
	}
	down := errors.New("connection refused")
	series := []sources.RED{red("checkout-api", 60, 1, flat(0), flat(0.1))}
	// the peers' base is the one the bases hold, not read again
	s := &summaries{graphMetrics: graphMetrics{now: db(2), before: db(2)}, series: series}
	rows, err := SummaryStatuses(context.Background(), s, Bases{Edges: db(0.1)}, 30*time.Minute, at)
	if err != nil || len(rows) != 2 || rows[1].Health != Failing || s.baseSpan != 0 {
		t.Errorf("rows %+v, error %v, base read over %s: want the peer failing against the bases' edges", rows, err, s.baseSpan)
	}
	rows, err = SummaryStatuses(context.Background(), s, Bases{EdgesErr: down}, 30*time.Minute, at)
	if len(rows) != 2 || !errors.Is(err, ErrPeersUnread) || !errors.Is(err, down) {
		t.Errorf("rows %v, error %v: want the peers unread, with the bases' cause", rows, err)
	}
	s = &summaries{graphMetrics: graphMetrics{nowErr: down}, series: series}
	rows, err = SummaryStatuses(context.Background(), s, Bases{}, 30*time.Minute, at)
	if len(rows) != 1 || !errors.Is(err, ErrPeersUnread) || !errors.Is(err, down) {
		t.Errorf("rows %v, error %v: want the services and the peers unread, as ServiceStatuses says", rows, err)
	}
}

func TestSparkStepIsOnePointPerCell(t *testing.T) {
	cases := []struct {
		window time.Duration
		cells  int
		want   time.Duration
	}{
		{30 * time.Minute, 20, 90 * time.Second},
		{30 * time.Minute, 8, 225 * time.Second},
		{30 * time.Minute, 7, 270 * time.Second},  // 257 s, rounded up to quarter minutes
		{30 * time.Minute, 200, 30 * time.Second}, // never finer than the table is judged at
		{30 * time.Minute, 0, 30 * time.Second},
	}
	for _, c := range cases {
		if got := SparkStep(c.window, c.cells); got != c.want {
			t.Errorf("SparkStep(%s, %d) = %s, want %s", c.window, c.cells, got, c.want)
		}
	}
}

func TestServiceSeriesAsksTheServicesAtTheStep(t *testing.T) {
	g := &graphMetrics{}
	got, err := ServiceSeries(context.Background(), g, []string{"checkout-api"}, 30*time.Minute, t0.Add(time.Hour), 90*time.Second)
	if err != nil || g.step != 90*time.Second || len(got["checkout-api"].Rates) == 0 {
		t.Errorf("step %s, rows %v, error %v: want checkout-api's series at 90s", g.step, got, err)
	}
}
