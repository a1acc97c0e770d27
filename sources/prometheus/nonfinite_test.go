package prometheus

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// answering is a Prometheus that answers every instant query with a
// vector of value and every range query with a matrix of values, one
// series per service of the spanmetrics conventions.
func answering(t *testing.T, value string, values []string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var result []string
		switch r.URL.Path {
		case "/api/v1/query":
			if value != "" {
				result = append(result, fmt.Sprintf(`{"metric":{"service":"checkout"},"value":[1700000000,%q]}`, value))
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, strings.Join(result, ","))
		case "/api/v1/query_range":
			var points []string
			for i, v := range values {
				points = append(points, fmt.Sprintf(`[%d,%q]`, 1700000000+60*i, v))
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"service":"checkout"},"values":[%s]}]}}`,
				strings.Join(points, ","))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNonFiniteSamplesAreNoReading(t *testing.T) {
	ctx := context.Background()
	r := sources.TimeRange{Start: time.Unix(1700000000, 0), End: time.Unix(1700000300, 0)}
	c := answering(t, "NaN", []string{"NaN", "+Inf", "0.5", "-Inf", "0.25"})
	series, err := c.QueryRange(ctx, "x", r, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || len(series[0].Samples) != 2 || series[0].Samples[0].V != 0.5 || series[0].Samples[1].V != 0.25 {
		t.Fatalf("a matrix of NaN, +Inf, 0.5, -Inf, 0.25 read as %+v, want the two numbers", series)
	}
	for _, v := range []string{"NaN", "+Inf", "-Inf"} {
		series, err := answering(t, v, nil).Query(ctx, "x", r.End)
		if err != nil {
			t.Fatal(err)
		}
		// the series answered, so it stays, but with nothing read
		if len(series) != 1 || len(series[0].Samples) != 0 {
			t.Errorf("a vector of %s read as %+v, want one series with no sample", v, series)
		}
	}
}

func TestREDOfOnlyNaNHasNoPoints(t *testing.T) {
	c := answering(t, "NaN", []string{"NaN", "NaN", "NaN"})
	red, err := c.RED(context.Background(), nil, sources.TimeRange{Start: time.Unix(1700000000, 0), End: time.Unix(1700000120, 0)}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(red) != 1 || red[0].Service != "checkout" {
		t.Fatalf("RED %+v, want checkout, which answered", red)
	}
	for what, s := range map[string]sources.Series{"requests": red[0].Requests, "errors": red[0].Errors, "p99": red[0].P99} {
		if len(s.Samples) != 0 {
			t.Errorf("%s of only NaN read as %v, want no point: not read, rather than 0", what, s.Samples)
		}
	}
}

// An event count answered as NaN is not a count: the SLI is not read,
// where an answer with no series at all is no traffic.
func TestSLIOfOnlyNaNIsUnread(t *testing.T) {
	ind := sources.Indicator{Kind: sources.SLIAvailability, Service: "checkout"}
	windows := []time.Duration{time.Hour, 28 * 24 * time.Hour}
	at := time.Unix(1700000000, 0)
	for _, v := range []string{"NaN", "+Inf"} {
		if r, err := answering(t, v, nil).SLI(context.Background(), ind, windows, at); err == nil {
			t.Errorf("counts of %s read as %+v, want an error", v, r)
		} else if !strings.Contains(err.Error(), "no readable value") {
			t.Errorf("counts of %s: %v, want it to say no readable value", v, err)
		}
	}
	r, err := answering(t, "", nil).SLI(context.Background(), ind, windows, at)
	if err != nil {
		t.Fatalf("no series: %v, want no traffic", err)
	}
	for _, w := range r.Windows {
		if w.Total != 0 || w.ErrorRatio.Defined() {
			t.Errorf("no series over %s: total %v ratio %v, want 0 events and no ratio", w.Window, w.Total, w.ErrorRatio)
		}
	}
}

// A service whose every summary figure answers NaN or ±Inf is still
// named, its figures unread, so that the screen reads it whole rather
// than lose it.
func TestSummaryOfOnlyNonFiniteNamesTheService(t *testing.T) {
	for _, v := range []string{"NaN", "+Inf", "-Inf"} {
		sums, err := answering(t, v, nil).SummarizeRED(context.Background(), nil,
			sources.TimeRange{Start: time.Unix(1700000000, 0), End: time.Unix(1700000900, 0)}, time.Minute, everyFigure)
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != 1 || sums[0].Service != "checkout" || !math.IsNaN(sums[0].Requests) || !math.IsNaN(sums[0].PeakErrorRatio) {
			t.Errorf("a summary of only %s: %+v, want checkout with every figure unread", v, sums)
		}
	}
}

// A RED query that answered no series for a service (no 5xx yet) keeps
// its query: an error ratio shows both halves, the one that answered
// nothing too.
func TestREDKeepsTheQueryOfAnEmptyAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		result := `{"metric":{"service":"checkout"},"values":[[1700000000,"1"]]}`
		if strings.Contains(r.FormValue("query"), "STATUS_CODE_ERROR") {
			result = ""
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, result)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	red, err := c.RED(context.Background(), []string{"checkout"}, sources.TimeRange{Start: time.Unix(1700000000, 0), End: time.Unix(1700000060, 0)}, time.Minute)
	if err != nil || len(red) != 1 {
		t.Fatalf("RED = %+v, %v", red, err)
	}
	if len(red[0].Errors.Samples) != 0 || !strings.Contains(red[0].Errors.Query, "STATUS_CODE_ERROR") {
		t.Fatalf("errors %+v: want no sample and the query asked", red[0].Errors)
	}
}
