package chaos

import (
	"time"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
)

// Experiment is one experiment file: a hypothesis, the steady state that
// must hold before the fault goes in, the fault, the guards watched while
// it is in, how long it stays, and the rollback that always runs.
type Experiment struct {
	Name        string `yaml:"name" json:"name"`
	Hypothesis  string `yaml:"hypothesis" json:"hypothesis"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Target is the service the fault goes into: {{.Target}} in the
	// actions, and the name typed to confirm a high-danger injection.
	Target      string             `yaml:"target" json:"target"`
	SteadyState []Check            `yaml:"steady_state,omitempty" json:"steady_state,omitempty"`
	Inject      []remediate.Action `yaml:"inject" json:"inject"`
	Guards      []Check            `yaml:"guards" json:"guards"`
	// Interval is how often the guards are read; DefaultInterval when 0.
	Interval timeparse.Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	Duration timeparse.Duration `yaml:"duration" json:"duration"`
	Rollback []remediate.Action `yaml:"rollback" json:"rollback"`
	// Schedule is a cron expression (five fields, or @daily and the like)
	// for oncall chaos daemon; "" runs only by hand.
	Schedule string `yaml:"schedule,omitempty" json:"schedule,omitempty"`

	File   string `yaml:"-" json:"file"`
	Line   int    `yaml:"-" json:"line"`
	Dir    string `yaml:"-" json:"-"`      // the file's directory: exec actions run there
	SHA256 string `yaml:"-" json:"sha256"` // of the file as read
}

// Check is a condition over one live signal: a service's RED signal
// (error_ratio, p99, requests) or an SLO's burn rate over a window. A
// steady-state check must hold before the injection; a guard must hold
// throughout it.
type Check struct {
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
	Signal  string `yaml:"signal,omitempty" json:"signal,omitempty"`
	SLO     string `yaml:"slo,omitempty" json:"slo,omitempty"`
	// Burn is the burn-rate window of an SLO check, e.g. 5m; one of the
	// SLO's windows.
	Burn  timeparse.Duration `yaml:"burn,omitempty" json:"burn,omitempty"`
	Below *Bound             `yaml:"below,omitempty" json:"below,omitempty"`
	Above *Bound             `yaml:"above,omitempty" json:"above,omitempty"`
	// Over is the window a RED signal is averaged over: DefaultOver for a
	// guard; a steady-state check's own length (5m: "for five minutes").
	Over timeparse.Duration `yaml:"over,omitempty" json:"over,omitempty"`

	Line int `yaml:"-" json:"line"`
}

// Bound is a check's limit, read from YAML as a number, a percentage
// ("1%" is 0.01) or, for p99, a duration ("500ms" is 0.5 seconds).
type Bound float64

// Reading is one evaluation of a check.
type Reading struct {
	Check int       `json:"check"` // index in the experiment's SteadyState or Guards
	At    time.Time `json:"at"`    // the data's clock
	// Value is NaN when Err is set: JSON says null.
	Value float64 `json:"value"`
	OK    bool    `json:"ok"`
	// How says how Value comes from Query, so that it can be reproduced:
	// "mean over 1m (15s steps)", "burn 5m = (bad / all events) /
	// (1 − objective 0.999)". Query is as the backend ran it; two
	// queries are joined by " / " (errors, requests) or " ; " (bad, all).
	How   string `json:"how,omitempty"`
	Query string `json:"query,omitempty"`
	Err   string `json:"error,omitempty"`
}

// Verdicts of a run.
const (
	VerdictPassed  = "passed"  // the duration ran out with every guard holding
	VerdictFailed  = "failed"  // a guard tripped: the run was stopped and rolled back
	VerdictAborted = "aborted" // stopped for another reason: steady state, a dead guard backend, an interrupt, a failed injection
	VerdictRefused = "refused" // nothing ran: read-only, not confirmed, a problem in the plan
	VerdictDryRun  = "dry run"
)

// Stages of a run, as events and audit entries name them.
const (
	StageStart       = "start"
	StageSteadyState = "steady-state"
	StageInject      = "inject"
	StageGuard       = "guard"
	StageRollback    = "rollback"
	StageEnd         = "end"
)

// Event is what a run reports as it goes, for the cockpit's guard panel
// and the shell's output. Reading is set on a check's evaluation.
type Event struct {
	Stage   string
	Line    string
	Reading *Reading
	// Guard is true when Reading is a guard's, false for steady state.
	Guard bool
}

// Trip is the guard that stopped a run, and when.
type Trip struct {
	Guard   int       `json:"guard"`
	Label   string    `json:"label"` // "payment-api error ratio < 1%"
	At      time.Time `json:"at"`
	Value   float64   `json:"value"`
	How     string    `json:"how,omitempty"` // as Reading's
	Query   string    `json:"query,omitempty"`
	Elapsed string    `json:"elapsed"` // since the injection
}

// GuardSeries is one guard's readings over the run, for the report's
// sparkline and its worst value.
type GuardSeries struct {
	Label string `json:"label"`
	// Check is the guard as the file says it, for its values' units.
	Check    Check     `json:"check"`
	How      string    `json:"how,omitempty"` // as Reading's
	Query    string    `json:"query,omitempty"`
	Readings []Reading `json:"readings"`
}

// Report is how a run went, with its evidence.
type Report struct {
	Experiment string    `json:"experiment"`
	File       string    `json:"file"`
	Hypothesis string    `json:"hypothesis"`
	Target     string    `json:"target"`
	Run        string    `json:"run"` // the audit log's run ID
	Verdict    string    `json:"verdict"`
	Why        string    `json:"why"`
	Started    time.Time `json:"started"` // the data's clock
	Injected   time.Time `json:"injected,omitzero"`
	Ended      time.Time `json:"ended"`
	Trip       *Trip     `json:"trip,omitempty"`

	SteadyState []Reading `json:"steady_state"`
	// Checks are the steady-state checks, for their labels and units.
	Checks   []Check                   `json:"checks,omitempty"`
	Guards   []GuardSeries             `json:"guards"`
	Inject   []remediate.ActionOutcome `json:"inject"`
	Rollback []remediate.ActionOutcome `json:"rollback"`
	// Traces are IDs of failed traces at the guarded services while the
	// fault was in: the evidence to open first.
	Traces []string `json:"traces,omitempty"`
}
