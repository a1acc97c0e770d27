package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// TestCockpitInTmux drives the real binary in a real terminal, as a person
// would: start the retry-storm demo, open the incident of the first alert,
// read its root cause and blast radius, fold a trace, filter the logs, and
// acknowledge an alert.
func TestCockpitInTmux(t *testing.T) {
	// a fixed user signs the acknowledgement; the demo runs at 60x
	// the demo records the incident it opens: in the test's data directory
	p := newPane(t, "e2e", 100, 30, fmt.Sprintf("env USER=e2e-user XDG_DATA_HOME=%s TERM=xterm-256color %s demo --scenario retry-storm --speed 60 --seed 1; sleep 60", t.TempDir(), testBinary(t)))
	tm := func(args ...string) string { return p.run(args...) }
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		return p.waitFor(what, 60*time.Second, ok)
	}
	waitFor("the overview", has("FIRING ALERTS", "SERVICES", "✓ metrics"))
	// pages come first: the SLO burn of a service the storm reaches
	waitFor("a page", has("▸ ✗ page    ErrorBudgetBurn"))
	tm("send-keys", "-t", "e2e", "Enter")
	// drawn as its parts arrive: wait for the whole, traces included
	s := waitFor("the incident", has("ROOT-CAUSE CANDIDATES", "1. user-preferences-api", "Blast radius:", "assembled in"))
	if !strings.Contains(s, "per minute") {
		t.Errorf("no money per minute in the incident:\n%s", s)
	}
	tm("send-keys", "-t", "e2e", "t")
	waitFor("the trace waterfall", has("TRACE ", "▾ ", "█"))
	tm("send-keys", "-t", "e2e", "Enter")
	waitFor("the folded root span", has("▹ "))
	tm("send-keys", "-t", "e2e", "Escape")
	waitFor("the incident again", has("ROOT-CAUSE CANDIDATES"))
	tm("send-keys", "-t", "e2e", "Escape")
	waitFor("the overview again", has("FIRING ALERTS", "(enter: incident, a: acknowledge, /: filter)"))
	// down to payment-api's alert, whose logs name the exhausted pool
	p.selectAlert("payment-api")
	tm("send-keys", "-t", "e2e", "l")
	waitFor("the live logs", has("LOGS payment-api", "✓ live"))
	tm("send-keys", "-t", "e2e", "/")
	tm("send-keys", "-t", "e2e", "-l", "pool")
	tm("send-keys", "-t", "e2e", "Enter")
	waitFor("the filtered logs", has("filter: pool", "timeout acquiring connection"))
	tm("send-keys", "-t", "e2e", "Escape")
	waitFor("the overview after the logs", has("FIRING ALERTS"))
	tm("send-keys", "-t", "e2e", "a")
	waitFor("the confirmation", has("POST /api/v2/silences", "created by: e2e-user", "[y/N]"))
	tm("send-keys", "-t", "e2e", "y")
	waitFor("the acknowledgement", has("ErrorBudgetBurn acknowledged by e2e-user (silence"))
	tm("send-keys", "-t", "e2e", "?")
	waitFor("the help", has("KEYS", "acknowledge the selected alert"))
	tm("send-keys", "-t", "e2e", "q")
	waitFor("the exit", func(s string) bool { return !strings.Contains(s, "FIRING ALERTS") })
}

// selectAlert moves the overview's cursor to an alert on service, one
// key at a time, waiting after each for the cursor to move: a busy machine
// draws late, and a key sent before the last one's frame would overshoot.
// Live alerts can reorder under the cursor, so each step looks again at
// which way the service is.
func (p *pane) selectAlert(service string) {
	p.t.Helper()
	const mostKeys = 12 // more than the overview shows alert rows
	for range mostKeys {
		s := p.screen()
		cursor, row, at := alertRows(s, service)
		if row >= 0 && row == cursor {
			return
		}
		key := "Down"
		if row >= 0 && row < cursor {
			key = "Up"
		}
		p.keys(key)
		p.waitFor("the cursor to leave "+at, 20*time.Second, func(s string) bool {
			_, _, now := alertRows(s, service)
			return now != at
		})
	}
	p.t.Fatalf("no alert on %s after %d keys; the pane shows:\n%s", service, mostKeys, p.screen())
}

// alertRows reads the overview's FIRING ALERTS rows: the cursor's row, the
// first row on service (-1 when none is shown), and the alert under the
// cursor as its severity, name and service (the age beside them ticks).
func alertRows(screen, service string) (cursor, row int, at string) {
	cursor, row = -1, -1
	_, alerts, _ := strings.Cut(screen, "FIRING ALERTS")
	lines := strings.Split(alerts, "\n")[1:]
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			break
		}
		f := strings.Fields(strings.TrimPrefix(l, "▸ "))
		if strings.HasPrefix(l, "▸ ") {
			cursor, at = i, strings.Join(f[:min(4, len(f))], " ")
		}
		if row < 0 && slices.Contains(f, service) {
			row = i
		}
	}
	return cursor, row, at
}

