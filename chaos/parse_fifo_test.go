//go:build unix

package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO named like an experiment is refused without being opened:
// opening it would block until a writer came, hanging chaos run, chaos
// list, the cockpit and the daemon. The other files still load.
func TestLoadRefusesFIFOWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.yaml"), []byte(goodExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	type loaded struct {
		fileErr error
		es      []*Experiment
		dirErr  error
	}
	done := make(chan loaded, 1)
	go func() {
		_, ferr := LoadFile(fifo)
		es, derr := LoadDir(dir)
		done <- loaded{ferr, es, derr}
	}()
	select {
	case l := <-done:
		if l.fileErr == nil || !strings.Contains(l.fileErr.Error(), "x.yaml is not a regular file") {
			t.Errorf("LoadFile of a FIFO: %v", l.fileErr)
		}
		if len(l.es) != 1 || l.dirErr == nil || !strings.Contains(l.dirErr.Error(), "x.yaml is not a regular file") {
			t.Errorf("LoadDir with a FIFO: %d loaded, %v", len(l.es), l.dirErr)
		}
	case <-time.After(10 * time.Second):
		// unblock the reader so the test binary can end
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("loading a FIFO blocked: it was opened before it was checked")
	}
}

// A bound out of float64's range, or YAML's infinity, is a number that
// is not finite: said so, not "write a number".
func TestBoundNotFinite(t *testing.T) {
	for _, v := range []string{".inf", "-.Inf", "1e400", "1e400%"} {
		src := strings.Replace(goodExperiment, "below: 1%", "below: "+v, 1)
		if src == goodExperiment {
			t.Fatal("the experiment has no guard bound 1% to replace")
		}
		_, ps := Parse([]byte(src), "exp.yaml")
		if !strings.Contains(ps.Error(), "must be a finite number") {
			t.Errorf("below: %s: %v", v, ps)
		}
	}
}
