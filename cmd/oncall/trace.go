package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

// traceOptions are trace's flags and ID, and the factory it reads
// through.
type traceOptions struct {
	*Factory
	// id is the trace ID as given: hex of any case, or base64.
	id     string
	output string
	demo   DemoFlags
}

// NewCmdTrace is `oncall trace`; runF, when set, runs instead of
// runTrace, so tests can read the options the flags gave.
func NewCmdTrace(f *Factory, runF func(context.Context, *traceOptions) error) *cobra.Command {
	o := &traceOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "trace ID",
		Short: "Print a trace as a text waterfall, with the log lines joined to its spans",
		Long: `trace fetches one trace from Tempo and its log lines from Loki (by trace ID,
around the trace's time), joins each line to the span it was written in,
and prints the waterfall: every span on a shared time axis, ✗ on failed
ones, then each failed span's error and log lines. -o json prints the
joined trace. IDs may be hex of any case or base64.`,
		Example: `  oncall trace 4bf92f3577b34da6a3ce929d0e0e4736
  oncall trace 4bf92f3577b34da6a3ce929d0e0e4736 -o json | jq '.spans[] | select(.status == "error")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.id = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runTrace(cmd.Context(), o)
		},
	}
	outputFlag(cmd, &o.output, "text", "json")
	o.demo.Register(cmd, logsAfter)
	return cmd
}

func runTrace(ctx context.Context, o *traceOptions) error {
	id, err := sources.NormalizeTraceID(o.id)
	if err != nil {
		return usagef("trace ID %q: %v", o.id, err)
	}
	w, err := o.World(ctx, o.demo)
	if err != nil {
		return err
	}
	src := w.Sources
	if src.Traces == nil {
		return usagef("no tempo datasource configured: traces need one (or try --demo retry-storm)")
	}
	t, err := src.Traces.Trace(ctx, id)
	if errors.Is(err, sources.ErrNotFound) {
		return fmt.Errorf("trace %s not found: it was not sampled, or it is older than the backend keeps", id)
	}
	if err != nil {
		return err
	}
	logs, logsErr := traceLogs(ctx, src.Logs, t)
	views := correlate.JoinTraces([]sources.Trace{t}, logs, correlate.ErrorOrigins([]sources.Trace{t}))
	if len(views) == 0 {
		return fmt.Errorf("trace %s has no spans", id)
	}
	if o.output == "json" {
		err = writeJSON(o.IO.Out, views[0])
	} else {
		err = present.TraceText(o.StyledOut(), views[0], terminalWidth(o.IO.Out, 120), o.Global.zone())
	}
	if err != nil {
		return err
	}
	if logsErr != nil {
		fmt.Fprintf(o.IO.ErrOut, "oncall: the trace is printed without its log lines: %v\n", logsErr)
		return exitError{code: exitIncomplete}
	}
	return nil
}

// traceLogs are a trace's log lines, asked for by its ID over its time
// widened by correlate.LogMargin; none without a Loki.
func traceLogs(ctx context.Context, logs sources.Logs, t sources.Trace) ([]sources.LogLine, error) {
	if logs == nil || len(t.Spans) == 0 {
		return nil, nil
	}
	start, end := t.Spans[0].Start, t.Spans[0].End
	for _, sp := range t.Spans {
		start, end = minTime(start, sp.Start), maxTime(end, sp.End)
	}
	return logs.Logs(ctx, sources.LogQuery{TraceID: t.ID, Range: sources.TimeRange{Start: start.Add(-correlate.LogMargin), End: end.Add(correlate.LogMargin)},
		Limit: maxLogLimit, Forward: true})
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// terminalWidth is the terminal's width, or def off a terminal.
func terminalWidth(w io.Writer, def int) int {
	if f, ok := w.(interface{ Fd() uintptr }); ok && isTerminal(w) {
		if width, _, err := term.GetSize(f.Fd()); err == nil && width > 40 {
			return width
		}
	}
	return def
}
