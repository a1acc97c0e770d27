package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/chaos"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/remediate"
)

// chaosBed is a config whose Prometheus is a fake that answers every
// range query with a steady 12 requests a second at orders, and an
// experiment whose fault is a file: touch puts it in, rm takes it out.
// Whether the fault is in place is whether the file exists.
type chaosBed struct {
	dir, config, experiment, fault, data string
	prometheus                           string // the fake's URL
}

// newChaosBed writes the bed; alerts is what /api/v1/alerts lists (JSON),
// and every instant query (an SLO's budget) answers 12 as well.
func newChaosBed(t *testing.T, extraConfig string, alerts string) *chaosBed {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().Unix()
		switch r.URL.Path {
		case "/api/v1/query_range":
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"service":"orders"},"values":[[%d,"12"],[%d,"12"]]}]}}`, now-30, now)
		case "/api/v1/query":
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"orders"},"value":[%d,"12"]}]}}`, now)
		case "/api/v1/alerts":
			fmt.Fprintf(w, `{"status":"success","data":{"alerts":[%s]}}`, alerts)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	b := &chaosBed{dir: dir, config: filepath.Join(dir, "config.yaml"), experiment: filepath.Join(dir, "experiments", "mark.yaml"),
		fault: filepath.Join(dir, "fault"), data: filepath.Join(dir, "data"), prometheus: srv.URL}
	if err := os.Mkdir(filepath.Join(dir, "experiments"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeAt(t, b.config, fmt.Sprintf("datasources:\n  prometheus: {url: %s, retries: 0, timeout: 2s}\nchaos:\n  experiments: ./experiments\n%s", srv.URL, extraConfig))
	writeAt(t, b.experiment, fmt.Sprintf(`name: mark
hypothesis: orders keeps serving while the fault file is in place
target: orders
steady_state:
  - {service: orders, signal: requests, above: 1}
inject:
  - {name: touch, kind: exec, argv: [touch, %q]}
guards:
  - {service: orders, signal: requests, above: 1, over: 2m}
interval: 1s
duration: 1h
rollback:
  - {name: remove, kind: exec, argv: [rm, -f, %q]}
schedule: "@every 1m"
`, b.fault, b.fault))
	return b
}

// inTypedContext rewrites the bed's config as one context, prod, that
// wants its name typed before anything acts; a cooldown of 1ms lets a
// killed run's injection run again at once.
func (b *chaosBed) inTypedContext(t *testing.T) {
	t.Helper()
	writeAt(t, b.config, fmt.Sprintf("current-context: prod\ncontexts:\n  prod:\n    confirm: typed\n    datasources:\n      prometheus: {url: %s, retries: 0, timeout: 2s}\nchaos:\n  experiments: ./experiments\nremediation:\n  cooldown: 1ms\n", b.prometheus))
}

// cmd is the built binary on args, in the bed's data directory, with no
// terminal (stdin empty).
func (b *chaosBed) cmd(t *testing.T, stdin string, args ...string) *exec.Cmd {
	c := exec.Command(testBinary(t), append([]string{"--config", b.config}, args...)...)
	c.Env = []string{"XDG_DATA_HOME=" + b.data, "XDG_CONFIG_HOME=" + filepath.Join(b.dir, "xdg"), "HOME=" + b.dir, "USER=chaos-tester", "PATH=" + os.Getenv("PATH")}
	c.Stdin = strings.NewReader(stdin)
	return c
}

// run runs the binary to its end.
func (b *chaosBed) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	c := b.cmd(t, stdin, args...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

// audit is the bed's audit log, entry by entry.
func (b *chaosBed) audit(t *testing.T) []remediate.Entry {
	t.Helper()
	return readAudit(t, filepath.Join(b.data, "oncall", "audit.jsonl"))
}

// readAudit reads an audit log, entry by entry; none when it is not
// there.
func readAudit(t *testing.T, path string) []remediate.Entry {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var es []remediate.Entry
	s := bufio.NewScanner(f)
	for s.Scan() {
		var e remediate.Entry
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", s.Text(), err)
		}
		es = append(es, e)
	}
	return es
}

// auditHas says whether the audit log has an entry of the experiment's stage
// (and, for an action, its phase).
func auditHas(es []remediate.Entry, stage, action, phase string) bool {
	return auditEntry(es, stage, action, phase) != nil
}

// auditEntry is the first entry of the experiment's stage, action and
// phase ("" matches any); nil when there is none.
func auditEntry(es []remediate.Entry, stage, action, phase string) *remediate.Entry {
	for i, e := range es {
		if e.Experiment != nil && (stage == "" || e.Experiment.Stage == stage) && (action == "" || e.Action == action) && (phase == "" || e.Phase == phase) {
			return &es[i]
		}
	}
	return nil
}

func pathExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// chaosProc is a process the test runs, and its output (stdout and
// stderr, through one pipe) so far.
type chaosProc struct {
	c      *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	grew   chan struct{} // closed, and replaced, each time out grows
	eof    chan struct{} // closed when the pipe has no writer left
	exited chan struct{}
	err    error // c.Wait's, once exited is closed
}

// startUntil starts c and waits until its output holds want.
func startUntil(t *testing.T, c *exec.Cmd, want string) *chaosProc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &chaosProc{c: c, grew: make(chan struct{}), eof: make(chan struct{}), exited: make(chan struct{})}
	c.Stdout, c.Stderr = w, w
	err = c.Start()
	w.Close() // the child holds its own copy: EOF comes when it exits
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	go p.read(r)
	go func() { p.err = c.Wait(); close(p.exited) }()
	t.Cleanup(func() { _ = c.Process.Kill(); <-p.exited; <-p.eof })
	p.until(t, want)
	return p
}

