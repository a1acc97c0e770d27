package sim

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkSimulate measures the 47-service fleet at 2,000 requests per
// second with 1% trace sampling: one op is one simulated minute, so B/op
// is bytes allocated per simulated minute.
func BenchmarkSimulate(b *testing.B) {
	f, err := New(Options{Scenario: "retry-storm", Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	f.Advance(10 * time.Minute) // fill the rings past their first allocations
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		f.Advance(time.Minute)
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/wall, "sim-min/s")
}

// BenchmarkSteadyStateMemory runs 24 simulated hours and reports the live
// heap: the ring buffers must keep it flat.
func BenchmarkSteadyStateMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, err := New(Options{Scenario: "quiet", Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		f.Advance(24 * time.Hour)
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MB")
		runtime.KeepAlive(f)
	}
}
