package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

// doctorOptions are doctor's flags, and the factory it reads through.
type doctorOptions struct {
	*Factory
	output  string
	timeout time.Duration
}

// doctorReport is what doctor found, as -o json writes it.
type doctorReport struct {
	Config      string             `json:"config"`
	OK          bool               `json:"ok"`
	Datasources []datasourceReport `json:"datasources"`
}

// datasourceReport is one datasource's checks.
type datasourceReport struct {
	Name   string          `json:"name"`
	URL    string          `json:"url"`
	OK     bool            `json:"ok"`
	Checks []sources.Check `json:"checks"`
}

// NewCmdDoctor is `oncall doctor`; runF, when set, runs instead of
// runDoctor, so tests can read the options the flags gave.
func NewCmdDoctor(f *Factory, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	o := &doctorOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check every datasource: reachable, version, auth and tenant, expected data",
		Long: `doctor asks each configured datasource, in parallel, whether it answers,
which version it runs, whether it accepts the credentials and tenant, and
whether the series and labels the conventions expect exist: span metrics,
the service graph, the service label, trace IDs in logs, and which of the
change and resource presets found series ("changes", "saturation"). With
grafana.annotations set, Grafana's annotations API is checked too: the
token, and how many of the last week's annotations name a service.

A missing service graph, trace IDs in logs, or presets that found nothing
is a warning (oncall works with less); an unreachable backend, rejected
credentials or missing RED metrics is a failure, and doctor exits 1. On a
terminal, a long detail wraps under its own column.

On a terminal, each datasource's checks are printed as soon as they end, in
the order they end, and a line under them names the datasources still being
checked. Elsewhere (a pipe, a CI log) they are printed in config order, each
as soon as it and those before it have ended, so that two runs read alike.
A datasource that has not answered by --timeout fails.`,
		Example: "  oncall doctor --config ~/.config/oncall/config.yaml\n  oncall doctor -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runDoctor(cmd.Context(), o)
		},
	}
	outputFlag(cmd, &o.output, "text", "json")
	durationFlag(cmd, &o.timeout, "timeout", "", 30*time.Second, "give up on all checks after this long")
	return cmd
}

func runDoctor(ctx context.Context, o *doctorOptions) error {
	w, err := o.ConfigWorld()
	if err != nil {
		return err
	}
	if len(w.Backends.Doctors) == 0 {
		return fmt.Errorf("no datasources configured (config %s); add a datasources section or run 'oncall config import-grafana'", w.Path) // the check fails: exit 1
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var done func(int, datasourceReport, []string) error
	if o.output != "json" {
		p := &doctorPrinter{f: o.Factory, tty: isTerminal(o.IO.Out), held: map[int]datasourceReport{}}
		p.waitingFor(namesOf(w.Backends.Doctors))
		done = p.ended
	}
	rep, err := runDoctors(ctx, w.Path, w.Backends.Doctors, done)
	if err != nil {
		return err
	}
	if o.output == "json" {
		if err := writeJSON(o.IO.Out, rep); err != nil {
			return err
		}
	} else {
		verdict := "all datasources ok"
		if !rep.OK {
			verdict = "some checks FAILED"
		}
		if _, err := fmt.Fprintf(o.IO.Out, "%s (config %s)\n", verdict, rep.Config); err != nil {
			return err
		}
	}
	if !rep.OK {
		return exitError{code: 1}
	}
	return nil
}

// namesOf lists the datasources' names, in config order.
func namesOf(ds []namedDoctor) []string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name
	}
	return names
}

// runDoctors runs every datasource's checks at once, under ctx's
// deadline, and hands each datasource's report and its index in ds to
// done (when not nil) as soon as its checks end, with the names of those
// still running: a hung backend must not hide the answers of the others.
func runDoctors(ctx context.Context, path string, ds []namedDoctor, done func(i int, r datasourceReport, running []string) error) (doctorReport, error) {
	rep := doctorReport{Config: path, OK: true, Datasources: make([]datasourceReport, len(ds))}
	finished := make(chan int)
	for i, d := range ds {
		go func() {
			checks := d.Doctor.Doctor(ctx)
			for j, c := range checks {
				if errors.Is(c.Err, context.DeadlineExceeded) {
					checks[j].Detail = "no answer by --timeout" // the flag's words, not the context's
				}
			}
			r := datasourceReport{Name: d.Name, URL: d.URL, OK: true, Checks: checks}
			for _, c := range checks {
				if c.Status == sources.CheckFail {
					r.OK = false
				}
			}
			rep.Datasources[i] = r
			finished <- i
		}()
	}
	running := namesOf(ds)
	var err error
	for range ds {
		i := <-finished
		running = slices.DeleteFunc(running, func(n string) bool { return n == ds[i].Name })
		if done != nil && err == nil {
			err = done(i, rep.Datasources[i], running)
		}
	}
	for _, d := range rep.Datasources {
		rep.OK = rep.OK && d.OK
	}
	return rep, err
}

