package loki

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// queryResponse is Loki's envelope for query and query_range.
type queryResponse struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

type stream struct {
	Stream map[string]string `json:"stream"`
	Values [][2]string       `json:"values"` // [ns timestamp, line] (a third element, structured metadata, is ignored: Loki folds it into Stream)
}

type matrixSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]json.Number  `json:"values"` // [unix seconds, "value"]
}

// tailFrame is one WebSocket message from /loki/api/v1/tail.
type tailFrame struct {
	Streams        []stream `json:"streams"`
	DroppedEntries []struct {
		Labels    map[string]string `json:"labels"`
		Timestamp string            `json:"timestamp"`
	} `json:"dropped_entries"`
}

// Decoder turns Loki responses into domain values per the conventions.
type Decoder struct {
	serviceLabel string
	levelLabel   string
	ids          sources.TraceIDExtractor
}

// NewDecoder compiles the conventions' trace-ID rules.
func NewDecoder(conv sources.Conventions) (Decoder, error) {
	ids, err := conv.CompileTraceID()
	if err != nil {
		return Decoder{}, err
	}
	return Decoder{serviceLabel: conv.ServiceLabel.Loki, levelLabel: conv.LevelLabel, ids: ids}, nil
}

// streamsResponse is the envelope with its result decoded as streams, so
// that the answer is parsed once.
type streamsResponse struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string   `json:"resultType"`
		Result     []stream `json:"result"`
	} `json:"data"`
}

// Streams decodes a query_range response of resultType "streams".
func (d Decoder) Streams(body []byte) ([]sources.LogLine, error) {
	var r streamsResponse
	err := json.Unmarshal(body, &r)
	switch {
	case err != nil && r.Data.ResultType != "" && r.Data.ResultType != "streams":
		return nil, fmt.Errorf("resultType %q, want streams", r.Data.ResultType)
	case err != nil:
		return nil, fmt.Errorf("decoding query response: %w", err)
	case r.Status != "success":
		return nil, fmt.Errorf("status %q", r.Status)
	case r.Data.ResultType != "streams":
		return nil, fmt.Errorf("resultType %q, want streams", r.Data.ResultType)
	}
	return d.lines(r.Data.Result)
}

// Matrix decodes a query_range response of resultType "matrix".
func (d Decoder) Matrix(body []byte, query string) ([]sources.Series, error) {
	var r queryResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decoding query response: %w", err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("status %q", r.Status)
	}
	if r.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("resultType %q, want matrix", r.Data.ResultType)
	}
	var ms []matrixSeries
	if err := json.Unmarshal(r.Data.Result, &ms); err != nil {
		return nil, fmt.Errorf("decoding matrix: %w", err)
	}
	out := make([]sources.Series, 0, len(ms))
	for _, m := range ms {
		s := sources.Series{Labels: sources.Labels(m.Metric), Query: query}
		for i, v := range m.Values {
			sec, err1 := v[0].Float64()
			val, err2 := strconv.ParseFloat(string(v[1]), 64)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("matrix series %v value %d: bad sample %v", m.Metric, i, v)
			}
			s.Samples = append(s.Samples, sources.Sample{T: time.UnixMilli(int64(sec * 1000)), V: val})
		}
		out = append(out, s)
	}
	return out, nil
}

// TailFrame decodes one tail WebSocket message.
func (d Decoder) TailFrame(body []byte) ([]sources.LogLine, int, error) {
	var f tailFrame
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, 0, fmt.Errorf("decoding tail frame: %w", err)
	}
	lines, err := d.lines(f.Streams)
	return lines, len(f.DroppedEntries), err
}

func (d Decoder) lines(ss []stream) ([]sources.LogLine, error) {
	var out []sources.LogLine
	for _, s := range ss {
		labels := sources.Labels(s.Stream)
		level := labels[d.levelLabel]
		if level == "" {
			level = labels["level"]
		}
		for _, v := range s.Values {
			ns, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("stream %v: timestamp %q is not nanoseconds", s.Stream, v[0])
			}
			out = append(out, sources.LogLine{T: time.Unix(0, ns), Service: labels[d.serviceLabel], Level: level,
				TraceID: d.ids.Extract(labels, v[1]), Line: v[1], Labels: labels})
		}
	}
	return out, nil
}

// sortLines orders lines by time, oldest first when forward.
func sortLines(lines []sources.LogLine, forward bool) {
	sort.SliceStable(lines, func(i, j int) bool {
		if forward {
			return lines[i].T.Before(lines[j].T)
		}
		return lines[i].T.After(lines[j].T)
	})
}
