package sim

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Pusher sends what the fleet produces to a real stack: traces over
// OTLP/HTTP (protobuf) and logs to Loki's push API. Each Push sends what
// is new since the last one. A backend that is down loses that batch;
// the simulation never waits for it.
type Pusher struct {
	Fleet        *Fleet
	OTLPEndpoint string // e.g. http://localhost:4318; traces go to /v1/traces
	LokiURL      string // e.g. http://localhost:3100; logs go to /loki/api/v1/push
	Client       *http.Client

	traceSeq, logSeq uint64
	started          bool
}

// maxBatch bounds one push, so a long outage cannot build a huge request.
const maxBatch = 5000

// Push sends new traces and logs. It returns how many of each it sent and
// the first error per backend.
func (p *Pusher) Push(ctx context.Context) (traces, logs int, err error) {
	f := p.Fleet
	if !p.started {
		// start from now: history before the push began is not replayed
		f.mu.RLock()
		p.traceSeq, p.logSeq, p.started = f.traces.tseq, f.logs.seq, true
		f.mu.RUnlock()
	}
	hc := p.Client
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	var errs []string
	if p.OTLPEndpoint != "" {
		ts := p.newTraces()
		if len(ts) > 0 {
			body, e := proto.Marshal(OTLPRequest(ts))
			if e == nil {
				e = post(ctx, hc, strings.TrimRight(p.OTLPEndpoint, "/")+"/v1/traces", "application/x-protobuf", body)
			}
			if e != nil {
				errs = append(errs, "otlp: "+e.Error())
			} else {
				traces = len(ts)
			}
		}
	}
	if p.LokiURL != "" {
		ls := p.newLogs()
		if len(ls) > 0 {
			body, e := json.Marshal(LokiPush(ls))
			if e == nil {
				e = post(ctx, hc, strings.TrimRight(p.LokiURL, "/")+"/loki/api/v1/push", "application/json", body)
			}
			if e != nil {
				errs = append(errs, "loki: "+e.Error())
			} else {
				logs = len(ls)
			}
		}
	}
	if len(errs) > 0 {
		err = fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return traces, logs, err
}

func post(ctx context.Context, hc *http.Client, url, ctype string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var b [256]byte
		n, _ := resp.Body.Read(b[:])
		return fmt.Errorf("POST %s: HTTP %d: %s", url, resp.StatusCode, strings.TrimSpace(string(b[:n])))
	}
	return nil
}

func (p *Pusher) newTraces() []sources.Trace {
	f := p.Fleet
	f.mu.RLock()
	defer f.mu.RUnlock()
	ts := f.traces
	if ts.tseq-p.traceSeq > maxTraces {
		p.traceSeq = ts.tseq - maxTraces
	}
	var out []sources.Trace
	for ; p.traceSeq < ts.tseq && len(out) < maxBatch; p.traceSeq++ {
		tr := &ts.traces[p.traceSeq%maxTraces]
		if ts.live(tr) {
			out = append(out, f.buildTrace(tr))
		}
	}
	return out
}

func (p *Pusher) newLogs() []sources.LogLine {
	f := p.Fleet
	f.mu.RLock()
	defer f.mu.RUnlock()
	ls := f.logs
	if ls.seq-p.logSeq > maxLogs {
		p.logSeq = ls.seq - maxLogs
	}
	var out []sources.LogLine
	for ; p.logSeq < ls.seq && len(out) < maxBatch; p.logSeq++ {
		out = append(out, f.format(&ls.recs[p.logSeq%maxLogs]))
	}
	return out
}

var spanKinds = map[string]tracepb.Span_SpanKind{
	"server": tracepb.Span_SPAN_KIND_SERVER, "client": tracepb.Span_SPAN_KIND_CLIENT,
	"producer": tracepb.Span_SPAN_KIND_PRODUCER, "consumer": tracepb.Span_SPAN_KIND_CONSUMER,
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s) // IDs are generated as hex
	return b
}

// OTLPRequest converts traces to the body of an OTLP/HTTP export, one
// resource per service. TracesData has the same wire format as the
// collector's ExportTraceServiceRequest (the OTLP spec guarantees it), and
// using it keeps gRPC out of the binary.
func OTLPRequest(traces []sources.Trace) *tracepb.TracesData {
	byService := map[string]*tracepb.ResourceSpans{}
	var order []string
	for _, t := range traces {
		for _, sp := range t.Spans {
			rs := byService[sp.Service]
			if rs == nil {
				rs = &tracepb.ResourceSpans{
					Resource:   &resourcepb.Resource{Attributes: []*commonpb.KeyValue{strAttr("service.name", sp.Service), strAttr("service.namespace", "shop")}},
					ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: "oncall-sim"}}},
				}
				byService[sp.Service] = rs
				order = append(order, sp.Service)
			}
			ps := &tracepb.Span{
				TraceId: mustHex(sp.TraceID), SpanId: mustHex(sp.SpanID), Name: sp.Name, Kind: spanKinds[sp.Kind],
				StartTimeUnixNano: uint64(sp.Start.UnixNano()), EndTimeUnixNano: uint64(sp.End.UnixNano()),
			}
			if sp.ParentSpanID != "" {
				ps.ParentSpanId = mustHex(sp.ParentSpanID)
			}
			for k, v := range sp.Attributes {
				ps.Attributes = append(ps.Attributes, strAttr(k, v))
			}
			if sp.Status == sources.StatusError {
				ps.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: sp.StatusMessage}
			}
			rs.ScopeSpans[0].Spans = append(rs.ScopeSpans[0].Spans, ps)
		}
	}
	req := &tracepb.TracesData{}
	for _, s := range order {
		req.ResourceSpans = append(req.ResourceSpans, byService[s])
	}
	return req
}

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// LokiPushRequest is the JSON body of Loki's POST /loki/api/v1/push.
type LokiPushRequest struct {
	Streams []LokiStream `json:"streams"`
}

// LokiStream is one stream: its labels and its entries, each entry
// [nanoseconds as a string, line, structured metadata].
type LokiStream struct {
	Stream map[string]string `json:"stream"`
	Values [][]any           `json:"values"`
}

// LokiPush converts log lines to a push request: one stream per service
// and level, the trace ID as structured metadata.
func LokiPush(lines []sources.LogLine) LokiPushRequest {
	idx := map[string]int{}
	var req LokiPushRequest
	for _, l := range lines {
		key := l.Service + "\xff" + l.Level
		i, ok := idx[key]
		if !ok {
			i = len(req.Streams)
			idx[key] = i
			req.Streams = append(req.Streams, LokiStream{Stream: map[string]string{"service_name": l.Service, "namespace": l.Labels["namespace"], "level": l.Level}})
		}
		entry := []any{strconv.FormatInt(l.T.UnixNano(), 10), l.Line}
		if l.TraceID != "" {
			entry = append(entry, map[string]string{"trace_id": l.TraceID})
		}
		req.Streams[i].Values = append(req.Streams[i].Values, entry)
	}
	return req
}
