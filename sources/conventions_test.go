package sources

import (
	"strings"
	"testing"
)

func TestREDPresetsRender(t *testing.T) {
	c := DefaultConventions()
	q, err := c.CompileRED()
	if err != nil {
		t.Fatal(err)
	}
	rate, errs, lat := q.Render(REDTemplateData{Service: "checkout|payments", ServiceLabel: q.ServiceLabel, Window: "2m"})
	if rate != `sum by (service) (rate(traces_spanmetrics_calls_total{service=~"checkout|payments", span_kind="SPAN_KIND_SERVER"}[2m]))` {
		t.Errorf("rate %s", rate)
	}
	if !strings.Contains(errs, `status_code="STATUS_CODE_ERROR"`) || !strings.HasPrefix(lat, "histogram_quantile(0.99, sum by (service, le) (rate(traces_spanmetrics_latency_bucket{") {
		t.Errorf("errors %s latency %s", errs, lat)
	}
	c.RED.Preset = PresetOTelHTTP
	q, err = c.CompileRED()
	if err != nil || q.ServiceLabel != "job" {
		t.Fatalf("otel-http: %v, label %q", err, q.ServiceLabel)
	}
	rate, _, _ = q.Render(REDTemplateData{Service: ".+", ServiceLabel: q.ServiceLabel, Window: "5m"})
	if !strings.Contains(rate, `http_server_request_duration_seconds_count{job=~".+"}[5m]`) {
		t.Errorf("otel-http rate %s", rate)
	}
}

func TestCustomREDTemplates(t *testing.T) {
	c := DefaultConventions()
	c.RED = REDTemplates{Preset: PresetCustom,
		Rate:    `sum by ({{.ServiceLabel}}) (rate(reqs{ {{- .ServiceLabel}}=~"{{.Service}}"}[{{.Window}}]))`,
		Errors:  `sum by ({{.ServiceLabel}}) (rate(errs{ {{- .ServiceLabel}}=~"{{.Service}}"}[{{.Window}}]))`,
		Latency: `max by ({{.ServiceLabel}}) (p99{ {{- .ServiceLabel}}=~"{{.Service}}"})`}
	q, err := c.CompileRED()
	if err != nil {
		t.Fatal(err)
	}
	if rate, _, _ := q.Render(REDTemplateData{Service: "a", ServiceLabel: "job", Window: "1m"}); rate != `sum by (job) (rate(reqs{job=~"a"}[1m]))` {
		t.Errorf("rate %s", rate)
	}
	for name, bad := range map[string]REDTemplates{
		"missing template": {Preset: PresetCustom, Rate: "x"},
		"unknown field":    {Preset: PresetCustom, Rate: "{{.Svc}}", Errors: "x", Latency: "x"},
		"syntax":           {Preset: PresetCustom, Rate: "{{.Service", Errors: "x", Latency: "x"},
	} {
		c.RED = bad
		if _, err := c.CompileRED(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTraceIDExtraction(t *testing.T) {
	x, err := DefaultConventions().CompileTraceID()
	if err != nil {
		t.Fatal(err)
	}
	id := "a4c123b1612dd272d1371c17149d4395"
	cases := []struct {
		labels Labels
		line   string
		want   string
	}{
		{Labels{"trace_id": id}, "plain", id},
		{nil, `{"msg":"x","traceId":"` + strings.ToUpper(id) + `"}`, id},
		{nil, "retrying \x1b[31mcharge\x1b[0m traceID=" + id, id},
		{nil, "no id here", ""},
		{Labels{"trace_id": "garbage"}, "trace_id=" + id, id},
		{nil, `{"trace_id": 12}`, ""},
	}
	for _, c := range cases {
		if got := x.Extract(c.labels, c.line); got != c.want {
			t.Errorf("Extract(%v, %q) = %q, want %q", c.labels, c.line, got, c.want)
		}
	}
}

func TestJSONStringFieldWithoutDecodingTheLine(t *testing.T) {
	for line, want := range map[string]string{
		`{"trace_id":"abc"}`:                        "abc",
		`{"msg": "x", "trace_id" :  "abc", "n": 1}`: "abc",
		`{"msg":"trace_id","trace_id":"abc"}`:       "abc", // the name first appears as a value
		`{"trace_id":"a\"b"}`:                       `a"b`,
		`{"trace_id":"\u0061bc"}`:                   "abc",
		`{"trace_id": 123}`:                         "",
		`{"trace_id":"unterminated}`:                "",
		`{"span":{"trace_id":"nested"}}`:            "nested",
		`{"other":"x"}`:                             "",
	} {
		got, ok := jsonStringField(line, "trace_id")
		if got != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", line, got, ok, want)
		}
	}
}
