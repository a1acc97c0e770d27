package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// statsDay is a Monday in December 2026.
func statsAt(day, hour, min int) time.Time {
	return time.Date(2026, 12, day, hour, min, 0, 0, time.UTC)
}

// stamp is a time of a kind, its source naming the backend as records do.
func stamp(t time.Time, kind string) Stamp {
	return Stamp{T: t, Kind: kind, Source: map[string]string{KindAlert: "ALERTS at 1m steps (prometheus)", KindAck: "silence s1 by ann (alertmanager)"}[kind]}
}

// statsRecords are four incidents with hand-computed figures:
//
//	id  root   sev       onset  detected  acked  resolved  autopilot
//	a   db     critical  10:00  10:02     10:07  10:30     no    (Mon 7th)
//	b   db     warning   20:00  20:06     –      20:20     yes   (Mon 7th)
//	c   –,api  critical  –      03:00     03:01  04:00     no    (Tue 8th)
//	d   api    page      12:00  12:04     12:05  open            (Sat 12th)
//
// MTTD: a 2m, b 6m, d 4m → mean 4m, median 4m, N 3.
// MTTA: a 5m, c 1m, d 1m → mean 2m20s, median 1m, N 3.
// MTTR: a 30m, b 20m, c 60m from detection → mean 36m40s, median 30m, N 3, 1 from detection.
func statsRecords() []Record {
	return []Record{
		{ID: "a", Root: "db", Services: []string{"api", "db"}, Severity: "critical",
			Onset: stamp(statsAt(7, 10, 0), KindAnomaly), Detected: stamp(statsAt(7, 10, 2), KindAlert), Acked: stamp(statsAt(7, 10, 7), KindAck), Resolved: stamp(statsAt(7, 10, 30), KindAlert)},
		{ID: "b", Root: "db", Services: []string{"db"}, Severity: "warning", ByAutopilot: true,
			Onset: stamp(statsAt(7, 20, 0), KindAnomaly), Detected: stamp(statsAt(7, 20, 6), KindAlert), Resolved: stamp(statsAt(7, 20, 20), KindVerified)},
		{ID: "c", Services: []string{"api"}, Severity: "critical",
			Detected: stamp(statsAt(8, 3, 0), KindAlert), Acked: stamp(statsAt(8, 3, 1), KindAck), Resolved: stamp(statsAt(8, 4, 0), KindAlert)},
		{ID: "d", Root: "api", Services: []string{"api"}, Severity: "page",
			Onset: stamp(statsAt(12, 12, 0), KindAnomaly), Detected: stamp(statsAt(12, 12, 4), KindAlert), Acked: stamp(statsAt(12, 12, 5), KindAck)},
	}
}

