package trialfleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// OTLPRequest groups spans by service into one OTLP export request, one
// resource per service as each process would send its own. TracesData
// has the same wire form as the collector's ExportTraceServiceRequest,
// whose package would pull in gRPC for nothing.
func OTLPRequest(spans []Span, app func(service string) string) *tracepb.TracesData {
	by := map[string][]*tracepb.Span{}
	for _, s := range spans {
		by[s.Service] = append(by[s.Service], otlpSpan(s))
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	req := &tracepb.TracesData{}
	for _, n := range names {
		req.ResourceSpans = append(req.ResourceSpans, &tracepb.ResourceSpans{
			Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
				strAttr("service.name", n), strAttr("service.namespace", app(n))}},
			ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: "trialfleet"}, Spans: by[n]}},
		})
	}
	return req
}

func otlpSpan(s Span) *tracepb.Span {
	o := &tracepb.Span{TraceId: s.TraceID[:], SpanId: s.SpanID[:], Name: s.Name,
		StartTimeUnixNano: uint64(s.Start.UnixNano()), EndTimeUnixNano: uint64(s.End.UnixNano()),
		Kind: tracepb.Span_SPAN_KIND_SERVER, Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_UNSET}}
	if s.HasParent {
		o.ParentSpanId = s.Parent[:]
	}
	if s.Kind == KindClient {
		o.Kind = tracepb.Span_SPAN_KIND_CLIENT
	}
	if s.Err {
		o.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: s.Message}
	}
	for _, a := range s.Attrs {
		if a.IsInt {
			o.Attributes = append(o.Attributes, &commonpb.KeyValue{Key: a.Key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: a.Int}}})
			continue
		}
		o.Attributes = append(o.Attributes, strAttr(a.Key, a.Str))
	}
	return o
}

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// lokiPush is Loki's JSON push body.
type lokiPush struct {
	Streams []lokiStream `json:"streams"`
}

type lokiStream struct {
	Stream map[string]string `json:"stream"`
	Values [][]any           `json:"values"` // [ns, line, structured metadata]
}

// LokiPushBody builds a Loki push: one stream per service (labels
// service_name and app), each line with structured metadata level and,
// for a request's line, trace_id.
func LokiPushBody(lines []LogLine) ([]byte, error) {
	idx := map[string]int{}
	var p lokiPush
	for _, l := range lines {
		i, ok := idx[l.Service]
		if !ok {
			i = len(p.Streams)
			idx[l.Service] = i
			p.Streams = append(p.Streams, lokiStream{Stream: map[string]string{"service_name": l.Service, "app": l.App}})
		}
		md := map[string]string{"level": l.Level}
		if l.TraceID != "" {
			md["trace_id"] = l.TraceID
		}
		p.Streams[i].Values = append(p.Streams[i].Values, []any{strconv.FormatInt(l.Time.UnixNano(), 10), l.Line, md})
	}
	return json.Marshal(p)
}

// Shipper posts telemetry to Tempo's OTLP HTTP receiver and Loki.
type Shipper struct {
	Client *http.Client
	OTLP   string // e.g. http://127.0.0.1:54318/v1/traces
	Loki   string // e.g. http://127.0.0.1:53100/loki/api/v1/push
	App    func(service string) string
}

// Ship sends one batch; an empty batch sends nothing.
func (s Shipper) Ship(ctx context.Context, spans []Span, lines []LogLine) error {
	if len(spans) > 0 {
		b, err := proto.Marshal(OTLPRequest(spans, s.App))
		if err != nil {
			return fmt.Errorf("otlp: %w", err)
		}
		if err := s.post(ctx, s.OTLP, "application/x-protobuf", b); err != nil {
			return fmt.Errorf("otlp %s: %w", s.OTLP, err)
		}
	}
	if len(lines) > 0 {
		b, err := LokiPushBody(lines)
		if err != nil {
			return fmt.Errorf("loki push: %w", err)
		}
		if err := s.post(ctx, s.Loki, "application/json", b); err != nil {
			return fmt.Errorf("loki %s: %w", s.Loki, err)
		}
	}
	return nil
}

func (s Shipper) post(ctx context.Context, url, ctype string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
