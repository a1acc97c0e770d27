package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/remediate"
)

// escapeValues are the shared table's values that carry terminal control
// sequences.
func escapeValues() []string {
	var out []string
	for _, h := range testenv.HostileValues {
		if h.Escape {
			out = append(out, h.Value)
		}
	}
	return out
}

// bidiControls are the Unicode formatting characters that make text
// display in another order than it reads; termsafe removes them too.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// postAlert fires one alert with labels and annotations into a real
// Alertmanager.
func postAlert(t *testing.T, amURL string, labels, annotations map[string]string) {
	t.Helper()
	b, _ := json.Marshal([]map[string]any{{"labels": labels, "annotations": annotations,
		"startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339), "endsAt": time.Now().Add(time.Hour).Format(time.RFC3339)}})
	resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("posting alert %q: %v %v", labels, err, resp)
	}
	resp.Body.Close()
}

// runbookDir writes runbook files into a fresh directory.
func runbookDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "runbooks")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		writeAt(t, filepath.Join(dir, name), body)
	}
	return dir
}

// program is the absolute path of a program the tests exec.
func program(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hostileRunbook matches every alert of team hostile and prints a fixed
// line: the data reaches the shell only as the target, the match and the
// alert's text.
func hostileRunbook(t *testing.T) string {
	return `name: hostile
description: cleans up after a hostile alert
match: {labels: {team: hostile}}
actions:
  - name: clean
    kind: exec
    argv: [` + program(t, "printf") + `, "cleaned\n"]
    danger: low
    category: cleanup
`
}

// TestShellShowsNoEscapeFromData: alerts whose every label and annotation
// holds a terminal control sequence fire in a real Alertmanager; no text
// command (the plan, the prompt, the run, runbook list, autopilot,
// proposals, audit, silences) lets an ESC, a C1 control or a carriage
// return through to stdout or stderr, while -o json keeps the values
// exact.
func TestShellShowsNoEscapeFromData(t *testing.T) {
	am := testenv.Alertmanager(t)
	hostile := escapeValues()
	for _, v := range hostile {
		postAlert(t, am, map[string]string{"alertname": v, "service": v, "instance": v, "severity": v, "job": v, "team": "hostile"},
			map[string]string{"summary": v, "description": v, "runbook_url": v})
	}
	dir := t.TempDir()
	rbs := runbookDir(t, map[string]string{"hostile.yaml": hostileRunbook(t)})
	audit := filepath.Join(dir, "audit.jsonl")
	cfg := writeFile(t, "config.yaml", "datasources:\n  alertmanager: {url: \""+am+"\"}\nrunbooks: "+rbs+"\nremediation:\n  audit_log: "+audit+"\n  rate_per_action: 100/1h\n  rate_per_service: 100/1h\n")
	vars := map[string]string{"USER": "alice"}
	at := func(stdin string, args ...string) result {
		t.Helper()
		r := oncallAt(t, time.Now, vars, stdin, append([]string{"--config", cfg}, args...)...)
		if testenv.HasEscape([]byte(r.out)) || testenv.HasEscape([]byte(r.err)) || strings.ContainsAny(r.out+r.err, bidiControls) {
			t.Errorf("%v let a control sequence through (exit %d):\nstdout %q\nstderr %q", args, r.code, r.out, r.err)
		}
		return r
	}

	at("", "alerts")
	if r := at("", "runbook", "list"); !strings.Contains(r.out, "Matching now") {
		t.Errorf("runbook list:\n%s", r.out)
	}
	if r := at("", "runbook", "show", "hostile"); !strings.Contains(r.out, `printf "cleaned\n"`) {
		t.Errorf("the plan does not show what runs:\n%s", r.out)
	}
	// the prompt, and no for an answer
	if r := at("", "runbook", "run", "hostile"); r.code != 1 || !strings.Contains(r.err, "[y/N]") {
		t.Errorf("runbook run without an answer: %+v", r)
	}
	at("", "autopilot", "--once")
	r := at("", "proposals")
	if strings.Count(r.out, "hostile on ") != len(hostile) {
		t.Errorf("want %d proposals:\n%s", len(hostile), r.out)
	}
	j := oncallAt(t, time.Now, vars, "", "--config", cfg, "proposals", "-o", "json")
	var ps []remediate.Proposal
	if err := json.Unmarshal([]byte(j.out), &ps); err != nil {
		t.Fatalf("proposals json %v: %s", err, j.out)
	}
	var targets []string
	for _, p := range ps {
		targets = append(targets, p.Target)
	}
	slices.Sort(targets)
	want := slices.Clone(hostile)
	slices.Sort(want)
	if !slices.Equal(targets, want) {
		t.Errorf("-o json changed the targets: %q, want %q", targets, want)
	}
	for _, p := range ps {
		if r := at("", "proposals", "approve", p.ID, "-y"); r.code != 0 || !strings.Contains(r.out, "cleaned") {
			t.Errorf("approve %q: %+v", p.Target, r)
		}
	}
	// a second run on each target is refused by the cooldown, which names it
	for _, v := range hostile {
		if r := at("", "runbook", "run", "hostile", "--target", v, "-y"); r.code != 1 || !strings.Contains(r.out, "cooldown") {
			t.Errorf("second run on %q: %+v", v, r)
		}
	}
	if r := at("", "audit"); strings.Count(r.out, "hostile/clean on ") != len(hostile) {
		t.Errorf("audit:\n%s", r.out)
	}
	j = oncallAt(t, time.Now, vars, "", "--config", cfg, "audit", "-o", "json")
	var rows []remediate.Row
	if err := json.Unmarshal([]byte(j.out), &rows); err != nil {
		t.Fatalf("audit json %v: %s", err, j.out)
	}
	targets = targets[:0]
	for _, row := range rows {
		if row.Before.Action == "clean" {
			targets = append(targets, row.Before.Target)
		}
	}
	slices.Sort(targets)
	if !slices.Equal(targets, want) {
		t.Errorf("audit -o json changed the targets: %q, want %q", targets, want)
	}
	at("", "silences", "--ledger", "--expired")
	// an audit log written by someone else, every field hostile
	forged := filepath.Join(dir, "forged.jsonl")
	for i, v := range hostile {
		a := &remediate.Audit{Path: forged}
		if err := a.Append(remediate.Entry{ID: fmt.Sprint("b", i), Phase: remediate.PhaseBefore, User: v, Host: v, Runbook: v, Action: v, Target: v, Command: v, Incident: v, Approval: v}); err != nil {
			t.Fatal(err)
		}
		if err := a.Append(remediate.Entry{ID: fmt.Sprint("d", i), Phase: remediate.PhaseDecision, User: v, Host: v, Runbook: v, Target: v, Result: v}); err != nil {
			t.Fatal(err)
		}
	}
	at("", "audit", "--file", forged)
	// an error that names data
	at("", "runbook", "run", "nosuch\x1b[2J")
}

// writeCounter is a reverse proxy to an Alertmanager that counts the
// requests that would change it.
func writeCounter(t *testing.T, am string, writes *atomic.Int32) string {
	t.Helper()
	u, err := url.Parse(am)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writes.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestReadOnlyContextRefusesBeforeAnyPromptOrWrite: in a context with
// read_only: true, every action path (runbook run, autopilot, proposals
// approve and reject, silences add and expire, and the demo's autopilot)
// is refused before it asks anything and before it writes to
// Alertmanager, whatever stdin says.
func TestReadOnlyContextRefusesBeforeAnyPromptOrWrite(t *testing.T) {
	am := testenv.Alertmanager(t)
	postAlert(t, am, map[string]string{"alertname": "DiskFull", "service": "api", "team": "hostile"}, nil)
	var writes atomic.Int32
	rbs := runbookDir(t, map[string]string{"hostile.yaml": hostileRunbook(t)})
	vars, audit := dataHome(t)
	cfg := writeFile(t, "config.yaml", `current-context: staging
contexts:
  staging:
    datasources:
      alertmanager: {url: "`+am+`"}
  audit:
    read_only: true
    datasources:
      alertmanager: {url: "`+writeCounter(t, am, &writes)+`"}
runbooks: `+rbs+`
`)
	// a proposal and a silence wait in the shared Alertmanager
	if r := oncallAt(t, time.Now, vars, "", "--config", cfg, "autopilot", "--once"); r.code != 0 || !strings.Contains(r.out, "proposed") {
		t.Fatalf("autopilot in staging: %+v", r)
	}
	var ps []remediate.Proposal
	if r := oncallAt(t, time.Now, vars, "", "--config", cfg, "proposals", "-o", "json"); json.Unmarshal([]byte(r.out), &ps) != nil || len(ps) != 1 {
		t.Fatalf("proposals: %+v", r)
	}
	r := oncallAt(t, time.Now, vars, "", "--config", cfg, "silences", "add", "alertname=DiskFull", "-c", "known", "-y")
	if r.code != 0 {
		t.Fatalf("silence in staging: %+v", r)
	}
	silence := strings.TrimSpace(r.out)
	for _, args := range [][]string{
		{"runbook", "run", "hostile"},
		{"runbook", "run", "hostile", "-y"},
		{"autopilot", "--once"},
		{"proposals", "approve", ps[0].ID},
		{"proposals", "approve", ps[0].ID, "-y"},
		{"proposals", "reject", ps[0].ID},
		{"silences", "add", "alertname=DiskFull", "-c", "mine"},
		{"silences", "expire", silence},
		{"autopilot", "--demo", "crash-loop", "--once"},
		{"runbook", "run", "crash-loop", "--demo", "crash-loop"},
	} {
		r := oncallAt(t, time.Now, vars, "y\nyes\napi\naudit\n", append([]string{"--config", cfg, "--context", "audit"}, args...)...)
		if r.code != 1 || !strings.Contains(r.err, "read-only") {
			t.Errorf("%v: not refused as read-only: %+v", args, r)
		}
		if strings.Contains(r.err, "[y/N]") || strings.Contains(r.err, "type ") {
			t.Errorf("%v asked before refusing:\n%s", args, r.err)
		}
		if n := writes.Load(); n != 0 {
			t.Fatalf("%v: %d write(s) to Alertmanager in a read-only context", args, n)
		}
	}
	if _, err := os.Stat(audit); err == nil {
		b, _ := os.ReadFile(audit)
		t.Errorf("the audit log was written in a read-only context:\n%s", b)
	}
	if r := oncallAt(t, time.Now, vars, "", "--config", cfg, "proposals"); !strings.Contains(r.out, ps[0].ID) {
		t.Errorf("the proposal was decided in a read-only context:\n%s", r.out)
	}
}

// TestTypedContextWantsTargetAndContext: in a confirm: typed context, a
// high-danger plan goes ahead only when both the target's name and the
// context's name are typed (or given with --confirm, once each, in the
// order asked), never on one alone, even when the two names are the same.
func TestTypedContextWantsTargetAndContext(t *testing.T) {
	high := &remediate.Plan{Runbook: "bad-deploy", Target: "inventory", Actions: []remediate.Planned{{Danger: remediate.DangerHigh}}}
	for _, c := range []struct {
		typed, in string
		confirm   []string
		want      bool
	}{
		{"prod", "inventory\n", nil, false},
		{"prod", "prod\n", nil, false},
		{"prod", "inventory\ninventory\n", nil, false},
		{"prod", "prod\ninventory\n", nil, false},
		{"prod", "inventory\nprod\n", nil, true},
		{"prod", "", []string{"inventory"}, false},
		{"prod", "", []string{"prod"}, false},
		{"prod", "", []string{"inventory", "prod"}, true},
		{"prod", "", []string{"prod", "inventory"}, false},
		// a context named as the target: one name typed does not stand for both
		{"inventory", "inventory\n", nil, false},
		{"inventory", "inventory\ninventory\n", nil, true},
		{"inventory", "", []string{"inventory"}, false},
		{"inventory", "", []string{"inventory", "inventory"}, true},
	} {
		var errOut strings.Builder
		e := &env{IO: IOStreams{In: strings.NewReader(c.in), Out: &errOut, ErrOut: &errOut}}
		if got := confirmPlan(&Factory{env: e, Global: &globalOptions{typed: c.typed}}, confirmFlags{names: c.confirm}, high); got != c.want {
			t.Errorf("context %s, answers %q, --confirm %q: %v, want %v\n%s", c.typed, c.in, c.confirm, got, c.want, errOut.String())
		}
		if c.in != "" && (!strings.Contains(errOut.String(), "type inventory") || c.want && !strings.Contains(errOut.String(), "type "+c.typed)) {
			t.Errorf("context %s, answers %q: the prompts do not name both:\n%s", c.typed, c.in, errOut.String())
		}
	}
}

// escalatingConfig is a config whose one runbook's diagnosis finds
// nothing, so that its plan is to escalate, to a webhook that counts pages.
func escalatingConfig(t *testing.T, pages *atomic.Int32) (string, map[string]string) {
	t.Helper()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { pages.Add(1) }))
	t.Cleanup(hook.Close)
	rbs := runbookDir(t, map[string]string{"escalate.yaml": `name: escalate-only
match: {alerts: [Never]}
diagnose:
  - name: surge
    incident: {mechanism: load-surge}
    when: {above: 0}
    then: [noop]
actions:
  - name: noop
    kind: exec
    argv: [` + program(t, "true") + `]
    danger: low
    category: restart
`})
	vars, audit := dataHome(t)
	return writeFile(t, "config.yaml", "datasources: {}\nrunbooks: "+rbs+"\nremediation:\n  audit_log: "+audit+
		"\n  escalation:\n    - {name: hook, kind: webhook, url: \""+hook.URL+"\"}\n"), vars
}

