package present

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// CoveredPart says what a partial budget is, in the detail and in the
// list's notes.
const CoveredPart = "the budget is that of the covered part"

// nothingSpent says that no stretch of the window burned the budget fast
// enough to be named.
const nothingSpent = "nothing burned over twice the sustainable rate"

// gaugeCells is the width of the detail's budget gauge: the same in text
// and in the cockpit, whatever the terminal's width.
const gaugeCells = 20

// cliChartCells is the width of a chart in plain text, which has no
// terminal width to fill.
const cliChartCells = 60

// Tone is how a part of a laid-out screen reads. The cockpit styles each
// part by its tone; plain text drops it.
type Tone int

// The tones, from plain text to the three health levels.
const (
	ToneText Tone = iota
	ToneMuted
	ToneHeading
	ToneOK
	ToneWarn
	ToneBad
)

// HealthTone is the tone of a health level: ok, warn or bad.
func HealthTone(h correlate.Health) Tone {
	switch h {
	case correlate.Healthy:
		return ToneOK
	case correlate.Degraded:
		return ToneWarn
	}
	return ToneBad
}

// Part is a run of a line's text in one tone.
type Part struct {
	Text string
	Tone Tone
}

// Chart is a series of shares from 0 to 1, oldest first, kept as data
// because only the renderer knows how many cells it may fill.
type Chart struct {
	Shares []float64
	Tone   Tone
}

// Draw draws the chart in cells on a fixed 0 to 100% scale, so that 40%
// looks like 40%.
func (c Chart) Draw(cells int) string {
	return SparklineBetween(Resample(c.Shares, cells), cells, 0, 1)
}

// Line is one line of a laid-out screen: its indent in cells, its parts
// one after another, then its chart when it has one.
type Line struct {
	Indent int
	Parts  []Part
	Chart  *Chart
}

// Block is one titled part of a laid-out screen: its title line and the
// lines under it.
type Block struct {
	Title Line
	Lines []Line
}

// SLODetailOptions say what an SLO's detail is presented with.
type SLODetailOptions struct {
	// Source says where the budget was read: the world's label.
	Source   string
	Currency string
	// Zone is the zone times are written in; nil is UTC.
	Zone *time.Location
}

// SLODetail is one SLO in full, laid out once for `oncall slo show` and
// the cockpit's SLO view, which differ only in styling and width. Every
// string is terminal-safe.
type SLODetail struct {
	// Blocks are the head (the SLO, then its status, SLI, budget and
	// forecast as labelled rows) and, unless the budget could not be
	// read, the sections in reading order: burn rates, alerts, the
	// account, and where the numbers come from.
	Blocks []Block
}

// NewSLODetail lays out a budget and its account (nil when not read;
// accountErr says why when reading it failed, and nil with no error means
// it is being read).
func NewSLODetail(b slo.Budget, a *slo.BudgetHistory, accountErr error, o SLODetailOptions) SLODetail {
	zone := o.Zone
	if zone == nil {
		zone = time.UTC
	}
	head := sloHead(b)
	if b.Err != "" {
		return SLODetail{Blocks: []Block{head}}
	}
	head.Lines = append(head.Lines, budgetRows(b, o.Currency)...)
	blocks := append([]Block{head, burnRates(b), burnAlerts(b)}, accountBlocks(b, a, accountErr, zone)...)
	from := Block{Title: sectionTitle("FROM", " "+Safe(o.Source)+": "+Safe(b.Path))}
	for _, q := range b.Queries {
		from.Lines = append(from.Lines, Line{Parts: []Part{{Safe(q), ToneMuted}}})
	}
	return SLODetail{Blocks: append(blocks, from)}
}

// Lines lays the blocks out: the head at the margin with its rows under
// it, then each section after a blank line, its title in line with the
// head's rows and its lines further in.
func (d SLODetail) Lines() []Line {
	var out []Line
	for i, b := range d.Blocks {
		titleAt, linesAt := 2, 4
		if i == 0 {
			titleAt, linesAt = 0, 2
		} else {
			out = append(out, Line{})
		}
		b.Title.Indent = titleAt
		out = append(out, b.Title)
		for _, l := range b.Lines {
			l.Indent = linesAt
			out = append(out, l)
		}
	}
	return out
}

