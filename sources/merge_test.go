package sources

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fixedChanges answers its changes, or its error.
type fixedChanges struct {
	found []Change
	err   error
}

func (f fixedChanges) Changes(context.Context, TimeRange) ([]Change, error) { return f.found, f.err }

// TestMergeChangesKeepsWhatEachFound: the same deploy from two sources
// within a minute is kept once, with its version; two changes of one
// source are both kept; a failed source does not hide the others; the
// merge fails only when every source failed, and then says ErrNotReported
// only when no source failed for real.
func TestMergeChangesKeepsWhatEachFound(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	prom := fixedChanges{found: []Change{
		{T: t0.Add(30 * time.Second), Service: "checkout", Kind: ChangeDeploy, Version: "1.4.2", Source: "prometheus: build_info"},
		{T: t0.Add(40 * time.Second), Service: "checkout", Kind: ChangeRestart, Source: "prometheus: process_restart"},
		{T: t0.Add(50 * time.Second), Service: "checkout", Kind: ChangeRestart, Source: "prometheus: process_restart"},
	}}
	graf := fixedChanges{found: []Change{
		{T: t0, Service: "checkout", Kind: ChangeDeploy, Detail: "deploy checkout", Source: "grafana annotation 7"},
		{T: t0.Add(5 * time.Minute), Service: "checkout", Kind: ChangeDeploy, Source: "grafana annotation 8"},
		{T: t0.Add(10 * time.Second), Service: "cart", Kind: ChangeDeploy, Source: "grafana annotation 9"},
	}}
	got, err := MergeChanges(prom, graf).Changes(context.Background(), TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, fmt.Sprintf("%s %s %s %s %s", c.T.Format("15:04:05"), c.Service, c.Kind, c.Version, c.Source))
	}
	want := strings.Join([]string{
		"09:00:10 cart deploy  grafana annotation 9",
		"09:00:30 checkout deploy 1.4.2 prometheus: build_info",
		"09:00:40 checkout restart  prometheus: process_restart",
		"09:00:50 checkout restart  prometheus: process_restart",
		"09:05:00 checkout deploy  grafana annotation 8",
	}, "\n")
	if g := strings.Join(lines, "\n"); g != want {
		t.Errorf("merged:\n%s\nwant:\n%s", g, want)
	}

	down := errors.New("grafana: HTTP 401")
	none := fmt.Errorf("prometheus: no preset found series: %w", ErrNotReported)
	if got, err := MergeChanges(fixedChanges{err: down}, graf).Changes(context.Background(), TimeRange{}); !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), "401") || len(got) != 3 {
		t.Errorf("one source down: %d changes, %v; want the other's 3 and a partial error naming the 401", len(got), err)
	}
	if _, err := MergeChanges(fixedChanges{err: none}, fixedChanges{err: none}).Changes(context.Background(), TimeRange{}); !errors.Is(err, ErrNotReported) {
		t.Errorf("none reported: %v, want ErrNotReported", err)
	}
	_, err = MergeChanges(fixedChanges{err: none}, fixedChanges{err: down}).Changes(context.Background(), TimeRange{})
	if err == nil || errors.Is(err, ErrNotReported) || !strings.Contains(err.Error(), "401") {
		t.Errorf("one down, one not reporting: %v, want the failure, not ErrNotReported", err)
	}
}

func TestChangeStepIsARangesTwoHundredFortiethAtLeastAScrape(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for span, want := range map[time.Duration]time.Duration{time.Hour: 15 * time.Second, 15 * time.Minute: 15 * time.Second,
		6 * time.Hour: 90 * time.Second, 75 * time.Minute: 19 * time.Second} {
		if got := ChangeStep(TimeRange{Start: t0, End: t0.Add(span)}); got != want {
			t.Errorf("step over %s: %s, want %s", span, got, want)
		}
	}
}

// TestDedupeChangesWithinAStepPrefersAVersion: two groups' reports of one
// change are one change within the step when the step is wider than
// SameChangeWithin, the one with a version kept, else the earlier
// group's; one group's two changes stay two.
func TestDedupeChangesWithinAStepPrefersAVersion(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	rs := []Change{
		{T: t0, Service: "checkout", Kind: ChangeDeploy, Source: "prometheus: kube_deploy"},
		{T: t0.Add(30 * time.Second), Service: "checkout", Kind: ChangeRestart, Source: "prometheus: kube_restart"},
	}
	build := []Change{{T: t0.Add(90 * time.Second), Service: "checkout", Kind: ChangeDeploy, Version: "1.4.3", Source: "prometheus: build_info"}}
	restarts := []Change{
		{T: t0.Add(40 * time.Second), Service: "checkout", Kind: ChangeRestart, Source: "prometheus: process_restart"},
		{T: t0.Add(3 * time.Minute), Service: "checkout", Kind: ChangeRestart, Source: "prometheus: process_restart"},
	}
	show := func(cs []Change) string {
		var lines []string
		for _, c := range cs {
			lines = append(lines, fmt.Sprintf("%s %s %s %s", c.T.Format("15:04:05"), c.Kind, c.Version, c.Source))
		}
		return strings.Join(lines, "\n")
	}
	// at a 90s step the deploy read 90s apart is one, told with its version
	got := show(DedupeChanges([][]Change{rs, build, restarts}, 90*time.Second))
	want := strings.Join([]string{
		"09:00:30 restart  prometheus: kube_restart",
		"09:01:30 deploy 1.4.3 prometheus: build_info",
		"09:03:00 restart  prometheus: process_restart", // the 09:00:40 one is kube_restart's; this is another
	}, "\n")
	if got != want {
		t.Errorf("at a 90s step:\n%s\nwant:\n%s", got, want)
	}
	// at a 15s step, within SameChangeWithin only: 90s apart are two deploys
	if got := DedupeChanges([][]Change{rs, build}, 15*time.Second); len(got) != 3 {
		t.Errorf("at a 15s step:\n%s\nwant the two deploys apart", show(got))
	}
}

func TestPoolResourceAndTarget(t *testing.T) {
	if r := PoolResource("payment-db"); r != "pool:payment-db" {
		t.Errorf("PoolResource = %q", r)
	}
	if target, ok := PoolTarget("pool:payment-db"); !ok || target != "payment-db" {
		t.Errorf("PoolTarget = %q, %v", target, ok)
	}
	for _, r := range []string{ResourceKindWorkers, ResourceKindCPU, ResourceKindMemory, "poolside"} {
		if _, ok := PoolTarget(r); ok {
			t.Errorf("PoolTarget(%q) is a pool", r)
		}
	}
}
