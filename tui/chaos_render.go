package tui

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/themes"
)

// chaosList is what the experiment list draws.
type chaosList struct {
	Experiments []*chaos.Experiment
	LoadErr     error
	Dir         string // where the files were read: the footer says it, the rows name the files under it
	Unfinished  []chaos.Unfinished
	Live        map[string]string // the unfinished runs running now, by run: who runs them
	AuditErr    error
	Sel, Offset int
	Zone        *time.Location
}

// chaosListColumns are the list's fixed columns after the name: target,
// duration, guards, schedule.
const (
	chaosTargetW   = 16
	chaosDurationW = 9
	chaosGuardsW   = 7
)

// renderChaosList draws the list in width × room: the runs that never
// finished first, each saying its fault may still be in place, then one
// row per experiment, then one row per problem of the files that did not
// load, each as file:line: message.
func renderChaosList(l chaosList, width, room int, st *themes.Styles) []string {
	lines := []string{st.Heading.Render("CHAOS EXPERIMENTS")}
	problems := loadProblems(l.LoadErr)
	if n := len(problems); n > 0 {
		lines = append(lines, st.Bad.Render(fmt.Sprintf("✗ some files did not load: their problems are listed below (%d)", n)))
	}
	if l.AuditErr != nil {
		lines = append(lines, st.Bad.Render("✗ unfinished runs unknown: "+safe(l.AuditErr.Error())))
	}
	if len(l.Experiments) == 0 && len(l.Unfinished) == 0 && len(problems) == 0 {
		return append(lines, st.Muted.Render("No experiment: put experiment files (*.yaml) in the chaos directory; oncall chaos list checks them."))
	}
	nameW := max(12, width-2-chaosTargetW-chaosDurationW-chaosGuardsW-12)
	row := func(name, target, dur, guards, sched string) string {
		return fit(name, nameW) + " " + fit(target, chaosTargetW-1) + " " + fit(dur, chaosDurationW-1) + " " + fit(guards, chaosGuardsW-1) + " " + sched
	}
	var rows []string
	for _, u := range l.Unfinished {
		started := u.Started.In(l.Zone).Format("01-02 15:04")
		if by, live := l.Live[u.Ref.Run]; live {
			rows = append(rows, safe(u.Ref.Name)+" running now (by "+safe(by)+"), started "+started+": its own process rolls it back")
			continue
		}
		rows = append(rows, safe(u.Ref.Name)+" never finished — its fault may still be in place: started "+
			started+" by "+safe(u.By)+"; enter offers its rollback")
	}
	for _, e := range l.Experiments {
		sched := e.Schedule
		if sched == "" {
			sched = "by hand"
		}
		rows = append(rows, row(safe(e.Name), safe(e.Target), fmtDuration(e.Duration), fmt.Sprint(len(e.Guards)), safe(sched)))
	}
	firstProblem := len(rows)
	for _, p := range problems {
		if l.Dir != "" {
			p = strings.TrimPrefix(p, filepath.Clean(l.Dir)+string(filepath.Separator))
		}
		rows = append(rows, safe(p))
	}
	lines = append(lines, st.Muted.Render("  "+row("NAME", "TARGET", "DURATION", "GUARDS", "SCHEDULE")))
	from, to := scrollWindow(len(rows), max(1, room-len(lines)), l.Offset, l.Sel)
	if from > 0 {
		lines = append(lines, st.Muted.Render(fmt.Sprintf("  … %d more above", from)))
	}
	for i := from; i < to; i++ {
		// the pointer takes the place of the row's mark
		switch {
		case i == l.Sel:
			lines = append(lines, st.Selected.Render("▸ "+fit(rows[i], width-2)))
		case i < len(l.Unfinished):
			lines = append(lines, st.Warn.Render("! "+rows[i]))
		case i >= firstProblem:
			lines = append(lines, st.Bad.Render("✗ ")+rows[i])
		default:
			lines = append(lines, "  "+rows[i])
		}
	}
	if to < len(rows) {
		lines = append(lines, st.Muted.Render(fmt.Sprintf("  … %d more below", len(rows)-to)))
	}
	return lines
}

