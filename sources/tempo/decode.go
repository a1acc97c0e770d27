package tempo

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/oncall-cockpit/oncall/sources"
)

var unmarshalJSON = protojson.UnmarshalOptions{DiscardUnknown: true}

// DecodeTraceProto decodes tempopb.Trace, the body of /api/traces/<id> with
// Accept: application/protobuf. Its field 1 (batches) has the same number and
// type as OTLP TracesData's resource_spans, so TracesData reads it directly.
func DecodeTraceProto(b []byte) (sources.Trace, error) {
	var td tracev1.TracesData
	if err := proto.Unmarshal(b, &td); err != nil {
		return sources.Trace{}, fmt.Errorf("decoding trace protobuf: %w", err)
	}
	return fromOTLP(&td)
}

// DecodeTraceV2Proto decodes tempopb.TraceByIDResponse from /api/v2/traces/<id>:
// field 1 is the tempopb.Trace.
func DecodeTraceV2Proto(b []byte) (sources.Trace, error) {
	var trace []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return sources.Trace{}, fmt.Errorf("decoding v2 trace protobuf: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return sources.Trace{}, fmt.Errorf("decoding v2 trace protobuf: %w", protowire.ParseError(m))
			}
			trace = append(trace, v...) // repeated occurrences of a message field merge
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return sources.Trace{}, fmt.Errorf("decoding v2 trace protobuf: %w", protowire.ParseError(m))
		}
		b = b[m:]
	}
	return DecodeTraceProto(trace)
}

// DecodeTraceJSON decodes /api/traces/<id> JSON: {"batches": [ResourceSpans]}.
func DecodeTraceJSON(b []byte) (sources.Trace, error) {
	var v1 struct {
		Batches json.RawMessage `json:"batches"`
	}
	if err := unwrapJSON(b, &v1, &v1.Batches, "trace JSON", "batches"); err != nil {
		return sources.Trace{}, err
	}
	return decodeTracesDataJSON(append(append([]byte(`{"resourceSpans":`), v1.Batches...), '}'))
}

// DecodeTraceV2JSON decodes /api/v2/traces/<id> JSON: {"trace": TracesData}.
func DecodeTraceV2JSON(b []byte) (sources.Trace, error) {
	var v2 struct {
		Trace json.RawMessage `json:"trace"`
	}
	if err := unwrapJSON(b, &v2, &v2.Trace, "v2 trace JSON", "trace"); err != nil {
		return sources.Trace{}, err
	}
	return decodeTracesDataJSON(v2.Trace)
}

// unwrapJSON decodes an answer into its envelope, and wants the envelope's
// field that holds the trace (named name) present: format names the
// answer's format in the error.
func unwrapJSON(b []byte, envelope any, field *json.RawMessage, format, name string) error {
	if err := json.Unmarshal(b, envelope); err != nil {
		return fmt.Errorf("decoding %s: %w", format, err)
	}
	if len(*field) == 0 {
		return fmt.Errorf("decoding %s: no %s", format, name)
	}
	return nil
}

func decodeTracesDataJSON(b []byte) (sources.Trace, error) {
	var td tracev1.TracesData
	if err := unmarshalJSON.Unmarshal(b, &td); err != nil {
		return sources.Trace{}, fmt.Errorf("decoding OTLP JSON: %w", err)
	}
	return fromOTLP(&td)
}

func fromOTLP(td *tracev1.TracesData) (sources.Trace, error) {
	var t sources.Trace
	for _, rs := range td.GetResourceSpans() {
		service := attr(rs.GetResource().GetAttributes(), "service.name")
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp, err := fromSpan(s, service)
				if err != nil {
					return sources.Trace{}, err
				}
				if t.ID == "" {
					t.ID = sp.TraceID
				} else if sp.TraceID != t.ID {
					return sources.Trace{}, fmt.Errorf("span %s has trace ID %s, want %s", sp.SpanID, sp.TraceID, t.ID)
				}
				t.Spans = append(t.Spans, sp)
			}
		}
	}
	if len(t.Spans) == 0 {
		return sources.Trace{}, fmt.Errorf("trace has no spans")
	}
	return t, nil
}

func fromSpan(s *tracev1.Span, service string) (sources.Span, error) {
	if len(s.GetTraceId()) != 16 {
		return sources.Span{}, fmt.Errorf("span %q: trace ID of %d bytes, want 16", s.GetName(), len(s.GetTraceId()))
	}
	if len(s.GetSpanId()) != 8 {
		return sources.Span{}, fmt.Errorf("span %q: span ID of %d bytes, want 8", s.GetName(), len(s.GetSpanId()))
	}
	sp := sources.Span{
		TraceID: sources.HexID(s.GetTraceId()), SpanID: sources.HexID(s.GetSpanId()),
		Service: service, Name: s.GetName(),
		Kind:  strings.ToLower(strings.TrimPrefix(s.GetKind().String(), "SPAN_KIND_")),
		Start: time.Unix(0, int64(s.GetStartTimeUnixNano())), End: time.Unix(0, int64(s.GetEndTimeUnixNano())),
		Status: sources.StatusUnset, StatusMessage: s.GetStatus().GetMessage(),
	}
	if p := s.GetParentSpanId(); len(p) > 0 {
		if len(p) != 8 {
			return sources.Span{}, fmt.Errorf("span %s: parent span ID of %d bytes, want 8", sp.SpanID, len(p))
		}
		sp.ParentSpanID = sources.HexID(p)
	}
	switch s.GetStatus().GetCode() {
	case tracev1.Status_STATUS_CODE_OK:
		sp.Status = sources.StatusOK
	case tracev1.Status_STATUS_CODE_ERROR:
		sp.Status = sources.StatusError
	}
	if len(s.GetAttributes()) > 0 {
		sp.Attributes = make(map[string]string, len(s.GetAttributes()))
		for _, kv := range s.GetAttributes() {
			sp.Attributes[kv.GetKey()] = anyString(kv.GetValue())
		}
	}
	return sp, nil
}

