package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/httpx"
	"github.com/oncall-cockpit/oncall/sources"
)

// fixedResources answers its saturation, or its error.
type fixedResources struct {
	sats []sources.Saturation
	err  error
}

func (f fixedResources) Saturation(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.Saturation, error) {
	return f.sats, f.err
}

// fillingPool is a pool of 100 connections filling by one a minute from
// 40 over the half hour before at: full 30 minutes after it.
func fillingPool(at time.Time) sources.Saturation {
	var used sources.Series
	for m := 30; m >= 0; m-- {
		used.Samples = append(used.Samples, sources.Sample{T: at.Add(-time.Duration(m) * time.Minute), V: float64(70 - m)})
	}
	return sources.Saturation{Service: "checkout", Resource: "pool:orders-db", Max: 100, Used: used, Source: "prometheus: hikaricp"}
}

// TestSaturationForecasts: no backend for resources is a note; a backend
// whose presets found nothing is a note naming them and doctor, not an
// unread part (exit 3); a failure is; a filling pool is forecast.
func TestSaturationForecasts(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if _, note, err := saturationForecasts(ctx, nil, at, time.Hour); err != nil || !strings.Contains(note, "no configured backend reports pools or CPU") {
		t.Errorf("no backend: %q, %v", note, err)
	}
	none := fmt.Errorf("prometheus: no series for the saturation presets otel_pool, hikaricp: %w", sources.ErrNotReported)
	_, note, err := saturationForecasts(ctx, fixedResources{err: none}, at, time.Hour)
	if err != nil || !strings.Contains(note, "no series for the saturation presets otel_pool, hikaricp") || !strings.Contains(note, "oncall doctor") {
		t.Errorf("not reported: %q, %v; want a note naming the presets and doctor", note, err)
	}
	if _, _, err := saturationForecasts(ctx, fixedResources{err: errors.New("prometheus: HTTP 503")}, at, time.Hour); err == nil {
		t.Error("a failed read is not unread")
	}
	fcs, note, err := saturationForecasts(ctx, fixedResources{sats: []sources.Saturation{fillingPool(at)}}, at, time.Hour)
	if err != nil || note != "" || len(fcs) != 1 || fcs[0].What != "checkout pool:orders-db" {
		t.Fatalf("filling pool: %+v, %q, %v", fcs, note, err)
	}
	// 95% of 100 is reached 25 minutes after at, at one a minute
	if in := fcs[0].In(); in < 20*time.Minute || in > 30*time.Minute {
		t.Errorf("the pool reaches 95%% in 25 minutes; forecast says %s", in)
	}
}

// TestSaturationUnreadCausedByTheFirstFailedPreset: the presets' joined
// errors give the first one's cause, even wrapped on their way up.
func TestSaturationUnreadCausedByTheFirstFailedPreset(t *testing.T) {
	down := errors.New("HTTP 503")
	joined := errors.Join(fmt.Errorf("saturation preset hikaricp: %w", down), fmt.Errorf("saturation preset process: %w", down))
	u := saturationUnread(fmt.Errorf("reading resources: %w", joined))
	if u.Cause != "HTTP 503" || !strings.Contains(u.Err, "saturation preset process") {
		t.Errorf("unread %+v, want the first preset's cause and the whole error", u)
	}
	// presets asked at once: the first to come back may be one the breaker
	// turned away after the others failed; the row says the failure
	refused := errors.New("connect: connection refused")
	joined = errors.Join(fmt.Errorf("saturation preset otel_pool: %w", httpx.ErrCircuitOpen), fmt.Errorf("saturation preset hikaricp: %w", refused))
	if u := saturationUnread(joined); u.Cause != "connect: connection refused" {
		t.Errorf("cause %q, want the failure the breaker followed", u.Cause)
	}
	// every preset's first query turned away, the failure only in a
	// preset's second query, found however deep it is wrapped
	both := errors.Join(fmt.Errorf("url: %w", httpx.ErrCircuitOpen), fmt.Errorf("url: %w", refused))
	joined = errors.Join(fmt.Errorf("saturation preset otel_pool: %w", httpx.ErrCircuitOpen), fmt.Errorf("saturation preset hikaricp: %w", both))
	if u := saturationUnread(fmt.Errorf("reading resources: %w", joined)); u.Cause != "connect: connection refused" {
		t.Errorf("cause %q, want the failure in the preset's second query", u.Cause)
	}
	// nothing but the breaker: it is the cause, not the whole joined text
	joined = errors.Join(fmt.Errorf("saturation preset otel_pool: %w", httpx.ErrCircuitOpen), fmt.Errorf("saturation preset hikaricp: %w", httpx.ErrCircuitOpen))
	if u := saturationUnread(joined); u.Cause != httpx.ErrCircuitOpen.Error() {
		t.Errorf("cause %q, want the breaker's", u.Cause)
	}
}

