package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/oncall-cockpit/oncall/sim"
)

// serveDemo runs the fleet headless, serving /metrics and pushing
// signals, until ctx ends.
func serveDemo(ctx context.Context, o *demoOptions, fleet *sim.Fleet, speed float64) error {
	ln, err := net.Listen("tcp", o.serve)
	if err != nil {
		return fmt.Errorf("--serve %s: %w", o.serve, err)
	}
	srv := &http.Server{Handler: fleet.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Fprintf(o.IO.Out, "simulating %s (seed %d); serving http://%s/metrics; onset at %s\n",
		fleet.Scenario().Name, o.seed, ln.Addr(), fleet.Onset().Format(time.RFC3339))
	go fleet.Run(ctx, speed)
	if o.otlp == "" && o.loki == "" {
		<-ctx.Done()
		return nil
	}
	p := &sim.Pusher{Fleet: fleet, OTLPEndpoint: o.otlp, LokiURL: o.loki}
	t := time.NewTicker(o.pushEvery)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			pc, cancel := context.WithTimeout(ctx, o.pushEvery)
			_, _, err := p.Push(pc)
			cancel()
			// report a failing backend once per change of error, not every tick
			if msg := fmt.Sprint(err); err != nil && msg != lastErr {
				fmt.Fprintln(o.IO.ErrOut, "oncall demo: push:", msg)
				lastErr = msg
			} else if err == nil && lastErr != "" {
				fmt.Fprintln(o.IO.ErrOut, "oncall demo: push: recovered")
				lastErr = ""
			}
		}
	}
}
