package main

import (
	"context"
	"fmt"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

// reconstructStep is the step the ALERTS series are read at: the rule
// evaluation interval most stacks keep (Prometheus's default is 1m), so
// every firing run is seen, and a month is four requests per series.
const reconstructStep = time.Minute

// graphWindow is the span the service graph is read over for grouping:
// the calls of the last hour; the graph of a month ago is not kept.
const graphWindow = time.Hour

// maxReconstruct is the longest --since reconstructed from the stack.
// 400 days is more than a year of history, longer than Prometheus keeps
// by default (15d) or most stacks configure; and a year at 1-minute steps
// is already 48 query_range requests of 11,000 points. Without a bound,
// a --since of 292 years sent some 17,800 requests in 90 seconds.
const maxReconstruct = 400 * 24 * time.Hour

// reconstruct rebuilds the incidents of the last --since from the
// config's stack and merges them into st (history.Sync): firings from
// Prometheus's ALERTS series, acknowledgements from Alertmanager's
// silences, actions from the audit log, onsets from the incident view's
// assembly. A stack with no Prometheus has no alert history: nothing is
// reconstructed, and the store is listed as it is. Each part that could
// not be read is returned, and what did arrive is still used. An onset
// not found is no part unread: the record says so (OnsetSearch), and
// one line on stderr counts them by reason.
func (o *historyOptions) reconstruct(ctx context.Context, st history.Store, now time.Time) ([]unreadPart, error) {
	if o.since > maxReconstruct {
		return nil, usagef("--since %s: at most %s can be reconstructed from the stack (Prometheus keeps 15d by default); use --offline to read older records from the store alone",
			timeparse.FormatDuration(o.since), timeparse.FormatDuration(maxReconstruct))
	}
	w, err := o.ConfigWorld()
	if err != nil {
		return nil, err
	}
	if w.Backends.Prometheus == nil {
		return nil, nil
	}
	var alertHistory sources.AlertHistory = w.Backends.Prometheus
	in := history.Inputs{Stack: stackName(w.Config)}
	var unread []unreadPart
	r := sources.TimeRange{Start: now.Add(-o.since), End: now}
	if in.Firings, err = alertHistory.Firings(ctx, r, reconstructStep); err != nil {
		// with no firings there is nothing to group the rest into
		return append(unread, unreadOf(`prometheus ALERTS{alertstate="firing"}`, err)), nil
	}
	if am := w.Sources.Alerts; am != nil {
		if in.Silences, err = am.Silences(ctx); err != nil {
			unread = append(unread, unreadOf(silencesPart, err))
		}
	}
	rows, bad, err := (&remediate.Audit{Path: w.AuditLog()}).Read()
	if err != nil {
		unread = append(unread, unreadPart{What: "audit log " + w.AuditLog(), Err: err.Error(), Cause: "unreadable"})
	}
	for _, b := range bad {
		fmt.Fprintln(o.IO.ErrOut, "oncall: audit log:", b)
	}
	in.Audit = rows
	if m := w.Sources.Metrics; m != nil {
		edges, err := m.ServiceGraph(ctx, now, graphWindow)
		if err != nil {
			unread = append(unread, unreadOf("prometheus service graph (grouping by neighbours)", err))
		} else {
			in.Near = history.GraphNeighbours(edges)
		}
	}
	rep, err := history.Sync(ctx, st, in, assembleIn(w))
	if err != nil {
		unread = append(unread, unreadPart{What: "reconstruction", Err: err.Error(), Cause: sources.Cause(err)})
	}
	if rep.Onsets.Searched > 0 || rep.Onsets.Left > 0 {
		fmt.Fprintln(o.IO.ErrOut, "oncall: onsets:", termsafe.Line(rep.Onsets.String()))
	}
	return unread, nil
}

// assembleIn assembles incidents in w as oncall incident does: its
// sources, meta and deadline.
func assembleIn(w *World) history.Assemble {
	return func(ctx context.Context, t correlate.Trigger) (*correlate.Incident, error) {
		ev := correlate.Gather(ctx, w.Sources, t, correlate.GatherOptions{Deadline: w.Deadline})
		return correlate.Analyze(ev, w.Meta), nil
	}
}

// silencesPart is the part the reconstruction names when Alertmanager's
// silences, where acknowledgements are read from, did not answer.
const silencesPart = "alertmanager silences (acknowledgements)"