// fakeHikariPrometheus is a Prometheus whose only series are checkout's
// HikariCP pool orders-db, 100 connections, filling by one a minute to 70
// at now: 95% is reached 25 minutes on.
func fakeHikariPrometheus(t *testing.T, now time.Time) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.FormValue("query")
		value := func(ts float64) float64 {
			if strings.Contains(q, "hikaricp_connections_max") {
				return 100
			}
			return 70 - now.Sub(time.Unix(int64(ts), 0)).Minutes()
		}
		var series []string
		if strings.Contains(q, "hikaricp_connections_") {
			start, _ := strconv.ParseFloat(r.FormValue("start"), 64)
			end, _ := strconv.ParseFloat(r.FormValue("end"), 64)
			step, _ := strconv.ParseFloat(r.FormValue("step"), 64)
			var vals []string
			for ts := start; step > 0 && ts <= end; ts += step {
				vals = append(vals, fmt.Sprintf(`[%s,"%g"]`, strconv.FormatFloat(ts, 'f', -1, 64), value(ts)))
			}
			series = append(series, `{"metric":{"job":"checkout","oncall_pool":"orders-db","pool":"orders-db"},"values":[`+strings.Join(vals, ",")+`]}`)
		}
		if strings.HasSuffix(r.URL.Path, "/query") {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[`+strings.Join(series, ",")+`]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestForecastWithoutSLOsForecastsSaturation: a config with a Prometheus
// and no SLOs still gets its pools forecast, with a note that there are no
// budgets to forecast, and exits 0; slo itself still refuses it.
func TestForecastWithoutSLOsForecastsSaturation(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cfg := writeFile(t, "oncall.yaml", "datasources:\n  prometheus: {url: "+fakeHikariPrometheus(t, now)+", retries: 0}\n")
	clock := func() time.Time { return now }

	r := oncallAt(t, clock, nil, "", "forecast", "--config", cfg, "-o", "json")
	var rep forecastReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || r.code != 0 || len(rep.Unread) > 0 {
		t.Fatalf("forecast: %v, exit %d\n%s%s", err, r.code, r.out, r.err)
	}
	if len(rep.Saturation) != 1 || rep.Saturation[0].What != "checkout pool:orders-db" {
		t.Fatalf("saturation forecasts: %+v (notes %q)", rep.Saturation, rep.Notes)
	}
	if len(rep.Budgets) != 0 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "budgets: none to forecast, no slos in "+cfg) {
		t.Errorf("budgets %+v, notes %q: want one note saying there are no SLOs", rep.Budgets, rep.Notes)
	}

	r = oncallAt(t, clock, map[string]string{"NO_COLOR": "1"}, "", "forecast", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.out, "checkout pool:orders-db") || !strings.Contains(r.out, "no slos in") {
		t.Errorf("text: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r := oncallAt(t, clock, nil, "", "slo", "--config", cfg); r.code != exitUsage || !strings.Contains(r.err, "no slos in") {
		t.Errorf("slo without SLOs: exit %d, %s", r.code, r.err)
	}
}
