package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// watchOptions are --watch and --refresh for the list commands.
type watchOptions struct {
	on      bool
	refresh time.Duration
}

func (w *watchOptions) flags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&w.on, "watch", "w", false, "redraw every --refresh until interrupted, like kubectl get -w")
	durationFlag(cmd, &w.refresh, "refresh", "", 2*time.Second, "with --watch: how often to redraw")
}

// run fetches and renders once, or, with --watch, again every refresh
// until ctx ends. On a terminal each round redraws the screen in place;
// into a pipe each round is printed after a line with its time. A fetch
// that fails is shown in place and the watch goes on: a backend that is
// down for a minute must not end it.
func (w *watchOptions) run(ctx context.Context, f *Factory, fetch func(context.Context) (func() error, error)) error {
	if !w.on {
		render, err := fetch(ctx)
		if err != nil {
			return err
		}
		return render()
	}
	if w.refresh < 200*time.Millisecond {
		return usagef("--refresh %s: at least 200ms", w.refresh)
	}
	out := f.IO.Out
	tty := isTerminal(out)
	t := time.NewTicker(w.refresh)
	defer t.Stop()
	for {
		if tty {
			fmt.Fprint(out, "\x1b[H\x1b[2J") // home, clear
		}
		fmt.Fprintf(out, "every %s · %s\n", w.refresh, f.Global.timestamp(f.Now()))
		render, err := fetch(ctx)
		if err == nil {
			err = render()
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(out, "✗", err)
		}
		if !tty {
			fmt.Fprintln(out)
		}
		select {
		case <-ctx.Done():
			return nil // interrupted: the normal way out of a watch
		case <-t.C:
		}
	}
}

// writeJSONFor writes v as indented JSON, or as one compact line when it
// is one of a stream (a watch, the demo's summaries): newline-delimited
// JSON that a pipe can read line by line.
func writeJSONFor(w io.Writer, v any, stream bool) error {
	if !stream {
		return writeJSON(w, v)
	}
	return encodeJSON(w, v, "")
}
