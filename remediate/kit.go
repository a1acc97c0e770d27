package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// Kit is everything a cockpit or a command needs to act: the runbooks,
// the planner, the executor, the shared ledger and the audit log.
type Kit struct {
	Runbooks []*Runbook
	// LoadErr holds the problems of the runbooks that did not load; the
	// others are usable.
	LoadErr error
	Planner *Planner
	Exec    Executor // a template: each run copies it with its own Report
	Ledger  Ledger
	Audit   *Audit
	Policy  RunPolicy
	Meta    correlate.Meta
	// Window is how far back Look assembles the incident.
	Window time.Duration
	// Deadline is how long Look waits for the evidence: the incident's
	// deadline, the same in the CLI and the cockpit; 0 is Gather's
	// default.
	Deadline time.Duration
}

// Look reads the situation now: the firing alerts and the incident over
// the window. A failed alert read is an error; the incident names what
// did not arrive itself.
func (k *Kit) Look(ctx context.Context) (Situation, error) {
	src := k.Planner.Sources
	now := k.Planner.Now()
	var alerts []sources.Alert
	// with no Alertmanager, the alerts Prometheus's rules fire
	if r := src.AlertSource(); r != nil {
		var err error
		if alerts, err = r.Alerts(ctx); err != nil {
			return Situation{}, fmt.Errorf("alerts: %w", err)
		}
	}
	w := k.Window
	if w <= 0 {
		w = 15 * time.Minute
	}
	ev := correlate.Gather(ctx, src, correlate.Trigger{At: now, Window: w}, correlate.GatherOptions{Deadline: k.Deadline})
	return NewSituation(alerts, correlate.Analyze(ev, k.Meta), k.Meta.BurnRateAlerts), nil
}

// Run carries out a plan, reporting to report as it goes.
func (k *Kit) Run(ctx context.Context, p *Plan, approval string, dryRun bool, report func(Event)) Outcome {
	x := k.Exec
	x.Report = report
	return x.Run(ctx, p, approval, dryRun)
}

// Find returns the named runbook.
func (k *Kit) Find(name string) (*Runbook, error) {
	var names []string
	for _, rb := range k.Runbooks {
		if rb.Name == name {
			return rb, nil
		}
		names = append(names, rb.Name)
	}
	return nil, fmt.Errorf("no runbook %q (runbooks: %v)", name, names)
}

// MatchFor finds how a runbook matches now, at target when given. A
// runbook that does not match can still be run on a named target: the
// match then says it was asked for.
func (k *Kit) MatchFor(rb *Runbook, s Situation, target string) (Matched, bool) {
	for _, m := range MatchAll([]*Runbook{rb}, s) {
		if target == "" || m.Service == target {
			return m, true
		}
	}
	if target == "" {
		return Matched{}, false
	}
	return Matched{Runbook: rb, Name: rb.Name, Service: target, Why: "asked for by name, on " + target}, true
}
