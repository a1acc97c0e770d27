package remediate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/alertmanager"
)

// Issue 17, section 5: time, locks and crashes. A slow command, a fast
// clock, a second process or a full disk must not break a guardrail.

// onceRunbook is a runbook of one exec action on target svc.
func onceRunbook(argv ...string) *Runbook {
	return &Runbook{Name: "once", File: "inline", Actions: []Action{{Name: "act", Spec: Spec{Kind: KindExec, Argv: argv}, Danger: DangerLow, Category: "test"}}}
}

// runOnce plans and runs rb on svc with the given ledger and audit log,
// signed by who, on the host's clock.
func runOnce(t testing.TB, rb *Runbook, ledger Ledger, audit *Audit, who string) Outcome {
	t.Helper()
	out, err := planAndRun(rb, ledger, audit, who)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runWith plans rb on svc with x's ledger and runs it with x.
func runWith(t testing.TB, x *Executor, rb *Runbook) Outcome {
	t.Helper()
	out, err := x.planAndRun(rb)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func planAndRun(rb *Runbook, ledger Ledger, audit *Audit, who string) (Outcome, error) {
	return onceExecutor(ledger, audit, who).planAndRun(rb)
}

// onceExecutor runs as who with the default policy, the given ledger and
// audit log, on the host's clock.
func onceExecutor(ledger Ledger, audit *Audit, who string) *Executor {
	return &Executor{Audit: audit, Guard: &Guard{Ledger: ledger, Policy: DefaultRunPolicy(), Now: time.Now}, Now: time.Now, Wait: SleepWait, User: who, Host: "h"}
}

func (x *Executor) planAndRun(rb *Runbook) (Outcome, error) {
	pl := &Planner{Ledger: x.Guard.Ledger, Policy: x.Guard.Policy, Now: x.Now}
	p := pl.Plan(context.Background(), Matched{Runbook: rb, Name: rb.Name, Service: "svc"}, nil)
	if len(p.Problems) > 0 {
		return Outcome{}, fmt.Errorf("plan: %v", p.Problems)
	}
	return x.Run(context.Background(), p, "test", false), nil
}

// TestTimeoutKillsTheProcessGroup: a 2s timeout on a shell whose
// background child holds stdout returns in seconds, not when the child
// ends, and the child is gone.
func TestTimeoutKillsTheProcessGroup(t *testing.T) {
	var pid int
	x := &Executor{Report: func(e Event) {
		if n, err := strconv.Atoi(e.Line); err == nil {
			pid = n
		}
	}}
	start := time.Now()
	res := x.execute(bg, "slow", Command{Kind: KindExec, Argv: []string{"sh", "-c", "sleep 60 & echo $!; wait"}}, 2*time.Second)
	// far below the 60s the grandchild would hold stdout, far above 2s
	// on a busy machine
	if took := time.Since(start); took > 30*time.Second || res.err == nil || !strings.Contains(res.err.Error(), "timed out after 2s") {
		t.Fatalf("took %s, err %v", took, res.err)
	}
	if pid == 0 {
		t.Fatal("the shell did not report its child")
	}
	testenv.WaitFor(t, 10*time.Second, func() bool { return syscall.Kill(pid, 0) != nil })
}

// TestDaemonisingActionIsDone: an action that exits 0 and leaves a
// background child holding stdout, as an init script that daemonises
// does, is done within seconds, not failed (which would roll it back and
// escalate); the operator is told its later output was not captured, and
// the child, the daemon the action was run to start, is left running.
func TestDaemonisingActionIsDone(t *testing.T) {
	var mu sync.Mutex
	var pid int
	var status []string
	x := onceExecutor(&MemoryLedger{Now: time.Now}, &Audit{Path: filepath.Join(t.TempDir(), "audit.jsonl")}, "alice")
	x.Report = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if n, err := strconv.Atoi(e.Line); err == nil && !e.Status {
			pid = n
		}
		if e.Status {
			status = append(status, e.Line)
		}
	}
	start := time.Now()
	out := runWith(t, x, onceRunbook("sh", "-c", "sleep 60 & echo $!"))
	took := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if pid == 0 {
		t.Fatalf("the shell did not report its child: %+v", out)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	// far below the 60s the child holds stdout, far above the grace on a
	// busy machine
	if took > 30*time.Second || out.Result != ResultDone {
		t.Fatalf("took %s: %+v", took, out)
	}
	if !slices.ContainsFunc(status, func(l string) bool { return strings.Contains(l, "its output after it exited was not captured") }) {
		t.Errorf("the operator is not told the output was cut: %q", status)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("the daemon the action started was killed: %v", err)
	}
}

// TestLeaseRenewedWhileTheRunLives: a run outlives its first lease; a
// second process that claims the same action on the same target after
// that lease ran out is still refused by the lock.
func TestLeaseRenewedWhileTheRunLives(t *testing.T) {
	am := testenv.Alertmanager(t)
	const target = "leased"
	holder := helper(t, "hold", "AM="+am, "KEY="+target, "LEASE=4s")
	stdin, stdout := startPiped(t, holder)
	defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "won" {
		t.Fatalf("holder: %q", lines.Text())
	}
	client, err := alertmanager.New(am, http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	ledger := SilenceLedger{Alerts: client}
	// the first lease has run out, by Alertmanager's clock
	testenv.WaitFor(t, 30*time.Second, func() bool {
		rs, err := ledger.Records(bg)
		if err != nil {
			t.Fatal(err)
		}
		var locks []Record
		for _, r := range rs {
			if r.Kind == RecordLock && r.Key.Target == target {
				locks = append(locks, r)
			}
		}
		return len(locks) > 0 && !earliest(locks).Active
	})
	out, err := helper(t, "lock", "AM="+am, "START="+time.Now().Format(time.RFC3339Nano), "KEY="+target).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "refused: refused by lock: holder") {
		t.Fatalf("a second run while the first lives: %v: %s", err, out)
	}
	stdin.Close()
	if err := holder.Wait(); err != nil {
		t.Fatal(err)
	}
}

func earliest(rs []Record) Record {
	first := rs[0]
	for _, r := range rs[1:] {
		if r.Start.Before(first.Start) {
			first = r
		}
	}
	return first
}

// TestFastClockIsRefusedByTheCooldown: a process whose clock is 11
// minutes fast neither escapes the cooldown another run started nor
// takes a lock unseen: the guard reads time from the ledger, Alertmanager
// or the host's file.
func TestFastClockIsRefusedByTheCooldown(t *testing.T) {
	client, err := alertmanager.New(testenv.Alertmanager(t), http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	for _, ledger := range []Ledger{SilenceLedger{Alerts: client}, &FileLedger{Path: filepath.Join(t.TempDir(), "ledger.json"), Now: time.Now}} {
		policy := RunPolicy{Guardrails: Guardrail{Cooldown: timeparse.Duration(10 * time.Minute)}, MaxConcurrent: 10}
		right := &Guard{Ledger: ledger, Policy: policy, Now: time.Now}
		fast := &Guard{Ledger: ledger, Policy: policy, Now: func() time.Time { return time.Now().Add(11 * time.Minute) }}

		k := Key{Action: "restart/act", Target: "cart"}
		mustAcquire(t, right, k, Guardrail{}, "alice@a").Release()
		_, err := fast.Acquire(bg, k, Guardrail{}, "mallory@fast", time.Minute, nil)
		if r := refusal(t, err); r.Rule != "cooldown" || !strings.Contains(r.Detail, "alice@a") {
			t.Fatalf("%s: the fast clock: %v", ledger.Where(), r)
		}

		// the fast clock's lock is seen by the right one (no cooldown
		// here: the lock alone decides)
		right.Policy.Guardrails, fast.Policy.Guardrails = Guardrail{}, Guardrail{}
		other := Key{Action: "restart/act", Target: "payment-api"}
		held := mustAcquire(t, fast, other, Guardrail{}, "mallory@fast")
		_, err = right.Acquire(bg, other, Guardrail{}, "alice@a", time.Minute, nil)
		if r := refusal(t, err); r.Rule != "lock" || !strings.Contains(r.Detail, "mallory@fast") {
			t.Fatalf("%s: the right clock beside a fast lock: %v", ledger.Where(), r)
		}
		held.Release()
	}
}

// TestRefusalSeenInTheFirstReadWritesNothing: a cooldown, or a rate
// limit already reached, that the ledger's records show before any claim
// refuses without writing a lock record, so that autopilot rounds leave
// no trail of refused claims; the guard's clock, 11 minutes fast, plays
// no part. A rate limit the first read cannot date (no active record
// bounds the ledger's clock) is still refused, after a claim.
func TestRefusalSeenInTheFirstReadWritesNothing(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ledger := &MemoryLedger{Now: func() time.Time { return now }}
	g := &Guard{Ledger: ledger, Policy: DefaultRunPolicy(), Now: func() time.Time { return now.Add(11 * time.Minute) }}
	acquire := func(target string) error {
		held, err := g.Acquire(bg, Key{Action: "restart/act", Target: target}, Guardrail{}, "autopilot@h", time.Minute, nil)
		if err == nil {
			held.Release()
		}
		return err
	}
	written := func() int {
		rs, err := ledger.Records(bg)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	// the most runs of the action an hour allows (3), on three targets
	for _, target := range []string{"a", "b", "c"} {
		if err := acquire(target); err != nil {
			t.Fatal(err)
		}
	}
	before := written()
	now = now.Add(time.Minute)
	if r := refusal(t, acquire("a")); r.Rule != "cooldown" || written() != before {
		t.Fatalf("in the cooldown: %v; %d records written", r, written()-before)
	}
	// past the cooldowns, a proposal still open bounds the ledger's clock
	if _, err := ledger.Add(bg, Record{Kind: RecordProposal, Key: Key{Action: "other", Target: "x"}, By: "autopilot@h", Start: ledgerStamps(), End: now.Add(20 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	before = written()
	now = now.Add(15 * time.Minute)
	if r := refusal(t, acquire("d")); r.Rule != "rate" || written() != before {
		t.Fatalf("past the cooldown, within the rate: %v; %d records written", r, written()-before)
	}
	// the proposal has ended: nothing dates the first read
	now = now.Add(15 * time.Minute)
	if r := refusal(t, acquire("d")); r.Rule != "rate" {
		t.Fatalf("with no active record: %v", r)
	}
}

// TestAuditEntryStartsOnAFreshLine: after a torn write, the next entry
// is on its own line and is read.
func TestAuditEntryStartsOnAFreshLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, []byte(`{"id":"1","phase":"after","resu`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &Audit{Path: path}
	if err := a.Append(Entry{ID: "2", Phase: PhaseBefore, Time: time.Now(), Command: "restart cart"}); err != nil {
		t.Fatal(err)
	}
	rows, bad, err := a.Read()
	if err != nil || len(rows) != 1 || rows[0].Before.Command != "restart cart" || len(bad) != 1 || !strings.Contains(bad[0].Error(), ":1: not an audit entry") {
		t.Fatalf("rows %+v, bad %v, err %v", rows, bad, err)
	}
}

// TestAuditReadsLongLines: one entry longer than any line buffer is read.
func TestAuditReadsLongLines(t *testing.T) {
	a := &Audit{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	const longer = 17 << 20 // above the 16 MB a line scanner stopped at
	for _, e := range []Entry{{ID: "1", Phase: PhaseBefore, Command: strings.Repeat("x", longer)}, {ID: "1", Phase: PhaseAfter, Result: ResultDone}} {
		if err := a.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	rows, bad, err := a.Read()
	if err != nil || len(bad) != 0 || len(rows) != 1 || len(rows[0].Before.Command) != longer || rows[0].After == nil {
		t.Fatalf("%d rows, bad %v, err %v", len(rows), bad, err)
	}
}

// needDevFull fails the test, never skips it, without Linux's /dev/full:
// elsewhere a link to it dangles, and a write through it makes a plain
// file rather than meet a full disk.
func needDevFull(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test needs Linux's /dev/full: %v", err)
	}
}

// fullDisk points path at /dev/full, where every write would fail with
// ENOSPC as on a full disk; the audit log refuses it sooner, as a path
// that is not a regular file (read whole, a device never ends), and the
// write fails all the same.
func fullDisk(t *testing.T, path string) {
	t.Helper()
	needDevFull(t)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/full", path); err != nil {
		t.Fatal(err)
	}
}

// TestAfterEntryOnAFullDiskIsReported: the disk fills while the action
// runs; the outcome says its after entry was not written.
func TestAfterEntryOnAFullDiskIsReported(t *testing.T) {
	needDevFull(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	// the action itself fills the disk: it points the log at /dev/full
	out := runOnce(t, onceRunbook("ln", "-sf", "/dev/full", path), &MemoryLedger{Now: time.Now}, &Audit{Path: path}, "alice")
	if len(out.Actions) != 1 || !strings.Contains(out.Actions[0].Error, "after entry was not written") || !strings.Contains(out.Actions[0].String(), path+" is not a regular file") {
		t.Fatalf("outcome %+v", out)
	}
}

// TestRunRefusedByTheAuditUsesNoCooldown: a run whose before entry
// cannot be written never starts, so it leaves no cooldown behind.
func TestRunRefusedByTheAuditUsesNoCooldown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	fullDisk(t, path)
	ledger := &MemoryLedger{Now: time.Now}
	rb := onceRunbook("true")
	if out := runOnce(t, rb, ledger, &Audit{Path: path}, "alice"); out.Result != ResultRefused || !strings.Contains(out.Actions[0].Error, path+" is not a regular file") {
		t.Fatalf("on a full disk: %+v", out)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if out := runOnce(t, rb, ledger, &Audit{Path: path}, "alice"); out.Result != ResultDone {
		t.Fatalf("once the disk has room: %+v", out)
	}
}

// TestFileLedgerSharesTheGuardBetweenProcesses: without Alertmanager,
// four processes on one host claim one action on one target at the same
// moment, through the file ledger: exactly one runs; a fifth, later, is
// refused by the cooldown, which names who ran it.
func TestFileLedgerSharesTheGuardBetweenProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.json")
	var racers []*exec.Cmd
	for i := range 4 {
		racers = append(racers, helper(t, "file-run", "LEDGER="+path, fmt.Sprintf("WHO=p%d", i)))
	}
	outs := startTogether(t, racers...)
	winner := ""
	for i, o := range outs {
		switch {
		case o == "done":
			if winner != "" {
				t.Fatalf("two ran: %q", outs)
			}
			winner = fmt.Sprintf("p%d", i)
		case strings.HasPrefix(o, "refused by lock: p"), strings.HasPrefix(o, "refused by cooldown: "):
		default:
			t.Errorf("process %d: %q", i, o)
		}
	}
	if winner == "" {
		t.Fatalf("none ran: %q", outs)
	}
	late := startTogether(t, helper(t, "file-run", "LEDGER="+path, "WHO=late"))[0]
	if !strings.HasPrefix(late, "refused by cooldown: act on svc ran at") || !strings.Contains(late, "by "+winner+"@h") {
		t.Fatalf("a run after: %s", late)
	}
}

// startTogether starts the helpers, waits until every one has said
// "ready", then closes their stdin at once (see awaitTheOthers): however
// slowly the machine starts them, they act together. It returns what
// each printed after "ready".
func startTogether(t *testing.T, cmds ...*exec.Cmd) []string {
	t.Helper()
	stdins := make([]io.Closer, len(cmds))
	// a helper that never gets its go ends when its stdin closes
	defer func() {
		for _, in := range stdins {
			if in != nil {
				in.Close()
			}
		}
	}()
	stdouts := make([]*bufio.Reader, len(cmds))
	stderrs := make([]*bytes.Buffer, len(cmds))
	for i, cmd := range cmds {
		stderrs[i] = &bytes.Buffer{}
		cmd.Stderr = stderrs[i]
		in, out := startPiped(t, cmd)
		stdins[i], stdouts[i] = in, bufio.NewReader(out)
	}
	for i := range cmds {
		if line, err := stdouts[i].ReadString('\n'); line != "ready\n" {
			t.Fatalf("helper %d did not get ready: %q, %v: %s", i, line, err, stderrs[i])
		}
	}
	for _, in := range stdins {
		in.Close()
	}
	outs := make([]string, len(cmds))
	for i, cmd := range cmds {
		rest, err := io.ReadAll(stdouts[i])
		if err := errors.Join(err, cmd.Wait()); err != nil {
			t.Errorf("helper %d: %v: %s", i, err, stderrs[i])
		}
		outs[i] = strings.TrimSpace(string(rest))
	}
	return outs
}

// awaitTheOthers is a helper's side of startTogether: it says "ready" and
// waits until the parent closes its stdin.
func awaitTheOthers() {
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// helperHold takes the lock of $KEY on the Alertmanager at $AM with a
// lease of $LEASE, says "won", and holds it until its stdin closes.
func helperHold() {
	am, err := alertmanager.New(os.Getenv("AM"), http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	lease, _ := time.ParseDuration(os.Getenv("LEASE"))
	g := &Guard{Ledger: SilenceLedger{Alerts: am}, Policy: RunPolicy{MaxConcurrent: 10}, Now: time.Now}
	held, err := g.Acquire(context.Background(), Key{Action: "race/act", Target: os.Getenv("KEY")}, Guardrail{}, "holder", lease, nil)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println("won")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	held.Release()
}

// helperFileRun runs once/act on svc as $WHO, when the parent lets every
// helper go (startTogether), with the ledger at $LEDGER, and prints
// "done" or why not.
func helperFileRun() {
	ledger := &FileLedger{Path: os.Getenv("LEDGER"), Now: time.Now}
	dir, err := os.MkdirTemp("", "file-run")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer os.RemoveAll(dir)
	awaitTheOthers()
	out, err := planAndRun(onceRunbook("true"), ledger, &Audit{Path: filepath.Join(dir, "audit.jsonl")}, os.Getenv("WHO"))
	switch {
	case err != nil:
		fmt.Println("error:", err)
	case out.Result == ResultDone:
		fmt.Println("done")
	case out.Actions[0].Refusal != nil:
		fmt.Println(out.Actions[0].Refusal.Error())
	default:
		fmt.Println(out.Actions[0].String())
	}
}

// failingRenewals is a ledger that takes the first lock, then fails to
// write any other: Alertmanager gone mid-run.
type failingRenewals struct {
	*MemoryLedger
	locks atomic.Int32 // the renewals write beside the run record
}

func (l *failingRenewals) Add(ctx context.Context, r Record) (string, error) {
	if r.Kind == RecordLock && l.locks.Add(1) > 1 {
		return "", fmt.Errorf("connection refused")
	}
	return l.MemoryLedger.Add(ctx, r)
}

// TestLostLeaseStopsTheRun: when the lease cannot be renewed before it
// runs out, the hold's context ends and says why, so the run stops
// rather than outlive its lock.
func TestLostLeaseStopsTheRun(t *testing.T) {
	g := &Guard{Ledger: &failingRenewals{MemoryLedger: &MemoryLedger{Now: time.Now}}, Now: time.Now}
	held, err := g.Acquire(bg, Key{Action: "act", Target: "svc"}, Guardrail{}, "alice", 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	testenv.WaitFor(t, 10*time.Second, func() bool { return held.Context().Err() != nil })
	if cause := context.Cause(held.Context()); !strings.Contains(cause.Error(), "could not be renewed before its lease ran out: connection refused") {
		t.Fatalf("cause %v", cause)
	}
}
