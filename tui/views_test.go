package tui

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/sources"
)

// openLogsAt is the payment-api logs of the retry storm at w×h, after
// ten seconds of tail, as TestGoldenLogs opens them.
func openLogsAt(t *testing.T, w, h int) (*App, *logsView) {
	t.Helper()
	f := fleetAt(t, "retry-storm", 5, 5*time.Minute)
	a := startedWith(t, deps(f), w, h)
	v := newLogsView(a.c, "payment-api")
	v.SetSize(w, a.bodyHeight())
	a.stack = append(a.stack, v)
	_, next := a.Update(startTail(a.c, v)())
	_, next = a.Update(next())
	f.Advance(10 * time.Second)
	a.Update(next())
	t.Cleanup(v.Close)
	return a, v
}

// selectedLine is the one screen line with the ▸ of the selection, raw.
func selectedLine(t *testing.T, a *App) string {
	t.Helper()
	var found []string
	for _, l := range strings.Split(a.render(), "\n") {
		if strings.HasPrefix(ansi.Strip(l), "▸ ") {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d selected rows:\n%s", len(found), screen(a))
	}
	return found[0]
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// A selected row is one style from its first cell to its last: no
// inner style ends the selection's background part way.
func requireOneStyle(t *testing.T, what, line string, width int) {
	t.Helper()
	if w := lipgloss.Width(line); w != width {
		t.Errorf("%s: the selected row is %d wide, want %d", what, w, width)
	}
	if seqs := sgr.FindAllString(line, -1); len(seqs) != 2 || !strings.HasSuffix(line, seqs[1]) {
		t.Errorf("%s: the selected row changes style %d times: %q", what, len(seqs), line)
	}
}

func TestSelectedRowCoversItsWidth(t *testing.T) {
	a := started(t, 120, 40)
	drive(t, a, press("enter"), press("t"))
	tv := a.top().(*traceView)
	for tv.rows[tv.sel].Span.Status != sources.StatusError {
		drive(t, a, press("j"))
	}
	requireOneStyle(t, "a failed span", selectedLine(t, a), 120)

	a, v := openLogsAt(t, 120, 30)
	for l, _ := v.selected(); l.Level != "error"; l, _ = v.selected() {
		drive(t, a, press("k"))
	}
	requireOneStyle(t, "an error line", selectedLine(t, a), 120)
}

// Log rows show the time and the level once, then the message, then the
// other fields: the level is not repeated from the line's body, and the
// service, named by the heading, is not repeated on every row.
func TestLogLinesShowEachFieldOnce(t *testing.T) {
	a, _ := openLogsAt(t, 80, 24)
	out := screen(a)
	if strings.Contains(out, "level=") || strings.Contains(out, `msg="`) {
		t.Errorf("a field is shown twice:\n%s", out)
	}
	if strings.Count(out, "payment-api") != 1 || !strings.Contains(out, "LOGS payment-api") {
		t.Errorf("the service is named more than once, or not in the heading:\n%s", out)
	}
	if !strings.Contains(out, "error POST /payments") {
		t.Errorf("no message after the level:\n%s", out)
	}
}

func TestHostileLogLinesRenderInert(t *testing.T) {
	a := started(t, 80, 24)
	v := newLogsView(a.c, "")
	v.width = 80
	evil := "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J"
	for _, line := range []string{"level=error msg=\"" + evil + "\" x=" + evil, `{"msg":"` + evil + `"`, evil + "free text"} {
		for _, sel := range []bool{false, true} {
			for _, r := range v.rows(sources.LogLine{Line: line, Service: evil, Level: evil}, sel, 80) {
				if strings.Contains(r, "]52;") || strings.Contains(r, "\x1b[2J") || lipgloss.Width(r) != 80 {
					t.Errorf("%q drawn as %q", line, r)
				}
			}
		}
	}
}

// The cursor is always on a visible row, the list follows it, and the
// rows cut above and below are counted.
func TestCursorStaysInSightInLogsAndWaterfall(t *testing.T) {
	a := started(t, 80, 24)
	drive(t, a, press("enter"), press("t"))
	tv := a.top().(*traceView)
	if room, cut := tv.spanRoom(); !cut || len(tv.rows) <= room {
		t.Fatalf("%d spans fit in %d rows: nothing to scroll", len(tv.rows), room)
	}
	drive(t, a, press("G"))
	if selectedLine(t, a); tv.sel != len(tv.rows)-1 || !strings.Contains(screen(a), "more above") {
		t.Errorf("G: the last span is not in sight:\n%s", screen(a))
	}
	drive(t, a, press("g"))
	if !strings.Contains(screen(a), "more below") || strings.Contains(screen(a), "more above") {
		t.Errorf("g: the spans below are not counted:\n%s", screen(a))
	}

	a, v := openLogsAt(t, 80, 24)
	run(a, loadHistory(a.c, v))
	if len(v.visible) < 60 {
		t.Fatalf("%d lines: nothing to scroll", len(v.visible))
	}
	for range 40 {
		drive(t, a, press("k"))
	}
	l, _ := v.selected()
	if !strings.Contains(ansi.Strip(selectedLine(t, a)), v.c.clock(l.T)) || !strings.Contains(screen(a), "newer lines (G)") ||
		!strings.Contains(screen(a), "older lines") {
		t.Errorf("40 lines up, the selection is out of sight:\n%s", screen(a))
	}
	drive(t, a, press("G"))
	if strings.Contains(screen(a), "newer lines") {
		t.Errorf("G: newer lines are still hidden:\n%s", screen(a))
	}
}

// Each view's footer lists its keys most important first; the footers
// short of room keep the first and "? help".
func TestFootersListTheKeysOfTheirView(t *testing.T) {
	lastLine := func(a *App) string { l := strings.Split(screen(a), "\n"); return l[len(l)-1] }
	a := started(t, 200, 40)
	drive(t, a, press("enter"))
	for _, want := range []string{"t traces", "l logs", "a ack", "d in full", "y copy", "o link", "? help"} {
		if !strings.Contains(lastLine(a), want) {
			t.Errorf("the incident's footer at 200 columns has no %q: %s", want, lastLine(a))
		}
	}
	drive(t, a, press("t"))
	for _, want := range []string{"enter fold", "n/N next/prev trace", "d whole span", "? help"} {
		if !strings.Contains(lastLine(a), want) {
			t.Errorf("the waterfall's footer has no %q: %s", want, lastLine(a))
		}
	}
	a = started(t, 80, 24)
	drive(t, a, press("enter"))
	if l := lastLine(a); !strings.Contains(l, "t traces · l logs · a ack") || !strings.Contains(l, "? help") {
		t.Errorf("the incident's footer at 80 columns: %s", l)
	}
}

// refusedLogs is a Loki that refuses the query: its other methods are
// the embedded backend's.
type refusedLogs struct{ lokiBackend }

type lokiBackend = sources.Logs

func (refusedLogs) Logs(context.Context, sources.LogQuery) ([]sources.LogLine, error) {
	return nil, errors.New(`loki query_range {service_name=~"payment-api|checkout-api|user-preferences-api"}: dial tcp 10.0.0.7:3100: connect: connection refused`)
}

// d shows the selection whole: the raw log line with its labels, the
// span with its attributes, the incident's errors with their causes.
func TestDetailShowsTheSelectionWhole(t *testing.T) {
	a, v := openLogsAt(t, 80, 24)
	l, _ := v.selected()
	drive(t, a, press("d"))
	if out := screen(a); !strings.Contains(out, "level="+l.Level) || !strings.Contains(out, "service_name=payment-api") {
		t.Errorf("d on a log line:\n%s", out)
	}

	a = started(t, 80, 24)
	drive(t, a, press("enter"), press("t"), press("d"))
	if out := screen(a); !strings.Contains(out, "attributes:") || !strings.Contains(out, "service.version=") {
		t.Errorf("d on a span:\n%s", out)
	}

	d := deps(testFleet(t))
	d.Sources.Logs = refusedLogs{d.Sources.Logs}
	a = startedWith(t, d, 80, 24)
	drive(t, a, press("enter"), press("d"))
	if out := screen(a); !strings.Contains(out, "did not arrive") || !strings.Contains(out, "connection refused") {
		t.Errorf("d on an incident whose logs were refused:\n%s", out)
	}
}

// Enter on a line that names no trace says so.
func TestEnterOnALineWithoutTraceSaysSo(t *testing.T) {
	_, v := openLogsAt(t, 80, 24)
	v.visible = append(v.visible, sources.LogLine{T: v.visible[len(v.visible)-1].T, Service: "payment-api", Level: "info", Line: "msg=hi"})
	v.sel = 0
	cmd := v.key(press("enter"))
	if cmd == nil {
		t.Fatal("enter on a line without a trace ID does nothing")
	}
	if msg, ok := cmd().(flashMsg); !ok || !strings.Contains(string(msg), "no trace") {
		t.Errorf("enter on a line without a trace ID: %v", msg)
	}
}

// The logs fill every size exactly, down to a view with room for one
// line, with the selection in sight.
func TestLogsFillEverySize(t *testing.T) {
	a, v := openLogsAt(t, 80, 24)
	run(a, loadHistory(a.c, v))
	for _, size := range [][2]int{{80, 24}, {60, 20}, {80, 12}, {40, 5}, {200, 60}} {
		for _, keys := range [][]string{nil, {"k", "k", "k"}, {"w"}, {"g"}, {"G", "w"}} {
			drive(t, a, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			for _, k := range keys {
				drive(t, a, press(k))
			}
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Fatalf("%dx%d after %v: %s", size[0], size[1], keys, bad)
			}
			if size[1] > 4 && !strings.Contains(screen(a), "▸ ") {
				t.Errorf("%dx%d after %v: no selection in sight:\n%s", size[0], size[1], keys, screen(a))
			}
		}
	}
}

// The waterfall fills every size exactly, with the selection in sight.
func TestWaterfallFillsEverySize(t *testing.T) {
	a := started(t, 80, 24)
	drive(t, a, press("enter"), press("t"))
	for _, size := range [][2]int{{80, 24}, {60, 20}, {80, 12}, {40, 8}, {200, 60}} {
		for _, keys := range [][]string{nil, {"G"}, {"g", "j", "j"}} {
			drive(t, a, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			for _, k := range keys {
				drive(t, a, press(k))
			}
			if bad := misfit(screen(a), size[0], size[1]); bad != "" {
				t.Fatalf("%dx%d after %v: %s", size[0], size[1], keys, bad)
			}
			if !strings.Contains(screen(a), "▸ ") {
				t.Errorf("%dx%d after %v: no selection in sight:\n%s", size[0], size[1], keys, screen(a))
			}
		}
	}
}
