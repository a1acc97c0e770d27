package present

import (
	"fmt"
	"io"
	"time"

	"github.com/oncall-cockpit/oncall/slo"
)

// listGaugeCells is the width of the list's budget gauges.
const listGaugeCells = 10

// SLOList is the presentation of every SLO's budget, one row each: what
// `oncall slo` prints. Every string is terminal-safe.
type SLOList struct {
	At     time.Time
	Source string // the world's label
	Rows   []SLORow
	// Notes say which SLOs could not be read, and why, and which budgets
	// are partial.
	Notes []string
}

// SLORow is one SLO's budget at a glance; "—" stands for a number that
// is undefined or could not be read.
type SLORow struct {
	Name, Service, Objective string // Objective: "99.9% / 28d"
	SLI, Left, Gauge         string
	MinutesLeft              string
	Burn5m, Burn1h, Arrow    string // Arrow: where the burn is heading
	Status                   string // "✗ page"
	// RunsOut is "~in 14 min (±1 min)" as forecast, "in 16 min at 5m
	// burn" without a forecast, or "".
	RunsOut string
}

// NewSLOList builds the presentation of budgets, in their order, read at
// at from source.
func NewSLOList(bs []slo.Budget, at time.Time, source string) SLOList {
	l := SLOList{At: at, Source: Safe(source)}
	for _, b := range bs {
		obj, window := ObjectiveWords(b.SLO)
		sym, word, _ := BudgetState(b)
		r := SLORow{Name: Safe(b.SLO.Name), Service: Safe(b.SLO.Service), Objective: obj + " / " + window, Gauge: Gauge(b, listGaugeCells), Status: sym + " " + word}
		if b.Err != "" {
			r.SLI, r.Left, r.MinutesLeft, r.Burn5m, r.Burn1h = "—", "—", "—", "—", "—"
			l.Rows = append(l.Rows, r)
			l.Notes = append(l.Notes, fmt.Sprintf("%s: not read: %s", r.Name, UnreadCause(b)))
			continue
		}
		r.SLI = "—"
		if b.SLI.Defined() {
			r.SLI = fmt.Sprintf("%.3f%%", 100*float64(b.SLI))
		}
		if b.Forecast != nil && b.Forecast.Within() {
			r.RunsOut = "~" + b.Forecast.Describe()
		} else if b.Exhaustion > 0 {
			r.RunsOut = "in " + slo.FormatSpan(b.Exhaustion) + " at " + slo.WindowName(slo.CurrentBurnWindow) + " burn"
		}
		r.Left, r.MinutesLeft, r.Arrow = BudgetPercent(b), MinutesLeft(b), BurnArrow(b)
		r.Burn5m, r.Burn1h = Burn(float64(b.BurnOver(slo.CurrentBurnWindow))), Burn(float64(b.BurnOver(time.Hour)))
		l.Rows = append(l.Rows, r)
		if p := Partial(b); p != "" {
			l.Notes = append(l.Notes, fmt.Sprintf("%s: %s; %s", r.Name, p, CoveredPart))
		}
	}
	return l
}

// SLOListText writes the list as a table, what its columns mean, and its
// notes.
func SLOListText(w io.Writer, l SLOList) error {
	t := NewTable("SLO", "SERVICE", "OBJECTIVE", "SLI", "LEFT", "", "MINUTES LEFT", "BURN 5m", "1h", "", "STATUS", "RUNS OUT")
	for _, r := range l.Rows {
		t.Row(r.Name, r.Service, r.Objective, r.SLI, r.Left, r.Gauge, r.MinutesLeft, r.Burn5m, r.Burn1h, r.Arrow, r.Status, r.RunsOut)
	}
	if err := t.Render(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nat %s from %s. minutes left: the budget as minutes of full outage; burn: error ratio ÷ (1 - objective); runs out: ~ forecast (80%% interval), else at the 5m burn. Queries: oncall slo show NAME, or -o json.\n", l.At.UTC().Format(time.RFC3339), l.Source)
	return writeNotes(w, l.Notes)
}

// writeNotes writes each note on a line of its own, after the report it
// qualifies.
func writeNotes(w io.Writer, notes []string) error {
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, "note: "+n); err != nil {
			return err
		}
	}
	return nil
}
