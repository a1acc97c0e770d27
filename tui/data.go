package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// Deps is what the cockpit reads from: the sources, the SLOs, the config's
// metadata, and the clock of the data (the simulator's, in the demo).
type Deps struct {
	Title   string
	Sources sources.Set
	SLOs    []slo.Objective
	Meta    correlate.Meta
	Now     func() time.Time // the data's clock
	Wall    func() time.Time // the wall clock, for the age of data
	Refresh time.Duration
	Timeout time.Duration // per load
	// IncidentDeadline is how long an incident waits for its evidence:
	// the same as the CLI's (World.Deadline).
	IncidentDeadline time.Duration
	// Pane forces the compact layout, as for a small pane on a wall screen.
	Pane bool
	// ReadOnly hides and refuses every action, acknowledgements included.
	ReadOnly bool
	// Runbooks are the config's runbook links per service. The cockpit
	// shows them; nothing runs from here.
	Runbooks map[string][]string
	// User signs acknowledgements; AckFor is how long one lasts.
	User   string
	AckFor time.Duration
	// Zone is the zone the cockpit writes times in; nil is UTC.
	Zone *time.Location
	// Context is the config's context in use, shown in the header in
	// ContextColor (a #rrggbb, or "" for one of the theme's series).
	Context, ContextColor string
	// ConfirmTyped makes every acknowledgement ask for the context's name
	// to be typed, instead of y.
	ConfirmTyped bool
	// Explore is the Grafana that o links to.
	Explore grafana.Explore
	// NoMouse leaves the mouse to the terminal (for selecting text).
	NoMouse bool
	// Kit runs runbooks and holds the proposals; nil: the cockpit lists
	// runbook links only.
	Kit *remediate.Kit
	// Notices are lines to flash from outside: what the demo's autopilot did.
	Notices <-chan string
	// History records the incidents opened here, with their notes and the
	// runbooks that resolved them, in History.Store, which the history (H)
	// and stats (S) views read; nil: no history, and those keys say so.
	History *history.Recorder
	// PostmortemDir is where P writes postmortem drafts: <id>.md, else
	// <id>-2.md …; an existing draft is never overwritten.
	PostmortemDir string
	// HistoryUnavailable says why History is nil when a store was
	// configured but could not be opened: H and S say it.
	HistoryUnavailable string
	// Budgets reads the SLO budgets P's drafts say the incident spent:
	// the reader oncall postmortem uses; nil: the drafts say not known.
	Budgets history.BudgetReader
	// Stats is what S counts, as oncall stats counts it: the stack (see
	// history.StatsOptions.Scope) and the working hours; each load sets
	// the span and the zone.
	Stats history.StatsOptions
	// DemoEpoch is where the demo's clock starts (sim.Epoch): S reads the
	// records from it too, so that when no other stack's are in its span
	// it counts the demo's, as oncall stats does.
	DemoEpoch time.Time
	// Chaos runs experiments from the cockpit (C); nil: C says chaos is
	// not configured.
	Chaos *ChaosDeps
}

// historyStore is the store the history and stats views read: the
// recorder's, so the views show what the cockpit records; nil without
// history.
func (d Deps) historyStore() history.Store {
	if d.History == nil {
		return nil
	}
	return d.History.Store
}

// part is one panel's data: its age, its error, and how long it took.
type part struct {
	Err      error
	Took     time.Duration
	LoadedAt time.Time     // wall clock
	Every    time.Duration // reloaded this often, when longer than the refresh
	// Partial is what a part that answered could not read whole: its rows
	// are shown, and the status line and the detail say what is missing.
	Partial error
}

// budgetEvery is how often, on the data's clock, SLO budgets and their
// forecasts are reloaded. Each reads every window of the SLO (weeks of
// data) and two histories, too heavy for every refresh, and a budget
// moves slowly. On the data's clock, a simulator running faster than
// real time reloads them sooner.
const budgetEvery = time.Minute

// baseEvery is how often, on the data's clock, the services' and the
// peers' base p99s (correlate.Bases) are read again: they are the
// dearest questions of the table by far, and a minute moves a base of a
// quarter or half an hour little.
const baseEvery = time.Minute