// TestEscalateOnlyPlanIsConfirmed: a plan whose diagnosis says escalate
// pages a human, which is an action: it is asked like any other (no
// answer, or stdin closed, is no) and pages only on y.
func TestEscalateOnlyPlanIsConfirmed(t *testing.T) {
	var pages atomic.Int32
	cfg, vars := escalatingConfig(t, &pages)
	for _, stdin := range []string{"", "n\n"} {
		r := oncall(t, vars, stdin, "--config", cfg, "runbook", "run", "escalate-only", "--target", "cart")
		if r.code != 1 || !strings.Contains(r.err, "[y/N]") || pages.Load() != 0 {
			t.Fatalf("stdin %q: paged %d time(s) without a yes: %+v", stdin, pages.Load(), r)
		}
	}
	if r := oncall(t, vars, "y\n", "--config", cfg, "runbook", "run", "escalate-only", "--target", "cart"); r.code != 1 || !strings.Contains(r.out, "Result: escalated") || pages.Load() != 1 {
		t.Fatalf("y: %d page(s): %+v", pages.Load(), r)
	}
}

// interrupted is how a run that was sent SIGINTs ended.
type interrupted struct {
	out      string // stdout and stderr
	rows     []remediate.Row
	code     int
	finished bool // the action ran to its end
}

