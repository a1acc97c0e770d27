package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

// NeverAutomatable are the categories that always go to a human, whatever
// the config says: a machine that guesses wrong here loses data, opens a
// hole or moves money.
var NeverAutomatable = []string{"data-corruption", "security", "financial-transactions", "unknown"}

// RunPolicy is what a run is allowed, from the config's remediation
// section: what the autopilot may run alone, the guardrails, how many
// run at once, and how long a proposal waits.
type RunPolicy struct {
	// Automatable are the action categories the autopilot may run alone.
	Automatable []string
	// Guardrails are the defaults; an action's own guardrails replace
	// the fields they set.
	Guardrails Guardrail
	// MaxConcurrent caps the actions running at once, across cockpits.
	MaxConcurrent int
	// ProposalTTL is how long a proposal waits for a human.
	ProposalTTL time.Duration
}

// DefaultRunPolicy is what applies without a remediation section: nothing
// automatable, one run per action and target every 10 minutes, at most 3
// runs of an action or on a service an hour, 2 at once.
func DefaultRunPolicy() RunPolicy {
	return RunPolicy{
		Guardrails: Guardrail{
			Cooldown:       timeparse.Duration(10 * time.Minute),
			RatePerAction:  &Rate{N: 3, Per: time.Hour},
			RatePerService: &Rate{N: 3, Per: time.Hour},
		},
		MaxConcurrent: 2,
		ProposalTTL:   30 * time.Minute,
	}
}

// Automates reports whether the autopilot may run a category alone.
func (p RunPolicy) Automates(category string) bool {
	return category != "" && !slices.Contains(NeverAutomatable, category) && slices.Contains(p.Automatable, category)
}

// Guardrail bounds how often an action may run.
type Guardrail struct {
	// Cooldown is the least time between two runs of one action on one target.
	Cooldown timeparse.Duration `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
	// RatePerAction caps the runs of one action on any target; RatePerService
	// the runs of any action on one target.
	RatePerAction  *Rate `yaml:"rate_per_action,omitempty" json:"rate_per_action,omitempty"`
	RatePerService *Rate `yaml:"rate_per_service,omitempty" json:"rate_per_service,omitempty"`
}

// over lays an action's guardrails over the defaults.
func (g Guardrail) over(def Guardrail) Guardrail {
	if g.Cooldown == 0 {
		g.Cooldown = def.Cooldown
	}
	if g.RatePerAction == nil {
		g.RatePerAction = def.RatePerAction
	}
	if g.RatePerService == nil {
		g.RatePerService = def.RatePerService
	}
	return g
}

// Rate is N runs per duration, written "3/1h".
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads "3/1h", or "10/1d": a duration as every duration is
// read.
func ParseRate(s string) (Rate, error) {
	n, per, err := timeparse.ParseRate(s)
	return Rate{n, per}, err
}

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.N, shortDuration(r.Per)) }

// UnmarshalYAML reads "3/1h".
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseRate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*r = v
	return nil
}

// MarshalJSON writes "3/1h".
func (r Rate) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// Refusal is a guardrail saying no: which one, why, and when it clears.
type Refusal struct {
	Rule   string    `json:"rule"` // read-only, cooldown, rate, lock, concurrency, max-step, approval
	Detail string    `json:"detail"`
	Until  time.Time `json:"until,omitempty"`
}

func (r *Refusal) Error() string {
	s := "refused by " + r.Rule + ": " + r.Detail
	if !r.Until.IsZero() {
		s += "; clears at " + r.Until.UTC().Format("15:04:05") + " UTC"
	}
	return s
}

// Key names what a lock and a cooldown are about: one action on one target.
type Key struct {
	Action string `json:"action"` // runbook/action
	Target string `json:"target"`
}

func (k Key) String() string { return k.Action + " on " + k.Target }

// ExperimentLock is the action of the lock a chaos experiment holds on
// its target for its whole run, so that two runs never fault one
// target at once. It is no action running: it counts towards no cap on
// concurrent actions and no rate limit, and has no cooldown.
const ExperimentLock = "chaos experiment"

// Record kinds kept in the ledger.
const (
	RecordLock     = "lock"
	RecordRun      = "run"
	RecordProposal = "proposal"
)

// Record is one entry of the shared ledger.
type Record struct {
	ID     string    `json:"id"`
	Kind   string    `json:"kind"`
	Key    Key       `json:"key"`
	By     string    `json:"by"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Note   string    `json:"note"`
	Active bool      `json:"active"`
}

