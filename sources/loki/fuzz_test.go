package loki

import (
	"testing"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

func fuzzDecoder(f *testing.F) Decoder {
	d, err := NewDecoder(sources.DefaultConventions())
	if err != nil {
		f.Fatal(err)
	}
	return d
}

// Malformed input returns an error and never panics; decoded lines keep
// their bytes (nothing is lost) and any trace ID found is normalised.
func FuzzStreams(f *testing.F) {
	for _, n := range []string{"loki_query_range_streams.json", "loki_query_range_by_trace_id.json", "loki_query_range_matrix.json"} {
		f.Add(testenv.Fixture(f, n))
	}
	d := fuzzDecoder(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := d.Streams(b)
		if err != nil {
			return
		}
		for _, l := range lines {
			if l.TraceID != "" && len(l.TraceID) != 32 {
				t.Fatalf("trace ID %q not normalised", l.TraceID)
			}
		}
	})
}

func FuzzMatrix(f *testing.F) {
	f.Add(testenv.Fixture(f, "loki_query_range_matrix.json"))
	f.Add(testenv.Fixture(f, "loki_query_range_streams.json"))
	d := fuzzDecoder(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = d.Matrix(b, "q")
	})
}

func FuzzTailFrame(f *testing.F) {
	for _, n := range []string{"loki_tail_frame_1.json", "loki_tail_frame_2.json", "loki_tail_frame_3.json"} {
		f.Add(testenv.Fixture(f, n))
	}
	d := fuzzDecoder(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = d.TailFrame(b)
	})
}
