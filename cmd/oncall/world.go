package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/internal/grafana"
	"github.com/oncall-cockpit/oncall/internal/httpx"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/slo"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// maxAfter bounds --after: the fleet is simulated up to it before the
// command reads anything, which takes about a second per simulated hour.
const maxAfter = 24 * time.Hour

// simSLOWindow is the window of the simulator's SLOs, which its topology
// gives without one.
const simSLOWindow = 28 * 24 * time.Hour

// World is what a command reads and acts on: the config's datasources, or
// a simulated fleet. Every command gets it from Factory.World, and nothing
// else chooses between the two.
type World struct {
	// Label says where the data comes from, as every command prints it:
	// "config PATH", or "simulator: SCENARIO, seed N, onset D".
	Label    string
	Sources  sources.Set
	SLOs     []slo.Objective
	Meta     correlate.Meta
	Now      func() time.Time
	Currency string
	// Deadline is how long an incident waits for its evidence, in the
	// CLI, the cockpit and a runbook's look alike: the config's
	// IncidentDeadline, or a minute for the simulator, which answers in
	// process and is late only on a busy machine.
	Deadline time.Duration

	// Config, Path and Backends are the config's world; nil in the
	// simulator's.
	Config   *config.Config
	Path     string
	Backends *backends
	// Fleet is the simulator's world; nil in the config's.
	Fleet *sim.Fleet
	// Wait is how verification waits: the fleet moves on at once in a
	// simulated world that is not running; nil sleeps.
	Wait func(context.Context, time.Duration) error

	// remediation is what a Kit is built from.
	remediation worldRemediation
}

// worldRemediation is the remediation side of a world: its runbooks, its
// policy, where its audit log is, how it escalates and acts.
type worldRemediation struct {
	runbooks func() ([]*remediate.Runbook, error)
	policy   remediate.RunPolicy
	auditLog string
	escalate *remediate.Escalator
	actuator sources.Actuator
	// ledger is the config's PostgreSQL history's ledger, when
	// sharedLedger opened it; nil otherwise.
	ledger remediate.Ledger
	// now is the clock actions are planned, guarded and run on: the
	// host's for the config's world, as the ledger's records are stamped
	// with it (never a clock pinned for reading); the fleet's in the
	// simulator's.
	now func() time.Time
}

// Simulated is whether the world is the simulator's.
func (w *World) Simulated() bool { return w.Fleet != nil }

// AuditLog is where this world's actions are written.
func (w *World) AuditLog() string { return w.remediation.auditLog }

// runOn lets a simulated world move on at the wall clock's pace until ctx
// ends, for a command that follows it (logs -f, --watch): the demo's
// fleet otherwise stands still at onset+after. A config's world is live
// already.
func (w *World) runOn(ctx context.Context) {
	if w.Simulated() {
		go w.Fleet.Run(ctx, 1)
	}
}

// needSources refuses a config with no datasources; try says what to do
// instead.
func (w *World) needSources(try string) error {
	if w.Sources == (sources.Set{}) {
		return usagef("no datasources configured in %s: add them (oncall config import-grafana helps), or try %s", w.Path, try)
	}
	return nil
}

// configWorld is the config's datasources, SLOs, services and
// remediation.
func configWorld(e *env, cfg *config.Config, path string, requests *httpx.RequestLog) (*World, error) {
	b, err := newBackends(cfg, requests)
	if err != nil {
		return nil, err
	}
	w := &World{Label: "config " + path, Sources: b.sources(), SLOs: configSLOs(cfg), Meta: configMeta(cfg), Now: e.Now,
		Currency: cfg.Currency, Deadline: cfg.IncidentDeadline(), Config: cfg, Path: path, Backends: b}
	w.remediation = worldRemediation{
		runbooks: func() ([]*remediate.Runbook, error) {
			if cfg.Runbooks == "" {
				return nil, nil
			}
			return remediate.LoadDir(cfg.Runbooks)
		},
		policy: configPolicy(cfg.Remediation), auditLog: auditPath(e, cfg.Remediation.AuditLog), escalate: escalator(cfg.Remediation),
		now: time.Now,
	}
	return w, nil
}

// simWorld is a simulated fleet as the world, with the simulator's SLOs,
// runbooks and demo audit log. Its clock is the fleet's.
func simWorld(e *env, f *sim.Fleet, label string) *World {
	t := f.Topology()
	b := simsrc.New(f)
	return &World{Label: label, Sources: b.Set(), SLOs: simSLOs(t), Meta: simMeta(t), Now: f.Now, Currency: t.Currency, Deadline: time.Minute, Fleet: f,
		remediation: worldRemediation{
			runbooks: func() ([]*remediate.Runbook, error) {
				return remediate.LoadFS(sim.Runbooks, "runbooks", "sim/runbooks")
			},
			policy: demoPolicy(), auditLog: demoAuditPath(e), escalate: &remediate.Escalator{}, actuator: b, now: f.Now,
		}}
}

// demoWorld is the world of --demo: the scenario's fleet simulated to
// onset + after and stopped there. Verification moves it on at once.
func demoWorld(ctx context.Context, e *env, d DemoFlags) (*World, error) {
	// the scenario first: a mistyped name is the first thing to fix
	f, err := sim.New(sim.Options{Scenario: d.Scenario, Seed: d.Seed, Services: d.Services})
	if err != nil {
		return nil, usageError{err}
	}
	if d.After > maxAfter {
		return nil, usagef("--after %s: at most %s; every scenario plays out within a few hours", timeparse.FormatDuration(d.After), timeparse.FormatDuration(maxAfter))
	}
	// a long --after takes seconds to simulate: ctrl+c ends it
	if err := f.AdvanceUntil(ctx, f.Onset().Add(d.After)); err != nil {
		return nil, err
	}
	w := simWorld(e, f, fmt.Sprintf("simulator: %s, seed %d, onset %s", d.Scenario, d.Seed, d.After))
	w.Wait = advanceWait(f)
	return w, nil
}

