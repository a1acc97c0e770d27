package correlate

import (
	"context"
	"errors"
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
