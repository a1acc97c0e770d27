package history

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/slo"
)

// PostmortemOptions say who the draft is for and what it may add to the
// record.
type PostmortemOptions struct {
	// Now is when the draft is written: action items fall due DueIn after it.
	Now time.Time
	// Zone is the zone times are written in; nil is UTC.
	Zone *time.Location
	// Owner owns the action items until the team assigns them.
	Owner string
	// DueIn is how long action items have; zero is DefaultDueIn.
	DueIn time.Duration
	// Stack is the stack the writer reads (the config's context): Explore
	// and ReadBudgets are its own, and DraftFrom uses neither for a record
	// of another stack (the demo's, another context's).
	Stack string
	// Explore, when set, links queries and traces into Grafana.
	Explore *grafana.Explore
	// ReadBudgets, when set, reads the SLO budgets DraftFrom puts in
	// Budgets: the cockpit and the CLI pass the same reader, so P and
	// oncall postmortem write one draft.
	ReadBudgets BudgetReader
	// Budgets are the SLOs' accounts over a span that holds the incident
	// (DraftFrom sets them from ReadBudgets); nil when they were not
	// read, and the budget consumed is not known.
	Budgets []SLOAccount
	// BudgetNote says why Budgets is nil, or which SLOs it lacks because
	// they could not be read; "" when every SLO was read.
	BudgetNote string
}

// BudgetReader reads each SLO's budget account over a span that holds
// r's incident (its window up to r's end). It returns the accounts it
// read and an error naming each SLO it could not read; nil and nil when
// the stack has no SLOs to read. It lives outside history, which
// imports no backend.
type BudgetReader func(ctx context.Context, r Record) ([]SLOAccount, error)

// SLOAccount is one SLO and its budget's account.
type SLOAccount struct {
	Objective slo.Objective
	History   slo.BudgetHistory
}

// DefaultDueIn is two weeks: one sprint, the usual horizon of a
// postmortem's action items.
const DefaultDueIn = 14 * 24 * time.Hour

// How much of the evidence a draft quotes: enough to recognise the
// failure, with counts of what was left out.
const (
	maxLogLines  = 3
	maxLineRunes = 200
	maxTraceIDs  = 5
	maxSimilar   = 5
	maxEvidence  = 8
	linkMargin   = 15 * time.Minute // Explore links open this much either side of the incident
)

// Draft is a postmortem draft: what the record knows, written down, and
// prompts for what only people know.
type Draft struct {
	ID       string `json:"id"`
	Stack    string `json:"stack,omitempty"`
	Title    string `json:"title"`
	Origin   Origin `json:"origin"`
	Zone     string `json:"zone"`
	Severity string `json:"severity,omitempty"`
	Summary  string `json:"summary"`
	Impact   Impact `json:"impact"`
	// Timeline is in time order, each entry with its source.
	Timeline  []Entry   `json:"timeline"`
	RootCause RootCause `json:"root_cause"`
	Done      []Action  `json:"done"`
	WentWell  []string  `json:"went_well"`
	WentBadly []string  `json:"went_badly"`
	Items     []Item    `json:"action_items"`
	Similar   []Similar `json:"similar"`
	// Experiment is the chaos experiment that would have caught this,
	// as YAML in the format of oncall chaos experiments.
	Experiment string `json:"experiment"`
	// Notes say what the draft could not do (a Grafana link it could not build).
	Notes []string `json:"notes,omitempty"`

	zone *time.Location
}

// Impact is what the incident cost.
type Impact struct {
	Start    Stamp         `json:"start"` // the onset, else the detection
	End      Stamp         `json:"end"`   // the resolution, else the draft's Now
	Duration time.Duration `json:"duration_ns"`
	Open     bool          `json:"open,omitempty"`
	// Failed is the failed requests, when Known; How says how it was
	// counted, or why it is not known.
	Failed      float64 `json:"failed_requests"`
	FailedKnown bool    `json:"failed_known"`
	// Unmeasured is how long from Start no snapshot measured: Failed and
	// Money are then lower bounds.
	Unmeasured time.Duration `json:"unmeasured_ns,omitempty"`
	Money      float64       `json:"money"`
	Currency   string        `json:"currency,omitempty"`
	How        string        `json:"how"`
	// MoneyHow says how Money was counted: the rates, the snapshots, the
	// currency.
	MoneyHow string `json:"money_how"`
	// Budget is each SLO budget the incident spent; BudgetUnknown says
	// why there is none.
	Budget        []BudgetSpent `json:"budget,omitempty"`
	BudgetUnknown string        `json:"budget_unknown,omitempty"`
	// BudgetUnread names the SLOs whose budgets could not be read, with why.
	BudgetUnread string `json:"budget_unread,omitempty"`
}