// read copies the pipe into out, waking every waiter at each read.
func (p *chaosProc) read(r *os.File) {
	defer close(p.eof)
	defer r.Close()
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		p.mu.Lock()
		p.out.Write(buf[:n])
		close(p.grew)
		p.grew = make(chan struct{})
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// String is the output so far.
func (p *chaosProc) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// until waits until the output holds want, woken by each read from the
// pipe; the output ending first fails the test, and so does a minute
// with no want (a hung process).
func (p *chaosProc) until(t *testing.T, want string) {
	t.Helper()
	hung := time.NewTimer(time.Minute)
	defer hung.Stop()
	for {
		p.mu.Lock()
		has, grew := strings.Contains(p.out.String(), want), p.grew
		p.mu.Unlock()
		if has {
			return
		}
		select {
		case <-grew:
		case <-p.eof:
			if !strings.Contains(p.String(), want) {
				<-p.exited
				t.Fatalf("exited (%v) before %q:\n%s", p.err, want, p)
			}
		case <-hung.C:
			t.Fatalf("no %q within a minute:\n%s", want, p)
		}
	}
}

// wait is the process's exit, once signalled.
func (p *chaosProc) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.exited:
		<-p.eof
		return p.err
	case <-time.After(60 * time.Second):
		t.Fatalf("still running a minute after the signal:\n%s", p)
		return nil
	}
}

// toxicBed is the bed with a real fault: Toxiproxy's proxy ledger in
// front of a local HTTP server, and the bed's experiment rewritten as
// ledger-latency, whose inject adds a latency toxic through Toxiproxy's
// API and whose rollback deletes it. The guards stay on the bed's fake
// Prometheus, which never trips them: the run stays in its guard loop.
type toxicBed struct {
	*chaosBed
	toxiproxy *testenv.Toxiproxy
}

// toxicProxy is the proxy's name, the experiment's target (typed to
// confirm the injection).
const toxicProxy = "ledger"

func newToxicBed(t *testing.T) *toxicBed {
	t.Helper()
	b := &toxicBed{chaosBed: newChaosBed(t, "", ""), toxiproxy: testenv.StartToxiproxy(t)}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	t.Cleanup(upstream.Close)
	b.toxiproxy.Proxy(toxicProxy, upstream.Listener.Addr().String())
	api := b.toxiproxy.API()
	// the file is named after the experiment, as a user's would be
	if err := os.Remove(b.experiment); err != nil {
		t.Fatal(err)
	}
	b.experiment = filepath.Join(b.dir, "experiments", "ledger-latency.yaml")
	writeAt(t, b.experiment, fmt.Sprintf(`name: ledger-latency
hypothesis: orders keeps serving while ledger answers 250 ms slower
target: %s
steady_state:
  - {service: orders, signal: requests, above: 1}
inject:
  - name: latency
    kind: http
    http:
      method: POST
      url: "%s/proxies/{{.Target}}/toxics"
      headers: {Content-Type: application/json}
      body: '{"name": "latency", "type": "latency", "stream": "downstream", "toxicity": 1.0, "attributes": {"latency": 250}}'
guards:
  - {service: orders, signal: requests, above: 1, over: 2m}
interval: 1s
duration: 1h
rollback:
  - name: remove
    kind: http
    http: {method: DELETE, url: "%s/proxies/{{.Target}}/toxics/latency"}
`, toxicProxy, api, api))
	return b
}

// toxics is what Toxiproxy's API lists on the proxy: the toxics' names.
func (b *toxicBed) toxics(t *testing.T) []string {
	t.Helper()
	url := b.toxiproxy.API() + "/proxies/" + toxicProxy + "/toxics"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var listed []struct{ Name string }
	if err := json.NewDecoder(resp.Body).Decode(&listed); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d, %v", url, resp.StatusCode, err)
	}
	names := make([]string, len(listed))
	for i, x := range listed {
		names[i] = x.Name
	}
	return names
}

