package remediate

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// redMetrics answers RED with one fixed reading.
type redMetrics struct {
	sources.Metrics
	red sources.RED
}

func (m redMetrics) RED(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.RED, error) {
	return []sources.RED{m.red}, nil
}

func series(q string, vs ...float64) sources.Series {
	s := sources.Series{Query: q}
	for i, v := range vs {
		s.Samples = append(s.Samples, sources.Sample{T: time.Unix(int64(i), 0), V: v})
	}
	return s
}

// A signal with no defined sample is no reading: a p99 guard must not
// read "0s ok" on an empty or all-NaN series.
func TestReadSignalWithoutDataErrs(t *testing.T) {
	nan := math.NaN()
	reqs := series("rate", 10, 10)
	for _, tc := range []struct {
		name, signal string
		red          sources.RED
		want         string
	}{
		{"p99 empty", SignalP99, sources.RED{Requests: reqs, P99: series("p99")}, "no p99 recorded at api in the last 1m"},
		{"p99 all NaN", SignalP99, sources.RED{Requests: reqs, P99: series("p99", nan, nan)}, "no p99 recorded at api in the last 1m"},
		{"requests all NaN", SignalRequests, sources.RED{Requests: series("rate", nan)}, "no requests recorded at api in the last 1m"},
		{"error ratio, requests all NaN", SignalErrorRatio, sources.RED{Requests: series("rate", nan), Errors: series("errs", 1)}, "no requests recorded at api in the last 1m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _, err := ReadSignal(context.Background(), redMetrics{red: tc.red}, "api", tc.signal, time.Unix(100, 0), time.Minute)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadSignal = %v, %v; want error %q", v, err, tc.want)
			}
		})
	}
}

// An error series that answered nothing while requests were served is no
// errors; the query shown still has both halves, as asked.
func TestReadSignalErrorRatioShowsBothQueries(t *testing.T) {
	red := sources.RED{Requests: series("sum(rate(reqs))", 10, 10), Errors: series("sum(rate(errs))")}
	v, q, err := ReadSignal(context.Background(), redMetrics{red: red}, "api", SignalErrorRatio, time.Unix(100, 0), time.Minute)
	if err != nil || v != 0 {
		t.Fatalf("ReadSignal = %v, %v; want 0, nil", v, err)
	}
	if q != "sum(rate(errs)) / sum(rate(reqs))" {
		t.Fatalf("query %q: want both halves", q)
	}
}

// partialMetrics answers RED with what it has and an error about the
// series it could not read, as an adapter whose p99 query timed out.
type partialMetrics struct {
	sources.Metrics
	reds []sources.RED
	err  error
}

func (m partialMetrics) RED(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.RED, error) {
	return m.reds, m.err
}

// A requests reading depends on the requests series alone: an error
// about the p99 query, with the requests answered, does not make it
// unreadable; with nothing answered the error says the three were asked
// together, so that the p99 query in it is not read as this signal's.
func TestReadSignalIgnoresAnotherSeriesError(t *testing.T) {
	p99Failed := &sources.BackendError{Backend: "prometheus", Op: "query_range histogram_quantile(0.99, …)", Err: context.DeadlineExceeded}
	partial := partialMetrics{reds: []sources.RED{{Service: "api", Requests: series("rate", 10, 20)}}, err: p99Failed}
	v, q, err := ReadSignal(bg, partial, "api", SignalRequests, time.Unix(60, 0), time.Minute)
	if err != nil || v != 15 || q != "rate" {
		t.Errorf("requests with the p99 query failed: %v %q %v", v, q, err)
	}
	if _, _, err := ReadSignal(bg, partial, "api", SignalP99, time.Unix(60, 0), time.Minute); err == nil {
		t.Errorf("p99 read though its query failed")
	}
	_, _, err = ReadSignal(bg, partialMetrics{err: p99Failed}, "api", SignalRequests, time.Unix(60, 0), time.Minute)
	if err == nil || !strings.HasPrefix(err.Error(), "requests of api: the RED read, which asks requests, errors and p99 together, failed") {
		t.Errorf("nothing answered: %v", err)
	}
}