// statusWidth is the width of the widest statusWord.
func statusWidth() int {
	w := 0
	for _, s := range []sources.CheckStatus{sources.CheckOK, sources.CheckWarn, sources.CheckFail} {
		w = max(w, ansi.StringWidth(statusWord(s)))
	}
	return w
}

// doctorPrinter writes each datasource's checks as they end. On a
// terminal it writes them in the order they end, and a line under them
// names the datasources still being checked, so that a backend that never
// answers shows as waited for, not as a blank screen. Elsewhere it writes
// them in config order, each once it and all before it have ended: a CI
// log then reads the same from run to run, and still streams.
type doctorPrinter struct {
	f   *Factory
	tty bool
	// held keeps, off a terminal, the reports that ended before one
	// ahead of them in config order; next is the index to write next.
	held map[int]datasourceReport
	next int
}

// ended takes the report of the datasource at index i of the config.
func (p *doctorPrinter) ended(i int, d datasourceReport, running []string) error {
	if p.tty {
		return p.print(d, running)
	}
	p.held[i] = d
	for {
		r, ok := p.held[p.next]
		if !ok {
			return nil
		}
		delete(p.held, p.next)
		p.next++
		if err := p.print(r, running); err != nil {
			return err
		}
	}
}

// waitingFor writes, on a terminal, the line naming the datasources still
// being checked; print erases it before it writes.
func (p *doctorPrinter) waitingFor(running []string) {
	if p.tty && len(running) > 0 {
		fmt.Fprintf(p.f.IO.Out, "checking %s …", strings.Join(running, ", "))
	}
}

// print writes one datasource's checks: its name and URL, then a check a
// line, its status coloured; then what is still running.
func (p *doctorPrinter) print(d datasourceReport, running []string) error {
	if p.tty {
		fmt.Fprint(p.f.IO.Out, "\r\x1b[K") // erase the waiting line
	}
	nameWidth, statusWidth := 0, statusWidth()
	for _, c := range d.Checks {
		nameWidth = max(nameWidth, ansi.StringWidth(termsafe.Line(c.Name)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", termsafe.Line(d.Name), termsafe.Line(d.URL))
	width := terminalWidth(p.f.IO.Out, 0)
	for _, c := range d.Checks {
		name, word := termsafe.Line(c.Name), statusWord(c.Status)
		fmt.Fprintf(&b, "  %s%s  %s%s  %s\n", name, strings.Repeat(" ", nameWidth-ansi.StringWidth(name)),
			colorStatus(word), strings.Repeat(" ", statusWidth-ansi.StringWidth(word)), hangDetail(termsafe.Line(c.Detail), 2+nameWidth+2+statusWidth+2, width))
	}
	if _, err := io.WriteString(p.f.StyledOut(), b.String()+"\n"); err != nil {
		return err
	}
	p.waitingFor(running)
	return nil
}

// minDetailWidth is the narrowest column a check's detail is wrapped to:
// narrower, a word a line reads worse than the terminal's own wrapping.
const minDetailWidth = 30

// hangDetail wraps a check's detail to a terminal width columns wide, its
// lines after the first indented under the first: a long detail (the
// presets that found nothing) then stays in its column. Off a terminal
// (width 0) it is one line, for grep.
func hangDetail(detail string, indent, width int) string {
	if width-indent < minDetailWidth || ansi.StringWidth(detail)+indent <= width {
		return detail
	}
	return strings.ReplaceAll(ansi.Wordwrap(detail, width-indent, ""), "\n", "\n"+strings.Repeat(" ", indent))
}