func TestFiguresFleetMatchesHandComputedAnswers(t *testing.T) {
	s := Figures(statsRecords(), StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0)})
	f := s.Fleet
	check := func(name string, got Interval, mean, median time.Duration, n, fromDetection int) {
		t.Helper()
		if got.Mean != mean || got.Median != median || got.N != n || got.FromDetection != fromDetection {
			t.Errorf("%s = mean %s median %s N %d from detection %d; want %s %s %d %d", name, got.Mean, got.Median, got.N, got.FromDetection, mean, median, n, fromDetection)
		}
	}
	check("MTTD", f.MTTD, 4*time.Minute, 4*time.Minute, 3, 0)
	check("MTTA", f.MTTA, 2*time.Minute+20*time.Second, time.Minute, 3, 0)
	check("MTTR", f.MTTR, 36*time.Minute+40*time.Second, 30*time.Minute, 3, 1)
	if f.Incidents != 4 || f.Open != 1 {
		t.Errorf("incidents %d open %d", f.Incidents, f.Open)
	}
	if f.Autopilot != (Share{N: 1, Of: 3}) {
		t.Errorf("autopilot %+v", f.Autopilot)
	}
	if f.BySeverity["critical"] != 2 || f.BySeverity["warning"] != 1 || f.BySeverity["page"] != 1 {
		t.Errorf("by severity %v", f.BySeverity)
	}
	// pages: a (Mon 10:02, in hours), c (Tue 03:00, out), d (Sat, out);
	// b is a warning. Two weeks: 1.5 a week.
	if f.Pages.N != 3 || f.Pages.OutOfHours != 2 || f.Pages.Weeks != 2 || f.Pages.PerWeek != 1.5 {
		t.Errorf("pages %+v", f.Pages)
	}
	// one of each end per incident counted, by end: MTTR's starts are two
	// onsets and c's detection
	want := []SourceCount{{EndOnset, "anomaly detection", 2}, {EndDetection, "Prometheus", 1},
		{EndResolution, "Prometheus", 2}, {EndResolution, "runbook verification (audit log)", 1}}
	if !slices.Equal(f.MTTR.Sources, want) {
		t.Errorf("MTTR sources %+v, want %+v", f.MTTR.Sources, want)
	}
	lines := SourceLines(f, 200)
	if len(lines) != 3 || lines[0] != "MTTD 3 of 4: onset from anomaly detection 3; first alert from Prometheus 3" ||
		lines[2] != "MTTR 3 of 4: onset from anomaly detection 2; first alert from Prometheus 1; resolution from Prometheus 2, runbook verification (audit log) 1" {
		t.Errorf("source lines %q", lines)
	}
	// narrower, a figure wraps between its ends
	if lines := SourceLines(f, 60); len(lines) != 7 || lines[4] != "MTTR 3 of 4: onset from anomaly detection 2;" || lines[5] != "      first alert from Prometheus 1;" {
		t.Errorf("source lines at 60 cells %q", lines)
	}
}

func TestFiguresPerServiceByRootElseFirstService(t *testing.T) {
	s := Figures(statsRecords(), StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0)})
	if len(s.Services) != 2 || s.Services[0].Service != "api" || s.Services[1].Service != "db" {
		t.Fatalf("services %+v", s.Services)
	}
	api, db := s.Services[0], s.Services[1]
	// api: c (no root, first service api) and d
	if api.Incidents != 2 || api.MTTR.N != 1 || api.MTTR.Mean != time.Hour || api.MTTR.FromDetection != 1 {
		t.Errorf("api %+v", api)
	}
	if api.MTTA.N != 2 || api.MTTA.Mean != time.Minute {
		t.Errorf("api MTTA %+v", api.MTTA)
	}
	// db: a and b; MTTD 2m and 6m: mean and median (even N) 4m
	if db.Incidents != 2 || db.MTTD.Mean != 4*time.Minute || db.MTTD.Median != 4*time.Minute || db.MTTR.Median != 25*time.Minute {
		t.Errorf("db %+v", db)
	}
	if db.Autopilot != (Share{N: 1, Of: 2}) {
		t.Errorf("db autopilot %+v", db.Autopilot)
	}
}

func TestFiguresKeepsOnlyTheSpanAndTheService(t *testing.T) {
	// since Tuesday: c and d; Now before d's detection: c only
	s := Figures(statsRecords(), StatsOptions{Since: statsAt(8, 0, 0), Now: statsAt(10, 0, 0)})
	if s.Fleet.Incidents != 1 || s.Fleet.MTTR.Mean != time.Hour {
		t.Errorf("since-filter: %+v", s.Fleet)
	}
	s = Figures(statsRecords(), StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0), Service: "db"})
	if s.Fleet.Incidents != 2 || s.Fleet.MTTD.N != 2 {
		t.Errorf("service db: %+v", s.Fleet)
	}
	// "api" is in a's services: a, c and d
	s = Figures(statsRecords(), StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0), Service: "api"})
	if s.Fleet.Incidents != 3 {
		t.Errorf("service api: %d incidents", s.Fleet.Incidents)
	}
}