// Ledger is where guardrails and proposals keep what every cockpit must
// see: locks, past runs and proposals.
type Ledger interface {
	// Records lists the records, active or not by the ledger's clock.
	Records(ctx context.Context) ([]Record, error)
	// Add writes a record. A start the ledger's clock has passed becomes
	// the ledger's now: every record is timed by one clock, whatever the
	// writer's clock says.
	Add(ctx context.Context, r Record) (string, error)
	End(ctx context.Context, id string) error
	// Shared says whether other machines see the same records.
	Shared() bool
	// Where says where the records are kept and who sees them.
	Where() string
}

// ledgerStamps is the start of every record oncall writes: a time every
// ledger's clock has passed, so the ledger stamps its own now in its
// place and one clock times every record, whatever the writer's says.
func ledgerStamps() time.Time { return time.Unix(0, 0).UTC() }

// Labels of the silences that hold ledger records. They match no alert.
const (
	labelRecord = "oncall_remediation"
	labelAction = "oncall_action"
	labelTarget = "oncall_target"
)

// SilenceLedger keeps records as Alertmanager silences that match no
// alert: every cockpit and autopilot pointed at the same Alertmanager sees
// them, with no database to run, and Alertmanager keeps expired ones for
// its retention (120h by default), which the rate limits need.
type SilenceLedger struct {
	Alerts sources.Alerting
}

// IsRecord reports whether a silence is a ledger record (the silences
// listing hides them).
func IsRecord(s sources.Silence) bool {
	for _, m := range s.Matchers {
		if m.Name == labelRecord {
			return true
		}
	}
	return false
}

// Records lists the ledger's records, active or not.
func (l SilenceLedger) Records(ctx context.Context) ([]Record, error) {
	ss, err := l.Alerts.Silences(ctx)
	if err != nil {
		return nil, fmt.Errorf("remediation ledger: %w", err)
	}
	var out []Record
	for _, s := range ss {
		r := Record{ID: s.ID, By: s.CreatedBy, Start: s.StartsAt, End: s.EndsAt, Note: s.Comment, Active: s.State == sources.SilenceActive}
		for _, m := range s.Matchers {
			switch m.Name {
			case labelRecord:
				r.Kind = m.Value
			case labelAction:
				r.Key.Action = m.Value
			case labelTarget:
				r.Key.Target = m.Value
			}
		}
		if r.Kind != "" {
			out = append(out, r)
		}
	}
	return out, nil
}

// Add writes a record; Alertmanager stamps its start with its own clock
// when the start given is past, which orders records across machines.
func (l SilenceLedger) Add(ctx context.Context, r Record) (string, error) {
	eq := func(n, v string) sources.Matcher { return sources.Matcher{Name: n, Value: v, IsEqual: true} }
	id, err := l.Alerts.CreateSilence(ctx, sources.Silence{
		Matchers: []sources.Matcher{eq(labelRecord, r.Kind), eq(labelAction, r.Key.Action), eq(labelTarget, r.Key.Target)},
		StartsAt: r.Start, EndsAt: r.End, CreatedBy: r.By, Comment: r.Note})
	if err != nil {
		return "", fmt.Errorf("remediation ledger: %w", err)
	}
	return id, nil
}

// End expires a record.
func (l SilenceLedger) End(ctx context.Context, id string) error {
	if err := l.Alerts.ExpireSilence(ctx, id); err != nil {
		return fmt.Errorf("remediation ledger: %w", err)
	}
	return nil
}

// Shared is true: an Alertmanager is shared.
func (SilenceLedger) Shared() bool { return true }

// Where is Alertmanager, seen by every cockpit.
func (SilenceLedger) Where() string { return "shared through Alertmanager with every cockpit" }

// Guard applies the guardrails before an action runs.
type Guard struct {
	Ledger Ledger
	Policy RunPolicy
	Now    func() time.Time
	// Settle is how long a lock waits before reading back who holds it:
	// long enough for a concurrent claim to be visible.
	Settle time.Duration
	Sleep  func(context.Context, time.Duration) error
}

// leaseRenewals is how many times a lock is renewed within one lease: a
// renewal that fails leaves two more tries before the lease runs out.
const leaseRenewals = 3