// startInjected starts the experiment and waits until the audit log has
// its injection done and the output its first guard reading: the toxic
// is in place, and the run is in its guard loop.
func (b *toxicBed) startInjected(t *testing.T) (*exec.Cmd, *chaosProc) {
	t.Helper()
	c := b.cmd(t, "", "chaos", "run", b.experiment, "--confirm", toxicProxy)
	p := startUntil(t, c, "[guard]")
	if e := auditEntry(b.audit(t), "inject", "latency", remediate.PhaseAfter); e == nil || e.Result != remediate.ResultDone {
		t.Fatalf("the guards read before the injection was done: %+v\n%s", e, p)
	}
	if got := b.toxics(t); len(got) != 1 || got[0] != "latency" {
		t.Fatalf("Toxiproxy lists %q while the guards read, want [latency]:\n%s", got, p)
	}
	return c, p
}

// TestChaosRunTheSeedExperimentOnTheDemo is the Done-when, as a
// person types it: the seed's experiment on the demo passes, its whole
// ten minutes on the fleet's clock (the audit log's data times).
func TestChaosRunTheSeedExperimentOnTheDemo(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	c := exec.Command(testBinary(t), strings.Fields("chaos run --demo quiet testdata/experiments/payment-db-latency.yaml -y --confirm payment-db")...)
	c.Dir = root
	c.Env = []string{"XDG_DATA_HOME=" + data, "XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir(), "USER=chaos-tester", "PATH=" + os.Getenv("PATH")}
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"Experiment payment-db-latency", "inject-latency", "clear-faults", "payment-api error ratio < 1% over 1m", "every 5s for 10m", "passed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	es := readAudit(t, filepath.Join(data, "oncall", "demo-audit.jsonl"))
	injected, end := auditEntry(es, "inject", "latency", remediate.PhaseAfter), auditEntry(es, "end", "", "")
	rolled := auditEntry(es, "rollback", "clear", remediate.PhaseAfter)
	if injected == nil || end == nil || rolled == nil || injected.Result != remediate.ResultDone || rolled.Result != remediate.ResultDone || end.Result != "passed" {
		t.Fatalf("the audit log lacks the injection, the rollback or the passed end: %+v", es)
	}
	if d := end.DataTime.Sub(injected.DataTime); d < 10*time.Minute {
		t.Errorf("the run ended %s after its injection on the fleet's clock, want its 10m duration", d)
	}
}

// TestChaosRunRefusals: a dry run shows the plan and injects nothing;
// read-only refuses before anything is asked; no answer is no.
func TestChaosRunRefusals(t *testing.T) {
	b := newChaosBed(t, "", "")
	r := b.run(t, "", "chaos", "run", b.experiment, "--dry-run")
	// the steady-state check has no over: it reads chaos.DefaultOver, and
	// the plan says so; the guard's is its own
	for _, want := range []string{"touch " + b.fault, "rm -f " + b.fault, "  orders requests > 1/s over 1m\n", "  orders requests > 1/s over 2m\n", "Guards, every 1s for 1h"} {
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("dry run: exit %d, want %q\n%s\n%s", r.code, want, r.out, r.err)
		}
	}
	if pathExists(b.fault) || auditHas(b.audit(t), "", "touch", remediate.PhaseBefore) {
		t.Errorf("the dry run injected: %+v", b.audit(t))
	}

	// a dry run injects nothing: read-only lets it show the plan and
	// read the steady state
	r = b.run(t, "", "--read-only", "chaos", "run", b.experiment, "--dry-run")
	if r.code != 0 || !strings.Contains(r.out, "touch "+b.fault) || !strings.Contains(r.out, "the steady state holds") || strings.Contains(r.err, "refused") {
		t.Errorf("read-only dry run: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	r = b.run(t, "orders\n", "--read-only", "chaos", "run", b.experiment)
	if r.code != 1 || !strings.Contains(r.err, "read-only") || strings.Contains(r.err, "type orders") {
		t.Errorf("read-only: exit %d\n%s", r.code, r.err)
	}

	for _, tc := range []struct{ stdin, args, want string }{
		{"", "", "High danger: type orders to run experiment mark: not done"},
		{"y\n", "", "not done"},
		{"", "-y", "-y is not enough"},
		{"", "--confirm order", "this plan wants --confirm orders"},
	} {
		r = b.run(t, tc.stdin, append([]string{"chaos", "run", b.experiment}, strings.Fields(tc.args)...)...)
		if r.code != 1 || !strings.Contains(r.err, tc.want) || !strings.Contains(r.err, "refused: not confirmed") {
			t.Errorf("%q %s: exit %d\n%s", tc.stdin, tc.args, r.code, r.err)
		}
	}
	if pathExists(b.fault) || auditHas(b.audit(t), "", "touch", "") {
		t.Errorf("a refused run injected: %+v", b.audit(t))
	}
}

// TestChaosRunRollsBackOnInterrupt: SIGINT and SIGTERM mid-run stop it,
// the rollback runs before oncall exits (Toxiproxy lists no toxic), and
// the audit log has the rollback's before and after, and the end.
func TestChaosRunRollsBackOnInterrupt(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			b := newToxicBed(t)
			c, p := b.startInjected(t)
			if err := c.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := p.wait(t)
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
				t.Errorf("exit %v after %s, want non-zero:\n%s", err, sig, p)
			}
			if got := b.toxics(t); len(got) != 0 {
				t.Errorf("Toxiproxy still lists %q after %s:\n%s", got, sig, p)
			}
			es := b.audit(t)
			for _, want := range []struct{ stage, action, phase string }{
				{"", "remove", remediate.PhaseBefore}, {"", "remove", remediate.PhaseAfter}, {"end", "", ""},
			} {
				if !auditHas(es, want.stage, want.action, want.phase) {
					t.Errorf("the audit log has no %+v", want)
				}
			}
			if !strings.Contains(p.String(), "aborted") {
				t.Errorf("the report does not say aborted:\n%s", p)
			}
			// the run had injected: the interrupt that cancelled it must
			// not cancel its record
			if strings.Contains(p.String(), "not recorded") {
				t.Errorf("the interrupted run was not recorded:\n%s", p)
			}
			if r := b.run(t, "", "history", "--offline"); r.code != 0 || !strings.Contains(r.out, "chaos experiment ledger-latency aborted") {
				t.Errorf("history after %s: exit %d\n%s\n%s", sig, r.code, r.out, r.err)
			}
		})
	}
}

