package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// testBinary builds the oncall binary once for the tests that run it.
func testBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "oncall-bin")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "oncall")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return built.path
}

// pane is a tmux session running a command: a terminal as a person has.
type pane struct {
	t    *testing.T
	tmux string
	sock string
	name string
}

// newPane starts command in a width × height tmux session.
func newPane(t *testing.T, name string, width, height int, command string) *pane {
	t.Helper()
	p := &pane{t: t, tmux: testenv.Binary(t, "tmux"), sock: filepath.Join(t.TempDir(), "tmux.sock"), name: name}
	p.run("new-session", "-d", "-s", name, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height), command)
	t.Cleanup(func() { _ = exec.Command(p.tmux, "-S", p.sock, "kill-server").Run() })
	return p
}

func (p *pane) run(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, append([]string{"-S", p.sock}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (p *pane) screen() string { return p.run("capture-pane", "-t", p.name, "-p") }

// keys sends keys by their tmux names (Enter, Escape, Down, a, …).
func (p *pane) keys(keys ...string) { p.run(append([]string{"send-keys", "-t", p.name}, keys...)...) }

// text types text literally.
func (p *pane) text(s string) { p.run("send-keys", "-t", p.name, "-l", s) }

// waitFor polls the screen until ok holds, for up to d.
func (p *pane) waitFor(what string, d time.Duration, ok func(string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := p.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited %s for %s; the pane shows:\n%s", d, what, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// has holds when the screen shows every one of subs.
func has(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, x := range subs {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	}
}

// TestVerboseCockpitNeedsStderrElsewhere: the request log would write
// over the cockpit's screen, so -v with stderr on the terminal is
// refused with the way out; with stderr sent to a file, the cockpit runs.
func TestVerboseCockpitNeedsStderrElsewhere(t *testing.T) {
	bin := testBinary(t)
	p := newPane(t, "verbose", 100, 24, bin+" -v demo; echo exit=$?; sleep 60")
	p.waitFor("the refusal", 20*time.Second, has("oncall -v 2>requests.log", "exit=2"))
	log := filepath.Join(t.TempDir(), "requests.log")
	p = newPane(t, "verbose-file", 100, 24, "XDG_DATA_HOME="+t.TempDir()+" "+bin+" -v demo 2>"+log)
	p.waitFor("the cockpit", 20*time.Second, has("FIRING ALERTS"))
}
