package present

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/internal/humanize"
)

// recordTime is how a record writes a time: with its date, since records
// are read months later, in the zone the timeline's title names.
const recordTime = "2006-01-02 15:04:05"

// stampWord is the width of the timeline's words ("acknowledged").
const stampWord = 12

// RecordOptions say what a history record is presented with.
type RecordOptions struct {
	// Zone is the zone times are written in; nil is UTC.
	Zone *time.Location
}

// Record is one past incident in full, laid out once for `oncall history
// show` and the cockpit's record view, which differ only in styling and
// width. Every string is terminal-safe: a record holds backends' and
// people's text.
type Record struct {
	// Head is the ID, stack, origin and state, then the title, severity,
	// root cause, mechanism, services and summary.
	Head Block
	// Times are the onset, first alert, acknowledgement and resolution,
	// each with its source, then the record's own MTTD, MTTA and MTTR.
	Times  Block
	Alerts Block
	// Acks, Actions, Notes and Snapshots have no title when the record
	// holds none, and are left out.
	Acks      Block
	Actions   Block
	Notes     Block
	Snapshots Block
}

// NewRecord lays a record out.
func NewRecord(r history.Record, o RecordOptions) Record {
	zone := zoneOr(o.Zone)
	at := func(t time.Time) Part { return Part{Text: t.In(zone).Format(recordTime) + " "} }
	p := Record{Head: recordHead(r), Times: recordTimes(r, zone)}

	p.Alerts.Title = sectionTitle(fmt.Sprintf("ALERTS (%d)", len(r.Alerts)), "")
	if len(r.Alerts) == 0 {
		p.Alerts.Lines = append(p.Alerts.Lines, recordLine(2, Part{"none recorded (an incident opened from a service has none)", ToneMuted}))
	}
	for _, a := range r.Alerts {
		what := " " + cmp.Or(oneLine(a.Service), "no service")
		if a.Severity != "" {
			what += " " + oneLine(a.Severity)
		}
		p.Alerts.Lines = append(p.Alerts.Lines, recordLine(2, alertSpan(a, r.Open(), zone), Part{oneLine(a.Name), ToneHeading}, Part{Text: what},
			Part{" " + oneLine(a.Source), ToneMuted}))
	}
	if len(r.Acks) > 0 {
		p.Acks.Title = sectionTitle(fmt.Sprintf("ACKNOWLEDGEMENTS (%d)", len(r.Acks)), "")
		for _, k := range r.Acks {
			muted := ""
			if k.Silence != "" {
				muted = " silence " + oneLine(k.Silence)
			}
			p.Acks.Lines = append(p.Acks.Lines, recordLine(2, at(k.T), Part{Text: oneLine(k.By)}, Part{muted + " " + oneLine(k.Source), ToneMuted}))
		}
	}
	if len(r.Actions) > 0 {
		p.Actions.Title = sectionTitle(fmt.Sprintf("ACTIONS (%d, from the audit log)", len(r.Actions)), "")
		for _, a := range r.Actions {
			what := cmp.Or(oneLine(history.ActionLine(a)), "audit entry "+oneLine(a.ID))
			p.Actions.Lines = append(p.Actions.Lines, recordLine(2, at(a.T), Part{what, resultTone(a.Result)}))
			if a.Command != "" {
				p.Actions.Lines = append(p.Actions.Lines, recordLine(4, Part{"$ " + oneLine(history.CommandShown(a.Command)), ToneMuted}))
			}
		}
	}
	if len(r.Notes) > 0 {
		p.Notes.Title = sectionTitle(fmt.Sprintf("NOTES (%d)", len(r.Notes)), "")
		for _, n := range r.Notes {
			p.Notes.Lines = append(p.Notes.Lines, recordLine(2, at(n.T), Part{oneLine(n.By) + ": ", ToneMuted}, Part{Text: oneLine(n.Text)}))
		}
	}
	if len(r.Snapshots) > 0 {
		p.Snapshots.Title = sectionTitle(fmt.Sprintf("SNAPSHOTS (%d: what oncall knew as it went)", len(r.Snapshots)), "")
		for _, s := range r.Snapshots {
			p.Snapshots.Lines = append(p.Snapshots.Lines, snapshotLines(s, at)...)
		}
	}
	return p
}

