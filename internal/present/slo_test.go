package present

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
)

// latencyBudget is a latency SLO whose names try to take over the
// terminal: partial, a ticket firing, its threshold snapped to a bucket.
func latencyBudget() slo.Budget {
	evil := "checkout\x1b]52;c;cm0gLXJmIH4=\x07"
	return slo.Budget{
		SLO: slo.Objective{Name: evil + "-latency", Service: evil, Objective: 0.95, Window: 28 * 24 * time.Hour, Origin: "sloth.yaml:3 (sloth)\x1b[2J",
			Indicator: sources.Indicator{Kind: sources.SLILatency, Service: "checkout", Threshold: 300 * time.Millisecond}, ValuePerMinuteDown: 10},
		At: t0, Path: "increase() over each window", Queries: []string{"sum(increase(x[28d]))\x1b[10;10H"},
		Total: 1000, Bad: 30, SLI: 0.97, Consumed: 0.6, Remaining: 0.4, MinutesLeft: 806.4, Partial: true, Covered: 9 * 24 * time.Hour,
		Burns: []slo.Burn{{Window: time.Hour, Rate: 0.5}, {Window: 5 * time.Minute, Rate: 20, Recorded: true}},
		Alerts: []slo.AlertState{{BurnAlert: slo.BurnAlert{Severity: slo.SeverityTicket, Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4},
			LongRate: 0.5, ShortRate: 20, Firing: true}},
		Status: slo.StatusTicket, Exhaustion: 40 * time.Minute, Threshold: 250 * time.Millisecond,
	}
}

// wantAll checks that out, what is named, holds every want.
func wantAll(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, out)
		}
	}
}

func detailText(t *testing.T, d SLODetail) string {
	t.Helper()
	var b bytes.Buffer
	if err := SLODetailText(&b, d); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\x1b", "\x07"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("the detail holds %q:\n%s", bad, b.String())
		}
	}
	return b.String()
}

func TestSLODetailSaysEverySectionInert(t *testing.T) {
	a := &slo.BudgetHistory{Span: 9 * 24 * time.Hour, Step: time.Hour, BurnDown: slo.BurnDown{Remaining: []sources.Float{1, sources.NaN(), 0.4}}}
	d := NewSLODetail(latencyBudget(), a, nil, SLODetailOptions{Source: "config /etc/oncall.yaml", Currency: "EUR"})
	if firing, status := partTone(d, "✗ FIRING"), partTone(d, "! ticket"); firing != ToneWarn || status != ToneWarn {
		t.Errorf("a firing ticket reads as a warning: alert %v, status %v", firing, status)
	}
	for _, l := range d.Lines() {
		if l.Chart != nil && len(l.Chart.Shares) != 2 {
			t.Errorf("the undefined point of the burn-down is kept: %v", l.Chart.Shares)
		}
	}
	out := detailText(t, d)
	wantAll(t, "the detail", out,
		"checkout-latency  checkout  95% / 28d\n",
		"  defined    sloth.yaml:3 (sloth)\n",
		"  status     ! ticket\n",
		"  SLI        97.0000% (1,000 events, 30 bad)\n",
		"  threshold  250ms (the histogram boundary nearest 300ms)\n",
		"  budget     40.0% left ████████░░░░░░░░░░░░ · 13 h 26 min of full outage · worth 8,064 EUR\n",
		"             partial: 9 of 28 days: the budget is that of the covered part\n",
		"  runs out   in 40 min at the current (5m) burn\n",
		"    5m       20.0×   recording rule\n",
		"    ticket over 1h and 5m > 14.4×: 0.5× and 20.0×   ✗ FIRING\n",
		"  BURN-DOWN over 9d (0 to 100% of the budget), a point per 1h\n",
		"  SPENT BY  nothing burned over twice the sustainable rate\n",
		"  FROM config /etc/oncall.yaml: increase() over each window\n    sum(increase(x[28d]))\n")
}

// partTone is the tone of the first part of d that says text, or -1.
func partTone(d SLODetail, text string) Tone {
	for _, l := range d.Lines() {
		for _, p := range l.Parts {
			if p.Text == text {
				return p.Tone
			}
		}
	}
	return -1
}

