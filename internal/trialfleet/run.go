package trialfleet

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Runner keeps the model at wall-clock time and ships what it produces.
type Runner struct {
	Fleet   *Fleet
	Shipper Shipper
	Now     func() time.Time
	// Tick is how often the model catches up with the wall clock; Ship
	// how often telemetry is sent.
	Tick, Ship time.Duration
	Log        io.Writer // progress and shipping errors
}

// Run advances the model until `until` or until ctx ends, shipping
// telemetry as it goes. A failed shipment is reported and dropped: the
// fleet keeps running, as real services do when their collector is down.
func (r Runner) Run(ctx context.Context, until time.Time) error {
	tick := time.NewTicker(r.Tick)
	defer tick.Stop()
	lastShip := r.Now()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		now := r.Now()
		r.Fleet.Advance(now)
		if now.Sub(lastShip) < r.Ship && now.Before(until) {
			continue
		}
		lastShip = now
		spans, lines := r.Fleet.Drain()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := r.Shipper.Ship(sctx, spans, lines); err != nil {
			failures++
			if failures <= 5 || failures%60 == 0 { // say so without flooding the log
				fmt.Fprintf(r.Log, "%s ship (%d spans, %d lines): %v\n", now.UTC().Format(time.TimeOnly), len(spans), len(lines), err)
			}
		}
		cancel()
		if !now.Before(until) {
			return nil
		}
	}
}