// BudgetSpent is the share of one SLO's budget spent during the incident.
type BudgetSpent struct {
	SLO      string    `json:"slo"`
	Share    float64   `json:"share"`
	PeakBurn float64   `json:"peak_burn"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Entry is one line of the timeline.
type Entry struct {
	T      time.Time `json:"t"`
	Kind   string    `json:"kind"`
	What   string    `json:"what"`
	Source string    `json:"source"`
}

// RootCause is the cause, how it spread, and the evidence for both.
type RootCause struct {
	Service   string `json:"service,omitempty"`
	Mechanism string `json:"mechanism,omitempty"`
	Summary   string `json:"summary,omitempty"`
	// Chain is the explanation, symptom first: "service: what".
	Chain    []string   `json:"chain,omitempty"`
	Factors  []Factor   `json:"contributing_factors,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// Traces are the traces cited, by ID (in Query), linked into Tempo.
	Traces []Evidence `json:"traces,omitempty"`
	// MoreTraces is how many cited traces are left out of Traces.
	MoreTraces int `json:"more_traces,omitempty"`
	// Unknown says why there is no root cause.
	Unknown string `json:"unknown,omitempty"`
}

// Factor is a way the failure spread, with its evidence.
type Factor struct {
	Kind     string     `json:"kind"`
	Service  string     `json:"service"`
	Detail   string     `json:"detail"`
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence is one query, log excerpt or trace, with an Explore link when
// one could be built.
type Evidence struct {
	What  string   `json:"what"`
	Query string   `json:"query,omitempty"`
	Lines []string `json:"lines,omitempty"`
	// MoreLines is how many lines of the excerpt are left out.
	MoreLines int    `json:"more_lines,omitempty"`
	Link      string `json:"link,omitempty"`
}

// Item is an action item.
type Item struct {
	Title string    `json:"title"`
	Why   string    `json:"why"`
	Owner string    `json:"owner"`
	Due   time.Time `json:"due"`
}

// Similar is a past incident like this one.
type Similar struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	When      time.Time `json:"when"`
	Root      string    `json:"root"`
	Mechanism string    `json:"mechanism,omitempty"`
	// Match says what it shares: "root and mechanism", or "root".
	Match string `json:"match"`
}

// Postmortem drafts the postmortem of r; past are the other records, for
// similar incidents. It is a pure function: every free text it keeps is
// redacted and made terminal-safe.
func Postmortem(r Record, past []Record, o PostmortemOptions) Draft {
	zone := o.Zone
	if zone == nil {
		zone = time.UTC
	}
	d := Draft{ID: clean(r.ID), Stack: clean(r.Stack), Title: clean(r.Title), Origin: r.Origin, Zone: zone.String(), Severity: clean(r.Severity), zone: zone}
	d.Impact = impact(r, o, zone)
	d.Timeline = timelineOf(r)
	d.RootCause, d.Notes = rootCause(r, d.Impact, o.Explore)
	for _, a := range r.Actions {
		d.Done = append(d.Done, cleanAction(a))
	}
	d.WentWell, d.WentBadly = prompts(r)
	d.Items = items(r, o)
	d.Similar = similar(r, past)
	d.Experiment = experiment(r)
	d.Summary = summary(r, d.Impact, zone)
	return d
}

