package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/config"
	"github.com/oncall-cockpit/oncall/remediate"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
	simsrc "github.com/oncall-cockpit/oncall/sources/sim"
)

// ledgerSettle is how long a lock claim waits before reading back who
// holds it: far longer than one Alertmanager takes to list a silence it
// has just answered for.
const ledgerSettle = 300 * time.Millisecond

// demoPolicy is the demo's remediation policy: restarts, capacity and
// cache warming are automatable, as a team might start with.
func demoPolicy() remediate.Policy {
	p := remediate.DefaultPolicy()
	p.Automatable = []string{"restart", "capacity", "cache"}
	return p
}

// configPolicy reads the config's remediation section over the defaults.
func configPolicy(r config.Remediation) remediate.Policy {
	p := remediate.DefaultPolicy()
	p.Automatable = r.Automatable
	if r.Cooldown > 0 {
		p.Guardrails.Cooldown = remediate.Duration(r.Cooldown)
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

// newKit wires remediation: runbooks, the ledger (Alertmanager when there
// is one, else a file every process on this host shares, on the host's
// clock), the audit log, the executor.
func newKit(e *env, g *globalOptions, src correlate.Sources, meta correlate.Meta, runbooks []*remediate.Runbook, loadErr error,
	policy remediate.Policy, auditLog string, esc *remediate.Escalator, actuator sources.Actuator, now func() time.Time) *remediate.Kit {
	var ledger remediate.Ledger = &remediate.FileLedger{Path: remediate.DefaultLedgerPath(e.getenv), Now: time.Now}
	settle := time.Duration(0)
	if src.Alerts != nil {
		ledger = remediate.SilenceLedger{Alerts: src.Alerts}
		settle = ledgerSettle
	}
	audit := &remediate.Audit{Path: auditPath(e, auditLog)}
	host, _ := os.Hostname()
	user := whoami(e)
	if user == "" {
		user = "oncall"
	}
	return &remediate.Kit{
		Runbooks: runbooks, LoadErr: loadErr, Ledger: ledger, Audit: audit, Policy: policy, Meta: meta,
		Planner: &remediate.Planner{Sources: src, Policy: policy, Ledger: ledger, Now: now},
		Exec: remediate.Executor{Sources: src, Actuator: actuator, Audit: audit, Escalate: esc, HTTP: &http.Client{},
			Guard:  &remediate.Guard{Ledger: ledger, Policy: policy, Now: now, Settle: settle, Sleep: remediate.SleepWait},
			Getenv: e.LookupEnv, Now: now, Wait: remediate.SleepWait, User: user, Host: host, ReadOnly: g.ReadOnly},
	}
}

// configKit is the kit for the configured datasources and runbooks.
func configKit(e *env, g *globalOptions, cfg *config.Config, src correlate.Sources) *remediate.Kit {
	var rbs []*remediate.Runbook
	var loadErr error
	if cfg.Runbooks != "" {
		rbs, loadErr = remediate.LoadDir(cfg.Runbooks)
	}
	return newKit(e, g, src, configMeta(cfg), rbs, loadErr, configPolicy(cfg.Remediation), cfg.Remediation.AuditLog, escalator(cfg.Remediation), nil, time.Now)
}

// demoKit is the kit for a simulated fleet and the simulator's runbooks.
func demoKit(e *env, g *globalOptions, f *sim.Fleet) *remediate.Kit {
	rbs, err := remediate.LoadFS(sim.Runbooks, "runbooks", "sim/runbooks")
	src := simSources(f)
	return newKit(e, g, src, simMeta(f.Topology()), rbs, err, demoPolicy(), demoAuditPath(e), &remediate.Escalator{}, simsrc.New(f), f.Now)
}

// advanceWait makes verification wait in simulated time: the fleet moves
// on by d at once (what --demo means for runbook run and autopilot).
func advanceWait(f *sim.Fleet) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.Advance(d)
		return nil
	}
}

// kitFor is the kit of --demo SCENARIO (the fleet at onset+after, in
// simulated time) or of the config.
func kitFor(e *env, g *globalOptions, o *runbookOptions) (*remediate.Kit, string, error) {
	if o.demo != "" {
		f, err := simFleetAt(o.demo, o.seed, o.after)
		if err != nil {
			return nil, "", usageError{err}
		}
		k := demoKit(e, g, f)
		k.Exec.Wait = advanceWait(f)
		k.Exec.Guard.Sleep = k.Exec.Wait
		return k, fmt.Sprintf("simulator: %s, seed %d, onset %+v", o.demo, o.seed, o.after), nil
	}
	cfg, path, err := g.loadConfig(e)
	if err != nil {
		return nil, "", err
	}
	b, err := newBackends(cfg)
	if err != nil {
		return nil, "", err
	}
	src := b.correlateSources()
	if cfg.Runbooks == "" {
		return nil, "", usagef("no runbooks directory in %s: set runbooks: to a directory of runbook files (see testdata/runbooks), or try --demo", path)
	}
	return configKit(e, g, cfg, src), "config " + path, nil
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