func attr(kvs []*commonv1.KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return anyString(kv.GetValue())
		}
	}
	return ""
}

func anyString(v *commonv1.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonv1.AnyValue_StringValue:
		return x.StringValue
	case *commonv1.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonv1.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonv1.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *commonv1.AnyValue_BytesValue:
		return sources.HexID(x.BytesValue)
	case nil:
		return ""
	default:
		b, _ := protojson.Marshal(v)
		return string(b)
	}
}

// searchResponse is /api/search's answer.
type searchResponse struct {
	Traces []struct {
		TraceID           string          `json:"traceID"`
		RootServiceName   string          `json:"rootServiceName"`
		RootTraceName     string          `json:"rootTraceName"`
		StartTimeUnixNano string          `json:"startTimeUnixNano"`
		DurationMs        int64           `json:"durationMs"`
		SpanSets          []searchSpanSet `json:"spanSets"`
		SpanSet           *searchSpanSet  `json:"spanSet"`
		ServiceStats      map[string]struct {
			SpanCount  int `json:"spanCount"`
			ErrorCount int `json:"errorCount"`
		} `json:"serviceStats"`
	} `json:"traces"`
}

// searchSpanSet is one span set of a search hit: the spans that matched,
// with the attributes the query selected.
type searchSpanSet struct {
	Spans []struct {
		SpanID            string `json:"spanID"`
		Name              string `json:"name"`
		StartTimeUnixNano string `json:"startTimeUnixNano"`
		DurationNanos     string `json:"durationNanos"`
		Attributes        []struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		} `json:"attributes"`
	} `json:"spans"`
	Matched int `json:"matched"`
}

// searchSpan is the span a search hit describes: what the query selected
// of it (the service, name, kind, status, parent and peer) and its times.
func searchSpan(traceID, spanID string, set *searchSpanSet, i int) (sources.Span, error) {
	sp := set.Spans[i]
	out := sources.Span{TraceID: traceID, SpanID: spanID, Name: sp.Name, Status: sources.StatusUnset}
	if sp.StartTimeUnixNano != "" {
		ns, err := strconv.ParseInt(sp.StartTimeUnixNano, 10, 64)
		if err != nil {
			return out, fmt.Errorf("span %s: startTimeUnixNano %q", spanID, sp.StartTimeUnixNano)
		}
		out.Start = time.Unix(0, ns)
	}
	d, _ := strconv.ParseInt(sp.DurationNanos, 10, 64) // absent: an instant
	out.End = out.Start.Add(time.Duration(d))
	for _, kv := range sp.Attributes {
		var v commonv1.AnyValue
		if err := unmarshalJSON.Unmarshal(kv.Value, &v); err != nil {
			return out, fmt.Errorf("span %s: attribute %q: %w", spanID, kv.Key, err)
		}
		val := anyString(&v)
		// intrinsics come back under their names, scoped or not
		switch strings.TrimPrefix(kv.Key, "span:") {
		case "service.name":
			out.Service = val
		case "name":
			out.Name = val
		case "kind":
			out.Kind = val
		case "status":
			out.Status = sources.SpanStatus(val)
		case "statusMessage":
			out.StatusMessage = val
		case "parentID":
			if p, err := sources.NormalizeSpanID(val); err == nil && strings.Trim(p, "0") != "" {
				out.ParentSpanID = p
			}
		default:
			if out.Attributes == nil {
				out.Attributes = map[string]string{}
			}
			out.Attributes[kv.Key] = val
		}
	}
	return out, nil
}

// DecodeSearch decodes a TraceQL search response.
func DecodeSearch(b []byte) ([]sources.TraceSummary, error) {
	var r searchResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding search: %w", err)
	}
	out := make([]sources.TraceSummary, 0, len(r.Traces))
	for i, t := range r.Traces {
		id, err := sources.NormalizeTraceID(t.TraceID)
		if err != nil {
			return nil, fmt.Errorf("search result %d: %w", i, err)
		}
		ns, err := strconv.ParseInt(t.StartTimeUnixNano, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("search result %d: startTimeUnixNano %q", i, t.StartTimeUnixNano)
		}
		s := sources.TraceSummary{TraceID: id, RootService: t.RootServiceName, RootName: t.RootTraceName,
			Start: time.Unix(0, ns), Duration: time.Duration(t.DurationMs) * time.Millisecond}
		sets := t.SpanSets
		if len(sets) == 0 && t.SpanSet != nil {
			sets = append(sets, *t.SpanSet)
		}
		seen := map[string]bool{}
		for k := range sets {
			s.Matched += sets[k].Matched
			for j, sp := range sets[k].Spans {
				sid, err := sources.NormalizeSpanID(sp.SpanID)
				if err != nil {
					return nil, fmt.Errorf("search result %d: %w", i, err)
				}
				if seen[sid] {
					continue
				}
				seen[sid] = true
				s.SpanIDs = append(s.SpanIDs, sid)
				span, err := searchSpan(id, sid, &sets[k], j)
				if err != nil {
					return nil, fmt.Errorf("search result %d: %w", i, err)
				}
				s.Spans = append(s.Spans, span)
			}
		}
		for svc, st := range t.ServiceStats {
			if st.ErrorCount > 0 {
				if s.Errors == nil {
					s.Errors = map[string]int{}
				}
				s.Errors[svc] = st.ErrorCount
			}
		}
		out = append(out, s)
	}
	return out, nil
}
