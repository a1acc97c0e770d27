package tui

import (
	"errors"
	"fmt"
	"math"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
)

// cadence is how often the overview refreshes and, when slower than
// configured, which part's answer made it so.
type cadence struct {
	every time.Duration
	slow  string        // the slowest part's name; "" at the configured interval
	took  time.Duration // how long the slowest part took
}

// why says why the refresh is slower than configured, or "".
func (c cadence) why() string {
	if c.slow == "" {
		return ""
	}
	return c.slow + " took " + c.took.Round(100*time.Millisecond).String()
}

// backoffFactor is how much longer than its last round the overview
// waits between the starts of two rounds: a server answering slowly is
// then busy with one cockpit two thirds of the time at most, never all
// of it, and a round never starts before the one before it ends.
const backoffFactor = 1.5

// backoff is the cadence after a round whose slowest part, slow, took
// took: the configured refresh, or backoffFactor times the round in
// whole seconds when that is longer. A fast round brings the configured
// refresh back.
func backoff(refresh time.Duration, slow string, took time.Duration) cadence {
	every := time.Duration(math.Ceil(backoffFactor*took.Seconds())) * time.Second
	if every <= refresh {
		return cadence{every: refresh}
	}
	return cadence{every: every, slow: slow, took: took}
}

// slowest is the part of the load that took longest among those read
// since since (the budgets kept from an earlier round are not).
func (o *overviewData) slowest(since time.Time) (string, time.Duration) {
	name, took := "", time.Duration(0)
	for _, p := range append(o.backendParts(), namedPart{"saturation", &o.SatOf}, namedPart{"proposals", &o.ProposalsOf}) {
		if p.p == nil || p.p.LoadedAt.Before(since) || p.p.Took <= took {
			continue
		}
		name, took = p.name, p.p.Took
	}
	return name, took
}

// due is whether a tick starts a round: every tick while rounds are
// quicker than the refresh, else once the backed-off interval since the
// last round started has passed.
func (o *overview) due() bool {
	return o.cadence.slow == "" || !o.c.wall.Before(o.roundStart.Add(o.cadence.every))
}

// endRound sets the cadence from the round just ended.
func (o *overview) endRound() {
	name, took := o.data.slowest(o.roundStart)
	o.cadence = backoff(o.c.deps.Refresh, name, took)
}

// gotData takes a load: the rows keep the sparklines they had until
// their series are read again, and the rows on screen have theirs read,
// which ends the round.
func (o *overview) gotData(d overviewData) tea.Cmd {
	if o.data != nil {
		had := make(map[string]correlate.ServiceStatus, len(o.data.Services))
		for _, r := range o.data.Services {
			had[r.Service] = r
		}
		for i := range d.Services {
			if r := &d.Services[i]; r.Summarized {
				p := had[r.Service]
				r.Rates, r.ErrorRatios, r.P99s, r.Query = p.Rates, p.ErrorRatios, p.P99s, p.Query
			}
		}
	}
	sortServices(d.Services, o.sortBy)
	o.setData(&d)
	o.c.fleet = o.data
	o.loading = false
	o.fresh = map[string]bool{}
	if cmd := o.fetchSeries(true); cmd != nil {
		return cmd
	}
	o.endRound()
	return nil
}

// fetchSeries reads the series of the summarized rows on screen whose
// series this round has not read, unless the services' panel has a
// question in flight already: the load, or a read of series. round says
// that the read ends a round.
func (o *overview) fetchSeries(round bool) tea.Cmd {
	if o.loading || o.fetching || o.data == nil || o.data.REDOf.Err != nil {
		return nil
	}
	cells := sparkCells(o.width - 2) // a row is drawn after the cursor's two cells
	if cells == 0 {
		return nil // no sparkline drawn, none read
	}
	var names []string
	for _, r := range o.onScreen() {
		if r.Summarized && !o.fresh[r.Service] {
			names = append(names, r.Service)
		}
	}
	if len(names) == 0 {
		return nil
	}
	o.fetching = true
	return loadSeries(o.c.deps, names, o.data.At, cells, round)
}

// gotSeries puts the series read into their rows; figures and health
// stay the summaries', so that the order does not move as series come.
func (o *overview) gotSeries(m seriesMsg) tea.Cmd {
	o.fetching = false
	asked := make(map[string]bool, len(m.asked))
	for _, n := range m.asked {
		asked[n] = true
		o.fresh[n] = true // until the next round, even if it failed: no retry at every key
	}
	if o.data == nil {
		return nil
	}
	for i := range o.data.Services {
		r := &o.data.Services[i]
		s, ok := m.series[r.Service]
		switch {
		case !asked[r.Service] || m.err != nil:
		case ok && s.Rates != nil:
			r.Rates, r.ErrorRatios, r.P99s, r.Query = s.Rates, s.ErrorRatios, s.P99s, s.Query
		default:
			// read, and nothing there: empty, no longer drawn as coming
			r.Rates, r.ErrorRatios, r.P99s = []float64{}, nil, s.P99s
		}
	}
	if m.err != nil {
		o.data.REDOf.Partial = errors.Join(o.data.REDOf.Partial, fmt.Errorf("sparklines: %w", m.err))
	}
	o.recount() // the sparklines' scale
	if m.round {
		o.data.REDOf.Took += m.took
		o.endRound()
	}
	return o.fetchSeries(false)
}

// onScreen is the service rows the view shows.
func (o *overview) onScreen() []correlate.ServiceStatus {
	_, room := o.rooms(o.selGauge())
	if room <= 0 || len(o.shown) == 0 {
		return nil
	}
	from, to := scrollWindow(len(o.shown), room, o.offset, o.cursor-o.sp[panelServices][0])
	return o.shown[from:to]
}
