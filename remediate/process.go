package remediate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// outputGrace is how long a command's output may stay open once the
// command has ended or been killed: long enough for its last lines to
// arrive, short enough that a child holding the pipe cannot stretch a
// timeout.
const outputGrace = 2 * time.Second

type execResult struct {
	code   int
	digest string
	bytes  int
	took   time.Duration // the command alone, without verification
	err    error
}

// lineWriter hashes what passes and reports it line by line.
type lineWriter struct {
	mu     sync.Mutex
	h      hashWriter
	n      int
	buf    []byte
	action string
	report func(Event)
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.h.Write(p)
	w.n += len(p)
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) emit(s string) {
	if w.report != nil {
		w.report(Event{Action: w.action, Line: termsafe.Line(s)})
	}
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (x *Executor) execute(ctx context.Context, action string, c Command, timeout time.Duration) execResult {
	timedOut := fmt.Errorf("timed out after %s", shortDuration(timeout))
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, timedOut)
	defer cancel()
	w := &lineWriter{h: sha256.New(), action: action, report: x.Report}
	res := execResult{}
	start := time.Now()
	switch c.Kind {
	case KindExec:
		// exec'd as argv: no shell reads any of it
		cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
		cmd.Stdout, cmd.Stderr, cmd.Dir = w, w, c.Dir
		killGroupOnCancel(cmd)
		// a child the group kill missed (it left the group), or one a
		// command that succeeded left running, may still hold the
		// output: stop waiting for it
		cmd.WaitDelay = outputGrace
		err := cmd.Run()
		w.flush()
		var ee *exec.ExitError
		switch {
		case err != nil && context.Cause(ctx) == timedOut:
			res.code, res.err = -1, fmt.Errorf("%s %w: its process group was killed", c.Argv[0], timedOut)
		case errors.As(err, &ee):
			res.code, res.err = ee.ExitCode(), fmt.Errorf("%s exited with %d", c.Argv[0], ee.ExitCode())
		case errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState.Success():
			// it succeeded and left a child holding the output, as an
			// init script that daemonises does: that child is what the
			// action was run to start, so it is left running
			x.report(action, "%s exited 0; a process it started still holds its output, and its output after it exited was not captured", c.Argv[0])
		case err != nil:
			res.code, res.err = -1, err
		}
	case KindHTTP:
		res.code, res.err = x.doHTTP(ctx, c.Request, w)
	case KindSilence:
		if x.Sources.Alerts == nil {
			res.code, res.err = -1, fmt.Errorf("no alertmanager configured")
			break
		}
		id, err := x.Sources.Alerts.CreateSilence(ctx, *c.Silence)
		if err != nil {
			res.code, res.err = 1, err
			break
		}
		fmt.Fprintf(w, "silence %s created\n", id)
	case KindSim:
		if x.Actuator == nil {
			res.code, res.err = -1, fmt.Errorf("simulator actions need the simulator: this runbook is for oncall demo")
			break
		}
		ch, err := x.Actuator.Act(ctx, *c.Sim)
		if err != nil {
			res.code, res.err = 1, err
			break
		}
		fmt.Fprintf(w, "%s %s: %s\n", ch.Kind, ch.Service, ch.Detail)
	}
	w.flush()
	res.digest, res.bytes, res.took = hex.EncodeToString(w.h.Sum(nil)), w.n, time.Since(start)
	return res
}
