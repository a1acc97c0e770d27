package loki

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/oncall-cockpit/oncall/sources"
)

// BenchmarkStreams decodes a 5,000-line query_range answer built from the
// recorded line shapes (JSON with trace_id, and the text-only traceID= line).
func BenchmarkStreams(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"status":"success","data":{"resultType":"streams","result":[`)
	for i := range 5000 {
		if i > 0 {
			body.WriteByte(',')
		}
		ts := strconv.Itoa(1795570813638850955 + i)
		if i%2 == 0 {
			body.WriteString(`{"stream":{"detected_level":"error","service_name":"payments","trace_id":"a4c123b1612dd272d1371c17149d4395"},"values":[["` + ts + `","{\"level\": \"error\", \"msg\": \"connection pool exhausted\", \"trace_id\": \"a4c123b1612dd272d1371c17149d4395\"}"]]}`)
		} else {
			body.WriteString(`{"stream":{"detected_level":"warn","service_name":"checkout"},"values":[["` + ts + `","retrying \u001b[31mcharge\u001b[0m traceID=a4c123b1612dd272d1371c17149d4395"]]}`)
		}
	}
	body.WriteString(`]}}`)
	d, err := NewDecoder(sources.DefaultConventions())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		lines, err := d.Streams(body.Bytes())
		if err != nil || len(lines) != 5000 {
			b.Fatalf("%d lines, %v", len(lines), err)
		}
	}
}
