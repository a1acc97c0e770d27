package tempo

import (
	"testing"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

func BenchmarkTraceProto(b *testing.B) {
	benchDecode(b, "tempo_trace_by_id.pb", DecodeTraceProto)
}

func BenchmarkTraceJSON(b *testing.B) {
	benchDecode(b, "tempo_trace_by_id.json", DecodeTraceJSON)
}

// benchDecode measures decode on a fixture, in bytes a second.
func benchDecode(b *testing.B, fixture string, decode func([]byte) (sources.Trace, error)) {
	body := testenv.Fixture(b, fixture)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