// TestChaosKilledRunIsFoundAndRolledBack: SIGKILL leaves the toxic in
// Toxiproxy and the run unfinished in the audit log; the next oncall
// chaos list says so and offers chaos rollback RUN, which deletes the
// toxic and writes the run's end.
func TestChaosKilledRunIsFoundAndRolledBack(t *testing.T) {
	b := newToxicBed(t)
	c, p := b.startInjected(t)
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t)
	if got := b.toxics(t); len(got) != 1 || got[0] != "latency" {
		t.Fatalf("Toxiproxy lists %q after SIGKILL, want [latency]: nothing could have rolled it back", got)
	}
	es := b.audit(t)
	start := auditEntry(es, "start", "", "")
	if start == nil || auditHas(es, "end", "", "") {
		t.Fatalf("the audit log should have the start and no end: %+v", es)
	}
	run := start.Experiment.Run

	r := b.run(t, "", "chaos", "list")
	said := regexp.MustCompile(`experiment ledger-latency \(run ` + regexp.QuoteMeta(run) + `, started \S+ by chaos-tester@\S+\) never finished: its fault may still be in place`)
	if r.code != 0 || !said.MatchString(r.err) || !strings.Contains(r.err, "oncall chaos rollback "+run) || !strings.Contains(r.out, "ledger-latency") {
		t.Fatalf("list: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	r = b.run(t, "", "chaos", "list", "-o", "json")
	var listed struct {
		Unfinished []struct{ Run, Rollback string } `json:"unfinished"`
	}
	if err := json.Unmarshal([]byte(r.out), &listed); err != nil || len(listed.Unfinished) != 1 || listed.Unfinished[0].Rollback != "oncall chaos rollback "+run {
		t.Errorf("list -o json: %v\n%s", err, r.out)
	}
	if r := b.run(t, "", "chaos", "rollback", run); r.code != 1 || len(b.toxics(t)) != 1 {
		t.Errorf("rollback without an answer: exit %d, toxics %q\n%s", r.code, b.toxics(t), r.err)
	}
	// the rollback is low danger: -y is enough
	if r := b.run(t, "", "chaos", "rollback", run, "-y"); r.code != 0 || len(b.toxics(t)) != 0 {
		t.Fatalf("rollback -y: exit %d, toxics still listed %q\n%s\n%s", r.code, b.toxics(t), r.out, r.err)
	}
	es = b.audit(t)
	if end := auditEntry(es, "end", "", ""); end == nil || end.Experiment.Run != run || !auditHas(es, "rollback", "remove", remediate.PhaseAfter) {
		t.Errorf("the audit log lacks the run's rollback and end: %+v", es)
	}
	if r := b.run(t, "", "chaos", "list"); strings.Contains(r.err, "never finished") {
		t.Errorf("the rolled-back run is still unfinished:\n%s", r.err)
	}
}

// TestChaosDaemonRefuses: the daemon starts nothing while a page alert
// fires, or while an SLO's budget is below the floor, and says which;
// SIGTERM stops it.
func TestChaosDaemonRefuses(t *testing.T) {
	firing := `{"labels":{"alertname":"OrdersDown","severity":"page","service":"orders"},"annotations":{},"state":"firing","activeAt":"2026-12-01T00:00:00Z","value":"1"}`
	slos := "slos:\n  - name: orders-availability\n    service: orders\n    objective: 99.9\n    window: 28d\n    errors: errors_total{service=\"orders\"}\n    total: requests_total{service=\"orders\"}\n"
	for name, tc := range map[string]struct{ config, alerts, want string }{
		"incident": {"", firing, "incident OrdersDown (an alert of severity page firing on orders) is open"},
		// every query answers 12: the errors are all the requests, and
		// the budget is spent
		"budget": {slos, "", "SLO orders-availability has 0"},
	} {
		t.Run(name, func(t *testing.T) {
			b := newChaosBed(t, tc.config, tc.alerts)
			c := b.cmd(t, "", "chaos", "daemon", "--confirm", "default")
			p := startUntil(t, c, "the daemon runs 1 scheduled experiments")
			out := p
			// a schedule ticks once a minute at most (chaos.Parse's
			// rule), too slow for this test: the refusal at each tick is
			// chaos's TestDaemonStartsOnScheduleAndNotesRefusals; here the
			// daemon says it at its start
			if !strings.Contains(out.String(), "no experiment would start now: "+tc.want) {
				t.Errorf("the daemon does not say %q:\n%s", tc.want, out)
			}
			if pathExists(b.fault) || auditHas(b.audit(t), "", "touch", "") {
				t.Errorf("the daemon injected: %+v\n%s", b.audit(t), out)
			}
			if err := c.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := p.wait(t); err != nil {
				t.Errorf("the daemon's exit after SIGTERM: %v\n%s", err, out)
			}
		})
	}
	b := newChaosBed(t, "", "")
	if r := b.run(t, "", "chaos", "daemon"); r.code != 1 || !strings.Contains(r.err, "type default to go ahead: not done") || !strings.Contains(r.err, "touch "+b.fault) {
		t.Errorf("daemon without confirmation: exit %d\n%s", r.code, r.err)
	}
}

// TestChaosRunOptions: --speed is max or a positive pace; -o takes
// markdown too.
func TestChaosRunOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdChaosRun, "x.yaml", "--demo", "quiet", "--speed", "10", "-o", "markdown", "--confirm", "a", "--confirm", "b")
	if err != nil || o.file != "x.yaml" || o.speed != 10 || o.output != "markdown" || len(o.confirm.names) != 2 || o.demo.Scenario != "quiet" {
		t.Fatalf("%+v, %v", o, err)
	}
	if o, err := optionsFor(t, NewCmdChaosRun, "x.yaml"); err != nil || o.speed != 0 || o.speed.String() != "max" {
		t.Errorf("the default speed: %v, %v", o.speed.String(), err)
	}
	for _, args := range [][]string{{"x.yaml", "--speed", "0"}, {"x.yaml", "--speed", "fast"}, {"x.yaml", "-o", "yaml"}, {}} {
		if _, err := optionsFor(t, NewCmdChaosRun, args...); exitCode(err) != exitUsage {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

// TestQuestionsShareOneStdinReader: answers given ahead, all at once (a
// paste, a pipe), reach the questions they were meant for: the second
// question reads what the first one's reader had already taken in.
func TestQuestionsShareOneStdinReader(t *testing.T) {
	f := testFactory(nil)
	f.IO.In = strings.NewReader("prod\norders\nprod\n")
	f.Global.typed = "prod"
	recovery := []remediate.Confirmation{{Name: "prod", Why: remediate.ConfirmTypedContext}}
	run := []remediate.Confirmation{{Name: "orders", Why: remediate.ConfirmHighDanger}, {Name: "prod", Why: remediate.ConfirmTypedContext}}
	if !confirmNames(f, confirmFlags{}, recovery, "Roll back mark", "roll back mark") {
		t.Fatalf("the first question was not answered: %s", f.IO.ErrOut)
	}
	if !confirmNames(f, confirmFlags{}, run, "Run experiment mark", "run experiment mark") {
		t.Fatalf("the second question lost its answers to the first's reader: %s", f.IO.ErrOut)
	}
}

// TestChaosEventsWithoutALineAreNotPrinted: the runner leaves a
// reading's Line empty when it says nothing new; the stream skips it,
// so that a long run's unchanged guards do not flood the terminal.
func TestChaosEventsWithoutALineAreNotPrinted(t *testing.T) {
	var b strings.Builder
	write := writeEvent(&b)
	rd := &chaos.Reading{Value: 12, OK: true}
	write(chaos.Event{Stage: chaos.StageGuard, Line: "orders requests > 1/s: 12/s ok", Reading: rd, Guard: true})
	write(chaos.Event{Stage: chaos.StageGuard, Reading: rd, Guard: true})
	write(chaos.Event{Stage: chaos.StageGuard, Line: "orders requests > 1/s: 0/s FAILS", Reading: &chaos.Reading{OK: false}, Guard: true})
	if want := "[guard] orders requests > 1/s: 12/s ok\n[guard] orders requests > 1/s: 0/s TRIPPED\n"; b.String() != want {
		t.Errorf("the stream:\n%s\nwant:\n%s", b.String(), want)
	}
}

// killedRun starts the bed's experiment, kills it (SIGKILL) while its
// guards read, and returns the run's ID from the audit log: the fault
// is left in place.
func (b *chaosBed) killedRun(t *testing.T, confirm ...string) string {
	t.Helper()
	args := []string{"chaos", "run", b.experiment}
	for _, c := range confirm {
		args = append(args, "--confirm", c)
	}
	c := b.cmd(t, "", args...)
	p := startUntil(t, c, "[guard]")
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t)
	start := auditEntry(b.audit(t), "start", "", "")
	if !pathExists(b.fault) || start == nil {
		t.Fatalf("the kill should leave the fault and the run's start: %+v", b.audit(t))
	}
	return start.Experiment.Run
}

// TestChaosRollbackInATypedContextAfterAnEdit: chaos rollback in a
// confirm: typed context wants the context's name, y is not enough; an
// experiment file edited since the run is said before the question, with
// the rollback commands as they will run; times follow --timezone.
func TestChaosRollbackInATypedContextAfterAnEdit(t *testing.T) {
	b := newChaosBed(t, "", "")
	b.inTypedContext(t)
	run := b.killedRun(t, "orders", "prod")
	f, err := os.OpenFile(b.experiment, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "# edited after the run")
	f.Close()

	r := b.run(t, run+"\ny\n", "--timezone", "Europe/Berlin", "chaos", "rollback", run)
	edited, shown, asked := strings.Index(r.err, "was edited since run "+run), strings.Index(r.err, "rm -f "+b.fault), strings.Index(r.err, "This is context prod: type prod to go ahead: not done")
	if r.code != 1 || !pathExists(b.fault) || edited < 0 || shown < 0 || asked < 0 || !(edited < asked && shown < asked) {
		t.Errorf("rollback answered the run's ID, then y: exit %d, fault there %v; want the edit and the command said before the question:\n%s", r.code, pathExists(b.fault), r.err)
	}
	// the edit wants the run's ID first: the context's name alone is not it
	if r := b.run(t, "", "chaos", "rollback", run, "--confirm", "prod"); r.code != 1 || !pathExists(b.fault) || !strings.Contains(r.err, "the first --confirm must be the run's ID, "+run) {
		t.Errorf("rollback --confirm prod: exit %d, fault there %v\n%s", r.code, pathExists(b.fault), r.err)
	}
	if !regexp.MustCompile(`started 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+01:00 by chaos-tester`).MatchString(r.err) {
		t.Errorf("the start time is not in --timezone Europe/Berlin:\n%s", r.err)
	}
	r = b.run(t, "", "--timezone", "Europe/Berlin", "chaos", "rollback", run, "--confirm", run, "--confirm", "prod")
	if r.code != 0 || pathExists(b.fault) || !strings.Contains(r.out, "changed since that run") {
		t.Errorf("rollback --confirm RUN --confirm prod: exit %d, fault there %v\n%s\n%s", r.code, pathExists(b.fault), r.out, r.err)
	}
	if !regexp.MustCompile(`started +20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+01:00`).MatchString(r.out) {
		t.Errorf("the report's times are not in --timezone Europe/Berlin:\n%s", r.out)
	}
	if end := auditEntry(b.audit(t), "end", "", ""); end == nil || end.Experiment.Run != run {
		t.Errorf("the run has no end in the audit log: %+v", b.audit(t))
	}
}

// TestChaosRecoveryIsOfferedAtATerminal: at a terminal, oncall chaos run
// offers an unfinished run's rollback first, showing the commands it will
// run and asking for the run's ID (its file was edited since) and the
// typed context's name; the answers typed ahead
// for the run's own questions still reach them; the run then goes ahead.
func TestChaosRecoveryIsOfferedAtATerminal(t *testing.T) {
	b := newChaosBed(t, "", "")
	b.inTypedContext(t)
	run := b.killedRun(t, "orders", "prod")
	// edited since the run: the offer wants the run's ID typed first
	f, err := os.OpenFile(b.experiment, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "# edited after the run")
	f.Close()
	c := b.cmd(t, "", "chaos", "run", b.experiment)
	var env strings.Builder
	for _, v := range c.Env {
		env.WriteString(shellQuote(v) + " ")
	}
	p := newPane(t, "chaos-recovery", 200, 50, "env -i "+env.String()+strings.Join(quoteAll(c.Args), " ")+"; echo exit=$?; sleep 60")
	p.waitFor("the recovery's question", 30*time.Second, has("experiment mark (run "+run, "was edited since run "+run, "Experiment mark (run "+run+", ", "rm -f "+b.fault, "type the run's ID, "+run+", to run the rollback above"))
	// every answer at once, as typed ahead: the recovery's two, then the run's two
	p.keys(run, "Enter", "prod", "Enter", "orders", "Enter", "prod", "Enter")
	p.waitFor("the run's guards", 30*time.Second, has("[guard]"))
	if end := auditEntry(b.audit(t), "end", "", ""); end == nil || end.Experiment.Run != run || !auditHas(b.audit(t), "rollback", "remove", remediate.PhaseAfter) {
		t.Errorf("the unfinished run was not rolled back and ended: %+v", b.audit(t))
	}
	p.keys("C-c")
	s := p.waitFor("the run's end", 30*time.Second, has("exit=1"))
	if pathExists(b.fault) || !strings.Contains(s, "aborted") {
		t.Errorf("the interrupted run did not roll back:\n%s", s)
	}
}

// quoteAll quotes each word for sh.
func quoteAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = shellQuote(w)
	}
	return out
}