func TestPagesOutOfHoursAreJudgedInTheZone(t *testing.T) {
	tokyo := time.FixedZone("Asia/Tokyo", 9*3600)
	// in Tokyo: a Mon 19:02 (out), c Tue 12:00 (in), d Sat 21:04 (out)
	s := Figures(statsRecords(), StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0), Zone: tokyo})
	if s.Fleet.Pages.OutOfHours != 2 {
		t.Errorf("Tokyo out of hours %d", s.Fleet.Pages.OutOfHours)
	}
	// in New York (UTC−5): a Mon 05:02 (out), c Mon 22:00 (out), d Sat (out)
	ny := time.FixedZone("America/New_York", -5*3600)
	if n := Figures(statsRecords(), StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0), Zone: ny}).Fleet.Pages.OutOfHours; n != 3 {
		t.Errorf("New York out of hours %d", n)
	}
	// a night shift's hours, every day: a 10:02 and d 12:04 are out, c 03:00 in
	all := []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	if n := Figures(statsRecords(), StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0), WorkStart: 0, WorkEnd: 8, Workdays: all}).Fleet.Pages.OutOfHours; n != 2 {
		t.Errorf("night shift out of hours %d", n)
	}
}

func TestEveryIncidentPagesWhenNoneHasASeverity(t *testing.T) {
	rs := statsRecords()
	for i := range rs {
		rs[i].Severity = ""
	}
	p := Figures(rs, StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0)}).Fleet.Pages
	if p.N != 4 || !strings.Contains(p.Rule, "every incident") {
		t.Errorf("pages %+v", p)
	}
}

