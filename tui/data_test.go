package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

// blindGraph answers RED but fails every service-graph query.
type blindGraph struct{ sources.Metrics }

func (blindGraph) ServiceGraph(context.Context, time.Time, time.Duration) ([]sources.Edge, error) {
	return nil, errors.New("tempo metrics-generator: connection refused")
}

// A service graph that cannot be read leaves the services listed, but
// the peers' absence is said in the status line and the detail, never
// covered by ✓ metrics.
func TestOverviewStatusSaysWhenThePeersAreUnread(t *testing.T) {
	d := deps(testFleet(t))
	d.Sources.Metrics = blindGraph{d.Sources.Metrics}
	a := startedWith(t, d, 120, 30)
	o := ov(a)
	if o.data.REDOf.Err != nil || o.data.REDOf.Partial == nil || len(o.data.Services) == 0 {
		t.Fatalf("metrics part %+v, %d services", o.data.REDOf, len(o.data.Services))
	}
	for _, s := range o.data.Services {
		if s.FromEdges {
			t.Errorf("a peer without a service graph: %+v", s)
		}
	}
	out := screen(a)
	if strings.Contains(out, "✓ metrics") || !strings.Contains(out, "! metrics incomplete") || !strings.Contains(out, "payment-api") {
		t.Errorf("the peers vanished with no mark, or the services with them:\n%s", out)
	}
	if _, lines := o.Detail(); !strings.Contains(strings.Join(lines, "\n"), "connection refused") {
		t.Errorf("the detail does not say why: %q", lines)
	}
}

// A peer's row is named as on the shell (present.PeerLabel), and at 80
// columns its name is cut before its tag or its numbers.
func TestOverviewPeerRowKeepsItsTagAndNumbers(t *testing.T) {
	peer := correlate.ServiceStatus{Service: "preferences-cache", Rate: 1600, ErrorRatio: 0.012, P99: 0.025, FromEdges: true}
	for _, w := range []int{58, 78, 118} {
		got := ansi.Strip(renderServiceRow(peer, columnScale{}, w, styles()))
		for _, want := range []string{present.PeerTag, "1.6k/s", "1.2%", "25ms"} {
			if !strings.Contains(got, want) {
				t.Errorf("at %d: %q lacks %q", w, got, want)
			}
		}
		if ansi.StringWidth(got) != w {
			t.Errorf("at %d: %d cells: %q", w, ansi.StringWidth(got), got)
		}
	}
	peer.Service = "payment-db"
	if got := ansi.Strip(renderServiceRow(peer, columnScale{}, 78, styles())); !strings.Contains(got, present.PeerLabel("payment-db")) {
		t.Errorf("not the shell's name: %q", got)
	}
}

// hangingTraces is a Tempo that accepts and never answers until its
// context ends.
type hangingTraces struct{ sources.Traces }

func (hangingTraces) BuildInfo(ctx context.Context) (sources.BuildInfo, error) {
	<-ctx.Done()
	return sources.BuildInfo{}, ctx.Err()
}

// deadlineAlerts fails as an HTTP client does once its context is done;
// the simulator's own alerts answer whatever the context.
type deadlineAlerts struct{ sources.Alerting }

func (a deadlineAlerts) Alerts(ctx context.Context) ([]sources.Alert, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a.Alerting.Alerts(ctx)
}

// A hung Tempo greys its own status only: every other part has its own
// deadline, so the firing alerts are still read and listed.
func TestHungTracesLeaveTheAlertsListed(t *testing.T) {
	d := deps(testFleet(t))
	d.Sources.Traces = hangingTraces{d.Sources.Traces}
	d.Sources.Alerts = deadlineAlerts{d.Sources.Alerts}
	d.Timeout = 200 * time.Millisecond
	a := New(d, styles())
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	a.Update(loadOverview(d, nil)())
	out := screen(a)
	if !strings.Contains(out, "traces down") || strings.Contains(out, "alerts down") || !strings.Contains(out, "ErrorBudgetBurn") {
		t.Errorf("a hung Tempo is not its own panel's error, or the alerts are gone:\n%s", out)
	}
}

// The overview arrives when its slowest part is read: a hung Tempo's
// probe gives up after probeWithin, not the load's whole timeout, so the
// other panels' data does not go stale behind it.
func TestHungTracesDoNotHoldTheOverview(t *testing.T) {
	d := deps(testFleet(t))
	d.Sources.Traces = hangingTraces{d.Sources.Traces}
	d.Timeout = 5 * time.Minute
	done := make(chan tea.Msg, 1)
	go func() { done <- loadOverview(d, nil)() }()
	select {
	case msg := <-done:
		if o := overviewData(msg.(overviewMsg)); o.TracesOf == nil || !errors.Is(o.TracesOf.Err, context.DeadlineExceeded) || o.AlertsOf.Err != nil {
			t.Errorf("traces %+v, alerts %v", o.TracesOf, o.AlertsOf.Err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a minute and no overview behind a hung Tempo")
	}
}

// unreportedResources answers that this stack reports no pools or CPU.
type unreportedResources struct{}

func (unreportedResources) Saturation(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.Saturation, error) {
	return nil, fmt.Errorf("prometheus saturation: no series from presets hikaricp: %w", sources.ErrNotReported)
}

// A Prometheus whose resource presets found nothing has not failed: the
// overview's saturation part has no error to show.
func TestOverviewSaturationNotReportedIsNoError(t *testing.T) {
	d := deps(testFleet(t))
	d.Sources.Resources = unreportedResources{}
	a := startedWith(t, d, 120, 30)
	if err := ov(a).data.SatOf.Err; err != nil {
		t.Errorf("saturation part: %v", err)
	}
}
