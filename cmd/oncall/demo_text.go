package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// clearScreen moves the cursor home and erases the screen, so that each
// refresh of the text summary replaces the last on a terminal.
const clearScreen = "\x1b[H\x1b[2J"

// watchDemo runs the fleet and prints a summary every refresh.
func watchDemo(ctx context.Context, o *demoOptions, fleet *sim.Fleet, speed float64) error {
	end := time.Time{}
	if o.forDur > 0 {
		end = fleet.Now().Add(o.forDur)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if end.IsZero() {
			fleet.Run(runCtx, speed)
			return
		}
		runUntil(runCtx, fleet, speed, end)
		cancel()
	}()
	out := o.StyledOut()
	clear := o.output == "text" && isTerminal(o.IO.Out)
	tick := time.NewTicker(o.cockpit.refresh)
	defer tick.Stop()
	for {
		select {
		case <-runCtx.Done():
			<-done
			return printSnapshot(out, fleet, o.output, false)
		case <-tick.C:
			if err := printSnapshot(out, fleet, o.output, clear); err != nil {
				return err
			}
		}
	}
}

// runUntil advances the fleet at speed until end or ctx ends.
func runUntil(ctx context.Context, fleet *sim.Fleet, speed float64, end time.Time) {
	if speed == 0 {
		for ctx.Err() == nil && fleet.Now().Before(end) {
			fleet.Advance(min(time.Minute, end.Sub(fleet.Now())))
		}
		return
	}
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for c.Err() == nil && fleet.Now().Before(end) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	fleet.Run(c, speed)
}

// demoSnapshot reads the fleet as the summary shows it: the last
// minute's traffic, the firing alerts and the last half hour's changes.
func demoSnapshot(fleet *sim.Fleet) (present.Demo, error) {
	ctx := context.Background()
	now := fleet.Now()
	b := simsrc.New(fleet)
	reds, err := b.RED(ctx, nil, sources.TimeRange{Start: now.Add(-time.Minute), End: now}, time.Minute)
	if err != nil {
		return present.Demo{}, err
	}
	alerts, err := b.Alerts(ctx)
	if err != nil {
		return present.Demo{}, err
	}
	changes, err := b.Changes(ctx, sources.TimeRange{Start: now.Add(-30 * time.Minute), End: now})
	if err != nil {
		return present.Demo{}, err
	}
	return present.NewDemo(fleet.Scenario().Name, now, fleet.Onset(), reds, alerts, changes), nil
}

// printSnapshot writes one summary: a line of JSON, or the text, over
// the last one when clear is set.
func printSnapshot(w io.Writer, fleet *sim.Fleet, output string, clear bool) error {
	s, err := demoSnapshot(fleet)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSONFor(w, s, true) // one line per summary: NDJSON
	}
	// one write per refresh, the clearing included, so that the
	// terminal never shows an empty screen between two summaries
	var b strings.Builder
	if clear {
		b.WriteString(clearScreen)
	}
	if err := present.DemoText(&b, s); err != nil {
		return err
	}
	_, err = io.WriteString(w, b.String())
	return err
}