// recordHead is what the incident was: its ID and state, then what it
// hit and why.
func recordHead(r history.Record) Block {
	state := Part{"open", ToneWarn}
	switch {
	case r.Open():
	case r.ByAutopilot:
		state = Part{"resolved by the autopilot", ToneOK}
	default:
		state = Part{"resolved", ToneOK}
	}
	h := Block{Title: Line{Parts: []Part{{"INCIDENT " + oneLine(r.ID), ToneHeading},
		{" · stack " + cmp.Or(oneLine(r.Stack), "unnamed") + " · " + oneLine(string(r.Origin)) + " record · ", ToneMuted}, state}}}
	h.Lines = append(h.Lines, recordLine(0, Part{Text: cmp.Or(oneLine(r.Title), "untitled")}))
	what := []Part{{"severity ", ToneMuted}, {Text: cmp.Or(oneLine(r.Severity), "–")}, {" · root ", ToneMuted}, {Text: cmp.Or(oneLine(r.Root), "unknown")}}
	if r.Mechanism != "" {
		what = append(what, Part{" · ", ToneMuted}, Part{Text: oneLine(r.Mechanism)})
	}
	h.Lines = append(h.Lines, recordLine(0, what...))
	if len(r.Services) > 0 {
		h.Lines = append(h.Lines, recordLine(0, Part{"services ", ToneMuted}, Part{Text: oneLine(strings.Join(r.Services, ", "))}))
	}
	if r.Summary != "" {
		h.Lines = append(h.Lines, recordLine(0, Part{Text: oneLine(r.Summary)}))
	}
	return h
}

// recordTimes is the timeline, each time with its source, and the
// record's figures as `oncall stats` counts them.
func recordTimes(r history.Record, zone *time.Location) Block {
	b := Block{Title: sectionTitle("TIMELINE", " (times in "+zone.String()+", each with its source)")}
	for _, s := range []struct {
		word  string
		stamp history.Stamp
	}{{"onset", r.Onset}, {"first alert", r.Detected}, {"acknowledged", r.Acked}, {"resolved", r.Resolved}} {
		word := fmt.Sprintf(" %-*s ", stampWord, s.word)
		if s.stamp.IsZero() {
			why := "unknown"
			if s.word == "onset" && r.OnsetSearch.Source != "" {
				why = "unknown: " + oneLine(r.OnsetSearch.Source) // a search that found none says why
			}
			b.Lines = append(b.Lines, recordLine(2, Part{fmt.Sprintf("%-*s", len(recordTime), "–"), ToneMuted}, Part{Text: word}, Part{why, ToneMuted}))
			continue
		}
		b.Lines = append(b.Lines, recordLine(2, Part{Text: s.stamp.T.In(zone).Format(recordTime)}, Part{word, ToneHeading},
			Part{cmp.Or(oneLine(s.stamp.Source), "source unsaid"), ToneMuted}))
	}
	f := history.RecordFigures(r)
	figure := func(m history.Measure) string {
		if !m.OK {
			return "–"
		}
		return history.Span(m.D)
	}
	figs := "MTTD " + figure(f.Detect) + " · MTTA " + figure(f.Ack) + " · MTTR " + figure(f.Resolve)
	if f.Resolve.OK && f.FromDetection {
		figs += " (from the first alert: the onset is unknown)"
	}
	return Block{Title: b.Title, Lines: append(b.Lines, recordLine(2, Part{Text: figs}))}
}