// interruptRun starts `runbook run` from the built binary on an action
// that waits for a file to appear, and sends it n SIGINTs once the action
// runs, each once the one before has been answered.
func interruptRun(t *testing.T, n int) interrupted {
	t.Helper()
	dir := t.TempDir()
	started, proceed, finished := filepath.Join(dir, "started"), filepath.Join(dir, "proceed"), filepath.Join(dir, "finished")
	rbs := runbookDir(t, map[string]string{"slow.yaml": `name: slow
match: {alerts: [Never]}
actions:
  - name: drain
    kind: exec
    argv: [` + program(t, "sh") + `, -c, "touch ` + started + `; while [ ! -e ` + proceed + ` ]; do sleep 0.05; done; touch ` + finished + `"]
    danger: low
    category: restart
    timeout: 2m
`})
	audit := filepath.Join(dir, "audit.jsonl")
	cfg := writeFile(t, "config.yaml", "datasources: {}\nrunbooks: "+rbs+"\nremediation:\n  audit_log: "+audit+"\n")
	// a file, not a buffer: read while the process writes it
	outPath := filepath.Join(dir, "out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	read := func() string { b, _ := os.ReadFile(outPath); return string(b) }
	cmd := exec.Command(testBinary(t), "--config", cfg, "runbook", "run", "slow", "--target", "cart", "-y")
	cmd.Env = append(os.Environ(), "USER=alice", "XDG_DATA_HOME="+dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	waitFile(t, started)
	for i := 0; i < n && !closed(done); i++ {
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the interrupt answered", func() bool { return strings.Count(read(), "oncall: interrupted") > i || closed(done) })
	}
	if n == 1 {
		// the action still runs: let it end
		if err := os.WriteFile(proceed, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("oncall did not end:\n%s", read())
	}
	rows, bad, err := (&remediate.Audit{Path: audit}).Read()
	if err != nil || len(bad) > 0 {
		t.Fatalf("audit %v %v", err, bad)
	}
	_, ferr := os.Stat(finished)
	return interrupted{out: read(), rows: rows, code: cmd.ProcessState.ExitCode(), finished: ferr == nil}
}

// TestFirstInterruptLetsTheActionFinish: one ctrl+c while an action runs
// says it is finishing, lets the action end and writes its after-entry.
func TestFirstInterruptLetsTheActionFinish(t *testing.T) {
	r := interruptRun(t, 1)
	if !r.finished {
		t.Fatalf("the first interrupt stopped the action (exit %d):\n%s", r.code, r.out)
	}
	if !strings.Contains(r.out, "finishing") {
		t.Errorf("nothing said it is finishing:\n%s", r.out)
	}
	if len(r.rows) != 1 || r.rows[0].Unfinished || r.rows[0].After.Result != remediate.ResultDone {
		t.Fatalf("audit %+v\n%s", r.rows, r.out)
	}
}

// TestSecondInterruptStopsTheAction: a second ctrl+c stops the action at
// once, and its after-entry is still written.
func TestSecondInterruptStopsTheAction(t *testing.T) {
	r := interruptRun(t, 2)
	if r.finished {
		t.Fatalf("the action ran to its end after two interrupts:\n%s", r.out)
	}
	if r.code != exitFailed {
		t.Errorf("exit %d, want %d:\n%s", r.code, exitFailed, r.out)
	}
	if len(r.rows) != 1 || r.rows[0].Unfinished || r.rows[0].After.Result != remediate.ResultFailed {
		t.Fatalf("audit %+v\n%s", r.rows, r.out)
	}
}

// closed says whether a channel is closed, without waiting.
func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// waitUntil waits until ok holds, for up to a minute.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFile waits until a file exists.
func waitFile(t *testing.T, path string) {
	t.Helper()
	waitUntil(t, path, func() bool { _, err := os.Stat(path); return err == nil })
}

// TestDemoKeepsItsOwnAuditLog: a demo run writes to the demo's audit log
// in the data directory, never to the real one, and oncall audit --demo
// reads it.
func TestDemoKeepsItsOwnAuditLog(t *testing.T) {
	home := t.TempDir()
	data := filepath.Join(home, "data")
	vars := map[string]string{"HOME": home, "XDG_DATA_HOME": data, "USER": "tester"}
	r := oncall(t, vars, "y\n", "runbook", "run", "crash-loop", "--demo", "crash-loop")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	real := filepath.Join(data, "oncall", "audit.jsonl")
	if _, err := os.Stat(real); err == nil {
		b, _ := os.ReadFile(real)
		t.Fatalf("the demo wrote to the real audit log:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(data, "oncall", "demo-audit.jsonl")); err != nil {
		t.Fatalf("no demo audit log: %v", err)
	}
	if a := oncall(t, vars, "", "audit", "--demo"); !strings.Contains(a.out, "crash-loop/") {
		t.Errorf("audit --demo:\n%s\n%s", a.out, a.err)
	}
	if a := oncall(t, vars, "", "audit"); !strings.Contains(a.out, "is empty") {
		t.Errorf("audit:\n%s", a.out)
	}
}
