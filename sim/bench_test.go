package sim

import (
	"runtime"
	"testing"
	"time"
)

// benchFleets are the fleets the benchmarks run: the 47-service default
// at 2,000 requests per second with 1% trace sampling, and the generated
// fleet of 2,000 services (GrowTopology).
var benchFleets = []struct {
	name string
	o    Options
	// day is how long BenchmarkSteadyStateMemory simulates: a day of
	// the default fleet, and of the large one three hours, past the span
	// ring's first wrap.
	day time.Duration
}{
	{"47", Options{Scenario: "retry-storm", Seed: 1}, 24 * time.Hour},
	{"2000", Options{Scenario: "db-pool-exhaustion", Seed: 1, Services: 2000}, 3 * time.Hour},
}

// BenchmarkSimulate: one op is one simulated minute, so B/op is bytes
// allocated per simulated minute.
func BenchmarkSimulate(b *testing.B) {
	for _, fl := range benchFleets {
		b.Run(fl.name, func(b *testing.B) {
			f, err := New(fl.o)
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
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sim-min/s")
		})
	}
}

// BenchmarkSteadyStateMemory runs the fleet for its day, quiet, and
// reports the live heap: the ring buffers must keep it flat.
func BenchmarkSteadyStateMemory(b *testing.B) {
	for _, fl := range benchFleets {
		b.Run(fl.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				o := fl.o
				o.Scenario, o.Seed = "quiet", uint64(i)
				f, err := New(o)
				if err != nil {
					b.Fatal(err)
				}
				f.Advance(fl.day)
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MB")
				runtime.KeepAlive(f)
			}
		})
	}
}
