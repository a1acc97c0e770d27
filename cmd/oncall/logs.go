package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

// maxLogLimit is Loki's default max_entries_limit_per_query.
const maxLogLimit = 5000

type logsOptions struct {
	since, from, to string
	levels          []string
	grep, trace     string
	follow          bool
	limit           int
	output          string
	demo            demoSource
}

// demoSource is --demo SCENARIO [--seed N] [--after D] on the commands
// that can read the simulator instead of the configured datasources.
type demoSource struct {
	scenario string
	seed     uint64
	after    time.Duration
}

func (d *demoSource) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.scenario, "demo", "", "read the simulator running this scenario instead of the config's datasources")
	cmd.Flags().Uint64Var(&d.seed, "seed", 1, "with --demo: the simulator's seed")
	durationFlag(cmd, &d.after, "after", "", 10*time.Minute, "with --demo: how long after the scenario's onset it is")
	_ = cmd.RegisterFlagCompletionFunc("demo", completeScenarios)
}

// sources are the simulator's or the config's datasources, and the
// clock they answer on.
func (d *demoSource) sources(e *env, g *globalOptions) (correlate.Sources, func() time.Time, error) {
	if d.scenario != "" {
		f, err := simFleetAt(d.scenario, d.seed, d.after)
		if err != nil {
			return correlate.Sources{}, nil, usageError{err}
		}
		return simSources(f), f.Now, nil
	}
	cfg, _, err := g.loadConfig(e)
	if err != nil {
		return correlate.Sources{}, nil, err
	}
	b, err := newBackends(cfg)
	if err != nil {
		return correlate.Sources{}, nil, err
	}
	return b.correlateSources(), e.Now, nil
}

func newLogsCmd(e *env, g *globalOptions) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs [SERVICE]",
		Short: "Print log lines from Loki, oldest first, and follow them with -f",
		Long: `logs prints the newest --limit lines of a service (or of every service)
that match the filters, oldest first, and with -f goes on printing new ones
as Loki receives them, reconnecting when the connection drops. The LogQL is
written from the config's conventions: the service label, the level label,
the trace-ID field.

Times are --since (the last 15 minutes by default) or --from and --to, each
written as now, -10m, now-1h, an RFC 3339 time or Unix seconds.

  -o text   time, level, service and line, for reading
  -o raw    the line alone, for grep and awk
  -o json   one JSON object per line (NDJSON)

Control sequences in log lines are stripped in text and raw output.`,
		Example: `  oncall logs checkout-api --level error --since 1h
  oncall logs --grep 'timeout|refused' -f
  oncall logs --trace 4bf92f3577b34da6a3ce929d0e0e4736 -o json | jq .line`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeServices(e, g),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), e, g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "", "from this long ago to now (15m, 1h, 1d); default 15m")
	f.StringVar(&o.from, "from", "", "start: now, -1h, an RFC 3339 time or Unix seconds")
	f.StringVar(&o.to, "to", "", "end (default now)")
	f.StringSliceVar(&o.levels, "level", nil, "only these levels: error, warn, info, debug (repeatable or comma-separated)")
	f.StringVar(&o.grep, "grep", "", "only lines that match this regular expression (RE2)")
	f.StringVar(&o.trace, "trace", "", "only the lines of this trace ID")
	f.BoolVarP(&o.follow, "follow", "f", false, "go on printing new lines until interrupted")
	f.IntVar(&o.limit, "limit", 100, fmt.Sprintf("how many of the newest lines to print first, at most %d", maxLogLimit))
	outputFlag(cmd, &o.output, "text", "raw", "json")
	o.demo.flags(cmd)
	return cmd
}

// logsQuery checks the flags and builds the query.
func (o *logsOptions) query(args []string, now time.Time) (sources.LogQuery, error) {
	q := sources.LogQuery{Levels: o.levels, Grep: o.grep, Limit: o.limit}
	if len(args) == 1 {
		q.Services = args
	}
	if o.limit < 1 || o.limit > maxLogLimit {
		return q, usagef("--limit %d: from 1 to %d", o.limit, maxLogLimit)
	}
	if o.grep != "" {
		if _, err := regexp.Compile(o.grep); err != nil {
			return q, usagef("--grep: %v", err)
		}
	}
	for _, l := range o.levels {
		if !slices.Contains([]string{"error", "warn", "info", "debug"}, l) {
			return q, usagef("--level %q: one of error, warn, info, debug", l)
		}
	}
	if o.trace != "" {
		id, err := sources.NormalizeTraceID(o.trace)
		if err != nil {
			return q, usagef("--trace: %v", err)
		}
		q.TraceID = id
	}
	if o.since != "" && (o.from != "" || o.to != "") {
		return q, usagef("give --since, or --from and --to, not both")
	}
	q.Range = sources.TimeRange{Start: now.Add(-15 * time.Minute), End: now}
	if o.since != "" {
		d, err := timeparse.Duration(o.since)
		if err != nil {
			return q, usagef("--since: %v", err)
		}
		q.Range.Start = now.Add(-d)
	}
	var err error
	if o.from != "" {
		if q.Range.Start, err = timeparse.Time(o.from, now); err != nil {
			return q, usagef("--from: %v", err)
		}
	}
	if o.to != "" {
		if q.Range.End, err = timeparse.Time(o.to, now); err != nil {
			return q, usagef("--to: %v", err)
		}
	}
	if !q.Range.End.After(q.Range.Start) {
		return q, usagef("the range ends (%s) before it starts (%s)", q.Range.End.Format(time.RFC3339), q.Range.Start.Format(time.RFC3339))
	}
	return q, nil
}

