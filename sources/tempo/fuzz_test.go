package tempo

import (
	"testing"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// Each decoder returns an error on malformed input and never panics; a
// decoded trace has normalised IDs.

func FuzzTraceJSON(f *testing.F) {
	f.Add(testenv.Fixture(f, "tempo_trace_by_id.json"))
	f.Add(testenv.Fixture(f, "tempo_v2_trace_by_id.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeTraceV2JSON(b)
		if tr, err := DecodeTraceJSON(b); err == nil {
			for _, s := range tr.Spans {
				if len(s.TraceID) != 32 || len(s.SpanID) != 16 {
					t.Fatalf("IDs not normalised: %q %q", s.TraceID, s.SpanID)
				}
			}
		}
	})
}

func FuzzTraceProto(f *testing.F) {
	f.Add(testenv.Fixture(f, "tempo_trace_by_id.pb"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if tr, err := DecodeTraceProto(b); err == nil {
			for _, s := range tr.Spans {
				if len(s.TraceID) != 32 || len(s.SpanID) != 16 {
					t.Fatalf("IDs not normalised: %q %q", s.TraceID, s.SpanID)
				}
			}
		}
		_, _ = DecodeTraceV2Proto(b)
	})
}

func FuzzSearch(f *testing.F) {
	f.Add(testenv.Fixture(f, "tempo_search_traceql.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		hits, err := DecodeSearch(b)
		if err != nil {
			return
		}
		for _, h := range hits {
			if len(h.TraceID) != 32 {
				t.Fatalf("trace ID %q not normalised", h.TraceID)
			}
		}
	})
}