// advanceWait makes verification wait in simulated time: the fleet moves
// on by d at once.
func advanceWait(f *sim.Fleet) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.Advance(d)
		return nil
	}
}

// simSLOs are the topology's SLOs over simSLOWindow.
func simSLOs(t *sim.Topology) []slo.Objective {
	out := make([]slo.Objective, 0, len(t.SLOs))
	for _, s := range t.SLOs {
		out = append(out, slo.Objective{Name: s.Name, Service: s.Service, Objective: s.Objective, Window: simSLOWindow,
			Indicator: sources.Indicator{Kind: sources.SLIAvailability, Service: s.Service}, Origin: "the simulator's topology " + t.Name})
	}
	return out
}

func simMeta(t *sim.Topology) correlate.Meta {
	m := correlate.Meta{Services: map[string]correlate.ServiceMeta{}, Currency: t.Currency, BurnRateAlerts: sources.DefaultConventions().Alerts.BurnRate}
	for _, s := range t.Services {
		m.Services[s.Name] = correlate.ServiceMeta{ValuePerRequest: s.ValuePerRequest, Owner: s.Owner}
	}
	return m
}

// configSLOs turns the config's SLOs (objectives in percent) into slo's.
func configSLOs(cfg *config.Config) []slo.Objective {
	out := make([]slo.Objective, 0, len(cfg.SLOs))
	for _, s := range cfg.SLOs {
		c := slo.Objective{Name: s.Name, Service: s.Service, Objective: s.Ratio(), Window: time.Duration(s.Window),
			Indicator: config.SLOIndicator(s), ValuePerMinuteDown: s.ValuePerMinuteDown, Origin: s.Origin}
		for _, a := range s.Alerting {
			c.Policy = append(c.Policy, slo.BurnAlert{Severity: slo.Severity(a.Severity), Long: time.Duration(a.Long), Short: time.Duration(a.Short), Factor: a.Factor})
		}
		out = append(out, c)
	}
	return out
}

// TraceFields are the JSON fields log lines carry their trace ID in:
// the config's conventions, or the defaults in the simulator's world.
func (w *World) TraceFields() []string {
	if w.Config == nil {
		return sources.DefaultConventions().TraceID.JSONFields
	}
	return w.Config.Conventions.TraceID.JSONFields
}

func configMeta(cfg *config.Config) correlate.Meta {
	m := correlate.Meta{Services: map[string]correlate.ServiceMeta{}, Static: map[string][]string{}, Currency: cfg.Currency, BurnRateAlerts: cfg.Conventions.Alerts.BurnRate}
	for name, s := range cfg.Services {
		m.Services[name] = correlate.ServiceMeta{ValuePerRequest: s.ValuePerRequest, Owner: s.Owner}
		if len(s.DependsOn) > 0 {
			m.Static[name] = s.DependsOn
		}
	}
	return m
}

// demoPolicy is the demo's remediation policy: restarts, capacity and
// cache warming are automatable, as a team might start with.
func demoPolicy() remediate.RunPolicy {
	p := remediate.DefaultRunPolicy()
	p.Automatable = []string{"restart", "capacity", "cache"}
	return p
}

// configPolicy reads the config's remediation section over the defaults.
func configPolicy(r config.Remediation) remediate.RunPolicy {
	p := remediate.DefaultRunPolicy()
	p.Automatable = r.Automatable
	if r.Cooldown > 0 {
		p.Guardrails.Cooldown = r.Cooldown
	}
	// validated by config: the rates parse
	if v, err := remediate.ParseRate(r.RatePerAction); err == nil {
		p.Guardrails.RatePerAction = &v
	}
	if v, err := remediate.ParseRate(r.RatePerService); err == nil {
		p.Guardrails.RatePerService = &v
	}
	if r.MaxConcurrent > 0 {
		p.MaxConcurrent = r.MaxConcurrent
	}
	if r.ProposalTTL > 0 {
		p.ProposalTTL = time.Duration(r.ProposalTTL)
	}
	return p
}

func escalator(r config.Remediation) *remediate.Escalator {
	x := &remediate.Escalator{HTTP: &http.Client{Timeout: 20 * time.Second}}
	for _, t := range r.Escalation {
		h := map[string]string{}
		for k, v := range t.Headers {
			h[k] = v.Reveal()
		}
		x.Targets = append(x.Targets, remediate.EscalationTarget{Name: t.Name, Kind: t.Kind, URL: t.URL.Reveal(), RoutingKey: t.RoutingKey.Reveal(), Headers: h})
	}
	return x
}

// demoAuditPath is the demo's own audit log, beside the real one
// ($XDG_DATA_HOME/oncall/demo-audit.jsonl): a simulated fleet's runs
// never mix with what was done to production.
func demoAuditPath(e *env) string {
	return filepath.Join(filepath.Dir(remediate.DefaultAuditPath(e.getenv)), "demo-audit.jsonl")
}

// auditPath is the config's audit log, else the XDG default.
func auditPath(e *env, configured string) string {
	if configured != "" {
		return configured
	}
	return remediate.DefaultAuditPath(e.getenv)
}

// explore is the config's Grafana, for the cockpit's links; none in the
// simulator's world.
func (w *World) explore() grafana.Explore {
	if w.Config == nil {
		return grafana.Explore{}
	}
	return grafana.Explore{URL: w.Config.Grafana.URL, UIDs: w.Config.Grafana.Datasources}
}