func runLogs(ctx context.Context, e *env, g *globalOptions, o *logsOptions, args []string) error {
	src, now, err := o.demo.sources(e, g)
	if err != nil {
		return err
	}
	if src.Logs == nil {
		return usagef("no loki datasource configured: logs need one (or try --demo retry-storm)")
	}
	q, err := o.query(args, now())
	if err != nil {
		return err
	}
	color := o.output == "text" && isTerminal(e.IO.Out) && !g.NoColor && e.getenv("NO_COLOR") == ""
	out := e.IO.Out
	if color {
		out = g.styledOut(e) // downsampled to what the terminal shows
	}
	w := newBufWriter(out)
	defer w.Flush()
	p := &linePrinter{w: w, output: o.output, zone: g.zone(), color: color}
	lines, err := src.Logs.Logs(ctx, q)
	if err != nil {
		return err
	}
	slices.Reverse(lines) // oldest first, the newest at the bottom
	for _, l := range lines {
		if err := p.print(l); err != nil {
			return err
		}
	}
	if !o.follow {
		return nil
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return follow(ctx, e, src.Logs, q, lines, p)
}

// follow prints new lines until ctx ends. It starts where the printed
// lines end, and skips the lines at that instant it already printed.
func follow(ctx context.Context, e *env, logs sources.Logs, q sources.LogQuery, printed []sources.LogLine, p *linePrinter) error {
	q.Range = sources.TimeRange{Start: q.Range.End}
	seen := map[string]bool{}
	if n := len(printed); n > 0 {
		q.Range.Start = printed[n-1].T
		for _, l := range printed {
			if l.T.Equal(q.Range.Start) {
				seen[lineKey(l)] = true
			}
		}
	}
	ch, err := logs.Tail(ctx, q)
	if err != nil {
		return err
	}
	for ev := range ch {
		if ev.Reconnecting != nil {
			fmt.Fprintf(e.IO.ErrOut, "oncall: the tail broke (%v); reconnecting\n", ev.Reconnecting)
		}
		if ev.Dropped > 0 {
			fmt.Fprintf(e.IO.ErrOut, "oncall: ! %d lines dropped by the server\n", ev.Dropped)
		}
		for _, l := range ev.Lines {
			if len(seen) > 0 {
				if !l.T.After(q.Range.Start) && seen[lineKey(l)] {
					continue
				}
				if l.T.After(q.Range.Start) {
					clear(seen) // past the boundary: nothing more can repeat
				}
			}
			if err := p.print(l); err != nil {
				return err
			}
		}
		if err := p.w.Flush(); err != nil {
			return err
		}
	}
	return nil // interrupted: the normal end of -f
}

// newBufWriter buffers output: thousands of lines are written in a few
// system calls, and flushed after each batch of a follow.
func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 64<<10) }

func lineKey(l sources.LogLine) string { return l.T.String() + "\x00" + l.Service + "\x00" + l.Line }

// linePrinter writes log lines in one of the output forms.
type linePrinter struct {
	w      *bufio.Writer
	output string
	zone   *time.Location
	color  bool
}

var levelStyles = map[string]lipgloss.Style{
	"error": lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
	"warn":  lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
}

func (p *linePrinter) print(l sources.LogLine) error {
	switch p.output {
	case "json":
		return writeJSONFor(p.w, l, true)
	case "raw":
		p.w.WriteString(termsafe.Line(l.Line))
	default:
		lvl := fmt.Sprintf("%-5s", l.Level)
		if st, ok := levelStyles[l.Level]; ok && p.color {
			lvl = st.Render(lvl)
		}
		p.w.WriteString(l.T.In(p.zone).Format("2006-01-02 15:04:05.000"))
		p.w.WriteByte(' ')
		p.w.WriteString(lvl)
		p.w.WriteByte(' ')
		p.w.WriteString(termsafe.Line(l.Service))
		p.w.WriteByte(' ')
		p.w.WriteString(termsafe.Line(l.Line))
	}
	return p.w.WriteByte('\n')
}

func newTraceCmd(e *env, g *globalOptions) *cobra.Command {
	var output string
	var demo demoSource
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
			id, err := sources.NormalizeTraceID(args[0])
			if err != nil {
				return usagef("trace ID %q: %v", args[0], err)
			}
			src, _, err := demo.sources(e, g)
			if err != nil {
				return err
			}
			if src.Traces == nil {
				return usagef("no tempo datasource configured: traces need one (or try --demo retry-storm)")
			}
			ctx := cmd.Context()
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
			if output == "json" {
				err = writeJSON(e.IO.Out, views[0])
			} else {
				err = present.TraceText(g.styledOut(e), views[0], terminalWidth(e.IO.Out, 120), g.zone())
			}
			if err != nil {
				return err
			}
			if logsErr != nil {
				fmt.Fprintf(e.IO.ErrOut, "oncall: the trace is printed without its log lines: %v\n", logsErr)
				return exitError{code: exitIncomplete}
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "text", "json")
	demo.flags(cmd)
	return cmd
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
