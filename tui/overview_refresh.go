package tui

import (
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
)

// cadence is how often the overview refreshes and, when slower than
// configured, how long the round that made it so took and its slowest
// part.
type cadence struct {
	every time.Duration
	round time.Duration // the last round's wall time; 0 at the configured interval
	slow  string        // the slowest part of that round, to name it
}

// why says why the refresh is slower than configured, or "".
func (c cadence) why() string {
	if c.round == 0 {
		return ""
	}
	why := "a round took " + c.round.Round(100*time.Millisecond).String()
	if c.slow != "" {
		why += " (" + c.slow + " slowest)"
	}
	return why
}

// backoffFactor is how much longer than its last round the overview
// waits between the starts of two rounds: a server answering slowly is
// then busy with one cockpit two thirds of the time at most, never all
// of it, and a round never starts before the one before it ends.
const backoffFactor = 1.5

// backoff is the cadence after a round that took round, slow its
// slowest part: the configured refresh, or backoffFactor times the
// round when that is longer, rounded up to whole refreshes: a round
// starts at a tick and ticks come once a refresh, so the interval said
// is the one kept. A fast round brings the configured refresh back.
func backoff(refresh, round time.Duration, slow string) cadence {
	want := time.Duration(backoffFactor * float64(round))
	if want <= refresh {
		return cadence{every: refresh}
	}
	return cadence{every: (want + refresh - 1) / refresh * refresh, round: round, slow: slow}
}

// slowest is the part of the round that took longest: of the load's
// parts read since since (the budgets kept from an earlier round are
// not), and the sparklines' read after them, which took series.
func (o *overviewData) slowest(since time.Time, series time.Duration) string {
	name, took := "", time.Duration(0)
	parts := append(o.backendParts(), namedPart{"saturation", &o.SatOf}, namedPart{"proposals", &o.ProposalsOf})
	for _, p := range parts {
		if p.p == nil || p.p.LoadedAt.Before(since) || p.p.Took <= took {
			continue
		}
		name, took = p.name, p.p.Took
	}
	if series > took {
		name = "sparklines"
	}
	return name
}

// due is whether a tick starts a round: every tick while rounds are
// quicker than the refresh, else once the backed-off interval since the
// last round started has passed.
func (o *overview) due() bool {
	return o.cadence.round == 0 || !o.c.wall.Before(o.roundStart.Add(o.cadence.every))
}

// endRound sets the cadence from the round just ended, series the time
// of the sparklines' read that ended it (0: none). The round is timed
// whole, from its start to its end on the cockpit's clock: the slowest
// of the load's parts, which run at once, and the read after them.
func (o *overview) endRound(series time.Duration) {
	o.cadence = backoff(o.c.deps.Refresh, o.c.wall.Sub(o.roundStart), o.data.slowest(o.roundStart, series))
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
	o.endRound(0)
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
		o.endRound(m.took)
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
