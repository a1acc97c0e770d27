package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
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
	tmux := testenv.Binary(t, "tmux")
	bin := filepath.Join(t.TempDir(), "oncall")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tm := func(args ...string) string {
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// a fixed user signs the acknowledgement; the demo runs at 60x
	tm("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30",
		fmt.Sprintf("env USER=e2e-user TERM=xterm-256color %s demo --scenario retry-storm --speed 60 --seed 1; sleep 60", bin))
	t.Cleanup(func() { _ = exec.Command(tmux, "-S", sock, "kill-server").Run() })
	screen := func() string { return tm("capture-pane", "-t", "e2e", "-p") }
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			s := screen()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("waited 60s for %s; the pane shows:\n%s", what, s)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	has := func(subs ...string) func(string) bool {
		return func(s string) bool {
			for _, x := range subs {
				if !strings.Contains(s, x) {
					return false
				}
			}
			return true
		}
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
	waitFor("the folded root span", has("▸ "))
	tm("send-keys", "-t", "e2e", "Escape")
	waitFor("the incident again", has("ROOT-CAUSE CANDIDATES"))
	tm("send-keys", "-t", "e2e", "Escape")
	waitFor("the overview again", has("FIRING ALERTS", "(enter: incident, a: acknowledge)"))
	// down to payment-api's alert, whose logs name the exhausted pool
	for i := 0; i < 5 && !selected(screen(), "payment-api"); i++ {
		tm("send-keys", "-t", "e2e", "Down")
		time.Sleep(300 * time.Millisecond)
	}
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

// selected says the overview's selected alert is on service.
func selected(screen, service string) bool {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "▸ ") && strings.Contains(l, " "+service+" ") {
			return true
		}
	}
	return false
}

// BenchmarkStartToFirstFrame measures, in tmux, the time from starting
// `oncall demo` to the cockpit's first frame with data on the pane.
func BenchmarkStartToFirstFrame(b *testing.B) {
	tmux := testenv.Binary(b, "tmux")
	bin := filepath.Join(b.TempDir(), "oncall")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
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