// Acquire claims the lock of one action on one target, then checks the
// rate limits, the cooldown, the lock and the cap on concurrent actions,
// all by the ledger's clock. A cooldown or rate limit that the ledger
// already shows before the claim refuses without writing anything. On
// success it calls start (the audit's before entry) and records the run,
// whose cooldown then begins; a run whose start fails is not recorded and
// uses up nothing. The lock's lease is renewed while the Hold lives.
func (g *Guard) Acquire(ctx context.Context, k Key, rails Guardrail, by string, lease time.Duration, start func() error) (*Hold, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("remediation lock on %s: a lease of %s cannot be held", k, lease)
	}
	rails = rails.over(g.Policy.Guardrails)
	seen, err := g.Ledger.Records(ctx)
	if err != nil {
		return nil, err
	}
	if r := g.limitsBeforeClaim(seen, k, rails); r != nil {
		return nil, r
	}
	claimed := g.Now()
	id, err := g.Ledger.Add(ctx, Record{Kind: RecordLock, Key: k, By: by, Start: ledgerStamps(), End: claimed.Add(lease), Note: lockNote(k, by)})
	if err != nil {
		return nil, err
	}
	free := func() { _ = g.Ledger.End(context.WithoutCancel(ctx), id) }
	if g.Settle > 0 {
		if err := g.Sleep(ctx, g.Settle); err != nil {
			free()
			return nil, err
		}
	}
	rs, err := g.Ledger.Records(ctx)
	if err != nil {
		free()
		return nil, err
	}
	var mine Record
	for _, r := range rs {
		if r.ID == id {
			mine = r
		}
	}
	if mine.ID == "" {
		free()
		return nil, fmt.Errorf("remediation ledger: the lock %s written is not listed back", id)
	}
	if !mine.Active {
		free()
		return nil, fmt.Errorf("remediation ledger: the lock %s written has already ended: this machine's clock is behind the ledger's by more than the lease (%s)", id, shortDuration(lease))
	}
	// the ledger stamped the claim: from here on, its clock decides
	skew := mine.Start.Sub(claimed)
	now := g.Now().Add(skew)
	if r := g.limits(rs, k, rails, now); r != nil {
		free()
		return nil, r
	}
	if r := g.order(rs, id, k); r != nil {
		free()
		return nil, r
	}
	h := g.hold(ctx, id, k, by, lease, skew, now.Add(lease))
	if start != nil {
		if err := start(); err != nil {
			h.Release()
			return nil, err
		}
	}
	cool := now.Add(rails.Cooldown.Or(time.Second))
	if _, err := g.Ledger.Add(ctx, Record{Kind: RecordRun, Key: k, By: by, Start: ledgerStamps(), End: cool,
		Note: fmt.Sprintf("oncall run: %s by %s; cooldown until %s", k, by, cool.UTC().Format(time.RFC3339))}); err != nil {
		h.Release()
		return nil, err
	}
	return h, nil
}

// limitsBeforeClaim checks the cooldown and the rate limits against the
// records read before any claim, by the ledger's clock alone. Every
// record active in that read ends after the ledger's now, so just before
// the earliest such end is a time no earlier than it: a run still active
// there is in its cooldown, and counted back from there the runs are no
// more than the ledger would count, so a rate limit reached there was
// reached. With no active record there is neither such a time nor a
// cooldown: the claim decides.
func (g *Guard) limitsBeforeClaim(rs []Record, k Key, rails Guardrail) *Refusal {
	var bound time.Time
	for _, r := range rs {
		if r.Active && (bound.IsZero() || r.End.Before(bound)) {
			bound = r.End
		}
	}
	if bound.IsZero() {
		return nil
	}
	return g.limits(rs, k, rails, bound.Add(-time.Nanosecond))
}

func lockNote(k Key, by string) string {
	return fmt.Sprintf("oncall lock: %s, held by %s while it runs", k, by)
}

// order lets the claim id through if no claim of the same key is ahead
// of it and fewer than the most allowed other actions are. The earliest
// claim wins, by the ledger's clock, then by ID: every claimant reads the
// same order.
func (g *Guard) order(rs []Record, id string, k Key) *Refusal {
	var locks []Record
	for _, r := range rs {
		if r.Kind == RecordLock && r.Active {
			locks = append(locks, r)
		}
	}
	sort.Slice(locks, func(i, j int) bool {
		if !locks[i].Start.Equal(locks[j].Start) {
			return locks[i].Start.Before(locks[j].Start)
		}
		return locks[i].ID < locks[j].ID
	})
	// a run renews its lease with a new record: count runs, not records
	ahead := map[Key]bool{}
	for _, l := range locks {
		if l.ID == id {
			break
		}
		if l.Key == k {
			until := l.End
			for _, o := range locks {
				if o.Key == k && o.End.After(until) {
					until = o.End
				}
			}
			return &Refusal{Rule: "lock", Detail: fmt.Sprintf("%s is running it now (since %s)", l.By, l.Start.UTC().Format("15:04:05")), Until: until}
		}
		if l.Key.Action != ExperimentLock {
			ahead[l.Key] = true
		}
	}
	if max := g.Policy.MaxConcurrent; max > 0 && k.Action != ExperimentLock && len(ahead) >= max {
		return &Refusal{Rule: "concurrency", Detail: fmt.Sprintf("%d actions are running, the most allowed at once", len(ahead))}
	}
	return nil
}