// BenchmarkStartToFirstFrame measures, in tmux, the time from starting
// `oncall demo` to the cockpit's first frame with data on the pane.
func BenchmarkStartToFirstFrame(b *testing.B) {
	tmux := testenv.Binary(b, "tmux")
	bin := testBinary(b)
	sock := filepath.Join(b.TempDir(), "tmux.sock")
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()
	var first, data time.Duration
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("s%d", i)
		start := time.Now()
		if out, err := exec.Command(tmux, "-S", sock, "new-session", "-d", "-s", name, "-x", "200", "-y", "50", bin+" demo; sleep 5").CombinedOutput(); err != nil {
			b.Fatalf("%v %s", err, out)
		}
		var sawFirst bool
		for time.Since(start) < 10*time.Second {
			out, _ := exec.Command(tmux, "-S", sock, "capture-pane", "-t", name, "-p").Output()
			s := string(out)
			if !sawFirst && strings.Contains(s, "oncall ·") {
				first += time.Since(start)
				sawFirst = true
			}
			if strings.Contains(s, "SERVICES") && strings.Contains(s, "✓ metrics") {
				data += time.Since(start)
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		_ = exec.Command(tmux, "-S", sock, "kill-session", "-t", name).Run()
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-to-first-frame")
	b.ReportMetric(float64(data.Milliseconds())/float64(b.N), "ms-to-data")
}

// TestRemediationInTmux is the walk-through, as a person does it:
// in db-pool-exhaustion, open the incident, press R, read the plan; any
// key but y is no; R and y run it, and the error ratio falls until
// verification passes. Then the autopilot proposes bad-deploy's
// high-danger rollback, and the cockpit approves it with A and the typed
// name. Read-only, R does nothing but say so.
func TestRemediationInTmux(t *testing.T) {
	bin := testBinary(t)
	data := t.TempDir()
	p := newPane(t, "fix", 100, 30, fmt.Sprintf("env USER=e2e XDG_DATA_HOME=%s TERM=xterm-256color %s demo --scenario db-pool-exhaustion --speed 20 --seed 1; sleep 60", data, bin))
	p.waitFor("the page", 60*time.Second, has("▸ ✗ page"))
	p.selectAlert("payment-api")
	p.keys("Enter")
	p.waitFor("the runbooks", 60*time.Second, has("RUNBOOKS", "1. pool-full on payment-api", "assembled in"))
	p.keys("R")
	p.waitFor("the plan", 30*time.Second, has("1. DIAGNOSIS", "→ surge:", "simulator resize-pool payment-api → payment-db size=+100%", "Run it? [y/N]"))
	p.keys("n")
	p.waitFor("no", 10*time.Second, has("not run: pool-full", "ROOT-CAUSE CANDIDATES"))
	p.keys("R")
	p.waitFor("the plan again", 30*time.Second, has("Run it? [y/N]"))
	p.keys("y")
	p.waitFor("the run", 20*time.Second, has("▸ running simulator resize-pool", "pool payment-db: 10 → 20 connections per replica"))
	s := p.waitFor("verification", 90*time.Second, has("▸ verified: error ratio of payment-api", "✓ resolved"))
	if !strings.Contains(s, "runbook pool-full: resolved") {
		t.Errorf("no flash:\n%s", s)
	}
	// the run's record is written in a command of its own, which flashes
	// when it is done
	p.waitFor("the record resolved", 30*time.Second, has("runbook pool-full: resolved; inc-", " resolved"))
	r := oncall(t, map[string]string{"XDG_DATA_HOME": data}, "", "audit", "--demo")
	if !strings.Contains(r.out, "e2e@") || !strings.Contains(r.out, "[confirmed by e2e in the cockpit]") || !strings.Contains(r.out, ": resolved, exit 0") {
		t.Errorf("audit:\n%s", r.out)
	}
	// the cockpit recorded the incident, and its verified run resolved it
	// (the record is written before the flash): the draft tells it
	r = oncall(t, map[string]string{"XDG_DATA_HOME": data}, "", "postmortem", "last")
	for _, want := range []string{"# Postmortem draft", "The root cause was payment-api", "runbook pool-full verified (audit log)", "confirmed by e2e in the cockpit"} {
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("postmortem last after the cockpit's run: exit %d, lacks %q\n%s\n%s", r.code, want, r.out, r.err)
		}
	}

	a := newPane(t, "approve", 100, 30, fmt.Sprintf("env USER=e2e XDG_DATA_HOME=%s TERM=xterm-256color %s demo --scenario bad-deploy --speed 10 --autopilot --autopilot-interval 2s; sleep 60", data, bin))
	a.waitFor("the proposal", 90*time.Second, has("WAITING FOR APPROVAL", "bad-deploy on inventory, high danger"))
	a.keys("A")
	a.waitFor("the plan to approve", 30*time.Second, has("APPROVING PROPOSAL", "simulator rollback inventory", "Type inventory and enter"))
	a.text("inventory")
	a.keys("Enter")
	a.waitFor("the rollback verified", 90*time.Second, has("rollback inventory: rollback v2.15.0", "✓ resolved"))
	r = oncall(t, map[string]string{"XDG_DATA_HOME": data}, "", "audit", "--demo")
	if !strings.Contains(r.out, "proposal sim-") || !strings.Contains(r.out, "approved by e2e") || !strings.Contains(r.out, "bad-deploy/rollback on inventory") {
		t.Errorf("audit after the approval:\n%s", r.out)
	}

	ro := newPane(t, "ro", 100, 30, fmt.Sprintf("env XDG_DATA_HOME=%s TERM=xterm-256color %s demo --scenario crash-loop --speed 20 --read-only; sleep 60", data, bin))
	ro.waitFor("the overview", 60*time.Second, has("SERVICES", "✓ metrics"))
	ro.keys("Enter")
	ro.waitFor("the incident", 60*time.Second, has("RUNBOOKS", "assembled in"))
	ro.keys("R")
	ro.waitFor("the refusal", 10*time.Second, has("read-only: runbooks are disabled"))
}
