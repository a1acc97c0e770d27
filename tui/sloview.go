package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/themes"
)

// sloView is one SLO in full: its budget, the burn rate of every alert
// window with page and ticket status, the forecast, the burn-down over
// the window and the incidents that spent the budget. It opens on the
// overview's budget and reads the rest in the background.
type sloView struct {
	base
	budget  correlate.Budget
	account *correlate.BudgetHistory
	accErr  error
	loading bool
	loaded  time.Time // data clock of the last load
	vp      viewport.Model
	lines   []string
}

// sloMsg is a load of one SLO's budget and account.
type sloMsg struct {
	name    string
	budget  correlate.Budget
	account *correlate.BudgetHistory
	err     error
}

func openSLO(c *common, b correlate.Budget) tea.Cmd {
	v := &sloView{base: base{c: c}, budget: b, loading: true, vp: viewport.New()}
	k := c.keys
	v.vp.KeyMap = viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown}
	return push(v, loadSLO(c.deps, b.SLO))
}

// loadSLO reads the budget afresh, its forecast and its account.
func loadSLO(d Deps, s correlate.SLO) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		now := d.Now()
		if d.Sources.SLIs == nil {
			return sloMsg{name: s.Name, budget: correlate.Budget{SLO: s, Err: errNoSource("metrics").Error(), Status: correlate.StatusError}}
		}
		bs := loadBudgets(ctx, d.Sources.SLIs, []correlate.SLO{s}, now)
		m := sloMsg{name: s.Name, budget: bs[0]}
		if m.budget.Err == "" {
			a, err := correlate.LoadAccount(ctx, d.Sources.SLIs, m.budget)
			if err != nil {
				m.err = err
			} else {
				m.account = &a
			}
		}
		return m
	}
}

func (v *sloView) Title() string { return "slo " + safe(v.budget.SLO.Name) }

func (v *sloView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{either("↑↓", "scroll", k.Up, k.Down), relabel(k.Incident, "i", "incident"), relabel(k.Copy, "y", "copy queries"),
		relabel(k.Back, "esc", "back"), relabel(k.Help, "?", "help")}
}

func (v *sloView) SetSize(w, h int) {
	v.base.SetSize(w, h)
	v.vp.SetWidth(w)
	v.vp.SetHeight(max(0, h-1))
	v.render()
}

func (v *sloView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case sloMsg:
		if msg.name == v.budget.SLO.Name {
			v.budget, v.account, v.accErr, v.loading = msg.budget, msg.account, msg.err, false
			v.loaded = msg.budget.At
			v.render()
		}
	case tickMsg:
		if !v.c.paused && !v.loading && v.c.deps.Now().Sub(v.loaded) >= budgetEvery {
			v.loading = true
			return loadSLO(v.c.deps, v.budget.SLO)
		}
	case refreshMsg:
		if !v.loading {
			v.loading = true
			return loadSLO(v.c.deps, v.budget.SLO)
		}
	case tea.KeyPressMsg:
		return v.key(msg)
	}
	return nil
}

func (v *sloView) key(km tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	if scroll(&v.vp, k, km) {
		return nil
	}
	switch {
	case key.Matches(km, k.Incident, k.Open):
		return openIncident(v.c, correlate.Trigger{Service: v.budget.SLO.Service})
	case key.Matches(km, k.Logs):
		return openLogs(v.c, v.budget.SLO.Service)
	case key.Matches(km, k.Copy):
		return copyText("the budget's queries", strings.Join(v.budget.Queries, "\n"))
	}
	return nil
}

// render lays the SLO out for the width.
func (v *sloView) render() {
	if v.width <= 0 {
		return
	}
	v.lines = renderSLO(v.budget, v.account, v.accErr, v.c.deps.Meta.Currency, v.width, v.c.zone(), v.c.styles)
	v.vp.SetContentLines(v.lines)
}

func (v *sloView) View() string {
	st := v.c.styles
	state := "as of " + v.c.clock(v.budget.At)
	if v.loading {
		state = v.c.spinner() + " reading…"
	}
	foot := st.Muted.Render(state+" · ") + v.c.hint(v.ShortHelp())
	from := min(v.vp.YOffset(), len(v.lines))
	return fill(v.lines[from:min(len(v.lines), from+v.vp.Height())], v.width, v.height-1) + "\n" + fit(foot, v.width)
}