// Hold is a lock the guard granted to one run. Its lease is renewed with
// a new lock record every lease/leaseRenewals; the records overlap, so
// the claim that won stays ahead of any later one until Release.
type Hold struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	ids    []string
	end    func(id string)
}

// Context lives while the lock is held: it ends on Release, or when the
// lease could not be renewed before it ran out, so that the run it guards
// stops rather than outlive its lock. context.Cause says which.
func (h *Hold) Context() context.Context { return h.ctx }

// Release ends the lock's records and stops renewing it.
func (h *Hold) Release() {
	h.once.Do(func() {
		close(h.stop)
		<-h.done
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, id := range h.ids {
			h.end(id)
		}
		h.cancel(errors.New("the lock was released"))
	})
}

// hold starts renewing the lock claimed as id, whose lease ends at end by
// the ledger's clock (skew ahead of g.Now).
func (g *Guard) hold(ctx context.Context, id string, k Key, by string, lease, skew time.Duration, end time.Time) *Hold {
	h := &Hold{stop: make(chan struct{}), done: make(chan struct{}), ids: []string{id},
		end: func(id string) { _ = g.Ledger.End(context.WithoutCancel(ctx), id) }}
	h.ctx, h.cancel = context.WithCancelCause(ctx)
	every := lease / leaseRenewals
	go func() {
		defer close(h.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
			now := g.Now().Add(skew)
			add, cancel := context.WithTimeout(context.WithoutCancel(ctx), every)
			id, err := g.Ledger.Add(add, Record{Kind: RecordLock, Key: k, By: by, Start: ledgerStamps(), End: now.Add(lease), Note: lockNote(k, by)})
			cancel()
			if err == nil {
				h.mu.Lock()
				h.ids = append(h.ids, id)
				h.mu.Unlock()
				end = now.Add(lease)
				continue
			}
			if !now.Add(every).Before(end) {
				// the next try would come after the lease ran out
				h.cancel(fmt.Errorf("the lock on %s could not be renewed before its lease ran out: %w", k, err))
				return
			}
		}
	}()
	return h
}

// limits checks the rate limits and the cooldown against past runs.
func (g *Guard) limits(rs []Record, k Key, rails Guardrail, now time.Time) *Refusal {
	if k.Action == ExperimentLock {
		// the experiment's own actions meet the limits
		return nil
	}
	var runs []Record
	for _, r := range rs {
		if r.Kind == RecordRun && r.Key.Action != ExperimentLock {
			runs = append(runs, r)
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Start.Before(runs[j].Start) })
	for _, r := range runs {
		if r.Key == k && r.Active && now.Before(r.End) && rails.Cooldown > 0 {
			// the cooldown said is the one that run was recorded under:
			// it is what ends at Until, whatever this action's own is
			return &Refusal{Rule: "cooldown", Detail: fmt.Sprintf("%s ran at %s (by %s); the cooldown is %s", k, r.Start.UTC().Format("15:04:05"), r.By, shortDuration(r.End.Sub(r.Start))), Until: r.End}
		}
	}
	check := func(rate *Rate, what string, same func(Key) bool) *Refusal {
		if rate == nil {
			return nil
		}
		var in []Record
		for _, r := range runs {
			if same(r.Key) && r.Start.After(now.Add(-rate.Per)) {
				in = append(in, r)
			}
		}
		if len(in) >= rate.N {
			return &Refusal{Rule: "rate", Detail: fmt.Sprintf("%s ran %d times in the last %s, the most allowed (%s)", what, len(in), shortDuration(rate.Per), rate), Until: in[len(in)-rate.N].Start.Add(rate.Per)}
		}
		return nil
	}
	if r := check(rails.RatePerAction, k.Action, func(o Key) bool { return o.Action == k.Action }); r != nil {
		return r
	}
	return check(rails.RatePerService, "an action on "+k.Target, func(o Key) bool { return o.Target == k.Target })
}

// shortDuration writes 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0s"
	}
	return s
}
