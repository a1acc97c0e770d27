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
		traces = send(ctx, hc, &errs, "otlp", strings.TrimRight(p.OTLPEndpoint, "/")+"/v1/traces", "application/x-protobuf", len(ts),
			func() ([]byte, error) { return proto.Marshal(OTLPRequest(ts)) })
	}
	if p.LokiURL != "" {
		ls := p.newLogs()
		logs = send(ctx, hc, &errs, "loki", strings.TrimRight(p.LokiURL, "/")+"/loki/api/v1/push", "application/json", len(ls),
			func() ([]byte, error) { return json.Marshal(LokiPush(ls)) })
	}
	if len(errs) > 0 {
		err = fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return traces, logs, err
}

// send posts a batch of n items to one backend, its body built by body
// only when there is something to send. It returns n if the batch went,
// else 0, with the reason added to errs under the backend's name.
func send(ctx context.Context, hc *http.Client, errs *[]string, name, url, ctype string, n int, body func() ([]byte, error)) int {
	if n == 0 {
		return 0
	}
	b, err := body()
	if err == nil {
		err = post(ctx, hc, url, ctype, b)
	}
	if err != nil {
		*errs = append(*errs, name+": "+err.Error())
		return 0
	}
	return n
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
	return sinceInRing(&p.traceSeq, f.traces.tseq, maxTraces, func(i uint64) (sources.Trace, bool) {
		tr := &f.traces.traces[i]
		if !f.traces.live(tr) {
			return sources.Trace{}, false
		}
		return f.buildTrace(tr), true
	})
}

func (p *Pusher) newLogs() []sources.LogLine {
	f := p.Fleet
	f.mu.RLock()
	defer f.mu.RUnlock()
	return sinceInRing(&p.logSeq, f.logs.seq, maxLogs, func(i uint64) (sources.LogLine, bool) {
		return f.format(&f.logs.recs[i]), true
	})
}

// sinceInRing reads, from a ring of size entries whose next sequence
// number is end, what came after *seq (at most maxBatch of it), and moves
// *seq on past what it read. A pusher that fell more than the ring
// behind starts at the oldest entry the ring still holds. read turns a
// slot into an item, or says the slot holds none.
func sinceInRing[T any](seq *uint64, end, size uint64, read func(slot uint64) (T, bool)) []T {
	if end-*seq > size {
		*seq = end - size
	}
	var out []T
	for ; *seq < end && len(out) < maxBatch; *seq++ {
		if v, ok := read(*seq % size); ok {
			out = append(out, v)
		}
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
