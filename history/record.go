package history

import (
	"context"
	"errors"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// Origin says how a record came to be.
type Origin string

const (
	// OriginLive is a record oncall kept while the incident went on: it
	// holds what oncall knew at each moment.
	OriginLive Origin = "live"
	// OriginReconstructed is a record rebuilt afterwards from the stack's
	// own history.
	OriginReconstructed Origin = "reconstructed"
	// OriginChaos is a chaos experiment that failed or was aborted: its
	// guard's trip is the incident.
	OriginChaos Origin = "chaos"
)

// DemoStack is the stack the simulator's records carry, whatever the
// config's context: the demo's incidents never mix with a real stack's.
const DemoStack = "demo"

// The kinds of Stamp: how a time was known, for machines. Figures group
// by it and Merge ranks resolutions by it (see resolution); Source says
// the same for people.
const (
	// KindAnomaly: the root's anomaly in the incident's assembly (onset).
	KindAnomaly = "anomaly"
	// KindAlert: an alert's firing or, for a resolution, its alerts'
	// last firing seen in the alert history (reconstructed).
	KindAlert = "alert"
	// KindRecovered: a live resolution: every alert ended and the root's
	// anomaly ended while oncall watched.
	KindRecovered = "recovered"
	// KindAck: a silence oncall signed (acknowledgement).
	KindAck = "ack"
	// KindAudit: the remediation audit log.
	KindAudit = "audit"
	// KindVerified: a runbook's verification said resolved.
	KindVerified = "verified"
	// KindHand: a person said so (oncall history resolve).
	KindHand = "hand"
)

// Stamp is a time and where it came from: every figure says so.
type Stamp struct {
	T time.Time `json:"t,omitzero"`
	// Source names the signal and the backend, e.g.
	// `ALERTS{alertname="HighErrorRate"} at 1m steps (prometheus)`.
	Source string `json:"source,omitempty"`
	// Kind is Source for machines; empty in records written before it.
	Kind string `json:"kind,omitempty"`
}

// IsZero reports whether the time is unknown.
func (s Stamp) IsZero() bool { return s.T.IsZero() }

// Record is one incident as oncall remembers it. Times are the data's
// clock (the simulator's in the demo), in UTC.
type Record struct {
	ID     string `json:"id"`
	Stack  string `json:"stack,omitempty"` // the config's context; DemoStack for the simulator
	Origin Origin `json:"origin"`
	Title  string `json:"title"`
	// Severity is the highest severity label of its alerts.
	Severity string   `json:"severity,omitempty"`
	Services []string `json:"services"` // every service its alerts name, sorted
	// Root is the top root-cause candidate's service, Mechanism how it
	// spread, Summary the explanation chain as one sentence.
	Root      string `json:"root,omitempty"`
	Mechanism string `json:"mechanism,omitempty"`
	Summary   string `json:"summary,omitempty"`

	Onset    Stamp `json:"onset"`        // the root's anomaly began
	Detected Stamp `json:"detected"`     // the first alert fired
	Acked    Stamp `json:"acknowledged"` // the first acknowledgement
	Resolved Stamp `json:"resolved"`     // zero while open
	// OnsetSearch is the onset search that found none, so that it is not
	// made again: T is the first alert it looked back from (the data's
	// clock), Source what it found instead ("no earlier anomaly found:
	// …"). Zero when the onset is known or was never looked for; a record
	// whose first alert moves earlier is searched again (see FindOnsets).
	OnsetSearch Stamp `json:"onset_search,omitzero"`

	Alerts  []AlertSpan `json:"alerts"`
	Acks    []Ack       `json:"acks,omitempty"`
	Actions []Action    `json:"actions,omitempty"`
	// ByAutopilot is set when the autopilot's action resolved it, with
	// no human action.
	ByAutopilot bool `json:"by_autopilot,omitempty"`

	Notes     []Note     `json:"notes,omitempty"`
	Snapshots []Snapshot `json:"snapshots,omitempty"`
	// Incident is the assembled incident the record's assessment comes
	// from (see Assessed), for the postmortem's evidence: live records and
	// reconstructions that could assemble one.
	Incident *correlate.Incident `json:"incident,omitempty"`
	// Assessed is when (the data's clock) the look was taken whose
	// assessment the record keeps: Title, Root, Mechanism, Summary and
	// Incident. Merge chooses among looks by it; zero when no look made it.
	Assessed time.Time `json:"assessed,omitzero"`

	// Updated is the wall clock of the last write.
	Updated time.Time `json:"updated,omitzero"`
}

// Open reports whether the record has not resolved.
func (r Record) Open() bool { return r.Resolved.IsZero() }

// When is the time a record is listed and filtered by: its detection,
// else its onset.
func (r Record) When() time.Time {
	if !r.Detected.IsZero() {
		return r.Detected.T
	}
	return r.Onset.T
}

// AlertSpan is one alert's firing, from its first to its last firing
// sample (End zero: still firing).
type AlertSpan struct {
	Name     string         `json:"name"`
	Service  string         `json:"service,omitempty"`
	Severity string         `json:"severity,omitempty"`
	Labels   sources.Labels `json:"labels,omitempty"`
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end,omitzero"`
	// Step is the resolution of the alert history the span was read
	// from: its Start is the first sample at that step, up to a Step
	// after the alert fired. Zero for a span seen live.
	Step   time.Duration `json:"step,omitempty"`
	Source string        `json:"source"`
}

// Ack is an acknowledgement: a silence oncall signed with a name.
type Ack struct {
	T       time.Time `json:"t"`
	By      string    `json:"by"`
	Silence string    `json:"silence,omitempty"`
	Source  string    `json:"source"`
}

// Action is what the audit log says was done: a runbook action, an
// approval or rejection, an escalation.
type Action struct {
	T        time.Time `json:"t"`
	ID       string    `json:"id"` // the audit entry's
	Runbook  string    `json:"runbook,omitempty"`
	Action   string    `json:"action,omitempty"`
	Target   string    `json:"target,omitempty"`
	User     string    `json:"user,omitempty"`
	Command  string    `json:"command,omitempty"` // as the audit log shows it: secrets as ‹secret:NAME›
	Approval string    `json:"approval,omitempty"`
	Result   string    `json:"result,omitempty"`
	// Autopilot is set when the autopilot ran it without a human.
	Autopilot bool `json:"autopilot,omitempty"`
}

// Note is a line typed in the cockpit (n) or given to `oncall history note`.
type Note struct {
	T    time.Time `json:"t"`
	By   string    `json:"by"`
	Text string    `json:"text"`
	// Source says where T came from when it is not when the note was
	// typed on the record's clock: a note typed afterwards on a demo
	// record is dated at the record's latest data time (see `oncall
	// history note`). Empty: typed then, on the data's clock.
	Source string `json:"source,omitempty"`
}

// Snapshot is what oncall knew at one moment of a live incident: taken
// each time the chain or the candidates changed.
type Snapshot struct {
	T          time.Time   `json:"t"`
	Summary    string      `json:"summary"`
	Candidates []Suspect   `json:"candidates"`
	Blast      BlastFigure `json:"blast"`
}

// Suspect is one root-cause candidate as a snapshot keeps it.
type Suspect struct {
	Service    string               `json:"service"`
	Likelihood correlate.Likelihood `json:"likelihood"`
}

// BlastFigure is the blast radius at one moment.
type BlastFigure struct {
	Services      []string `json:"services"`
	FailingPerMin float64  `json:"failing_per_min"`
	MoneyPerMin   float64  `json:"money_per_min"`
	Currency      string   `json:"currency,omitempty"`
}

// Filter selects records. Zero fields select everything.
type Filter struct {
	Since   time.Time // records whose detection (else onset) is at or after it
	Service string    // records whose services or root include it
	Limit   int       // the newest Limit
}

// ErrNotFound is what Store.Get returns for an unknown ID.
var ErrNotFound = errors.New("no such incident")

// Store keeps records. Save merges a record into the one with its ID
// (see Merge) in one transaction, so writers never lose each other's
// work; notes and snapshots are appended on their own, never rewritten.
// Its errors name the store (Where), so callers need not.
type Store interface {
	Save(ctx context.Context, r Record) (Record, error)
	Get(ctx context.Context, id string) (Record, error)
	// List returns records newest first (by detection, else onset).
	List(ctx context.Context, f Filter) ([]Record, error)
	// Where says where the records are kept and who sees them.
	Where() string
}
