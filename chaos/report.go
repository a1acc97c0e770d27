package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/remediate"
)

// sparkWidth is how many cells a guard's sparkline has: the whole run
// in buckets, on one line under the label.
const sparkWidth = 40

// textWidth is the width of the text report: a terminal's, and a
// postmortem note's. Only a query line is cut to it (…): the query is
// whole in the JSON and markdown reports.
const textWidth = 80

// sparks are the sparkline's levels, lowest first.
var sparks = []rune("▁▂▃▄▅▆▇█")

// WriteOption changes how WriteText and WriteMarkdown write a report.
type WriteOption func(*writeOptions)

type writeOptions struct{ zone *time.Location }

// InZone writes the report's times in zone (--timezone); UTC by default,
// or when zone is nil.
func InZone(zone *time.Location) WriteOption {
	return func(o *writeOptions) {
		if zone != nil {
			o.zone = zone
		}
	}
}

func options(opts []WriteOption) writeOptions {
	o := writeOptions{zone: time.UTC}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// MarshalJSON writes an undefined value as null: JSON has no NaN.
func (rd Reading) MarshalJSON() ([]byte, error) {
	type plain Reading // without the method, so Marshal does not recurse
	out := struct {
		plain
		Value *float64 `json:"value"`
	}{plain: plain(rd)}
	if !math.IsNaN(rd.Value) && !math.IsInf(rd.Value, 0) {
		out.Value = &rd.Value
	}
	return json.Marshal(out)
}

// OK says whether the run passed or was a dry run.
func (rep Report) OK() bool { return rep.Verdict == VerdictPassed || rep.Verdict == VerdictDryRun }

// Headline is the verdict in one line, first in every rendering:
// "PASSED", "FAILED: guard … tripped at …", "ABORTED: why".
func (rep Report) Headline() string {
	v := strings.ToUpper(rep.Verdict)
	if rep.Verdict == VerdictPassed || rep.Why == "" {
		return v
	}
	return v + ": " + termsafe.Line(rep.Why)
}

// guardView is one guard as a report shows it; worst and spark are ""
// when it has no reading.
type guardView struct {
	label, how, query, worst, spark string
}

// views are the report's guards, with each one's worst value (the
// farthest towards its bound's wrong side) and sparkline.
func (rep Report) views() []guardView {
	var out []guardView
	for _, g := range rep.Guards {
		v := guardView{label: termsafe.Line(g.Label), how: g.How, query: termsafe.Line(g.Query)}
		vals := make([]float64, len(g.Readings))
		for i, rd := range g.Readings {
			vals[i] = rd.Value
		}
		if worst := worstOf(g.Check, vals); !math.IsNaN(worst) {
			v.worst, v.spark = g.Check.Format(worst), spark(g.Check, vals)
		}
		out = append(out, v)
	}
	return out
}

// worstOf is the value farthest towards the check's wrong side: the
// lowest for an above check, else the highest; NaN when none is defined.
func worstOf(c Check, vals []float64) float64 {
	worst := math.NaN()
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if math.IsNaN(worst) || (c.Above != nil && v < worst) || (c.Above == nil && v > worst) {
			worst = v
		}
	}
	return worst
}

// spark draws a guard's whole run in at most sparkWidth cells, each the
// worst value of its share of the readings (so that a spike shows), from
// 0 to its bound (or the highest reading, when above it): a bar's height
// says how close the guard came to tripping. A cell with no defined
// reading is a gap.
func spark(c Check, vals []float64) string {
	cells := vals
	if n := len(vals); n > sparkWidth {
		cells = make([]float64, sparkWidth)
		for i := range cells {
			cells[i] = worstOf(c, vals[i*n/sparkWidth:(i+1)*n/sparkWidth])
		}
	}
	top := c.bound()
	if math.IsNaN(top) {
		top = 0
	}
	for _, v := range vals {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			top = max(top, v)
		}
	}
	var b strings.Builder
	for _, v := range cells {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			b.WriteRune(' ')
		case top <= 0:
			b.WriteRune(sparks[0])
		default:
			b.WriteRune(sparks[min(len(sparks)-1, max(0, int(v/top*float64(len(sparks)-1)+0.5)))])
		}
	}
	return b.String()
}

