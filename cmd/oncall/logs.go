package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

// maxLogLimit is Loki's default max_entries_limit_per_query.
const maxLogLimit = 5000

// logsOptions are logs' flags and service, and the factory it reads
// through.
type logsOptions struct {
	*Factory
	// services is the SERVICE argument, when given.
	services        []string
	since, from, to string
	levels          []string
	grep, trace     string
	follow          bool
	limit           int
	output          string
	demo            DemoFlags
}

// logsAfter is --after's default for logs and trace: ten minutes into
// the scenario, when its lines and traces tell the story.
const logsAfter = 10 * time.Minute

// NewCmdLogs is `oncall logs`; runF, when set, runs instead of runLogs,
// so tests can read the options the flags gave.
func NewCmdLogs(f *Factory, runF func(context.Context, *logsOptions) error) *cobra.Command {
	o := &logsOptions{Factory: f}
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

  -o text   time, level, service and line, for reading; the time is RFC 3339
            in --timezone with its offset (2026-11-28T00:32:59.704+01:00),
            as logcli writes it, and a zone other than UTC is named once
            on stderr ("times in Europe/Berlin (+01:00)"), off the lines
  -o raw    the line alone, for grep and awk
  -o json   one JSON object per line (NDJSON)

With --demo the simulator's fleet is read at --after past the scenario's
onset; with -f it runs on from there at the wall clock's pace, and its
lines are printed as it writes them.

Control sequences in log lines are stripped in text and raw output.`,
		Example: `  oncall logs checkout-api --level error --since 1h
  oncall logs --grep 'timeout|refused' -f
  oncall logs --trace 4bf92f3577b34da6a3ce929d0e0e4736 -o json | jq .line
  oncall logs -f --demo db-pool-exhaustion payment-api --timezone Europe/Berlin`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeServices(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.services = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runLogs(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.since, "since", "", "from this long ago to now (15m, 1h, 1d); default 15m")
	fl.StringVar(&o.from, "from", "", "start: now, -1h, an RFC 3339 time or Unix seconds")
	fl.StringVar(&o.to, "to", "", "end (default now)")
	fl.StringSliceVar(&o.levels, "level", nil, "only these levels: error, warn, info, debug (repeatable or comma-separated)")
	fl.StringVar(&o.grep, "grep", "", "only lines that match this regular expression (RE2)")
	fl.StringVar(&o.trace, "trace", "", "only the lines of this trace ID")
	fl.BoolVarP(&o.follow, "follow", "f", false, "go on printing new lines until interrupted")
	fl.IntVar(&o.limit, "limit", 100, fmt.Sprintf("how many of the newest lines to print first, at most %d", maxLogLimit))
	outputFlag(cmd, &o.output, "text", "raw", "json")
	o.demo.Register(cmd, logsAfter)
	return cmd
}

// query checks the flags and builds the query.
func (o *logsOptions) query(now time.Time) (sources.LogQuery, error) {
	q := sources.LogQuery{Levels: o.levels, Grep: o.grep, Limit: o.limit}
	if len(o.services) == 1 {
		q.Services = o.services
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
		d, err := timeparse.ParseDuration(o.since)
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

func runLogs(ctx context.Context, o *logsOptions) error {
	world, err := o.World(ctx, o.demo)
	if err != nil {
		return err
	}
	src := world.Sources
	if src.Logs == nil {
		return usagef("no loki datasource configured: logs need one (or try --demo retry-storm)")
	}
	q, err := o.query(world.Now())
	if err != nil {
		return err
	}
	if len(o.services) == 1 {
		if err := checkService(ctx, src.Metrics, o.IO.ErrOut, o.services[0]); err != nil {
			return err
		}
	}
	color := o.output == "text" && isTerminal(o.IO.Out) && !o.Global.NoColor && o.getenv("NO_COLOR") == ""
	out := o.IO.Out
	if color {
		out = o.StyledOut() // downsampled to what the terminal shows
	}
	buf := newBufWriter(out)
	defer buf.Flush()
	p := &linePrinter{w: buf, output: o.output, zone: o.Global.zone(), color: color}
	if h := zoneHeader(p.zone, q.Range.End); h != "" && o.output == "text" {
		fmt.Fprintln(o.IO.ErrOut, h)
	}
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
	if err := buf.Flush(); err != nil {
		return err
	}
	// the fleet's first tick is a second away: Tail subscribes long before
	world.runOn(ctx)
	return follow(ctx, o.IO.ErrOut, src.Logs, q, lines, p)
}

// follow prints new lines until ctx ends, and says on errOut when the
// tail breaks or the server drops lines. It starts where the printed
// lines end, and skips the lines at that instant it already printed.
func follow(ctx context.Context, errOut io.Writer, logs sources.Logs, q sources.LogQuery, printed []sources.LogLine, p *linePrinter) error {
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
			fmt.Fprintf(errOut, "oncall: the tail broke (%v); reconnecting\n", ev.Reconnecting)
		}
		if ev.Dropped > 0 {
			fmt.Fprintf(errOut, "oncall: ! %d lines dropped by the server\n", ev.Dropped)
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

// logTime is how a log line's time is written: RFC 3339 with
// milliseconds and the zone's offset, as logcli writes it, so that every
// line says which --timezone it is in ("Z" for UTC).
const logTime = "2006-01-02T15:04:05.000Z07:00"

// zoneHeader names the zone text times are in, and its offset at at,
// for a zone other than UTC: the offset alone does not say which zone
// (+01:00 is Berlin or Lagos). It goes to stderr, so that each line
// stays as a pipe to grep or jq reads it.
func zoneHeader(zone *time.Location, at time.Time) string {
	if zone == time.UTC {
		return ""
	}
	name := zone.String()
	if zone == time.Local {
		name = "local time"
	}
	return fmt.Sprintf("times in %s (%s)", name, at.In(zone).Format("-07:00"))
}

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
		p.w.WriteString(l.T.In(p.zone).Format(logTime))
		p.w.WriteByte(' ')
		p.w.WriteString(lvl)
		p.w.WriteByte(' ')
		p.w.WriteString(termsafe.Line(l.Service))
		p.w.WriteByte(' ')
		p.w.WriteString(termsafe.Line(l.Line))
	}
	return p.w.WriteByte('\n')
}