// loadProblems are the experiment files' problems, one each: LoadDir's
// error writes one a line (file:line: message).
func loadProblems(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// renderChaosPlan draws an experiment's plan: what it claims, what must
// hold first, each command exactly as it will run, the guards and how
// long, and the rollback that always runs.
func renderChaosPlan(p chaos.Plan, width int, st *themes.Styles) []string {
	e := p.Experiment
	// the file by its name: the list's footer says the directory, and d
	// on the list the whole path
	out := []string{st.Heading.Render("EXPERIMENT "+safe(e.Name)) + st.Muted.Render(fmt.Sprintf("  %s:%d", safe(filepath.Base(e.File)), e.Line))}
	if e.Hypothesis != "" {
		out = append(out, "  "+safe(e.Hypothesis))
	}
	out = append(out, fmt.Sprintf("  target %s · duration %s · guards read every %s · %s danger",
		safe(e.Target), fmtDuration(e.Duration), fmtDuration(e.Interval), orDefault(string(p.Danger), "low")))
	indented := func(items []string) []string {
		out := make([]string, len(items))
		for i, s := range items {
			out[i] = "  " + safe(s)
		}
		return out
	}
	section := func(title, note string, lines []string) {
		out = append(out, "", st.Heading.Render(title)+st.Muted.Render(note))
		if len(lines) == 0 {
			out = append(out, st.Muted.Render("  none"))
		}
		out = append(out, lines...)
	}
	section("STEADY STATE", "  must hold before the fault goes in", indented(p.Checks))
	section("INJECT", "", plannedLines(p.Inject, width))
	section("GUARDS", "  read every interval; one out of bound, or unreadable, stops the run", indented(p.Guards))
	section("ROLLBACK", "  always runs: passed, failed, aborted or interrupted", plannedLines(p.Rollback, width))
	if len(p.Problems) > 0 {
		out = append(out, "", st.Bad.Render("PROBLEMS: NOTHING RUNS"))
		for _, s := range p.Problems {
			out = append(out, st.Bad.Render("  ✗ ")+safe(s))
		}
	}
	return out
}

// plannedLines are actions as the plan shows them, indented under their
// section: name, then the command exactly as it will run, every line of
// it (an HTTP request's method and URL, each header, the body) on lines
// of its own, cut at width into as many lines as it needs. The cut is at
// the cell, not the word, so that the lines read back give every
// character of the command, spaces too.
func plannedLines(as []chaos.PlannedAction, width int) []string {
	out := make([]string, 0, len(as))
	command := func(indent, l string) {
		room := max(1, width-len(indent))
		for _, part := range strings.Split(ansi.Hardwrap(safe(l), room, true), "\n") {
			out = append(out, indent+part)
		}
	}
	for _, a := range as {
		danger := ""
		if a.Danger == remediate.DangerHigh {
			danger = " (high danger)"
		}
		cmd := strings.Split(a.Shown, "\n")
		if len(cmd) == 1 {
			command("  ", a.Name+": "+a.Shown+danger)
			continue
		}
		out = append(out, "  "+safe(a.Name)+danger+":")
		for _, l := range cmd {
			// the request's own lines keep their indentation under the name
			trimmed := strings.TrimLeft(l, " ")
			command("    "+strings.Repeat(" ", len(l)-len(trimmed)), trimmed)
		}
	}
	return out
}

// guardRow is one guard of the live panel.
type guardRow struct {
	Label    string
	Check    chaos.Check
	Readings []chaos.Reading
	Tripped  bool
}

// guardSparkW is the sparkline's cells at 80 columns; wider screens give
// it what the label does not need.
const guardSparkW = 16

// renderGuardPanel draws one row per guard: its state, label, the last
// value, a sparkline of its readings (the bound at three quarters of its
// height, so that a value over it reads as over), and the selected
// guard's query under the rows.
func renderGuardPanel(rows []guardRow, sel, width int, st *themes.Styles) []string {
	labelW := 10
	for _, r := range rows {
		labelW = max(labelW, lipgloss.Width(safe(r.Label)))
	}
	const valueW, stateW = 9, 8
	sparkW := guardSparkW
	// the pointer and the mark take 4 cells, each gap 1
	labelW = min(labelW, max(10, width-4-valueW-1-sparkW-1-stateW))
	sparkW = max(guardSparkW, width-4-labelW-1-valueW-1-1-stateW)
	out := make([]string, 0, len(rows)+1)
	for i, r := range rows {
		mark, state, style := "·", "waiting", st.Muted
		value := "–"
		var last *chaos.Reading
		if n := len(r.Readings); n > 0 {
			last = &r.Readings[n-1]
		}
		switch {
		case r.Tripped:
			mark, state, style = "✗", "TRIPPED", st.Bad
		case last != nil && last.Err != "":
			mark, state, style = "✗", "unread", st.Bad
		case last != nil && last.OK:
			mark, state, style = "✓", "ok", st.OK
		case last != nil:
			mark, state, style = "✗", "over", st.Bad
		}
		if last != nil && last.Err == "" {
			value = r.Check.Format(last.Value)
		}
		pointer := "  "
		if i == sel {
			pointer = "▸ "
		}
		line := pointer + style.Render(mark) + " " + fit(safe(r.Label), labelW) + " " + lipgloss.PlaceHorizontal(valueW, lipgloss.Right, value) + " " +
			style.Render(guardSpark(r, sparkW)) + " " + style.Render(state)
		out = append(out, line)
	}
	if sel >= 0 && sel < len(rows) {
		r := rows[sel]
		detail := []string{"query: not read yet"}
		if n := len(r.Readings); n > 0 {
			switch last := r.Readings[n-1]; {
			case last.Err != "":
				detail = []string{"error: " + last.Err}
			case last.Query != "":
				detail = howOf(last.How, last.Query)
			}
		}
		// whole: the view cuts them to the width, and d shows them uncut
		for _, l := range detail {
			out = append(out, st.Muted.Render("  "+safe(l)))
		}
	}
	return out
}

// howOf says how a value comes from its query, the how on one line and
// the query under it, so that the query keeps the width: "mean over 1m
// (15s steps) of:", then the query.
func howOf(how, query string) []string {
	if how == "" {
		return []string{"query: " + query}
	}
	return []string{how + " of:", "  " + query}
}

// guardSpark draws a guard's readings on a scale from 0 to a third over
// its bound (or its highest reading, when higher): the same bound sits
// at the same height on every row.
func guardSpark(r guardRow, width int) string {
	bound := 0.0
	switch {
	case r.Check.Below != nil:
		bound = float64(*r.Check.Below)
	case r.Check.Above != nil:
		bound = float64(*r.Check.Above)
	}
	vals := make([]float64, len(r.Readings))
	top := bound * 4 / 3
	for i, x := range r.Readings {
		vals[i] = x.Value
		if x.Err != "" {
			vals[i] = math.NaN()
		} else if x.Value > top && !math.IsInf(x.Value, 0) {
			top = x.Value
		}
	}
	if !(top > 0) {
		top = 1
	}
	return present.SparklineBetween(present.Resample(vals, width), width, 0, top)
}

// renderChaosReport draws how a run went: the verdict beside a symbol,
// so that it reads without colour; why; the guard that tripped, its
// value and when; the injection's and the rollback's outcomes; the
// traces to open first; the run's ID in the audit log.
func renderChaosReport(rep chaos.Report, zone *time.Location, st *themes.Styles) []string {
	head := st.OK.Render("✓ " + strings.ToUpper(rep.Verdict))
	if !rep.OK() {
		head = st.Bad.Render("✗ " + strings.ToUpper(rep.Verdict))
	}
	out := []string{st.Heading.Render("REPORT") + "  " + head + st.Muted.Render("  run "+safe(rep.Run))}
	// the why as the runner wrote it: it names every cause (a guard, an
	// abort, a rollback that failed), not only the trip's
	if rep.Why != "" {
		out = append(out, "  "+safe(rep.Why))
	}
	if t := rep.Trip; t != nil {
		// the trip's value is written as its guard's bound is
		var c chaos.Check
		if t.Guard >= 0 && t.Guard < len(rep.Guards) {
			c = rep.Guards[t.Guard].Check
		}
		out = append(out, st.Bad.Render("  tripped: ")+safe(t.Label)+" read "+c.Format(t.Value)+" at "+t.At.In(zone).Format("15:04:05")+
			", "+safe(t.Elapsed)+" in")
		if t.Query != "" {
			for _, l := range howOf(t.How, t.Query) {
				out = append(out, st.Muted.Render("    "+safe(l)))
			}
		}
	}
	outcomes := func(what string, os []remediate.ActionOutcome) {
		for _, o := range os {
			mark := st.OK.Render("✓")
			if o.Result != remediate.ResultDone {
				mark = st.Bad.Render("✗")
			}
			out = append(out, "  "+what+" "+mark+" "+safe(o.String()))
		}
	}
	outcomes("inject:  ", rep.Inject)
	switch {
	case len(rep.Rollback) > 0:
		outcomes("rollback:", rep.Rollback)
	case len(rep.Inject) == 0:
		out = append(out, st.Muted.Render("  rollback: not needed, nothing was injected"))
	}
	if (!rep.Injected.IsZero() || len(rep.Rollback) > 0) && !rep.RolledBack() {
		out = append(out, st.Bad.Render("  ✗ the rollback did not finish: the fault may still be in place; undo it by hand"))
	}
	if len(rep.Traces) > 0 {
		out = append(out, "  failed traces: "+safe(strings.Join(rep.Traces, " ")))
	}
	return out
}