// WriteText writes the report for a terminal, within textWidth columns:
// the verdict first, then the hypothesis, each check with its worst
// value, sparkline and query (cut to the width: whole in JSON and
// markdown), the actions as the audit log holds them, and the trace
// evidence.
func WriteText(w io.Writer, rep Report, opts ...WriteOption) error {
	o := options(opts)
	var b bytes.Buffer
	wrapped(&b, "", "  ", rep.Headline())
	field := func(name, v string) { wrapped(&b, fmt.Sprintf("%-12s", name), strings.Repeat(" ", 12), v) }
	name := termsafe.Line(rep.Experiment)
	if rep.Run != "" {
		name += " (run " + rep.Run + ")"
	}
	field("experiment", name)
	field("hypothesis", termsafe.Line(rep.Hypothesis))
	field("target", termsafe.Line(rep.Target))
	field("file", termsafe.Line(rep.File))
	for _, t := range rep.times(o.zone) {
		field(t[0], t[1])
	}
	query := func(how, q string) {
		if q != "" {
			wrapped(&b, "    ", "      ", how+" of:")
			fmt.Fprintln(&b, truncate("      "+q, textWidth))
		}
	}
	if len(rep.SteadyState) > 0 {
		fmt.Fprintln(&b, "steady state")
		for _, rd := range rep.SteadyState {
			wrapped(&b, "  ", "    ", rep.steady(rd))
			query(rd.How, termsafe.Line(rd.Query))
		}
	}
	fmt.Fprintln(&b, "guards")
	for _, g := range rep.views() {
		wrapped(&b, "  ", "    ", g.label)
		if g.worst == "" {
			fmt.Fprintln(&b, "    no reading")
		} else {
			fmt.Fprintf(&b, "    worst %-8s %s\n", g.worst, g.spark)
		}
		query(g.how, g.query)
	}
	for _, sec := range []struct {
		name string
		os   []remediate.ActionOutcome
	}{{"inject", rep.Inject}, {"rollback", rep.Rollback}} {
		if len(sec.os) == 0 {
			continue
		}
		fmt.Fprintln(&b, sec.name)
		for _, o := range sec.os {
			wrapped(&b, "  ", "    ", termsafe.Line(o.String()))
			if o.Shown != "" {
				wrapped(&b, "    ", "      ", termsafe.Line(o.Shown))
			}
		}
	}
	if len(rep.Traces) > 0 {
		wrapped(&b, "failed traces  ", "  ", termsafe.Line(strings.Join(rep.Traces, " ")))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// wrapped writes text after first, its further lines after indent, each
// within textWidth: at spaces, or inside a word longer than a line.
func wrapped(b *bytes.Buffer, first, indent, text string) {
	line, fresh := first, true // fresh: nothing after the prefix yet
	room := func() int { return textWidth - utf8.RuneCountInString(line) }
	flush := func() {
		fmt.Fprintln(b, strings.TrimRight(line, " "))
		line, fresh = indent, true
	}
	for _, word := range strings.Fields(text) {
		rs := []rune(word)
		if !fresh && len(rs)+1 > room() {
			flush()
		}
		if !fresh {
			line += " "
		}
		for n := room(); len(rs) > n && n > 0; n = room() {
			// a word longer than a line: cut it where the line ends
			line += string(rs[:n])
			rs = rs[n:]
			flush()
		}
		line, fresh = line+string(rs), false
	}
	fmt.Fprintln(b, strings.TrimRight(line, " "))
}

// truncate cuts s to width columns, the last one an ellipsis.
func truncate(s string, width int) string {
	rs := []rune(s)
	if len(rs) <= width {
		return s
	}
	return string(rs[:width-1]) + "…"
}

// WriteMarkdown writes the report as markdown, for a postmortem or a
// ticket: the same content as WriteText, each query whole.
func WriteMarkdown(w io.Writer, rep Report, opts ...WriteOption) error {
	o := options(opts)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Chaos experiment %s: %s\n\n", md(rep.Experiment), md(rep.Headline()))
	fmt.Fprintf(&b, "- **Hypothesis:** %s\n- **Target:** %s\n- **File:** `%s`\n", md(rep.Hypothesis), md(rep.Target), code(rep.File))
	if rep.Run != "" {
		fmt.Fprintf(&b, "- **Run:** `%s`\n", code(rep.Run))
	}
	for _, t := range rep.times(o.zone) {
		fmt.Fprintf(&b, "- **%s:** %s\n", strings.ToUpper(t[0][:1])+t[0][1:], t[1])
	}
	fmt.Fprintln(&b)
	if len(rep.SteadyState) > 0 {
		fmt.Fprintln(&b, "## Steady state")
		fmt.Fprintln(&b)
		for _, rd := range rep.SteadyState {
			fmt.Fprintf(&b, "- %s", md(rep.steady(rd)))
			if rd.Query != "" {
				fmt.Fprintf(&b, " (%s of `%s`)", md(rd.How), code(rd.Query))
			}
			fmt.Fprintln(&b)
		}
		fmt.Fprintln(&b)
	}
	fmt.Fprintln(&b, "## Guards")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| Guard | Worst | Readings | Query |")
	fmt.Fprintln(&b, "|---|---|---|---|")
	for _, g := range rep.views() {
		worst, q := g.worst, ""
		if worst == "" {
			worst = "no reading"
		}
		if g.query != "" {
			q = cell(md(g.how)) + " of `" + code(cell(g.query)) + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(md(g.label)), cell(md(worst)), g.spark, q)
	}
	fmt.Fprintln(&b)
	for _, sec := range []struct {
		name string
		os   []remediate.ActionOutcome
	}{{"Injection", rep.Inject}, {"Rollback", rep.Rollback}} {
		if len(sec.os) == 0 {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n", sec.name)
		for _, o := range sec.os {
			fmt.Fprintf(&b, "- %s: `%s`\n", md(o.String()), code(o.Shown))
		}
		fmt.Fprintln(&b)
	}
	if len(rep.Traces) > 0 {
		fmt.Fprintln(&b, "## Failed traces")
		fmt.Fprintln(&b)
		for _, t := range rep.Traces {
			fmt.Fprintf(&b, "- `%s`\n", code(t))
		}
		fmt.Fprintln(&b)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// steady is one steady-state reading in a line: its check's label and
// the value (the query is written under it).
func (rep Report) steady(rd Reading) string {
	var c Check
	if rd.Check >= 0 && rd.Check < len(rep.Checks) {
		c = rep.Checks[rd.Check]
	}
	switch {
	case rd.Err != "":
		return fmt.Sprintf("✗ %s: unreadable: %s", termsafe.Line(c.Label()), termsafe.Line(rd.Err))
	case !rd.OK:
		return fmt.Sprintf("✗ %s: %s", termsafe.Line(c.Label()), c.Format(rd.Value))
	}
	return fmt.Sprintf("✓ %s: %s", termsafe.Line(c.Label()), c.Format(rd.Value))
}

// times are the run's start, injection and end on the data clock, in
// zone, as name and value: one "at" when nothing ran between.
func (rep Report) times(zone *time.Location) [][2]string {
	stamp := func(t time.Time) string { return t.In(zone).Format(time.RFC3339) }
	if rep.Injected.IsZero() && rep.Ended.Equal(rep.Started) {
		return [][2]string{{"at", stamp(rep.Started)}}
	}
	out := [][2]string{{"started", stamp(rep.Started)}}
	if !rep.Injected.IsZero() {
		out = append(out, [2]string{"injected", stamp(rep.Injected)})
	}
	return append(out, [2]string{"ended", stamp(rep.Ended)})
}

// md escapes what markdown would read as markup in backend text.
func md(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "'", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;")
	return r.Replace(termsafe.Line(s))
}

// code is text inside backticks: a backtick in it would end the span.
func code(s string) string { return strings.ReplaceAll(termsafe.Line(s), "`", "'") }

// cell is text inside a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Incident says whether the run belongs in the incident history: it
// failed, or was aborted once its fault was in. A passed run, or one that
// injected nothing, is in the audit log only.
func (rep Report) Incident() bool {
	return rep.Verdict == VerdictFailed || rep.Verdict == VerdictAborted && !rep.Injected.IsZero()
}

// Record is a failed or aborted experiment as an incident record, so
// that it can be opened as an incident and feed a postmortem: the
// target is its root, the injection its onset, the guard's trip its
// detection and the end of the rollback its resolution.
func (rep Report) Record(stack string) history.Record {
	var checks []Check
	for _, g := range rep.Guards {
		checks = append(checks, g.Check)
	}
	what := rep.Verdict + ": " + rep.Why
	if rep.Trip != nil {
		what = "failed: " + rep.Trip.Label
	}
	onset := rep.Injected
	if onset.IsZero() {
		onset = rep.Started
	}
	rec := history.Record{
		// one record per run, whatever its onset: a recovery's report
		// (Runner.Recover) resolves the record its run opened
		ID:       history.RecordID(stack, "chaos:"+rep.Experiment+":"+rep.Run, rep.Target, time.Time{}),
		Stack:    stack,
		Origin:   history.OriginChaos,
		Title:    termsafe.Line("chaos experiment " + rep.Experiment + " " + what),
		Services: guarded(rep.Target, checks),
		Root:     rep.Target,
		Summary:  termsafe.Line("hypothesis: " + rep.Hypothesis),
		Onset:    history.Stamp{T: onset.UTC(), Source: "chaos experiment " + rep.Experiment + " injected (audit log, run " + rep.Run + ")", Kind: history.KindAudit},
		Resolved: history.Stamp{T: rep.Ended.UTC(), Source: "chaos experiment " + rep.Experiment + " rolled back (audit log, run " + rep.Run + ")", Kind: history.KindAudit},
		Updated:  rep.Ended.UTC(),
	}
	if !rep.RolledBack() {
		// the fault may still be in: the incident stays open until the
		// rollback is recovered and someone resolves it
		rec.Resolved = history.Stamp{}
	}
	if rep.Trip != nil {
		rec.Detected = history.Stamp{T: rep.Trip.At.UTC(), Source: "guard " + rep.Trip.Label + " tripped (" + rep.Trip.How + " of " + termsafe.Line(rep.Trip.Query) + ")", Kind: history.KindAudit}
	}
	acts, _ := history.RunActions(rep.Experiment, "", "", remediate.Outcome{Actions: slices.Concat(rep.Inject, rep.Rollback)}, onset)
	rec.Actions = acts
	// the headline, and where the whole report is: a note is one line of
	// the timeline, and the guards' series belong to the report
	rec.Notes = []history.Note{{T: rep.Ended.UTC(), By: "oncall chaos", Text: rep.Headline() + " (run " + rep.Run + " of " + rep.File + "; oncall audit has every step)"}}
	return rec
}
