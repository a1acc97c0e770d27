package tui

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/sim"
)

// BenchmarkFirstFrame is the cockpit's start on a ready simulator: build
// the app, load the overview, render the first full frame at 200×50.
// (`oncall demo` first simulates 28 minutes of history, about 0.3 s,
// before this starts.)
func BenchmarkFirstFrame(b *testing.B) {
	d := deps(testFleet(b))
	st := styles()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a := New(d, st)
		a.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
		a.Update(loadOverview(d, nil)())
		if a.View().Content == "" {
			b.Fatal("empty frame")
		}
	}
}

type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// BenchmarkIdleBytesPerSecond runs the real program at 200×50 on a live
// simulator with a 2 s refresh and no input, and reports the bytes it
// writes to the terminal per second once the first frame is drawn. Less
// is better over SSH: the renderer redraws only the lines that changed.
func BenchmarkIdleBytesPerSecond(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, err := sim.New(sim.Options{Scenario: "retry-storm", Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		f.AdvanceTo(f.Onset().Add(5 * time.Minute))
		ctx, cancel := context.WithCancel(context.Background())
		go f.Run(ctx, 1)
		d := deps(f)
		d.Wall = time.Now
		out := &countingWriter{}
		p := tea.NewProgram(New(d, styles()), tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(200, 50), tea.WithContext(ctx), tea.WithoutSignals())
		done := make(chan struct{})
		go func() { _, _ = p.Run(); close(done) }()
		time.Sleep(time.Second) // the first frame
		start := out.n.Load()
		if start < 2000 {
			b.Fatalf("the first frame wrote only %d bytes", start)
		}
		b.ReportMetric(float64(start), "first-frame-bytes")
		const span = 6 * time.Second
		time.Sleep(span)
		b.ReportMetric(float64(out.n.Load()-start)/span.Seconds(), "bytes/s")
		p.Quit()
		<-done
		cancel()
	}
}
