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
}

func (e *env) getenv(k string) string {
	v, _ := e.LookupEnv(k)
	return v
}

// exitError carries an exit code for failures already reported to the user.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{IO: IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, LookupEnv: os.LookupEnv, Now: time.Now}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, e *env, args []string) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(e.IO.In)
	root.SetOut(e.IO.Out)
	root.SetErr(e.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintln(e.IO.ErrOut, "oncall:", err)
		return 1
	}
}