// alertSpan is when an alert fired: to its end, or, with no end, still
// firing while the record is open and an end not seen once it resolved.
func alertSpan(a history.AlertSpan, open bool, zone *time.Location) Part {
	start := a.Start.In(zone).Format(recordTime)
	switch {
	case !a.End.IsZero():
		end := a.End.In(zone)
		if end.Format(time.DateOnly) == a.Start.In(zone).Format(time.DateOnly) {
			return Part{Text: start + "–" + end.Format(time.TimeOnly) + " "}
		}
		return Part{Text: start + "–" + end.Format(recordTime) + " "}
	case open:
		return Part{start + " (still firing) ", ToneWarn}
	}
	return Part{start + " (end not seen) ", ToneMuted}
}

// snapshotLines are one snapshot: what oncall said, its candidates and
// the blast radius then.
func snapshotLines(s history.Snapshot, at func(time.Time) Part) []Line {
	out := []Line{recordLine(2, at(s.T), Part{Text: oneLine(s.Summary)})}
	var cands []string
	for _, c := range s.Candidates {
		cands = append(cands, oneLine(c.Service)+" "+oneLine(string(c.Likelihood)))
	}
	if len(cands) > 0 {
		out = append(out, recordLine(4, Part{"candidates ", ToneMuted}, Part{Text: strings.Join(cands, ", ")}))
	}
	if b := s.Blast; len(b.Services) > 0 || b.FailingPerMin > 0 {
		blast := humanize.Count(len(b.Services), "service") + " · " + humanize.Commas(b.FailingPerMin) + " failing/min"
		if b.MoneyPerMin > 0 {
			blast += " · " + humanize.Commas(b.MoneyPerMin) + " " + oneLine(b.Currency) + "/min"
		}
		out = append(out, recordLine(4, Part{"blast ", ToneMuted}, Part{Text: blast}))
	}
	return out
}

// resultTone colours an action by its result: resolved is good, a
// failure or a rejection bad.
func resultTone(result string) Tone {
	switch r := strings.ToLower(result); {
	case strings.Contains(r, "resolved"), r == "ok", r == "succeeded":
		return ToneOK
	case strings.Contains(r, "fail"), strings.Contains(r, "error"), strings.Contains(r, "reject"):
		return ToneBad
	}
	return ToneText
}

// lineBreaks are what a terminal or a pager may start a new line at: a
// record's one-line field holding one would print a line of its own,
// one the record does not have ("resolved by alice" under a title). They
// are shown as ⏎, as termsafe shows a newline; termsafe then drops what
// is left of the controls.
var lineBreaks = strings.NewReplacer("\r\n", "⏎", "\r", "⏎", "\n", "⏎", "\v", "⏎", "\f", "⏎", "\u0085", "⏎", "\u2028", "⏎", "\u2029", "⏎")

// oneLine is a record's text as one line of the present model, safe on a
// terminal.
func oneLine(s string) string { return Safe(lineBreaks.Replace(s)) }

func recordLine(indent int, parts ...Part) Line { return Line{Indent: indent, Parts: parts} }

// Lines lays the record out: the head, then each section the record has
// after a blank line, its title at the margin and its lines indented.
func (p Record) Lines() []Line {
	out := append([]Line{p.Head.Title}, p.Head.Lines...)
	for _, b := range []Block{p.Times, p.Alerts, p.Acks, p.Actions, p.Notes, p.Snapshots} {
		if len(b.Title.Parts) == 0 {
			continue
		}
		out = append(out, Line{}, b.Title)
		out = append(out, b.Lines...)
	}
	return out
}

// RecordText writes a record as plain text, for `oncall history show`.
func RecordText(w io.Writer, p Record) error {
	_, err := io.WriteString(w, strings.Join(PlainLines(p.Lines()), "\n")+"\n")
	return err
}

// PlainLines are laid-out lines as plain text: each indented, its parts
// one after another, the tones dropped.
func PlainLines(lines []Line) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		var b strings.Builder
		b.WriteString(strings.Repeat(" ", l.Indent))
		for _, s := range l.Parts {
			b.WriteString(s.Text)
		}
		out[i] = b.String()
	}
	return out
}