func TestWriteStatsFitsEightyColumnsAndIsInert(t *testing.T) {
	rs := statsRecords()
	for _, h := range testenv.HostileValues {
		rs = append(rs, Record{ID: h.Name, Root: h.Value + strings.Repeat("x", 90), Severity: h.Value,
			Onset: Stamp{T: statsAt(9, 9, 0), Source: h.Value + strings.Repeat("y", 120)}, Detected: stamp(statsAt(9, 9, 1), KindAlert)})
	}
	var b bytes.Buffer
	if err := WriteStats(&b, Figures(rs, StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0)}), nil); err != nil {
		t.Fatal(err)
	}
	if testenv.HasEscape(b.Bytes()) {
		t.Errorf("escape sequence in the text")
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if n := utf8.RuneCountInString(l); n > statsWidth {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	b.Reset()
	if err := WriteStats(&b, Figures(statsRecords(), StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0)}), nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MTTD onset → first alert          4 min      4 min  3 of 4", "MTTA first alert → first ack 2 min 20 s      1 min  3 of 4",
		"MTTR onset → resolution          37 min     30 min  3 of 4 (1 from detection)",
		"pages: 3 (severity critical or page), 1.5 a week over 2.0 weeks", "out of hours: 2 of 3 pages", "\nDB\n", "resolved by the autopilot: 1 of 2 resolved",
		"Every stack's records but the demo's.",
		// a figure's sources wrap between its ends, whole
		"    MTTR 3 of 4: onset from anomaly detection 2; first alert from Prometheus 1;\n          resolution from Prometheus 2, runbook verification (audit log) 1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}

func TestRecordFiguresCountFromTheOnsetElseTheDetection(t *testing.T) {
	rs := statsRecords()
	a := RecordFigures(rs[0])
	if !a.Detect.OK || a.Detect.D != 2*time.Minute || a.Ack.D != 5*time.Minute || a.Resolve.D != 30*time.Minute || a.FromDetection {
		t.Errorf("a: %+v", a)
	}
	c := RecordFigures(rs[2]) // no onset: MTTR from the first alert
	if c.Detect.OK || !c.FromDetection || c.Resolve.D != time.Hour || c.Resolve.From != rs[2].Detected {
		t.Errorf("c: %+v", c)
	}
	d := RecordFigures(rs[3]) // open
	if d.Resolve.OK {
		t.Errorf("d is open, yet resolved after %s", d.Resolve.D)
	}
	// a resolution stamped before its onset is a clock at odds: no figure
	rs[0].Resolved.T = rs[0].Onset.T.Add(-time.Minute)
	if RecordFigures(rs[0]).Resolve.OK {
		t.Errorf("a negative MTTR counted")
	}
}

func TestScopeCountsTheDemoOnlyWhenAskedOrAlone(t *testing.T) {
	prod := Record{ID: "r", Stack: "prod", Detected: stamp(statsAt(20, 10, 0), KindAlert)}
	demo := Record{ID: "d", Stack: DemoStack, Detected: stamp(statsAt(1, 9, 0), KindAlert), Resolved: stamp(statsAt(1, 9, 30), KindHand)}
	o := StatsOptions{Since: statsAt(15, 0, 0), Now: statsAt(22, 0, 0)}

	got, left := o.Scope([]Record{prod, demo})
	if got.Stack != "" || left != 1 || got.Now != o.Now {
		t.Errorf("both stacks: stack %q, %d left out, now %s; want every real stack, 1, unchanged", got.Stack, left, got.Now)
	}
	if s := Figures([]Record{prod, demo}, got); s.Fleet.Incidents != 1 || s.Stack != "" {
		t.Errorf("both stacks counted %d (stack %q), want the real one", s.Fleet.Incidents, s.Stack)
	}
	// the demo's alone: counted, on the simulator's clock, a week ending
	// at its latest stamp
	got, left = o.Scope([]Record{demo})
	if got.Stack != DemoStack || left != 0 || got.Now != statsAt(1, 9, 30) || got.Since != statsAt(1, 9, 30).Add(-7*24*time.Hour) {
		t.Errorf("demo alone: %+v, %d left out", got, left)
	}
	if s := Figures([]Record{demo}, got); s.Fleet.Incidents != 1 || s.Stack != DemoStack || !strings.Contains(StackLine(s.Stack), "simulator's clock") {
		t.Errorf("demo alone counted %d (stack %q)", s.Fleet.Incidents, s.Stack)
	}
	// a real stack's record before the span does not hide the demo's
	old := prod
	old.Detected.T = statsAt(1, 8, 0)
	if got, _ = o.Scope([]Record{old, demo}); got.Stack != DemoStack {
		t.Errorf("a real record out of the span: stack %q, want the demo's", got.Stack)
	}
	// asked for: the demo's even beside a real stack's
	o.Stack = DemoStack
	if got, _ = o.Scope([]Record{prod, demo}); Figures([]Record{prod, demo}, got).Fleet.Incidents != 1 || got.Now != statsAt(1, 9, 30) {
		t.Errorf("--stack demo: %+v", got)
	}
	// a real stack asked for keeps the wall clock's window
	o.Stack = "prod"
	if got, _ = o.Scope([]Record{prod, demo}); got.Now != statsAt(22, 0, 0) || Figures([]Record{prod, demo}, got).Fleet.Incidents != 1 {
		t.Errorf("--stack prod: %+v", got)
	}
}

func TestStatsJSONLeavesUnmeasuredFiguresOut(t *testing.T) {
	rs := statsRecords()[3:] // d: open, so no MTTR
	b, err := json.Marshal(Figures(rs, StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0)}).Fleet)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		MTTD, MTTR map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.MTTR["mean_ns"]; ok || got.MTTR["n"] != 0.0 {
		t.Errorf("MTTR over no incident: %v", got.MTTR)
	}
	if got.MTTD["mean_ns"] != float64(4*time.Minute) || got.MTTD["median_ns"] != float64(4*time.Minute) {
		t.Errorf("MTTD: %v", got.MTTD)
	}
	// a measured zero is written: it is a figure
	rs[0].Detected = rs[0].Onset
	b, _ = json.Marshal(Figures(rs, StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0)}).Fleet.MTTD)
	if !strings.Contains(string(b), `"mean_ns":0`) {
		t.Errorf("a measured zero MTTD left out: %s", b)
	}
}

