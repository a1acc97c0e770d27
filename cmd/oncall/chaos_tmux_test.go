package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// trippingExperiment fails a fifth of payment-api's requests under a
// guard of 1% errors: the guard trips at its first reading.
const trippingExperiment = `name: payment-errors
hypothesis: payment-api keeps its errors under 1% while a fifth of its requests fail
target: payment-api
steady_state:
  - {service: payment-api, signal: error_ratio, below: 1%, over: 5m}
inject:
  - name: errors
    kind: sim
    sim: {action: inject-errors, service: "{{.Target}}", params: {ratio: 20%}}
guards:
  - {service: payment-api, signal: error_ratio, below: 1%}
interval: 5s
duration: 10m
rollback:
  - name: clear
    kind: sim
    sim: {action: clear-faults, service: "{{.Target}}"}
`

// TestChaosInTheCockpit is the Done-when as a person does it, on the
// demo: C lists the experiment, enter shows its plan, the target's name
// typed runs it; the guard trips, the fault is rolled back, the report
// says FAILED, and the run is recorded in the history.
func TestChaosInTheCockpit(t *testing.T) {
	bin := testBinary(t)
	home := t.TempDir()
	dir := filepath.Join(home, "config", "oncall", "experiments")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "payment-errors.yaml"), []byte(trippingExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	// a file that does not load is listed by its problem, beside the one that does
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("name: broken\ntarget: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := "HOME=" + home + " XDG_CONFIG_HOME=" + filepath.Join(home, "config") + " XDG_DATA_HOME=" + filepath.Join(home, "data") + " XDG_STATE_HOME=" + filepath.Join(home, "state")
	// the shell stays after oncall exits, so that its status is read
	p := newPane(t, "chaos", 100, 30, env+" "+bin+" demo --scenario quiet --speed 10; echo exit=$?; sleep 60")
	p.waitFor("the cockpit", 30*time.Second, has("FIRING ALERTS"))
	p.keys("C")
	p.waitFor("the experiment list", 10*time.Second, has("CHAOS EXPERIMENTS", "payment-errors", "payment-api", "✗ broken.yaml:"))
	p.keys("Enter")
	p.waitFor("the plan", 10*time.Second, has("INJECT", "errors: simulator inject-errors payment-api ratio=20%", "ROLLBACK", "Type payment-api and enter"))
	p.text("payment-api")
	p.keys("Enter")
	p.waitFor("the guard to trip", 60*time.Second, has("TRIPPED"))
	// a failed run is an incident in the history, as oncall chaos run makes it
	s := p.waitFor("the report", 30*time.Second, has("ENDED ✗ FAILED", "REPORT  ✗ FAILED", "rollback: ✓ clear on payment-api: done",
		"chaos payment-errors: failed, recorded as inc-"))
	if !has("tripped: payment-api error ratio < 1%")(s) {
		t.Fatalf("the report does not say which guard tripped:\n%s", s)
	}
	p.keys("q")
	p.waitFor("the cockpit to quit", 10*time.Second, has("exit=0"))
}