// SLODetailText writes an SLO's detail as plain text.
func SLODetailText(w io.Writer, d SLODetail) error {
	var sb strings.Builder
	for _, l := range d.Lines() {
		sb.WriteString(strings.Repeat(" ", l.Indent))
		for _, s := range l.Parts {
			sb.WriteString(s.Text)
		}
		if l.Chart != nil {
			sb.WriteString(l.Chart.Draw(cliChartCells))
		}
		sb.WriteString("\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// sectionTitle is a section's title: its name, then a muted note.
func sectionTitle(name, note string) Line {
	l := Line{Parts: []Part{{name, ToneHeading}}}
	if note != "" {
		l.Parts = append(l.Parts, Part{note, ToneMuted})
	}
	return l
}

// headRow is a labelled row of the head, its label in a muted column.
func headRow(label string, value ...Part) Line {
	return Line{Parts: append([]Part{{fmt.Sprintf("%-10s ", label), ToneMuted}}, value...)}
}

// sloHead is the SLO's name, where it is defined and its status.
func sloHead(b slo.Budget) Block {
	obj, window := ObjectiveWords(b.SLO)
	sym, word, lvl := BudgetState(b)
	h := Block{Title: Line{Parts: []Part{{Safe(b.SLO.Name), ToneHeading}, {"  " + Safe(b.SLO.Service) + "  " + obj + " / " + window, ToneMuted}}}}
	if b.SLO.Origin != "" {
		h.Lines = append(h.Lines, headRow("defined", Part{Text: Safe(b.SLO.Origin)}))
	}
	status := sym + " " + word
	if b.Err != "" {
		status += ": " + UnreadCause(b)
	}
	h.Lines = append(h.Lines, headRow("status", Part{status, HealthTone(lvl)}))
	return h
}

// budgetRows are the head's rows of a budget that was read: the SLI, the
// budget left and when it runs out, the forecast.
func budgetRows(b slo.Budget, currency string) []Line {
	sli := []Part{{"undefined: no traffic in the window", ToneMuted}}
	if b.SLI.Defined() {
		sli = []Part{{fmt.Sprintf("%.4f%%", 100*float64(b.SLI)), ToneText}}
		if b.Total.Defined() {
			sli = append(sli, Part{fmt.Sprintf(" (%s events, %s bad)", humanize.Commas(float64(b.Total)), humanize.Commas(float64(b.Bad))), ToneMuted})
		}
	}
	out := []Line{headRow("SLI", sli...)}
	if b.Threshold > 0 {
		out = append(out, headRow("threshold", Part{Text: fmt.Sprintf("%s (the histogram boundary nearest %s)", b.Threshold, b.SLO.Indicator.Threshold)}))
	}
	_, _, lvl := BudgetState(b)
	outage := MinutesLeft(b) + " of full outage"
	if m := Money(b, currency); m != "" {
		outage += " · worth " + Safe(m)
	}
	out = append(out, headRow("budget", Part{Text: BudgetPercent(b) + " left "}, Part{Gauge(b, gaugeCells), HealthTone(lvl)}, Part{Text: " · " + outage}))
	if p := Partial(b); p != "" {
		out = append(out, headRow("", Part{p, ToneWarn}, Part{": " + CoveredPart, ToneMuted}))
	}
	if b.Exhaustion > 0 {
		out = append(out, headRow("runs out", Part{Text: fmt.Sprintf("in %s at the current (%s) burn", slo.FormatSpan(b.Exhaustion), slo.WindowName(slo.CurrentBurnWindow))}))
	}
	if fl := ForecastLine(b.Forecast); fl != "" {
		tone := ToneMuted
		if b.Forecast.Within() {
			tone = ToneWarn
		}
		out = append(out, headRow("forecast", Part{fl, tone}), headRow("", Part{fmt.Sprintf("%s, on %d points", b.Forecast.Method, b.Forecast.Points), ToneMuted}))
	}
	return out
}

// burnRates is the burn rate over each window, and where it was read.
func burnRates(b slo.Budget) Block {
	out := Block{Title: sectionTitle("BURN RATES", "")}
	for _, br := range b.Burns {
		src := "counted"
		if br.Recorded {
			src = "recording rule"
		}
		out.Lines = append(out.Lines, Line{Parts: []Part{{Text: fmt.Sprintf("%-5s %8s", slo.WindowName(br.Window), Burn(float64(br.Rate)))}, {"   " + src, ToneMuted}}})
	}
	return out
}

// burnAlerts is every burn-rate alert of the policy, evaluated: a firing
// page is bad, a firing ticket a warning.
func burnAlerts(b slo.Budget) Block {
	out := Block{Title: sectionTitle("ALERTS", " (multiwindow, multi-burn-rate)")}
	for _, al := range b.Alerts {
		state := Part{"✓ quiet", ToneOK}
		if al.Firing {
			state = Part{"✗ FIRING", ToneBad}
			if al.Severity == slo.SeverityTicket {
				state.Tone = ToneWarn
			}
		}
		factor := strconv.FormatFloat(al.Factor, 'f', -1, 64) + "×"
		rule := fmt.Sprintf("%-6s over %s and %s > %s: %s and %s   ", Safe(string(al.Severity)), slo.WindowName(al.Long), slo.WindowName(al.Short),
			factor, Burn(float64(al.LongRate)), Burn(float64(al.ShortRate)))
		out.Lines = append(out.Lines, Line{Parts: []Part{{Text: rule}, state}})
	}
	return out
}

// accountBlocks are the burn-down over the window and what spent the
// budget, or why they are not there.
func accountBlocks(b slo.Budget, a *slo.BudgetHistory, accountErr error, zone *time.Location) []Block {
	switch {
	case accountErr != nil:
		return []Block{{Title: Line{Parts: []Part{{"✗ account: " + Safe(accountErr.Error()), ToneBad}}}}}
	case a == nil:
		return []Block{{Title: sectionTitle("BURN-DOWN", " reading the window…")}}
	}
	_, _, lvl := BudgetState(b)
	burnDown := Block{Title: sectionTitle("BURN-DOWN", fmt.Sprintf(" over %s (0 to 100%% of the budget), a point per %s", AccountSpan(a.Span), slo.WindowName(a.Step))),
		Lines: []Line{{Chart: &Chart{Shares: definedFloats(a.BurnDown.Remaining), Tone: HealthTone(lvl)}}}}
	if len(a.Spends) == 0 {
		return []Block{burnDown, {Title: sectionTitle("SPENT BY", "  "+nothingSpent)}}
	}
	spent := Block{Title: sectionTitle("SPENT BY", "")}
	for _, sp := range a.Spends {
		start, end := sp.Start.In(zone), sp.End.In(zone)
		spent.Lines = append(spent.Lines, Line{Parts: []Part{{Text: fmt.Sprintf("%s – %s  %5.1f%% of the budget, peak %s",
			start.Format("2006-01-02 15:04"), end.Format("15:04 MST"), 100*sp.Share, Burn(sp.PeakBurn))}}})
	}
	return []Block{burnDown, spent}
}

// definedFloats drops the undefined numbers of v.
func definedFloats(v []sources.Float) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if x.Defined() {
			out = append(out, float64(x))
		}
	}
	return out
}

// ObjectiveWords writes an SLO's objective and window: "99.9%", "28d".
func ObjectiveWords(s slo.Objective) (objective, window string) {
	// 10 significant digits: 100 × 0.00999 is 0.9990000000000001
	pct, _ := strconv.ParseFloat(strconv.FormatFloat(100*s.Objective, 'g', 10, 64), 64)
	return strconv.FormatFloat(pct, 'f', -1, 64) + "%", slo.WindowName(s.Window)
}