// Below a week, pages are a count over the span: a weekly rate from two
// hours would multiply three pages into 252.
func TestStatsPagesBelowAWeekAreACountOverTheSpan(t *testing.T) {
	rs := statsRecords()
	s := Figures(rs, StatsOptions{Since: statsAt(8, 2, 0), Now: statsAt(8, 4, 0)}) // c alone
	p := s.Fleet.Pages
	if p.N != 1 || p.Weekly() || p.PerWeek != 0 || p.Span != 2*time.Hour {
		t.Errorf("pages over 2 h: %+v", p)
	}
	var b bytes.Buffer
	if err := WriteStats(&b, s, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "pages: 1 (severity critical or page) in 2 h;\n         too short a span for a weekly rate\n") ||
		strings.Contains(b.String(), "a week over") {
		t.Errorf("text over 2 h:\n%s", b.String())
	}
	j, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(j), "per_week") || !strings.Contains(string(j), `"n":1`) || !strings.Contains(string(j), fmt.Sprintf(`"span_ns":%d`, 2*time.Hour)) {
		t.Errorf("JSON over 2 h: %s", j)
	}
	// a week exactly is rated, and JSON says so
	p = Figures(rs, StatsOptions{Since: statsAt(7, 0, 0), Now: statsAt(14, 0, 0)}).Fleet.Pages
	if j, _ = json.Marshal(p); !p.Weekly() || p.PerWeek != 3 || !strings.Contains(string(j), `"per_week":3`) || p.Rate() != "3.0 a week over 1.0 weeks" {
		t.Errorf("pages over a week: %+v %s", p, j)
	}
}

// With nothing resolved, the autopilot's share says so, not "0 of 0".
func TestStatsAutopilotShareOfNoneResolvedSaysSo(t *testing.T) {
	var b bytes.Buffer
	if err := WriteStats(&b, Figures(statsRecords()[3:], StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0)}), nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "resolved by the autopilot: none resolved yet\n") || strings.Contains(b.String(), "0 of 0") {
		t.Errorf("autopilot share over an open incident:\n%s", b.String())
	}
}

// acksUnread is the reason `oncall stats` gives when Alertmanager's
// silences did not answer.
const acksUnread = "Alertmanager did not answer (acks are read from its silences)"

// With the acknowledgements unread, MTTA is unknown, saying why, rather
// than measured over none; acks that live records hold still count, the
// others said unknown.
func TestStatsMTTAIsUnknownWhenTheAcksWereNotRead(t *testing.T) {
	rs := statsRecords()
	for i := range rs {
		rs[i].Acked = Stamp{}
	}
	s := Figures(rs, StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0), AcksUnread: acksUnread})
	if s.Fleet.MTTA.N != 0 || s.Fleet.MTTA.Unknown != acksUnread || s.Services[0].MTTA.Unknown != acksUnread || s.Fleet.MTTD.Unknown != "" {
		t.Errorf("MTTA %+v, a service's %+v, MTTD %+v", s.Fleet.MTTA, s.Services[0].MTTA, s.Fleet.MTTD)
	}
	var b bytes.Buffer
	if err := WriteStats(&b, s, nil); err != nil {
		t.Fatal(err)
	}
	want := "  MTTA first alert → first ack unknown: Alertmanager did not answer (acks are\n" +
		"                               read from its silences)\n"
	if !strings.Contains(b.String(), want) || strings.Contains(b.String(), "0 of 4") {
		t.Errorf("text lacks\n%s\nin\n%s", want, b.String())
	}
	j, err := json.Marshal(s.Fleet.MTTA)
	if err != nil {
		t.Fatal(err)
	}
	if string(j) != `{"n":0,"unknown":"`+acksUnread+`"}` {
		t.Errorf("JSON MTTA %s", j)
	}
	// one ack from a live record: measured, the others unknown
	rs[0].Acked = stamp(statsAt(7, 10, 7), KindAck)
	b.Reset()
	if err := WriteStats(&b, Figures(rs, StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(15, 0, 0), AcksUnread: acksUnread}), nil); err != nil {
		t.Fatal(err)
	}
	want = "  MTTA first alert → first ack      5 min      5 min  1 of 4, others unknown:\n" +
		"                               Alertmanager did not answer (acks are read from\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("text lacks\n%s\nin\n%s", want, b.String())
	}
}

