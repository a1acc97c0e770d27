package correlate

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// cutAt keeps the first n steps of r: a service whose telemetry stopped.
func cutAt(r sources.RED, n int) sources.RED {
	r.Requests.Samples, r.Errors.Samples, r.P99.Samples = r.Requests.Samples[:n], r.Errors.Samples[:n], r.P99.Samples[:n]
	return r
}

func firing(svc string) sources.Alert {
	return sources.Alert{Name: svc + "Errors", Service: svc, State: sources.AlertFiring, StartsAt: t0.Add(33 * time.Minute)}
}

func reasonOf(c Candidate, k ReasonKind) *Reason {
	for i := range c.Reasons {
		if c.Reasons[i].Kind == k {
			return &c.Reasons[i]
		}
	}
	return nil
}

// The hidden trial: a whole app's telemetry stopped mid-fault, and its
// last faulty service stayed the likely root cause ahead of a live
// incident in another app.
func TestStoppedServiceIsNotTheLiveRootCause(t *testing.T) {
	ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second,
		RED: []sources.RED{
			// fails from 23:31:15, and its last sample is 23:37:15
			cutAt(red("shop-cart", 180, 100, step(125, 0.001, 0.5), flat(0.05)), 150),
			// fails from 23:35 to the window's end, live
			red("pay-api", 180, 100, step(140, 0.001, 0.2), flat(0.05)),
			red("pay-web", 180, 100, flat(0.001), flat(0.05)),
		},
		Alerts: []sources.Alert{firing("shop-cart"), firing("pay-api")}}
	inc := Analyze(ev, Meta{})
	if len(inc.Candidates) < 2 || inc.Candidates[0].Service != "pay-api" || inc.Candidates[0].Likelihood != Likely {
		t.Fatalf("candidates %+v, want the live pay-api likely and first", inc.Candidates)
	}
	c := inc.Candidates[1]
	r := reasonOf(c, ReasonStopped)
	if c.Service != "shop-cart" || c.Likelihood == Likely || r == nil || !strings.HasPrefix(r.Detail, "stopped reporting since 23:37") || r.Weight >= 0 || !r.Shown() {
		t.Fatalf("second %+v, want shop-cart demoted with a shown stopped reason", c)
	}
	want := []StoppedService{{Service: "shop-cart", Since: t0.Add(149 * 15 * time.Second)}}
	if !slices.Equal(inc.Stopped, want) {
		t.Errorf("stopped %+v, want %+v", inc.Stopped, want)
	}
	if !slices.ContainsFunc(inc.Notes, func(n string) bool { return strings.HasPrefix(n, "stopped reporting since 23:37: shop-cart (") }) {
		t.Errorf("notes %q", inc.Notes)
	}
	if !slices.ContainsFunc(inc.Timeline, func(e Event) bool { return e.Kind == "stopped-reporting" && e.Service == "shop-cart" }) {
		t.Errorf("timeline %+v", inc.Timeline)
	}
	for _, an := range inc.Anomalies {
		if (an.Service == "shop-cart") == an.StoppedSince.IsZero() {
			t.Errorf("%s stopped reporting at %v", an.Service, an.StoppedSince)
		}
	}
	js, err := json.Marshal(inc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"stopped":[{"service":"shop-cart","since":"2026-11-27T23:37:15Z"}]`) ||
		!strings.Contains(string(js), `"stopped_since":"2026-11-27T23:37:15Z"`) {
		t.Errorf("JSON lacks the stopped service: %s", js)
	}
}

// When the only anomalous services stopped, the stop may be the incident:
// the summary says so first.
func TestWholeAppStoppedIsTheIncident(t *testing.T) {
	ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second,
		RED: []sources.RED{
			cutAt(red("shop-cart", 180, 100, step(125, 0.001, 0.5), flat(0.05)), 150),
			cutAt(red("shop-web", 180, 100, step(126, 0.001, 0.3), flat(0.05)), 150),
			red("pay-web", 180, 100, flat(0.001), flat(0.05)),
		}}
	inc := Analyze(ev, Meta{})
	if !strings.HasPrefix(inc.Summary, "shop-cart, shop-web stopped reporting since 23:37, while the rest of the fleet reports; before the stop: ") || !inc.StoppedFirst {
		t.Errorf("summary %q, stopped first %v", inc.Summary, inc.StoppedFirst)
	}
	if !slices.ContainsFunc(inc.Notes, func(n string) bool {
		return strings.HasPrefix(n, "stopped reporting since 23:37: shop-cart, shop-web (") && strings.Contains(n, "the stop may itself be the incident")
	}) {
		t.Errorf("notes %q", inc.Notes)
	}
}

// Data that ends for every service (Prometheus behind, a window reaching
// into the future) is no service's stop.
func TestDataEndingForEveryoneIsNoStop(t *testing.T) {
	ev := &Evidence{Window: window, Baseline: sources.TimeRange{Start: t0, End: window.Start}, Step: 15 * time.Second,
		RED: []sources.RED{
			cutAt(red("shop-cart", 180, 100, step(125, 0.001, 0.5), flat(0.05)), 150),
			cutAt(red("pay-web", 180, 100, flat(0.001), flat(0.05)), 151),
		}}
	inc := Analyze(ev, Meta{})
	if len(inc.Stopped) != 0 || len(inc.Candidates) == 0 || reasonOf(inc.Candidates[0], ReasonStopped) != nil {
		t.Errorf("stopped %+v, candidates %+v", inc.Stopped, inc.Candidates)
	}
}

// The services list says which service stopped reporting, and since when.
func TestServiceRowsSayStoppedReporting(t *testing.T) {
	reds := []sources.RED{
		cutAt(red("shop-cart", 120, 100, flat(0.001), flat(0.05)), 100),
		red("pay-web", 120, 100, flat(0.001), flat(0.05)),
	}
	rows := []ServiceStatus{StatusOf(reds[0]), StatusOf(reds[1])}
	markStoppedRows(rows, reds, 15*time.Second)
	if !rows[0].StoppedSince.Equal(t0.Add(99*15*time.Second)) || !rows[1].StoppedSince.IsZero() {
		t.Errorf("stopped since %v, %v", rows[0].StoppedSince, rows[1].StoppedSince)
	}
}