// shellQuote quotes s for sh, as one word.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestChaosRetriesRecipeAsDocumented runs docs/chaos.md's retries recipe
// exactly as written: its file, then its command. The cascade trips the
// error guard, and the rollback sets checkout-api's calls back as well as
// clearing the fault.
func TestChaosRetriesRecipeAsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/chaos.md")
	if err != nil {
		t.Fatal(err)
	}
	const file = "payment-db-retries.yaml"
	yaml := regexp.MustCompile("(?s)```yaml\n(# " + regexp.QuoteMeta(file) + "\n.*?)```").FindSubmatch(doc)
	command := regexp.MustCompile("(?m)^oncall (chaos run .*" + regexp.QuoteMeta(file) + ".*)$").FindSubmatch(doc)
	if yaml == nil || command == nil {
		t.Fatalf("docs/chaos.md has no %s recipe (a yaml block starting # %s, and an oncall chaos run line on it)", file, file)
	}
	dir, data := t.TempDir(), t.TempDir()
	writeAt(t, filepath.Join(dir, file), string(yaml[1]))
	c := exec.Command(testBinary(t), strings.Fields(string(command[1]))...)
	c.Dir = dir
	c.Env = []string{"XDG_DATA_HOME=" + data, "XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir(), "USER=chaos-tester", "PATH=" + os.Getenv("PATH")}
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err == nil || c.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1 (the experiment fails)\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	es := readAudit(t, filepath.Join(data, "oncall", "demo-audit.jsonl"))
	end := auditEntry(es, "end", "", "")
	if end == nil || end.Result != "failed" || !strings.Contains(end.Detail, "guard payment-api error ratio < 1% tripped") {
		t.Errorf("the run's end: %+v, want failed on the error guard\n%s", end, out.String())
	}
	for _, action := range []string{"clear", "calls"} {
		if e := auditEntry(es, "rollback", action, remediate.PhaseAfter); e == nil || e.Result != remediate.ResultDone {
			t.Errorf("rollback %s: %+v", action, e)
		}
	}
	if !strings.Contains(out.String(), "set-call checkout-api → payment-api retries=0 timeout=10s") {
		t.Errorf("the report does not show the calls set back:\n%s", out.String())
	}
}

