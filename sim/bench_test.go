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

// BenchmarkSimulateLarge is BenchmarkSimulate on the generated fleet of
// 2,000 services (GrowTopology): one op is one simulated minute.
func BenchmarkSimulateLarge(b *testing.B) {
	f, err := New(Options{Scenario: "db-pool-exhaustion", Seed: 1, Services: 2000})
	if err != nil {
		b.Fatal(err)
	}
	f.Advance(10 * time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		f.Advance(time.Minute)
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/wall, "sim-min/s")
}

// BenchmarkSteadyStateMemoryLarge is BenchmarkSteadyStateMemory on the
// generated 2,000-service fleet over three simulated hours, past the
// span ring's first wrap: the simulator's share of a demo at that size.
func BenchmarkSteadyStateMemoryLarge(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, err := New(Options{Scenario: "db-pool-exhaustion", Seed: uint64(i), Services: 2000})
		if err != nil {
			b.Fatal(err)
		}
		f.Advance(3 * time.Hour)
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MB")
		runtime.KeepAlive(f)
	}
}
