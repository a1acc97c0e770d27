package tempo

import (
	"testing"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

func BenchmarkTraceProto(b *testing.B) {
	pb := testenv.Fixture(b, "tempo_trace_by_id.pb")
	b.SetBytes(int64(len(pb)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeTraceProto(pb); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTraceJSON(b *testing.B) {
	js := testenv.Fixture(b, "tempo_trace_by_id.json")
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeTraceJSON(js); err != nil {
			b.Fatal(err)
		}
	}
}
