// Command oncall is a terminal cockpit for the engineer on call.
//
// This package is the cobra wiring: it reads the config, builds the backend
// clients and hands them to the packages that use them. It is the only
// package that imports the backends.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // --timezone works where the system has no zoneinfo

	"github.com/oncall-cockpit/oncall/sources"
	"github.com/spf13/cobra"
)

// IOStreams is where a command reads and writes; tests swap in buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// env is the outside world a command may see, injected so tests control it.
type env struct {
	IO        IOStreams
	LookupEnv func(string) (string, bool)
	Now       func() time.Time
	// osUser names the OS user, for when $USER is unset.
	osUser func() string
	// abort is closed at the second interrupt (the first cancels the
	// command's context): what was let finish then stops. nil never closes.
	abort <-chan struct{}
}

func (e *env) getenv(k string) string {
	v, _ := e.LookupEnv(k)
	return v
}

// Exit codes, as --help, the README and the man pages document them.
const (
	exitOK         = 0
	exitFailed     = 1 // a check failed (doctor, config validate), or an action was refused or failed
	exitUsage      = 2 // a usage error: unknown command or flag, bad value, bad config, unknown service
	exitIncomplete = 3 // the evidence is incomplete: a backend did not answer, or answered with an error
)

// exitStatus is the EXIT STATUS section of --help and the man pages.
const exitStatus = `Exit status:
  0  ok
  1  a check failed (doctor, config validate), or an action
     was refused or failed
  2  usage error: unknown command or flag, bad value, bad config, unknown
     service
  3  the evidence is incomplete: a backend did not answer or answered with
     an error; what did arrive is still printed`

// exitError carries an exit code for failures already reported to the user.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError is a mistake in how oncall was called: exit 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// actionError is an action a backend refused or that failed: exit 1, even
// when the backend's answer was an error.
type actionError struct{ error }

func (e actionError) Unwrap() error { return e.error }

// exitCode maps an error to its exit code: usage errors 2, failed actions
// 1, reads from backends that failed 3, the rest 1.
func exitCode(err error) int {
	var ee exitError
	var ue usageError
	var ae actionError
	var be *sources.BackendError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ae):
		return exitFailed
	case errors.As(err, &be):
		return exitIncomplete
	}
	return exitFailed
}

func main() {
	ctx, abort, stop := interrupts()
	e := &env{IO: IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, LookupEnv: os.LookupEnv, Now: time.Now, osUser: osUserName, abort: abort}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// interrupts watches SIGINT and SIGTERM. The first cancels the context,
// which ends every command; the second closes abort, which stops what a
// command let finish (a runbook's action, so that its audit entry is
// written); after that the signals' default is back, and a third ends
// oncall at once. The chaos commands watch the signals themselves as
// well (thirdInterruptEnds): their third says how to roll back the run
// it leaves unfinished.
func interrupts() (ctx context.Context, abort <-chan struct{}, stop func()) {
	// the cause names the signal: what it stopped (a chaos run's report)
	// says "interrupted (terminated)"
	ctx, cancel := context.WithCancelCause(context.Background())
	aborted, done := make(chan struct{}), make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer signal.Stop(sig)
		for _, then := range []func(os.Signal){func(s os.Signal) { cancel(fmt.Errorf("interrupted (%s)", s)) }, func(os.Signal) { close(aborted) }} {
			select {
			case s := <-sig:
				then(s)
			case <-done:
				return
			}
		}
	}()
	return ctx, aborted, func() { close(done); cancel(nil) }
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, e *env, args []string) int {
	// errors, warnings and prompts carry data (a target, a label, a
	// backend's answer): none of it may drive the terminal
	e.IO.ErrOut = terminalText{e.IO.ErrOut}
	// completions are names read from the config and the backends (an
	// SLO, a service, an alert), printed for the shell to show
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		e.IO.Out = terminalText{e.IO.Out}
	}
	root, f := newRoot(e)
	defer f.closeHistory()
	root.SetArgs(args)
	root.SetIn(e.IO.In)
	root.SetOut(e.IO.Out)
	root.SetErr(e.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	var ee exitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(e.IO.ErrOut, "oncall:", err)
	}
	return exitCode(err)
}
