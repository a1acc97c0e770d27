package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sim"
)

// Every trace ID the simulator writes into a log line opens: the lines
// it serves from its store and those it tails, over the incident.
func TestEveryLoggedTraceIDOpens(t *testing.T) {
	f := run(t, "db-pool-exhaustion", 5*time.Minute)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	tail := f.FollowLogs(ctx, sim.LogSelector{})
	f.Advance(30 * time.Second)
	lines := f.SelectLogs(sim.LogSelector{From: f.Start(), To: f.Now()})
	for len(tail) > 0 {
		lines = append(lines, (<-tail).Lines...)
	}
	traced := 0
	for _, l := range lines {
		if l.TraceID == "" {
			continue
		}
		traced++
		if _, err := src(f).Trace(bg, l.TraceID); err != nil {
			t.Fatalf("%s %s: trace %s: %v", l.Service, l.Line, l.TraceID, err)
		}
	}
	if traced == 0 {
		t.Fatalf("none of %d lines names a trace", len(lines))
	}
}