// renderSLO is the SLO view's lines, cut to width.
func renderSLO(b correlate.Budget, a *correlate.BudgetHistory, accErr error, currency string, width int, zone *time.Location, st *themes.Styles) []string {
	var out []string
	add := func(s string) { out = append(out, fit(s, width)) }
	row := func(label, value string) { add(st.Muted.Render(fmt.Sprintf("%-10s", label)) + " " + value) }
	sym, word, lvl := present.BudgetState(b)
	head := st.Heading.Render(safe(b.SLO.Name)) + st.Muted.Render("  "+safe(b.SLO.Service)+" · "+
		strconv.FormatFloat(100*b.SLO.Objective, 'f', -1, 64)+"% over "+correlate.WindowName(b.SLO.Window))
	add(head)
	if b.SLO.Origin != "" {
		row("defined", safe(b.SLO.Origin))
	}
	if b.Err != "" {
		row("status", st.Muted.Render(sym+" "+word+": "+safe(b.Err)))
		return out
	}
	row("status", st.Level(int(lvl)).Render(sym+" "+word))
	if b.SLI.Defined() {
		events := ""
		if b.Total.Defined() {
			events = st.Muted.Render(fmt.Sprintf("  %s events, %s bad", humanize.Commas(float64(b.Total)), humanize.Commas(float64(b.Bad))))
		}
		row("SLI", fmt.Sprintf("%.4f%%", 100*float64(b.SLI))+events)
	} else {
		row("SLI", st.Muted.Render("undefined: no traffic in the window"))
	}
	if b.Threshold > 0 {
		row("threshold", fmt.Sprintf("%s (bucket nearest %s)", b.Threshold, b.SLO.Indicator.Threshold))
	}
	money := ""
	if m := present.Money(b, currency); m != "" {
		money = " · worth " + m
	}
	row("budget", st.Level(int(lvl)).Render(present.Gauge(b, 20))+fmt.Sprintf(" %s left · %s of full outage%s", present.BudgetPercent(b), present.MinutesLeft(b), money))
	if p := present.Partial(b); p != "" {
		row("", st.Warn.Render(p)+st.Muted.Render(": the budget is that of the covered part"))
	}
	if b.Exhaustion > 0 {
		row("runs out", fmt.Sprintf("in %s at the current (%s) burn", correlate.FormatSpan(b.Exhaustion), correlate.WindowName(correlate.CurrentBurnWindow)))
	}
	if fl := present.ForecastLine(b.Forecast); fl != "" {
		style := st.Muted
		if b.Forecast.Within() {
			style = st.Warn
		}
		row("forecast", style.Render(fl))
		row("", st.Muted.Render(fmt.Sprintf("%s; %d points; made %s", b.Forecast.Method, b.Forecast.Points, b.Forecast.Made.In(zone).Format("15:04"))))
	}
	add("")
	add(st.Heading.Render("BURN-RATE ALERTS") + st.Muted.Render("  fire when both windows burn faster than the factor"))
	for _, al := range b.Alerts {
		state, l := "✓ quiet", 0
		if al.Firing {
			state, l = "✗ firing", 2
			if al.Severity == correlate.SeverityTicket {
				l = 1
			}
		}
		add(fmt.Sprintf("  %-6s %4s & %-4s > %-5s  %7s %7s  ", al.Severity, correlate.WindowName(al.Long), correlate.WindowName(al.Short),
			strconv.FormatFloat(al.Factor, 'f', -1, 64)+"×", present.Burn(float64(al.LongRate)), present.Burn(float64(al.ShortRate))) + st.Level(l).Render(state))
	}
	var burns []string
	for _, br := range b.Burns {
		burns = append(burns, correlate.WindowName(br.Window)+" "+present.Burn(float64(br.Rate)))
	}
	add(st.Muted.Render("  burn " + strings.Join(burns, " · ")))
	add("")
	switch {
	case accErr != nil:
		add(st.Heading.Render("BURN-DOWN") + "  " + st.Bad.Render("✗ "+safe(accErr.Error())))
	case a == nil:
		add(st.Heading.Render("BURN-DOWN") + st.Muted.Render("  reading the window…"))
	default:
		vals := make([]float64, 0, len(a.BurnDown.Remaining))
		for _, r := range a.BurnDown.Remaining {
			if r.Defined() {
				vals = append(vals, float64(r))
			}
		}
		w := max(10, width-4)
		add(st.Heading.Render("BURN-DOWN") + st.Muted.Render(fmt.Sprintf("  budget left over %s on a 0–100%% scale, a point per %s", present.AccountSpan(a.Span), correlate.WindowName(a.Step))))
		add("  " + st.Level(int(lvl)).Render(present.SparklineBetween(present.Resample(vals, w), w, 0, 1)))
		add("")
		if len(a.Spends) == 0 {
			add(st.Heading.Render("SPENT BY") + st.Muted.Render("  nothing burned over twice the sustainable rate"))
		} else {
			add(st.Heading.Render("SPENT BY") + st.Muted.Render("  the stretches that burned the budget, most costly first"))
			for _, sp := range a.Spends {
				add(fmt.Sprintf("  %s – %s  %5.1f%% of the budget  peak %s", sp.Start.In(zone).Format("Jan 02 15:04"), sp.End.In(zone).Format("15:04"), 100*sp.Share, present.Burn(sp.PeakBurn)))
			}
		}
	}
	add("")
	add(st.Muted.Render("from: " + safe(b.Path)))
	for _, q := range b.Queries {
		add(st.Muted.Render("  " + safe(q)))
	}
	return out
}