// TestChaosRollbackAfterAnEditWantsTheRunsID: an experiment file edited
// since its run may roll back with anything (here it touches a new
// file): chaos rollback shows the rollback as the file reads now, and
// neither -y nor y runs it; only the run's ID typed does.
func TestChaosRollbackAfterAnEditWantsTheRunsID(t *testing.T) {
	b := newChaosBed(t, "", "")
	run := b.killedRun(t, "orders")
	evil := filepath.Join(b.dir, "evil")
	old, err := os.ReadFile(b.experiment)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(old), "rollback:\n", fmt.Sprintf("rollback:\n  - {name: evil, kind: exec, argv: [touch, %q]}\n", evil), 1)
	writeAt(t, b.experiment, edited)

	for _, tc := range []struct{ stdin, args, want string }{
		{"", "-y", "-y is not enough (type the run's ID, or give --confirm " + run + "); not done"},
		{"y\n", "", "type the run's ID, " + run + ", to run the rollback above as the file reads now: not done"},
		{"", "--confirm orders", "the first --confirm must be the run's ID, " + run},
	} {
		r := b.run(t, tc.stdin, append([]string{"chaos", "rollback", run}, strings.Fields(tc.args)...)...)
		said, shown, refused := strings.Index(r.err, "was edited since run "+run), strings.Index(r.err, "touch "+evil), strings.Index(r.err, tc.want)
		if r.code != 1 || pathExists(evil) || said < 0 || shown < 0 || refused < 0 || !(said < refused && shown < refused) {
			t.Errorf("%q %s: exit %d, %s there %v; want the edit and the rollback as it reads now said, then %q:\n%s", tc.stdin, tc.args, r.code, evil, pathExists(evil), tc.want, r.err)
		}
	}
	r := b.run(t, run+"\n", "chaos", "rollback", run)
	if r.code != 0 || !pathExists(evil) || pathExists(b.fault) {
		t.Errorf("the run's ID typed: exit %d, %s there %v, fault there %v\n%s\n%s", r.code, evil, pathExists(evil), pathExists(b.fault), r.out, r.err)
	}
}