// span of the impact: the onset (else detection) to the resolution (else now).
func impact(r Record, o PostmortemOptions, zone *time.Location) Impact {
	im := Impact{Start: r.Onset, End: r.Resolved}
	if im.Start.IsZero() {
		im.Start = r.Detected
	}
	if im.End.IsZero() {
		im.Open = true
		im.End = Stamp{T: o.Now, Source: "still open when this draft was written"}
	}
	im.Start.Source, im.End.Source = clean(im.Start.Source), clean(im.End.Source)
	if !im.Start.IsZero() && !im.End.IsZero() && im.End.T.After(im.Start.T) {
		im.Duration = im.End.T.Sub(im.Start.T)
	}
	countFailed(&im, r, zone)
	im.Budget, im.BudgetUnknown = budgetSpent(o.Budgets, o.BudgetNote, im.Start.T, im.End.T)
	if o.Budgets != nil {
		im.BudgetUnread = clean(o.BudgetNote)
	}
	return im
}

// countFailed counts the failed requests and the money at risk: each
// blast-radius snapshot's rates a minute held until the next snapshot,
// the last until the end. Nothing was measured before the first snapshot
// (taken when someone first opened the incident, often minutes in), and
// the count does not guess it: it is then a lower bound, and Unmeasured
// says how long from the start of the impact went uncounted.
func countFailed(im *Impact, r Record, zone *time.Location) {
	end := im.End.T
	at := func(t time.Time) string { return t.In(zone).Format("15:04:05") }
	snaps := slices.Clone(r.Snapshots)
	sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].T.Before(snaps[j].T) })
	snaps = slices.DeleteFunc(snaps, func(s Snapshot) bool { return !end.After(s.T) })
	var from, to time.Time
	var failing, money []float64
	var currency string
	switch {
	case len(snaps) > 0:
		from, to = snaps[0].T, snaps[len(snaps)-1].T
		for i, s := range snaps {
			until := end
			if i+1 < len(snaps) {
				until = snaps[i+1].T
			}
			mins := until.Sub(s.T).Minutes()
			im.Failed += s.Blast.FailingPerMin * mins
			im.Money += s.Blast.MoneyPerMin * mins
			failing, money = append(failing, s.Blast.FailingPerMin), append(money, s.Blast.MoneyPerMin)
			currency = cmp.Or(clean(s.Blast.Currency), currency)
		}
		what := fmt.Sprintf("the blast-radius snapshot of %s", at(from))
		if len(snaps) > 1 {
			what = fmt.Sprintf("%s (%s to %s), each held until the next", humanize.Count(len(snaps), "blast-radius snapshot"), at(from), at(to))
		}
		im.How = fmt.Sprintf("%s failing requests a minute × the %s from %s to %s (%s), from %s", rateRange(failing), Span(end.Sub(from)), at(from), at(end), firstNonEmpty(clean(im.End.Source), "the end"), what)
		im.MoneyHow = rateRange(money) + " %s a minute × the same minutes, from the same snapshots"
	case r.Incident != nil && r.Incident.Blast != nil && r.Incident.Blast.Unknown == "" && !r.Detected.IsZero() && end.After(r.Detected.T):
		// no snapshot over time: the one assembled incident's rates, held
		// from the detection (the assembly looked at the first alert)
		b := r.Incident.Blast
		from = r.Detected.T
		mins := end.Sub(from).Minutes()
		im.Failed, im.Money, currency = b.FailingPerMin*mins, b.MoneyPerMin*mins, clean(b.Currency)
		im.How = fmt.Sprintf("estimated: the assembled incident's %s failing requests a minute held over the %s from the detection at %s to %s (no snapshots over time)", humanize.Commas(b.FailingPerMin), Span(end.Sub(from)), at(from), at(end))
		im.MoneyHow = "estimated: its " + humanize.Commas(b.MoneyPerMin) + " %s a minute held over the same minutes"
	default:
		why := "no blast radius was measured (a reconstructed record holds no snapshots)"
		switch {
		case r.Origin == OriginLive && len(r.Snapshots) == 0:
			why = "no blast-radius snapshot was taken while it went on"
		case len(r.Snapshots) > 0:
			why = "no blast-radius snapshot was taken before the end, " + at(end)
		}
		if r.Incident != nil && r.Incident.Blast != nil && r.Incident.Blast.Unknown != "" {
			why = clean(r.Incident.Blast.Unknown)
		}
		im.How = "not known: " + why
		return
	}
	im.FailedKnown = true
	if currency == "" {
		im.MoneyHow = "not known: the config gives no currency or value per request"
	} else {
		im.Currency = currency
		im.MoneyHow = fmt.Sprintf(im.MoneyHow, currency) + "; a minute's money is each service's value_per_request × its requests lost, in the config's currency"
	}
	if !im.Start.IsZero() && im.Start.T.Before(from) {
		im.Unmeasured = from.Sub(im.Start.T)
		what := "the first snapshot"
		if len(snaps) == 0 {
			what = "the detection"
		}
		im.How += fmt.Sprintf("; the %s from the %s at %s to %s were not measured", Span(im.Unmeasured), startKind(r), at(im.Start.T), what)
		if im.Currency != "" {
			im.MoneyHow += "; the same " + Span(im.Unmeasured) + " were not measured"
		}
	}
}