func TestSLODetailOfWhatCouldNotBeRead(t *testing.T) {
	out := detailText(t, NewSLODetail(latencyBudget(), nil, errors.New("loki\x1b[31m down"), SLODetailOptions{}))
	if !strings.Contains(out, "\n  ✗ account: loki down\n") || strings.Contains(out, "BURN-DOWN") {
		t.Errorf("an account that could not be read:\n%s", out)
	}
	out = detailText(t, NewSLODetail(latencyBudget(), nil, nil, SLODetailOptions{}))
	if !strings.Contains(out, "\n  BURN-DOWN reading the window…\n") || strings.Contains(out, "SPENT BY") {
		t.Errorf("an account being read:\n%s", out)
	}
	b := slo.Budget{SLO: latencyBudget().SLO, Err: "prometheus: \x1b[2Jrefused", Status: slo.StatusUnread}
	out = detailText(t, NewSLODetail(b, nil, nil, SLODetailOptions{}))
	if want := "checkout-latency  checkout  95% / 28d\n  defined    sloth.yaml:3 (sloth)\n  status     ? unread: prometheus: refused\n"; out != want {
		t.Errorf("an unread budget:\n%s\nwant\n%s", out, want)
	}
}

func TestSLOListNotesWhatItCannotShow(t *testing.T) {
	unread := slo.Budget{SLO: slo.Objective{Name: "ghost", Service: "g", Objective: 0.999, Window: 28 * 24 * time.Hour}, Err: "no data\x1b[2J", Status: slo.StatusUnread}
	l := NewSLOList([]slo.Budget{latencyBudget(), unread}, t0, "simulator: quiet, seed 1, onset 10m0s")
	var b bytes.Buffer
	if err := SLOListText(&b, l); err != nil {
		t.Fatal(err)
	}
	wantAll(t, "the list", b.String(),
		"checkout-latency  checkout  95% / 28d    97.000%  40.0%  ████░░░░░░  13 h 26 min   20.0×    0.5×  ↑  ! ticket  in 40 min at 5m burn\n",
		"ghost             g         99.9% / 28d  —        —      ··········  —             —        —        ? unread  \n",
		"at 2026-11-27T23:00:00Z from simulator: quiet, seed 1, onset 10m0s. minutes left",
		"note: checkout-latency: partial: 9 of 28 days; the budget is that of the covered part\nnote: ghost: not read: no data\n")
}

func TestForecastReportSaysWhatRunsOutAndWhatFills(t *testing.T) {
	var b bytes.Buffer
	if err := ForecastText(&b, NewForecastReport(t0, "config c.yaml", nil, nil, nil, []string{"saturation: \x1b[2Jnone"})); err != nil {
		t.Fatal(err)
	}
	if want := "✓ nothing is predicted to run out or fill\n\nat 2026-11-27T23:00:00Z from config c.yaml; intervals are 80%. Queries: -o json.\nnote: saturation: none\n"; b.String() != want {
		t.Errorf("nothing predicted:\n%s\nwant\n%s", b.String(), want)
	}
	in := func(what string, d time.Duration) slo.Forecast {
		return slo.Forecast{What: what, Method: "holt", Made: t0, At: t0.Add(d), Early: t0.Add(d - time.Minute), Late: t0.Add(d + time.Minute), Horizon: time.Hour}
	}
	b.Reset()
	r := NewForecastReport(t0, "config c.yaml", []slo.Forecast{in("checkout budget", 14*time.Minute)}, []slo.Forecast{in("db pool:main", 30*time.Minute)}, nil, nil)
	if err := ForecastText(&b, r); err != nil {
		t.Fatal(err)
	}
	if want := "PREDICTED                   WHEN                METHOD\n✗ checkout budget runs out  in 14 min (±1 min)  holt\n! db pool:main full         in 30 min (±1 min)  holt\n"; !strings.HasPrefix(b.String(), want) {
		t.Errorf("predictions:\n%s\nwant\n%s", b.String(), want)
	}
}

// TestForecastReportIsNeverCalmWhenBlind: what could not be read comes
// first, and the report never says that nothing is predicted.
func TestForecastReportIsNeverCalmWhenBlind(t *testing.T) {
	var b bytes.Buffer
	r := NewForecastReport(t0, "config c.yaml", nil, nil, []string{"checkout: prometheus query: \x1b[2Jconnection refused"}, nil)
	if err := ForecastText(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "? unread: checkout: prometheus query: connection refused\nnone of what was read is predicted to run out or fill\n"
	if !strings.HasPrefix(b.String(), want) || strings.Contains(b.String(), "nothing is predicted") {
		t.Errorf("blind forecast:\n%s\nwant it to start with\n%s", b.String(), want)
	}
}