// TestChaosThirdInterruptEndsAStuckRollback: a rollback that hangs does
// not trap the operator. The first SIGTERM stops the run and starts the
// rollback, a second changes nothing, the third ends oncall at once,
// saying the run and the command that rolls it back; the audit log
// keeps the run unfinished, for the next start to find.
func TestChaosThirdInterruptEndsAStuckRollback(t *testing.T) {
	b := newChaosBed(t, "", "")
	old, err := os.ReadFile(b.experiment)
	if err != nil {
		t.Fatal(err)
	}
	// the rollback hangs (a minute, well past the test's patience, and
	// within the runner's bound on a rollback)
	writeAt(t, b.experiment, strings.Replace(string(old), "rollback:\n", "rollback:\n  - {name: stuck, kind: exec, argv: [sleep, \"60\"]}\n", 1))
	c := b.cmd(t, "", "chaos", "run", b.experiment, "--confirm", "orders")
	p := startUntil(t, c, "[guard]")
	run := auditEntry(b.audit(t), "start", "", "").Experiment.Run
	b.interruptThriceWhileStuck(t, c, p, 1, run)

	// chaos rollback of the run hangs in the same action: the same way out
	c = b.cmd(t, "", "chaos", "rollback", run, "-y")
	p = startUntil(t, c, "Experiment mark (run "+run)
	// the plan is said before the signals are watched: a SIGTERM sent
	// at once may come first; the stuck action starts after
	b.waitStuck(t, p, 2)
	b.interruptThriceWhileStuck(t, c, p, 2, run)
}