// overviewData is one load of the overview.
type overviewData struct {
	At       time.Time // data clock
	Budgets  []slo.Budget
	BudgetOf part
	BudgetAt time.Time // data clock of the budgets' load
	Alerts   []sources.Alert
	AlertsOf part
	// AckedBy maps a silence ID to who created it, to show who is on it.
	AckedBy  map[string]string
	Services []correlate.ServiceStatus
	REDOf    part
	// Bases are the services' and the peers' base p99s, from a backend
	// that summarizes, and BasesAt the data clock they were read at:
	// kept baseEvery, unless the peers' could not be read.
	Bases   *correlate.Bases
	BasesAt time.Time
	// Saturating are the resources predicted to fill within
	// SaturationHorizon, soonest first.
	Saturating []slo.Forecast
	SatOf      part
	// LogsOf and TracesOf are the logs and traces backends' readiness:
	// set only when one is configured and can be probed.
	LogsOf, TracesOf *part
	// Proposals wait for approval, from the kit's ledger.
	Proposals   []remediate.Proposal
	ProposalsOf part
}

type overviewMsg overviewData

// namedPart is a part under the name the status line and the detail
// pane give it.
type namedPart struct {
	name string
	p    *part // nil: nothing to read or probe there
}

// backendParts are the parts the status line shows, one per backend.
func (o *overviewData) backendParts() []namedPart {
	return []namedPart{{"metrics", &o.REDOf}, {"slo", &o.BudgetOf}, {"alerts", &o.AlertsOf}, {"logs", o.LogsOf}, {"traces", o.TracesOf}}
}

// incidentMsg is the incident as assembled so far: partial while parts
// of the evidence are still coming (next waits for the following one),
// whole when next is nil.
type incidentMsg struct {
	trigger correlate.Trigger
	inc     *correlate.Incident
	took    time.Duration
	arrived []correlate.Arrival
	next    tea.Cmd
	// alerts are the alerts the evidence read, for the incident's
	// history record (history.ObservedAlerts: nil when unread)
	alerts []sources.Alert
}

// loadOverview reads everything the overview shows. Each part keeps its
// own error, so one failing backend greys one panel, not the screen. The
// budgets of prev are kept while younger than budgetEvery.
func loadOverview(d Deps, prev *overviewData) tea.Cmd {
	var keep []slo.Budget
	var keepOf part
	var keepAt time.Time
	if prev != nil && prev.BudgetOf.Err == nil && !prev.BudgetOf.LoadedAt.IsZero() && d.Now().Sub(prev.BudgetAt) < budgetEvery {
		keep, keepOf, keepAt = prev.Budgets, prev.BudgetOf, prev.BudgetAt
	}
	var bases *correlate.Bases
	var basesAt time.Time
	if prev != nil && prev.Bases != nil && prev.Bases.EdgesErr == nil && d.Now().Sub(prev.BasesAt) < baseEvery {
		bases, basesAt = prev.Bases, prev.BasesAt
	}
	return func() tea.Msg {
		now := d.Now()
		var o overviewData
		o.At = now
		// Each part is read at once with its own deadline and writes only
		// its own fields: one hung backend greys its own panel, and does
		// not spend the time of the parts read after it.
		var wg sync.WaitGroup
		within := func(p *part, timeout time.Duration, f func(ctx context.Context) error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				start := d.Wall()
				p.Err = f(ctx)
				p.Took, p.LoadedAt = d.Wall().Sub(start), d.Wall()
			}()
		}
		timed := func(p *part, f func(ctx context.Context) error) { within(p, d.Timeout, f) }
		if d.Sources.Metrics != nil {
			timed(&o.REDOf, func(ctx context.Context) error {
				var err error
				if sum, ok := d.Sources.Metrics.(sources.REDSummarizer); ok {
					// the last step of every service to sort and count on,
					// judged on base p99s summarized on the server; the
					// overview reads the series of the rows it shows
					o.Bases, o.BasesAt = bases, basesAt
					if o.Bases == nil {
						b, err := correlate.ReadBases(ctx, d.Sources.Metrics, sum, correlate.ServicesWindow, now)
						if err != nil {
							return err
						}
						o.Bases, o.BasesAt = &b, now
					}
					o.Services, err = correlate.SummaryStatuses(ctx, d.Sources.Metrics, *o.Bases, correlate.ServicesWindow, now)
				} else {
					o.Services, err = correlate.ServiceStatuses(ctx, d.Sources.Metrics, correlate.ServicesWindow, now)
				}
				if errors.Is(err, correlate.ErrPeersUnread) {
					// the services were read; the peers are missing, and
					// the status line says so rather than a ✓
					o.REDOf.Partial = err
					return nil
				}
				return err
			})
		} else {
			o.REDOf.Err = errNoSource("metrics")
		}
		switch {
		case d.Sources.SLIs == nil:
			o.BudgetOf.Err = errNoSource("metrics")
		case keepOf.LoadedAt.IsZero():
			timed(&o.BudgetOf, func(ctx context.Context) error {
				o.Budgets = loadBudgets(ctx, d.Sources.SLIs, d.SLOs, now)
				return nil // each budget keeps its own error
			})
			o.BudgetOf.Every, o.BudgetAt = budgetEvery, now
		default:
			o.Budgets, o.BudgetOf, o.BudgetAt = keep, keepOf, keepAt
		}
		probe := func(src any) *part {
			pr, ok := src.(sources.Prober)
			if !ok {
				return nil
			}
			p := &part{}
			// the whole load waits for its slowest part: a hung backend's
			// probe must not make every panel's data stale
			within(p, min(d.Timeout, probeWithin), func(ctx context.Context) error { _, err := pr.BuildInfo(ctx); return err })
			return p
		}
		o.LogsOf, o.TracesOf = probe(d.Sources.Logs), probe(d.Sources.Traces)
		if d.Sources.Resources != nil {
			timed(&o.SatOf, func(ctx context.Context) error {
				var err error
				o.Saturating, err = slo.LoadSaturationForecasts(ctx, d.Sources.Resources, nil, now, slo.SaturationHorizon)
				if errors.Is(err, sources.ErrNotReported) {
					return nil // this stack reports no pools or CPU: nothing fills, and nothing failed
				}
				return err
			})
		}
		if d.Sources.Alerts != nil {
			timed(&o.AlertsOf, func(ctx context.Context) error {
				a, err := d.Sources.Alerts.Alerts(ctx)
				o.Alerts = a
				if err != nil {
					return err
				}
				sil, err := d.Sources.Alerts.Silences(ctx)
				o.AckedBy = map[string]string{}
				for _, s := range sil {
					o.AckedBy[s.ID] = s.CreatedBy
				}
				return err
			})
		} else if d.Sources.RuleAlerts != nil {
			// Prometheus's rules' alerts: no silences, so none is acknowledged
			timed(&o.AlertsOf, func(ctx context.Context) error {
				var err error
				o.Alerts, err = d.Sources.RuleAlerts.Alerts(ctx)
				return err
			})
		} else {
			o.AlertsOf.Err = errNoSource("alertmanager")
		}
		if d.Kit != nil {
			timed(&o.ProposalsOf, func(ctx context.Context) error {
				var err error
				o.Proposals, err = remediate.Proposals(ctx, d.Kit.Ledger)
				return err
			})
		}
		wg.Wait()
		return overviewMsg(o)
	}
}

