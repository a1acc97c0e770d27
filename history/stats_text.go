package history

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/slo"
)

// statsWidth is the terminal width the text fits: 80 columns.
const statsWidth = 80

// ServicesWritten is how many services' sections the text gives, the
// busiest first: twenty sections (some 300 lines) still read in one
// scroll, and a fleet of 2,000 services would otherwise write 28,000
// lines nobody reads. -o json keeps every service.
const ServicesWritten = 20

// WriteStats writes the figures as text: the fleet's table, then the
// ServicesWritten services with the most incidents, busiest first, every
// figure with the incidents it stands on, and a line counting the
// services left out. Dates are in zone (nil is UTC).
func WriteStats(w io.Writer, s Stats, zone *time.Location) error {
	if zone == nil {
		zone = time.UTC
	}
	var b strings.Builder
	from := "the first record"
	if !s.Since.IsZero() {
		from = s.Since.In(zone).Format("2006-01-02 15:04")
	}
	scope := "the fleet"
	if s.Service != "" {
		scope = "incidents touching " + termsafe.Line(s.Service)
	}
	fmt.Fprintf(&b, "ON-CALL FIGURES  %s, %s → %s (%s)\n", scope, from, s.Now.In(zone).Format("2006-01-02 15:04"), zone)
	fmt.Fprintf(&b, "%s\n", cut(StackLine(s.Stack), statsWidth))
	if s.Fleet.Incidents == 0 {
		b.WriteString("\nNo incident in this span.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	writeTally(&b, s.Fleet, s.Hours)
	busiest := slices.Clone(s.Services)
	// stable: services with as many incidents stay in name order
	slices.SortStableFunc(busiest, func(a, b Tally) int { return b.Incidents - a.Incidents })
	for _, t := range busiest[:min(len(busiest), ServicesWritten)] {
		fmt.Fprintf(&b, "\n%s\n", cut(strings.ToUpper(termsafe.Line(t.Service)), statsWidth))
		writeTally(&b, t, s.Hours)
	}
	if left := len(busiest) - ServicesWritten; left > 0 {
		fmt.Fprintf(&b, "\n… and %s: oncall stats --service NAME, or -o json for all\n", humanize.Count(left, "more service"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTally writes one tally as a small table and its counts.
func writeTally(b *strings.Builder, t Tally, hours string) {
	fmt.Fprintf(b, "  %s, %d open\n", humanize.Count(t.Incidents, "incident"), t.Open)
	fmt.Fprintf(b, "  %-28s %10s %10s  %s\n", "", "mean", "median", "stands on")
	row := func(name, what string, v Interval) {
		switch {
		case v.N == 0 && v.Unknown != "":
			// nothing measured because nothing could be read: not "0 of N"
			writeWrapped(b, fmt.Sprintf("  %-4s %-23s unknown: %s", name, what, termsafe.Line(v.Unknown)), unknownIndent)
			return
		case v.N == 0:
			fmt.Fprintf(b, "  %-4s %-23s %10s %10s  0 of %d\n", name, what, "–", "–", t.Incidents)
			return
		}
		on := fmt.Sprintf("%d of %d", v.N, t.Incidents)
		if v.FromDetection > 0 {
			on += fmt.Sprintf(" (%d from detection)", v.FromDetection)
		}
		if v.Unknown != "" {
			on += ", others unknown:"
		}
		fmt.Fprintf(b, "  %-4s %-23s %10s %10s  %s\n", name, what, Span(v.Mean), Span(v.Median), on)
		if v.Unknown != "" {
			writeWrapped(b, strings.Repeat(" ", unknownIndent)+termsafe.Line(v.Unknown), unknownIndent)
		}
	}
	row("MTTD", "onset → first alert", t.MTTD)
	row("MTTA", "first alert → first ack", t.MTTA)
	row("MTTR", "onset → resolution", t.MTTR)
	if t.MTTR.FromDetection > 0 {
		b.WriteString("       (from detection: with no onset known, MTTR counts from the first alert)\n")
	}
	var sev []string
	for _, k := range sortedKeys(t.BySeverity) {
		sev = append(sev, fmt.Sprintf("%s %d", termsafe.Line(k), t.BySeverity[k]))
	}
	fmt.Fprintf(b, "  %s\n", cut("by severity: "+strings.Join(sev, " · "), statsWidth-2))
	if t.Autopilot.Of == 0 {
		b.WriteString("  resolved by the autopilot: none resolved yet\n")
	} else {
		fmt.Fprintf(b, "  resolved by the autopilot: %d of %d resolved\n", t.Autopilot.N, t.Autopilot.Of)
	}
	sep := ", "
	if !t.Pages.Weekly() {
		sep = " " // "3 (rule) in 2 h; too short…"
	}
	for _, l := range wrapAt(fmt.Sprintf("  pages: %d (%s)%s%s", t.Pages.N, t.Pages.Rule, sep, t.Pages.Rate()), "; ", statsWidth, 9) {
		fmt.Fprintf(b, "%s\n", cut(l, statsWidth))
	}
	fmt.Fprintf(b, "  %s\n", cut(fmt.Sprintf("out of hours: %d of %d pages, outside %s", t.Pages.OutOfHours, t.Pages.N, hours), statsWidth-2))
	if src := SourceLines(t, statsWidth-4); len(src) > 0 {
		b.WriteString("  timestamps from:\n")
		for _, l := range src {
			fmt.Fprintf(b, "    %s\n", cut(l, statsWidth-4))
		}
	}
}

// unknownIndent is where a figure's "unknown" reason starts, under the
// mean column: "  MTTA first alert → first ack ".
const unknownIndent = 31

// writeWrapped writes l wrapped at its words to statsWidth, its
// continuation lines indented, each cut to fit.
func writeWrapped(b *strings.Builder, l string, indent int) {
	for _, w := range wrapAt(l, " ", statsWidth, indent) {
		fmt.Fprintf(b, "%s\n", cut(w, statsWidth))
	}
}

// StackLine says whose records the figures count.
func StackLine(stack string) string {
	switch stack {
	case "":
		return "Every stack's records but the demo's."
	case DemoStack:
		return "The demo's records, dated on the simulator's clock."
	}
	return "Stack " + termsafe.Line(stack) + "'s records."
}

// SourceLines say, per figure, where the times of each end came from,
// each kind of source with the incidents it gave: "MTTD 3 of 4: onset
// from anomaly detection 3; first alert from Prometheus 3". A figure
// longer than width wraps between its ends, indented.
func SourceLines(t Tally, width int) []string {
	var out []string
	for _, f := range []struct {
		name string
		v    Interval
	}{{"MTTD", t.MTTD}, {"MTTA", t.MTTA}, {"MTTR", t.MTTR}} {
		if f.v.N == 0 {
			continue
		}
		var ends []string
		for i, s := range f.v.Sources {
			part := fmt.Sprintf("%s %d", termsafe.Line(s.Source), s.N)
			if i == 0 || f.v.Sources[i-1].End != s.End {
				ends = append(ends, s.End+" from "+part)
			} else {
				ends[len(ends)-1] += ", " + part
			}
		}
		out = append(out, wrapAt(fmt.Sprintf("%s %d of %d: %s", f.name, f.v.N, t.Incidents, strings.Join(ends, "; ")), "; ", width, 6)...)
	}
	return out
}

// Span writes a duration for a person: to the second under ten minutes,
// where detection and acknowledgement times live (45 s, 2 min 20 s),
// else as the SLO views write spans (37 min, 5 h 20 min).
func Span(d time.Duration) string {
	d = d.Round(time.Second)
	switch m, s := int(d/time.Minute), int(d%time.Minute/time.Second); {
	case m == 0:
		return fmt.Sprintf("%d s", s)
	case m < 10 && s != 0:
		return fmt.Sprintf("%d min %d s", m, s)
	case m < 10:
		return fmt.Sprintf("%d min", m)
	}
	return slo.FormatSpan(d)
}

// wrapAt breaks l after sep so that each line fits n cells, the lines
// after the first indented by indent; a part longer than n is left for
// cut.
func wrapAt(l, sep string, n, indent int) []string {
	var out []string
	line := ""
	for i, part := range strings.SplitAfter(l, sep) {
		if i > 0 && utf8.RuneCountInString(strings.TrimRight(line+part, " ")) > n {
			out = append(out, strings.TrimRight(line, " "))
			line = strings.Repeat(" ", indent)
		}
		line += part
	}
	return append(out, line)
}

// cut shortens s to n cells with an ellipsis.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