// waitStuck waits until the bed's stuck rollback action has started for
// the nth time: its audit entry is written before it runs.
func (b *chaosBed) waitStuck(t *testing.T, p *chaosProc, n int) {
	t.Helper()
	stuck := func() int {
		k := 0
		for _, e := range b.audit(t) {
			if e.Experiment != nil && e.Action == "stuck" && e.Phase == remediate.PhaseBefore {
				k++
			}
		}
		return k
	}
	hung := time.NewTimer(time.Minute)
	defer hung.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for stuck() < n {
		select {
		case <-tick.C:
		case <-hung.C:
			t.Fatalf("the rollback did not start within a minute:\n%s", p)
		}
	}
}

// interruptThriceWhileStuck waits until the bed's stuck rollback action
// has started for the nth time, then sends SIGTERM three times, and
// wants oncall to end at once, saying run and how to roll it back, with
// the action and the run still unfinished in the audit log.
func (b *chaosBed) interruptThriceWhileStuck(t *testing.T, c *exec.Cmd, p *chaosProc, n int, run string) {
	t.Helper()
	// each signal once the last has been seen: a signal sent while the
	// last is still pending is the same signal to the kernel
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.until(t, "oncall: interrupted: a rollback owed runs to its end")
	b.waitStuck(t, p, n)
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.until(t, "the rollback goes on; a third interrupt ends oncall at once")
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.wait(t)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailed {
		t.Errorf("exit %v after the third SIGTERM, want 1:\n%s", err, p)
	}
	if !strings.Contains(p.String(), "the rollback of run "+run+" may not have finished") || !strings.Contains(p.String(), "roll it back with: oncall chaos rollback "+run) {
		t.Errorf("the last line does not say the run and how to roll it back:\n%s", p)
	}
	// at once: not after the hung action (a minute), which would have
	// written its after entry and the run's end
	if es := b.audit(t); auditHas(es, "rollback", "stuck", remediate.PhaseAfter) || auditHas(es, "end", "", "") {
		t.Errorf("oncall waited for the rollback: %+v", es)
	}
}
