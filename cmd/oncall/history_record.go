package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sources"
)

// recordedAutopilot is the kit's autopilot, deciding as by, and what it
// saw in its latest look: the incident its decisions are about.
func recordedAutopilot(k *remediate.Kit, by string) (*remediate.Autopilot, func() remediate.Situation) {
	ap := autopilot(k, by)
	var mu sync.Mutex
	var last remediate.Situation
	ap.Situation = func(ctx context.Context) (remediate.Situation, error) {
		s, err := k.Look(ctx)
		mu.Lock()
		defer mu.Unlock()
		last = s
		return s, err
	}
	return ap, func() remediate.Situation {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// recordRound records what a round of the autopilot acted on or
// proposed: the incident it saw, the actions it ran (by their audit
// entries), and the resolution its verification found. Rounds that only
// wait or skip record nothing. rc nil records nothing.
func recordRound(ctx context.Context, rc *history.Recorder, s remediate.Situation, ds []remediate.Decision, at time.Time) error {
	if rc == nil || s.Incident == nil {
		return nil
	}
	var acted []remediate.Decision
	for _, d := range ds {
		switch d.Did {
		case "ran", "proposed", "escalated":
			acted = append(acted, d)
		}
	}
	if len(acted) == 0 {
		return nil
	}
	rec, err := rc.Observe(ctx, s.Incident, s.Alerts)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range acted {
		if d.Outcome != nil {
			errs = append(errs, recordOutcome(ctx, rc, rec.ID, d.Runbook, "", remediate.AutopilotApproval, *d.Outcome, at))
		}
	}
	return errors.Join(errs...)
}

// recordOutcome adds a run's actions to the record id and resolves it
// when the run's verification says resolved (history.RunActions).
func recordOutcome(ctx context.Context, rc *history.Recorder, id, runbook, user, approval string, out remediate.Outcome, at time.Time) error {
	acts, resolved := history.RunActions(runbook, user, approval, out, at)
	for _, a := range acts {
		if err := rc.Acted(ctx, id, a); err != nil {
			return err
		}
	}
	if resolved.IsZero() {
		return nil
	}
	return rc.Resolve(ctx, id, resolved)
}

// currentAlerts are the alerts w's alert source reports now, or nil
// when it cannot say.
func currentAlerts(ctx context.Context, w *World) []sources.Alert {
	r := w.Sources.AlertSource()
	if r == nil {
		return nil
	}
	alerts, err := r.Alerts(ctx)
	if err != nil {
		return nil
	}
	return alerts
}

// recorded says on stderr which record a command wrote to.
func (f *Factory) recorded(id, where string) {
	fmt.Fprintf(f.IO.ErrOut, "oncall: recorded as %s in %s\n", id, where)
}