// manyServices are n records a service, for service i of count (so
// that the busiest are the last), an hour apart from statsAt(1, 0, 0).
func manyServices(count int, n func(i int) int) []Record {
	var rs []Record
	at := statsAt(1, 0, 0)
	for i := range count {
		for range n(i) {
			at = at.Add(3 * time.Minute)
			svc := fmt.Sprintf("svc-%04d", i)
			rs = append(rs, Record{ID: fmt.Sprintf("r%d", len(rs)), Root: svc, Services: []string{svc}, Severity: []string{"critical", "warning", "page"}[len(rs)%3],
				Onset: stamp(at.Add(-time.Minute), KindAnomaly), Detected: stamp(at, KindAlert), Acked: stamp(at.Add(time.Minute), KindAck),
				Resolved: stamp(at.Add(time.Duration(len(rs)%50)*time.Minute), KindAlert), ByAutopilot: len(rs)%4 == 0})
		}
	}
	return rs
}

// A fleet of many services: the text gives the busiest ServicesWritten
// sections and a line for the rest; JSON keeps every service.
func TestWriteStatsGivesTheBusiestServicesAndCountsTheRest(t *testing.T) {
	rs := manyServices(ServicesWritten+5, func(i int) int { return 1 + i%7 })
	s := Figures(rs, StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(29, 0, 0)})
	if len(s.Services) != ServicesWritten+5 {
		t.Fatalf("%d services counted", len(s.Services))
	}
	var b bytes.Buffer
	if err := WriteStats(&b, s, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "\nSVC-"); n != ServicesWritten {
		t.Errorf("%d sections, want %d", n, ServicesWritten)
	}
	// the busiest (7 incidents: 6, 13, 20) first, in name order; one of
	// the quietest (1 incident: 0, 7, 14, 21) left out
	if i, j := strings.Index(out, "\nSVC-0006\n"), strings.Index(out, "\nSVC-0013\n"); i < 0 || j < i || strings.Contains(out, "\nSVC-0021\n") {
		t.Errorf("sections not the busiest first:\n%s", out)
	}
	if !strings.HasSuffix(out, "\n… and 5 more services: oncall stats --service NAME, or -o json for all\n") {
		t.Errorf("no line for the services left out:\n%s", out[max(0, len(out)-300):])
	}
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > statsWidth {
			t.Errorf("%d columns: %q", n, l)
		}
	}
}

// BenchmarkFigures counts a month of a large fleet: 14,000 records over
// 2,000 services, as `oncall stats` does, and writes its text.
func BenchmarkFigures(b *testing.B) {
	rs := manyServices(2000, func(int) int { return 7 })
	o := StatsOptions{Since: statsAt(1, 0, 0), Now: statsAt(31, 0, 0)}
	for b.Loop() {
		s := Figures(rs, o)
		if len(s.Services) != 2000 || s.Fleet.Incidents != 14000 {
			b.Fatalf("%d services, %d incidents", len(s.Services), s.Fleet.Incidents)
		}
		if err := WriteStats(io.Discard, s, nil); err != nil {
			b.Fatal(err)
		}
	}
}