// seriesMsg is the series of the service rows on screen, read after
// their summaries: their sparklines.
type seriesMsg struct {
	asked  []string
	series map[string]correlate.ServiceStatus
	err    error
	took   time.Duration
	// round is whether the read ends a refresh round (it followed a
	// load), rather than following the cursor.
	round bool
}

// loadSeries reads the series of the services named, over the
// services' window ending at at (the data's time of the rows), in the
// step a sparkline of cells cells needs.
func loadSeries(d Deps, names []string, at time.Time, cells int, round bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		start := d.Wall()
		m := seriesMsg{asked: names, round: round}
		m.series, m.err = correlate.ServiceSeries(ctx, d.Sources.Metrics, names, correlate.ServicesWindow, at,
			correlate.SparkStep(correlate.ServicesWindow, cells))
		m.took = d.Wall().Sub(start)
		return m
	}
}

// probeWithin bounds a liveness probe (logs, traces): a live backend
// tells its version in milliseconds.
const probeWithin = 2 * time.Second

// loadBudgets reads every SLO's budget, worst first, and forecasts the
// exhaustion of those with budget left.
func loadBudgets(ctx context.Context, slis sources.SLIs, slos []slo.Objective, now time.Time) []slo.Budget {
	bs := slo.LoadBudgets(ctx, slis, slos, now)
	for i := range bs {
		if bs[i].Err == "" && bs[i].Remaining.Defined() && bs[i].Remaining > 0 {
			if f, err := slo.LoadForecast(ctx, slis, bs[i], slo.ForecastHorizon); err == nil {
				bs[i].Forecast = &f
			}
		}
	}
	slo.WorstFirst(bs)
	return bs
}

// errNotConfigured is the error of a part whose backend is not
// configured: not down, just absent.
var errNotConfigured = errors.New("not configured")

func errNoSource(what string) error { return fmt.Errorf("%s datasource %w", what, errNotConfigured) }
