package main

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// testFactory is a Factory over buffers and a fixed environment.
func testFactory(vars map[string]string) *Factory {
	e := &env{
		IO:        IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}},
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Now:       func() time.Time { return time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC) },
	}
	return &Factory{env: e, Global: &globalOptions{}}
}

func TestDemoWorldIsTheSimulatorAtOnsetPlusAfter(t *testing.T) {
	f := testFactory(map[string]string{"XDG_DATA_HOME": t.TempDir()})
	w, err := f.World(context.Background(), DemoFlags{Scenario: "retry-storm", Seed: 1, After: 20 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if want := "simulator: retry-storm, seed 1, onset 20m0s"; w.Label != want {
		t.Errorf("label %q, want %q", w.Label, want)
	}
	if !w.Simulated() || w.Config != nil || w.Backends != nil {
		t.Errorf("a simulated world with config parts: %+v", w)
	}
	if got, want := w.Now(), w.Fleet.Onset().Add(20*time.Minute); !got.Equal(want) {
		t.Errorf("clock %s, want onset+20m %s", got, want)
	}
	if w.Sources.Changes == nil || w.Sources.Resources == nil || len(w.SLOs) == 0 || w.Currency == "" {
		t.Errorf("the simulator's world lacks parts: %+v", w)
	}
	// the kit acts on the fleet, and verification waits in simulated time
	k := f.Kit(w)
	if k.Exec.Actuator == nil || len(k.Runbooks) == 0 || !strings.HasSuffix(k.Audit.Path, "demo-audit.jsonl") || k.Deadline < time.Minute {
		t.Errorf("kit: actuator %v, %d runbooks, audit %s", k.Exec.Actuator, len(k.Runbooks), k.Audit.Path)
	}
	if !k.Planner.Now().Equal(w.Now()) || !k.Exec.Now().Equal(w.Now()) || !k.Exec.Guard.Now().Equal(w.Now()) {
		t.Errorf("the kit plans, guards or runs off the fleet's clock")
	}
	before := w.Now()
	if err := k.Exec.Wait(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if moved := w.Now().Sub(before); moved != time.Minute {
		t.Errorf("a minute's wait moved the fleet by %s", moved)
	}
}

func TestUnknownScenarioIsAUsageError(t *testing.T) {
	_, err := testFactory(nil).World(context.Background(), DemoFlags{Scenario: "retry-strom", Seed: 1})
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "retry-storm") {
		t.Fatalf("err %v (exit %d), want a usage error naming retry-storm", err, exitCode(err))
	}
}

func TestConfigWorldIsTheConfigs(t *testing.T) {
	cfg := writeFile(t, "config.yaml", `currency: EUR
datasources:
  prometheus: {url: "http://127.0.0.1:1"}
services:
  checkout-api: {owner: shop, runbooks: ["https://wiki.example/restart"], depends_on: [payment-api]}
slos:
  - {name: checkout-availability, service: checkout-api, objective: 99.9, window: 28d}
`)
	f := testFactory(map[string]string{"XDG_DATA_HOME": t.TempDir()})
	f.Global.ConfigPath = cfg
	w, err := f.World(context.Background(), DemoFlags{Seed: 1, After: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if w.Label != "config "+cfg || w.Simulated() || w.Currency != "EUR" || w.Backends.Prometheus == nil {
		t.Errorf("config world: %+v", w)
	}
	// prometheus answers changes and saturation too, through the presets
	if w.Sources.Metrics == nil || w.Sources.Logs != nil || w.Sources.Changes == nil || w.Sources.Resources == nil {
		t.Errorf("sources: %+v", w.Sources)
	}
	if len(w.SLOs) != 1 || math.Abs(w.SLOs[0].Objective-0.999) > 1e-9 || w.SLOs[0].Window != 28*24*time.Hour {
		t.Errorf("SLOs %+v", w.SLOs)
	}
	if w.Meta.Static["checkout-api"][0] != "payment-api" || w.Meta.Services["checkout-api"].Owner != "shop" {
		t.Errorf("meta %+v", w.Meta)
	}
	d := f.Deps(w, w.Path)
	if d.Kit != nil || d.Runbooks["checkout-api"][0] != "https://wiki.example/restart" {
		t.Errorf("deps: kit %v without a runbooks directory, runbooks %v", d.Kit, d.Runbooks)
	}
	if _, _, err := f.RunbookKit(context.Background(), DemoFlags{}); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "no runbooks directory in "+cfg) {
		t.Errorf("a runbook kit without runbooks: %v", err)
	}
}

// TestDemoFlagsAreOne: every command that reads the simulator declares
// --demo, --seed and --after through DemoFlags, so their help agrees.
func TestDemoFlagsAreOne(t *testing.T) {
	var ref DemoFlags
	probe := &cobra.Command{Use: "probe"}
	ref.Register(probe, time.Minute)
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if fl := c.Flags().Lookup("demo"); fl != nil && fl.Value.Type() == "string" {
			n++
			for _, name := range []string{"demo", "seed", "after"} {
				got, want := c.Flags().Lookup(name), probe.Flags().Lookup(name)
				if got == nil || got.Usage != want.Usage {
					t.Errorf("%s --%s: %v, want the DemoFlags usage %q", c.CommandPath(), name, got, want.Usage)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(testFactory(nil).env))
	if n < 10 {
		t.Errorf("only %d commands read the simulator", n)
	}
}

// TestAfterIsBounded: --after is simulated before anything is read, so a
// mistyped one (2562047h) is refused at once rather than run for hours.
func TestAfterIsBounded(t *testing.T) {
	_, err := testFactory(nil).World(context.Background(), DemoFlags{Scenario: "retry-storm", Seed: 1, After: 2562047 * time.Hour})
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "at most 1d") {
		t.Fatalf("err %v, want a usage error naming the bound", err)
	}
	// with a mistyped scenario too, the scenario is what it names first
	_, err = testFactory(nil).World(context.Background(), DemoFlags{Scenario: "retry-strom", Seed: 1, After: 2562047 * time.Hour})
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "retry-strom") {
		t.Fatalf("err %v, want the unknown scenario named", err)
	}
}

// TestLongAfterEndsWithTheContext: simulating a day takes seconds, and
// ctrl+c (the context) ends it at the next hour of fleet time.
func TestLongAfterEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w, err := testFactory(nil).World(ctx, DemoFlags{Scenario: "retry-storm", Seed: 1, After: 24 * time.Hour})
	if w != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("world %v, err %v; want nothing and the context's end", w, err)
	}
}