// startKind names what the impact's start is: the onset, else the detection.
func startKind(r Record) string {
	if r.Onset.IsZero() {
		return "detection"
	}
	return "onset"
}

// rateRange writes rates a minute: one, or the lowest to the highest.
func rateRange(rates []float64) string {
	lo, hi := slices.Min(rates), slices.Max(rates)
	if lo == hi {
		return humanize.Commas(lo)
	}
	return humanize.Commas(lo) + "–" + humanize.Commas(hi)
}

// budgetSpent is the SLO budget spent in [start, end]: the budget
// account's stretches of fast burn that overlap it. note says why there
// are no accounts, when there are none.
func budgetSpent(accounts []SLOAccount, note string, start, end time.Time) ([]BudgetSpent, string) {
	if accounts == nil {
		return nil, "not known: " + firstNonEmpty(clean(note), "the SLOs' history was not read for this draft (oncall postmortem and P read it when the config has SLOs)")
	}
	var out []BudgetSpent
	for _, a := range accounts {
		for _, sp := range a.History.Spends {
			if sp.End.Before(start) || sp.Start.After(end) {
				continue
			}
			out = append(out, BudgetSpent{SLO: clean(a.Objective.Name), Share: sp.Share, PeakBurn: sp.PeakBurn, Start: sp.Start, End: sp.End})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Sprintf("none notable: no SLO of %s burned %s or more of its budget at over %gx in this span", humanize.Count(len(accounts), "SLO"), humanize.Percent(slo.MinSpendShare), slo.SpendBurn)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Share > out[j].Share })
	return out, ""
}

// timelineOf merges every signal the record holds, each with its source.
func timelineOf(r Record) []Entry {
	var out []Entry
	add := func(t time.Time, kind, what, source string) {
		if !t.IsZero() {
			out = append(out, Entry{T: t, Kind: kind, What: clean(what), Source: clean(source)})
		}
	}
	if !r.Onset.IsZero() {
		what := "the root's anomaly began"
		if r.Root != "" {
			what = r.Root + "'s anomaly began"
		}
		add(r.Onset.T, "onset", what, r.Onset.Source)
	}
	if r.Incident != nil {
		// changes and stops of the services in the incident: the
		// evidence holds the whole fleet's
		in := append([]string{r.Root}, r.Services...)
		for _, l := range r.Incident.Chain {
			in = append(in, l.Service)
		}
		for _, ev := range r.Incident.Timeline {
			if (ev.Kind == "change" || ev.Kind == "stopped-reporting") && slices.Contains(in, ev.Service) {
				add(ev.T, ev.Kind, strings.TrimSpace(ev.Service+" "+ev.Detail), "the assembled incident's evidence")
			}
		}
	}
	for _, a := range r.Alerts {
		add(a.Start, "alert-firing", fmt.Sprintf("%s fired (%s)", a.Name, strings.TrimSpace(a.Service+" "+a.Severity)), a.Source)
		add(a.End, "alert-resolved", a.Name+" resolved", a.Source)
	}
	for _, a := range r.Acks {
		add(a.T, "ack", "acknowledged by "+a.By, a.Source)
	}
	for _, a := range r.Actions {
		add(a.T, "action", ActionLine(a), "audit log entry "+a.ID)
	}
	for _, n := range r.Notes {
		add(n.T, "note", n.By+": "+n.Text, "note")
	}
	prev := ""
	for _, s := range r.Snapshots {
		top := "no suspect"
		if len(s.Candidates) > 0 {
			top = fmt.Sprintf("%s (%s)", s.Candidates[0].Service, s.Candidates[0].Likelihood)
		}
		if top != prev {
			add(s.T, "suspect", "top suspect: "+top, "oncall's live snapshot")
			prev = top
		}
	}
	if !r.Resolved.IsZero() {
		add(r.Resolved.T, "resolved", "the incident resolved", r.Resolved.Source)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].T.Before(out[j].T) })
	return out
}

// ActionLine says what an audit entry did, in a few words: the runbook
// and action, the target, who, the approval, the result. The time and
// the command are left to the caller, which shows them apart (a command
// can be long, and goes in a code span).
func ActionLine(a Action) string {
	var parts []string
	if a.Runbook != "" || a.Action != "" {
		parts = append(parts, strings.Trim(a.Runbook+"/"+a.Action, "/"))
	}
	if a.Target != "" {
		parts = append(parts, "on "+a.Target)
	}
	who := a.User
	if a.Autopilot {
		who = "the autopilot"
	}
	if who != "" {
		parts = append(parts, "by "+who)
	}
	if a.Approval != "" {
		parts = append(parts, "("+a.Approval+")")
	}
	if a.Result != "" {
		parts = append(parts, "→ "+a.Result)
	}
	return strings.Join(parts, " ")
}

// MaxCommandShown bounds an audit command as a listing or a draft shows
// it: a runbook can log a 2 MB manifest, and the audit log keeps it whole.
const MaxCommandShown = 2000

// CommandShown is an audit command as shown: at most MaxCommandShown
// bytes (cut at a character), then how much more there is and where.
func CommandShown(cmd string) string {
	if len(cmd) <= MaxCommandShown {
		return cmd
	}
	cut := MaxCommandShown
	for cut > 0 && !utf8.RuneStart(cmd[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes; oncall audit shows it whole)", cmd[:cut], len(cmd)-cut)
}

func cleanAction(a Action) Action {
	for _, f := range []*string{&a.Runbook, &a.Action, &a.Target, &a.User, &a.Command, &a.Approval, &a.Result} {
		*f = clean(*f)
	}
	return a
}

// rootCause gathers the cause and its evidence from the record and its
// assembled incident.
func rootCause(r Record, im Impact, ex *grafana.Explore) (RootCause, []string) {
	rc := RootCause{Service: clean(r.Root), Mechanism: clean(r.Mechanism), Summary: clean(r.Summary)}
	if r.Root == "" {
		rc.Unknown = "no root cause was found: the record holds no assembled incident with a likely candidate"
	}
	inc := r.Incident
	if inc == nil {
		return rc, nil
	}
	l := linker{ex: ex, from: im.Start.T.Add(-linkMargin), to: im.End.T.Add(linkMargin)}
	for _, c := range inc.Chain {
		rc.Chain = append(rc.Chain, clean(c.Service+": "+c.What))
	}
	for _, m := range inc.Mechanisms {
		f := Factor{Kind: clean(m.Kind), Service: clean(m.Service), Detail: clean(m.Detail)}
		if logEvidence(m.Kind) {
			var e Evidence
			e.Lines, e.MoreLines = excerpt(m.Evidence)
			f.Evidence = append(f.Evidence, e)
		} else {
			for _, e := range m.Evidence {
				if strings.ContainsAny(e, "({") {
					f.Evidence = append(f.Evidence, l.query(e))
				} else {
					f.Evidence = append(f.Evidence, Evidence{What: clean(e)})
				}
			}
		}
		rc.Factors = append(rc.Factors, f)
	}
	var ids []string
	if len(inc.Candidates) > 0 {
		for _, rs := range inc.Candidates[0].Reasons {
			if !rs.Shown() {
				continue
			}
			ids = append(ids, rs.TraceIDs...)
			if rs.Source == "" && len(rs.Lines) == 0 {
				continue
			}
			e := l.query(rs.Source)
			if rs.Kind == correlate.ReasonLogs {
				e = l.logs(rs.Source)
			}
			e.What = clean(string(rs.Kind) + ": " + rs.Detail)
			e.Lines, e.MoreLines = excerpt(rs.Lines)
			if len(rc.Evidence) < maxEvidence {
				rc.Evidence = append(rc.Evidence, e)
			}
		}
	}
	for _, t := range inc.Traces {
		ids = append(ids, t.TraceID)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if len(rc.Traces) < maxTraceIDs {
			e := l.evidence(grafana.Tempo, id)
			e.What = "trace"
			rc.Traces = append(rc.Traces, e)
		} else {
			rc.MoreTraces++
		}
	}
	return rc, l.notes
}

// logEvidence reports whether a mechanism's evidence is log lines (its
// signature's samples), as correlate gives them, rather than queries and
// the surges it measured.
func logEvidence(kind string) bool {
	switch kind {
	case "timeouts", "crash-loop", "crash":
		return true
	}
	return false
}

// excerpt keeps the first log lines, each cut, and counts the rest.
func excerpt(lines []string) ([]string, int) {
	var out []string
	for i, s := range lines {
		if i == maxLogLines {
			return out, len(lines) - maxLogLines
		}
		out = append(out, cut(clean(s), maxLineRunes))
	}
	return out, 0
}

// linker builds Explore links, noting once per kind why it cannot.
type linker struct {
	ex       *grafana.Explore
	from, to time.Time
	notes    []string
	failed   map[string]bool
}

func (l *linker) query(q string) Evidence { return l.evidence(grafana.Prometheus, q) }
func (l *linker) logs(q string) Evidence  { return l.evidence(grafana.Loki, q) }

func (l *linker) evidence(kind, q string) Evidence {
	e := Evidence{Query: clean(q)}
	if l.ex == nil || q == "" || l.failed[kind] {
		return e
	}
	// the link carries the query URL-encoded, past any redaction of the
	// link: it is built from the redacted query
	link, err := l.ex.Link(kind, e.Query, l.from, l.to)
	if err != nil {
		if l.failed == nil {
			l.failed = map[string]bool{}
		}
		l.failed[kind] = true
		l.notes = append(l.notes, "no Grafana links to "+kind+": "+err.Error())
		return e
	}
	e.Link = link
	return e
}

// prompts are questions for the people who were there: the record says
// what happened, only they know whether it went well.
func prompts(r Record) (well, badly []string) {
	switch d := gap(r.Onset, r.Detected); {
	case d > 0:
		well = append(well, fmt.Sprintf("Detection came %s after the onset: did the first alert say where to look?", Span(d)))
	case !r.Onset.IsZero() && !r.Detected.IsZero() && r.Detected.T.Equal(r.Onset.T):
		well = append(well, "The first alert fired with the onset: did it say where to look?")
	case !r.Onset.IsZero() && !r.Detected.IsZero():
		well = append(well, fmt.Sprintf("Alerting fired %s before oncall dated the onset: an early warning, or a late onset?", Span(r.Onset.T.Sub(r.Detected.T))))
	default:
		well = append(well, "The onset is not known: what told you something was wrong?")
	}
	if d := gap(r.Detected, r.Acked); d > 0 {
		well = append(well, fmt.Sprintf("It was acknowledged %s after the first alert: did the page reach the right person?", Span(d)))
	} else if len(r.Alerts) > 0 {
		badly = append(badly, "No acknowledgement is recorded: who picked it up, and how did they know?")
	}
	if len(r.Actions) > 0 {
		well = append(well, fmt.Sprintf("%s ran: was each needed, and did the runbook's diagnosis fit?", humanize.Count(len(r.Actions), "action")))
	} else {
		badly = append(badly, "No action is in the audit log: what fixed it, and should a runbook do it next time?")
	}
	if len(r.Alerts) > 1 {
		badly = append(badly, fmt.Sprintf("%s fired: which helped, and which were noise?", humanize.Count(len(r.Alerts), "alert")))
	}
	badly = append(badly, "What slowed you down: missing dashboards, access, unclear ownership?")
	return well, badly
}

// gap is to − from when both are known and in order.
func gap(from, to Stamp) time.Duration {
	if from.IsZero() || to.IsZero() || to.T.Before(from.T) {
		return 0
	}
	return to.T.Sub(from.T)
}

// slowDetection is when detection is slow enough to be an action item:
// five minutes, the length of a burn-rate alert's short window.
const slowDetection = 5 * time.Minute

// items are the action items the record points at, each with why.
func items(r Record, o PostmortemOptions) []Item {
	due := o.Now.Add(o.DueIn)
	if o.DueIn == 0 {
		due = o.Now.Add(DefaultDueIn)
	}
	owner := clean(o.Owner)
	if owner == "" {
		owner = "unassigned"
	}
	var out []Item
	add := func(title, why string) {
		out = append(out, Item{Title: clean(title), Why: clean(why), Owner: owner, Due: due})
	}
	root := r.Root
	if root == "" {
		add("Find the root cause of "+clean(r.ID), "the record holds no likely root cause")
	}
	switch primaryMechanism(r.Mechanism) {
	case "retry-amplification":
		add("Cap retries towards "+root+": a retry budget with backoff and jitter in its callers", "its callers' retries multiplied the load on it while it failed")
	case "saturation":
		add("Alert on "+root+"'s saturation before it is full, and size it for peak", "a resource of "+root+" reached its limit")
	case "timeouts":
		add("Set timeouts on the calls to "+root+" below their callers' own", "timeouts spread the failure up the chain")
	case "load-surge":
		add("Shed or rate-limit load into "+root, "traffic into "+root+" surged past what it serves")
	case "deploy", "change":
		add("Gate "+root+"'s rollouts on its error ratio (a canary with automatic rollback)", "a change to "+root+" began the incident")
	case "crash-loop", "crash":
		add("Fix what makes "+root+" crash, and alert on restarts", root+" crashed again and again")
	}
	if d := gap(r.Onset, r.Detected); d > slowDetection && root != "" {
		add("Alert on "+root+"'s own signals", fmt.Sprintf("detection took %s after the onset", Span(d)))
	}
	if len(r.Actions) == 0 {
		add("Write a runbook for this failure of "+firstNonEmpty(root, r.Title), "nothing in the audit log fixed it: the fix lives in someone's head")
	}
	if root != "" {
		add("Schedule the chaos experiment of this postmortem for "+root, "it reproduces this failure before users do")
	}
	return out
}

// primaryMechanism is the first of a record's mechanisms ("load-surge,
// saturation"): the recorder lists them in the incident's order, the
// way the failure spread first.
func primaryMechanism(m string) string {
	first, _, _ := strings.Cut(m, ",")
	return strings.TrimSpace(first)
}

// similar lists the past incidents with the same root, those with the
// same mechanism too first, newest first.
func similar(r Record, past []Record) []Similar {
	if r.Root == "" {
		return nil
	}
	var out []Similar
	for _, p := range past {
		if p.ID == r.ID || p.Root != r.Root {
			continue
		}
		m := "root"
		if r.Mechanism != "" && primaryMechanism(p.Mechanism) == primaryMechanism(r.Mechanism) {
			m = "root and mechanism"
		}
		out = append(out, Similar{ID: clean(p.ID), Title: clean(p.Title), When: p.When(), Root: clean(p.Root), Mechanism: clean(p.Mechanism), Match: m})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Match == "root") != (out[j].Match == "root") {
			return out[j].Match == "root"
		}
		return out[i].When.After(out[j].When)
	})
	if len(out) > maxSimilar {
		out = out[:maxSimilar]
	}
	return out
}

// summary says the incident in a few sentences from the record.
func summary(r Record, im Impact, zone *time.Location) string {
	var b strings.Builder
	if !im.Start.IsZero() {
		fmt.Fprintf(&b, "On %s from %s: ", im.Start.T.In(zone).Format("2006-01-02"), im.Start.T.In(zone).Format("15:04 MST"))
	}
	b.WriteString(strings.TrimSuffix(firstNonEmpty(r.Summary, r.Title), "."))
	if r.Root != "" {
		fmt.Fprintf(&b, ". The root cause was %s", r.Root)
		if r.Mechanism != "" {
			fmt.Fprintf(&b, " (%s)", r.Mechanism)
		}
	}
	b.WriteString(".")
	if d := gap(r.Onset, r.Detected); d > 0 {
		fmt.Fprintf(&b, " Detected %s after the onset.", Span(d))
	}
	switch {
	case im.Open:
		fmt.Fprintf(&b, " Still open after %s.", Span(im.Duration))
	case r.ByAutopilot:
		fmt.Fprintf(&b, " Resolved by the autopilot after %s.", Span(im.Duration))
	default:
		fmt.Fprintf(&b, " Resolved after %s.", Span(im.Duration))
	}
	return clean(b.String())
}
